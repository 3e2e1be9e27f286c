#!/usr/bin/env python3
"""The paper's models in plain PyTorch: a speed peer and a second, independent Table 1.

Same semantics as clustervae (README.md, "What the methods are, exactly" and "Metrics"), written the
way a PyTorch user would write them, sharing no code with the engine:

  MLP 784 (+10 for cvae) -> 400 ReLU -> (mu, logvar) 20 each; decoder 20 (+10) -> 400 ReLU -> 784
  logits. nn.Linear default initialisation (U(+-1/sqrt(fan_in)) for weights and biases).
  Loss = mean over the batch of [BCE-with-logits summed over pixels + beta * KL], pixels x/255,
  KL = 1/2 sum(sigma^2 + (mu - m)^2 - 1 - logvar) with logvar clamped to [-20, 20] (no gradient
  beyond). Adam(lr 1e-3). Batch 128, a new shuffle every epoch (seeded torch.Generator), last
  partial batch kept.
  vae: m = 0, beta = 1.  beta: beta = 5.  cvae: one-hot label appended to encoder input and to z.
  lambdahot: m = lambda * e_y on the first 10 dims.  kmeans: k-means++ then Lloyd (<= 50 iterations)
  on mu of the train set under the untrained encoder; m = nearest centroid to mu per sample; Lloyd
  re-fit after every epoch, warm-started.  movable: lambda-hot centres moved to the class means of
  mu after every epoch, then the "spread" anchor (engine/prior/movable.h).

The data is the raw IDX files read with numpy (no torchvision); the whole split sits in memory as
uint8 and each batch is gathered and converted (images[idx].float() / 255), no DataLoader: that is
the fastest plain-PyTorch input path for data this small, so the timing is of the model, not of I/O.

Usage:
  python3 bench/torch_reference.py --method lambdahot --dataset mnist --epochs 10 --seed 1 \
      --threads 2 [--train-limit N] [--test-limit N] [--time-only] [--out FILE]
  [--config configs/mnist_lambdahot.json]  take method, dataset, epochs, beta, lambda, ... from a
                                            clustervae config (explicit flags win)
  [--device cuda] [--compile [MODE]] [--cuda-graphs]   the GPU variants (see bench/README.md)

Prints the metrics as JSON (the keys of clustervae's metrics.json) on stdout, or into --out.
--time-only trains without evaluation and prints only the timing keys (epoch_seconds, ...).
"""

import argparse
import gzip
import json
import math
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_common.py, from any cwd
import bench_common  # noqa: E402  (it loads no torch: the thread variables below still come first)

# ---------------------------------------------------------------------------------------------
# Arguments first: thread counts of OpenBLAS / OpenMP are read from the environment when the
# libraries load, so they must be set before `import torch`.

METHODS = ("vae", "beta", "cvae", "lambdahot", "kmeans", "movable")
DEFAULTS = {
    "method": "vae", "dataset": "mnist", "epochs": 10, "batch_size": 128, "lr": 1e-3, "seed": 1,
    "eval_seed": 1234, "beta": None, "lambda": 5.0, "clusters": 10, "lloyd_iterations": 50,
    "latent_dim": 20, "hidden": 400, "classes": 10, "eval_batch": 1000, "anchor": "spread",
    "min_centre_distance": -1.0, "train_limit": 0, "test_limit": 0,
    "arch": "mlp", "conv1_channels": 32, "conv2_channels": 64,
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="a clustervae config JSON to take the settings from")
    p.add_argument("--method", choices=METHODS)
    p.add_argument("--arch", choices=("mlp", "conv"), help="mlp (default) or conv (docs/conv-net.md)")
    p.add_argument("--dataset", choices=("mnist", "fashion"))
    p.add_argument("--data-dir", default=None, help="folder holding mnist/ and fashion/ "
                   "(default $CLUSTERVAE_DATA or <repo>/data)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int, dest="batch_size")
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--eval-seed", type=int, dest="eval_seed")
    p.add_argument("--beta", type=float)
    p.add_argument("--lambda", type=float, dest="lambda_")
    p.add_argument("--clusters", type=int)
    p.add_argument("--lloyd-iterations", type=int, dest="lloyd_iterations")
    p.add_argument("--eval-batch", type=int, dest="eval_batch")
    p.add_argument("--train-limit", type=int, dest="train_limit", help="first N training images")
    p.add_argument("--test-limit", type=int, dest="test_limit", help="first N test images")
    p.add_argument("--threads", type=int, default=2, help="CPU threads (0 = PyTorch's default)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--compile", nargs="?", const="default", default=None, metavar="MODE",
                   help="torch.compile the loss (PyTorch >= 2; MODE default|reduce-overhead|max-autotune)")
    p.add_argument("--cuda-graphs", action="store_true", dest="cuda_graphs",
                   help="capture one training step as a CUDA graph and replay it (device cuda)")
    p.add_argument("--foreach", action="store_true", help="Adam(foreach=True)")
    p.add_argument("--time-only", action="store_true", dest="time_only",
                   help="train without evaluation; print the timing keys only")
    p.add_argument("--out", help="write the JSON here instead of stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = p.parse_args(argv)

    settings = dict(DEFAULTS)
    if args.config:
        with open(args.config) as f:
            cfg = json.load(f)
        for key in settings:
            if key in cfg:
                settings[key] = cfg[key]
    for key, value in (("method", args.method), ("arch", args.arch), ("dataset", args.dataset),
                       ("epochs", args.epochs),
                       ("batch_size", args.batch_size), ("lr", args.lr), ("seed", args.seed),
                       ("eval_seed", args.eval_seed), ("beta", args.beta), ("lambda", args.lambda_),
                       ("clusters", args.clusters), ("lloyd_iterations", args.lloyd_iterations),
                       ("eval_batch", args.eval_batch), ("train_limit", args.train_limit),
                       ("test_limit", args.test_limit)):
        if value is not None:
            settings[key] = value
    if settings["method"] not in METHODS:
        p.error("method must be one of " + ", ".join(METHODS))
    if settings["beta"] is None:
        settings["beta"] = 5.0 if settings["method"] == "beta" else 1.0
    if settings["min_centre_distance"] < 0:
        settings["min_centre_distance"] = settings["lambda"] / math.sqrt(2.0)
    if args.cuda_graphs and not args.device.startswith("cuda"):
        p.error("--cuda-graphs needs --device cuda")
    if args.data_dir is None:
        repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        args.data_dir = os.environ.get("CLUSTERVAE_DATA") or os.path.join(repo, "data")
    return args, settings


ARGS, S = parse_args(sys.argv[1:])
if ARGS.threads > 0:
    bench_common.set_thread_variables(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

if ARGS.threads > 0:
    torch.set_num_threads(ARGS.threads)

LOGVAR_MIN, LOGVAR_MAX = -20.0, 20.0


def log(message):
    if not ARGS.quiet:
        print("torch_reference: " + message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Data: IDX files (raw or .gz) read with numpy.

def read_idx(path):
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path = path + ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise SystemExit(f"torch_reference: {path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    count = int(np.prod(dims))
    offset = 4 + 4 * ndim
    if len(raw) != offset + count:
        raise SystemExit(f"torch_reference: {path}: {len(raw) - offset} data bytes, expected {count}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def load_split(data_dir, dataset, prefix, limit):
    folder = os.path.join(data_dir, dataset)
    images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"))
    if images.shape[0] != labels.shape[0]:
        raise SystemExit(f"torch_reference: {folder}/{prefix}: image and label counts differ")
    if limit and limit > 0:
        images, labels = images[:limit], labels[:limit]
    images = torch.from_numpy(images.reshape(images.shape[0], -1).copy())  # uint8 [N, 784]
    labels = torch.from_numpy(labels.astype(np.int64))
    return images, labels


# ---------------------------------------------------------------------------------------------
# Model: the PyTorch VAE example's layer names (fc1, fc21, fc22, fc3, fc4).

class VAE(nn.Module):
    def __init__(self, pixels, hidden, latent, classes, conditional):
        super().__init__()
        extra = classes if conditional else 0
        self.conditional = conditional
        self.classes = classes
        self.fc1 = nn.Linear(pixels + extra, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent + extra, hidden)
        self.fc4 = nn.Linear(hidden, pixels)

    def encode(self, x, onehot=None):
        if self.conditional:
            x = torch.cat((x, onehot), dim=1)
        h = F.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)

    def decode(self, z, onehot=None):
        if self.conditional:
            z = torch.cat((z, onehot), dim=1)
        return self.fc4(F.relu(self.fc3(z)))


class ConvVAE(nn.Module):
    """clustervae's arch=conv, as a PyTorch user writes it (channels-first): two 4x4 stride-2
    convolutions, a dense layer to mu and log sigma^2 (features | one-hot for CVAE), and back through
    a dense layer and two transposed convolutions to the pixel logits."""

    def __init__(self, pixels, latent, classes, conditional, c1, c2):
        super().__init__()
        side = int(round(math.sqrt(pixels)))
        if side * side != pixels or side % 4:
            raise SystemExit("torch_reference: --arch conv needs square images with a side divisible by 4")
        extra = classes if conditional else 0
        self.conditional, self.classes, self.side, self.c2 = conditional, classes, side, c2
        features = c2 * (side // 4) ** 2
        self.conv1 = nn.Conv2d(1, c1, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 4, stride=2, padding=1)
        self.fc21 = nn.Linear(features + extra, latent)
        self.fc22 = nn.Linear(features + extra, latent)
        self.fc3 = nn.Linear(latent + extra, features)
        self.deconv1 = nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1)
        self.deconv2 = nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1)

    def encode(self, x, onehot=None):
        h = F.relu(self.conv1(x.view(-1, 1, self.side, self.side)))
        h = F.relu(self.conv2(h)).flatten(1)
        if self.conditional:
            h = torch.cat((h, onehot), dim=1)
        return self.fc21(h), self.fc22(h)

    def decode(self, z, onehot=None):
        if self.conditional:
            z = torch.cat((z, onehot), dim=1)
        q = self.side // 4
        h = F.relu(self.fc3(z)).view(-1, self.c2, q, q)
        return self.deconv2(F.relu(self.deconv1(h))).flatten(1)


class Prior:
    """The method's prior means: None (N(0, I)), per class (lambdahot, movable), nearest centroid."""

    def __init__(self, method, classes, latent, lam, clusters, device):
        self.kind = "standard"
        self.means = None
        if method in ("lambdahot", "movable"):
            self.kind = "class"
            self.means = lambda_hot_means(classes, latent, lam).to(device)
        elif method == "kmeans":
            self.kind = "nearest"
            self.means = torch.zeros(clusters, latent, device=device)

    def mean_of(self, mu, labels):
        if self.kind == "standard":
            return None
        if self.kind == "class":
            return self.means[labels]
        # Nearest centroid to mu: piecewise constant in mu, so no gradient through the choice.
        with torch.no_grad():
            chosen = torch.cdist(mu.detach(), self.means).argmin(dim=1)
        return self.means[chosen]


def lambda_hot_means(classes, latent, lam):
    means = torch.zeros(classes, latent)
    means[torch.arange(classes), torch.arange(classes)] = float(lam)
    return means


def batch_losses(model, prior, images_u8, labels, eps, classes):
    """Per-image BCE (summed over pixels) and KL, for a batch given as uint8 images."""
    x = images_u8.float().div_(255.0)
    onehot = F.one_hot(labels, classes).to(x.dtype) if model.conditional else None
    mu, logvar = model.encode(x, onehot)
    logvar = logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)  # zero gradient outside the range
    z = mu if eps is None else mu + torch.exp(0.5 * logvar) * eps
    logits = model.decode(z, onehot)
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
    m = prior.mean_of(mu, labels)
    offset = mu if m is None else mu - m
    kl = 0.5 * (logvar.exp() + offset.pow(2) - 1.0 - logvar).sum(dim=1)
    return bce, kl, mu


def train_loss(model, prior, images_u8, labels, eps, classes, beta):
    bce, kl, _ = batch_losses(model, prior, images_u8, labels, eps, classes)
    bce_sum, kl_sum = bce.sum(), kl.sum()
    return (bce_sum + beta * kl_sum) / images_u8.shape[0], bce_sum.detach(), kl_sum.detach()


# ---------------------------------------------------------------------------------------------
# k-means: k-means++ (numpy, seeded) and Lloyd (torch, on the model's device).

def kmeans_plus_plus(points, k, seed):
    """points: float array [n, d] (numpy). D^2 seeding."""
    n = points.shape[0]
    if k < 1 or k > n:
        raise SystemExit(f"torch_reference: k-means with K = {k} for {n} points")
    rng = np.random.default_rng(seed)
    pts = points.astype(np.float64)
    centres = np.empty((k, pts.shape[1]), dtype=np.float64)
    centres[0] = pts[rng.integers(n)]
    nearest = np.full(n, np.inf)
    for c in range(1, k):
        nearest = np.minimum(nearest, ((pts - centres[c - 1]) ** 2).sum(axis=1))
        total = nearest.sum()
        if total > 0:
            chosen = int(np.searchsorted(np.cumsum(nearest), rng.random() * total, side="right"))
            chosen = min(chosen, n - 1)
        else:
            chosen = int(rng.integers(n))
        centres[c] = pts[chosen]
    return centres.astype(np.float32)


def lloyd(points, initial, max_iterations):
    """points [n, d], initial [k, d] (torch, same device). Returns centroids, assignment, iterations,
    empty clusters re-seeded (each with the point farthest from its own centre), inertia."""
    centroids = initial.clone()
    k = centroids.shape[0]
    previous = None
    iterations = reseeded = 0
    for iteration in range(max_iterations):
        d2 = torch.cdist(points, centroids).pow(2)
        distance, assignment = d2.min(dim=1)
        iterations = iteration + 1
        if previous is not None and torch.equal(assignment, previous):
            break
        previous = assignment
        sums = torch.zeros_like(centroids).index_add_(0, assignment, points)
        counts = torch.bincount(assignment, minlength=k).to(points.dtype)
        occupied = counts > 0
        centroids[occupied] = sums[occupied] / counts[occupied, None]
        if not bool(occupied.all()):
            distance = distance.clone()
            for c in torch.nonzero(~occupied).flatten().tolist():
                far = int(distance.argmax())
                centroids[c] = points[far]
                distance[far] = -1.0
                reseeded += 1
            previous = None  # centres moved by hand: keep iterating
    d2 = torch.cdist(points, centroids).pow(2)
    distance, assignment = d2.min(dim=1)
    return centroids, assignment, iterations, reseeded, float(distance.double().sum())


def kmeans_best_of(points, k, restarts, max_iterations, seed):
    best = None
    host = points.detach().cpu().numpy()
    for r in range(restarts):
        init = torch.from_numpy(kmeans_plus_plus(host, k, seed + r)).to(points.device)
        result = lloyd(points, init, max_iterations)
        if best is None or result[4] < best[4]:
            best = result
    return best


# ---------------------------------------------------------------------------------------------
# Movable centres: class means, then the spread anchor (engine/prior/movable.h).

def centre_geometry(c):
    mean = c.mean(axis=0)
    return mean, math.sqrt(((c - mean) ** 2).sum() / c.shape[0])


def anchor_centres(centres, target_mean, target_spread, min_distance):
    x = centres.astype(np.float64).copy()
    k, latent = x.shape
    mean, spread = centre_geometry(x)
    scale = target_spread / spread if spread > 0 else 1.0
    x = target_mean + (x - mean) * scale
    for _ in range(1000):
        moved = False
        for a in range(k):
            for b in range(a + 1, k):
                diff = x[a] - x[b]
                dist = math.sqrt(float((diff ** 2).sum()))
                if dist >= min_distance * (1 + 1e-9):
                    continue
                moved = True
                shortfall = min_distance * (1 + 1e-6) - dist
                if dist > 1e-12:
                    direction = diff / dist
                else:
                    direction = np.zeros(latent)
                    direction[(a + b) % latent] = 1.0
                x[a] += 0.5 * shortfall * direction
                x[b] -= 0.5 * shortfall * direction
        if not moved:
            break
    return x.astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Metrics (numpy / torch; independent of engine/eval/metrics.cpp).

def contingency(clusters, labels, k, classes):
    table = np.zeros((k, classes), dtype=np.int64)
    np.add.at(table, (clusters, labels), 1)
    return table


def hungarian_max(table):
    """Assignment of rows to columns maximising the matched counts: scipy when installed, else
    the O(n^3) shortest-augmenting-path Kuhn-Munkres on the padded square cost matrix."""
    try:
        from scipy.optimize import linear_sum_assignment
        rows, cols = linear_sum_assignment(-table)
        return int(table[rows, cols].sum())
    except ImportError:
        pass
    rows, cols = table.shape
    n = max(rows, cols)
    a = np.zeros((n + 1, n + 1))
    a[1:rows + 1, 1:cols + 1] = -table
    u, v = np.zeros(n + 1), np.zeros(n + 1)
    p, way = np.zeros(n + 1, dtype=int), np.zeros(n + 1, dtype=int)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = np.full(n + 1, np.inf)
        used = np.zeros(n + 1, dtype=bool)
        while True:
            used[j0] = True
            i0, delta, j1 = p[j0], np.inf, 0
            for j in range(1, n + 1):
                if used[j]:
                    continue
                cur = a[i0, j] - u[i0] - v[j]
                if cur < minv[j]:
                    minv[j], way[j] = cur, j0
                if minv[j] < delta:
                    delta, j1 = minv[j], j
            for j in range(n + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    total = 0
    for j in range(1, cols + 1):
        if 1 <= p[j] <= rows:
            total += table[p[j] - 1, j - 1]
    return int(total)


def cluster_scores(clusters, labels, k, classes):
    table = contingency(clusters, labels, k, classes)
    n = float(len(labels))
    majority = table.max(axis=1).sum() / n
    hungarian = hungarian_max(table) / n
    a, b = table.sum(axis=1).astype(np.float64), table.sum(axis=0).astype(np.float64)

    def entropy(sizes):
        s = sizes[sizes > 0] / n
        return float(-(s * np.log(s)).sum())

    hu, hv = entropy(a), entropy(b)
    if hu == 0 and hv == 0:
        nmi = 1.0
    elif hu == 0 or hv == 0:
        nmi = 0.0
    else:
        nz = table > 0
        t = table.astype(np.float64)
        mi = float((t[nz] / n * np.log(n * t[nz] / np.outer(a, b)[nz])).sum())
        nmi = min(max(mi, 0.0) / (0.5 * (hu + hv)), 1.0)
    return float(majority), float(hungarian), float(nmi)


def linear_probe(train_mu, train_y, test_mu, test_y, classes, l2=1e-4):
    """Softmax regression on standardised mu (train mean and population std), mean cross-entropy
    + l2/2 ||W||^2, full-batch L-BFGS in double. Returns (test accuracy, train accuracy)."""
    xtr = train_mu.detach().cpu().double()
    xte = test_mu.detach().cpu().double()
    ytr, yte = train_y.cpu(), test_y.cpu()
    mean = xtr.mean(dim=0)
    scale = xtr.std(dim=0, unbiased=False)
    scale = torch.where(scale > 1e-12 * mean.abs(), scale, torch.ones_like(scale))
    xtr, xte = (xtr - mean) / scale, (xte - mean) / scale
    w = torch.zeros(classes, xtr.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=500, max_eval=1250, tolerance_grad=1e-6,
                            tolerance_change=1e-12, history_size=10, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(xtr @ w.T + b, ytr) + 0.5 * l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        test_acc = float(((xte @ w.T + b).argmax(dim=1) == yte).double().mean())
        train_acc = float(((xtr @ w.T + b).argmax(dim=1) == ytr).double().mean())
    return test_acc, train_acc


# ---------------------------------------------------------------------------------------------
# Training and evaluation.

def encode_all(model, images, labels, classes, batch, device):
    out_mu, out_lv = [], []
    with torch.no_grad():
        for start in range(0, images.shape[0], batch):
            x = images[start:start + batch].to(device).float().div_(255.0)
            onehot = (F.one_hot(labels[start:start + batch].to(device), classes).float()
                      if model.conditional else None)
            mu, lv = model.encode(x, onehot)
            out_mu.append(mu)
            out_lv.append(lv)
    return torch.cat(out_mu), torch.cat(out_lv)


def refit_prior(model, prior, train_x, train_y, warm, device):
    """K-Means: Lloyd on the train set's mu (k-means++ first when cold). Movable: class means +
    anchor. Returns (Lloyd iterations, empty clusters re-seeded)."""
    mu, _ = encode_all(model, train_x, train_y, S["classes"], S["eval_batch"], device)
    if prior.kind == "nearest":
        if warm:
            initial = prior.means
        else:
            initial = torch.from_numpy(
                kmeans_plus_plus(mu.cpu().numpy(), S["clusters"], S["seed"])).to(device)
        centroids, _, iterations, reseeded, _ = lloyd(mu, initial, S["lloyd_iterations"])
        prior.means.copy_(centroids)
        return iterations, reseeded
    # movable
    k = S["classes"]
    y = train_y.to(device)
    sums = torch.zeros(k, mu.shape[1], device=device).index_add_(0, y, mu)
    counts = torch.bincount(y, minlength=k).float()
    centres = prior.means.clone()
    present = counts > 0
    centres[present] = sums[present] / counts[present, None]
    centres = centres.cpu().numpy()
    if S["anchor"] == "spread":
        target_mean, target_spread = centre_geometry(
            lambda_hot_means(k, mu.shape[1], S["lambda"]).numpy().astype(np.float64))
        centres = anchor_centres(centres, target_mean, target_spread, S["min_centre_distance"])
    prior.means.copy_(torch.from_numpy(centres).to(device))
    return 0, 0


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def train(model, prior, train_x, train_y, device):
    params = list(model.parameters())
    adam_kwargs = {"lr": S["lr"]}
    if ARGS.foreach:
        adam_kwargs["foreach"] = True
    if ARGS.cuda_graphs:
        adam_kwargs["capturable"] = True
    opt = torch.optim.Adam(params, **adam_kwargs)
    n = train_x.shape[0]
    batch = min(S["batch_size"], n)
    classes, beta = S["classes"], float(S["beta"])
    shuffle = torch.Generator().manual_seed(S["seed"])
    loss_fn = train_loss
    if ARGS.compile:
        if not hasattr(torch, "compile"):
            raise SystemExit("torch_reference: --compile needs PyTorch >= 2.0 "
                             f"(this is {torch.__version__})")
        loss_fn = torch.compile(train_loss, mode=ARGS.compile)
    latent = S["latent_dim"]
    bce_acc = torch.zeros((), dtype=torch.float64, device=device)
    kl_acc = torch.zeros((), dtype=torch.float64, device=device)

    def eager_step(idx):
        xb, yb = train_x[idx], train_y[idx]
        eps = torch.randn(idx.shape[0], latent, device=device)
        loss, bce_sum, kl_sum = loss_fn(model, prior, xb, yb, eps, classes, beta)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        bce_acc.add_(bce_sum)
        kl_acc.add_(kl_sum)

    graph = None
    if ARGS.cuda_graphs:
        # Whole-step capture (PyTorch docs, "CUDA Graphs", whole-network capture): static index
        # buffer, warm-up on a side stream, then one graph of forward + backward + Adam. The
        # warm-up steps would train on extra batches, so the weights and Adam state are restored.
        static_idx = torch.zeros(batch, dtype=torch.long, device=device)
        saved = [p.detach().clone() for p in params]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                eager_step(static_idx)
        torch.cuda.current_stream().wait_stream(side)
        with torch.no_grad():
            for p, s in zip(params, saved):
                p.copy_(s)
            for state in opt.state.values():
                for key, value in state.items():
                    if torch.is_tensor(value):
                        value.zero_()
        graph = torch.cuda.CUDAGraph()
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            xb, yb = train_x[static_idx], train_y[static_idx]
            eps = torch.randn(batch, latent, device=device)
            loss, bce_sum, kl_sum = loss_fn(model, prior, xb, yb, eps, classes, beta)
            loss.backward()
            opt.step()
            bce_acc.add_(bce_sum)
            kl_acc.add_(kl_sum)

    records = []
    for epoch in range(1, S["epochs"] + 1):
        sync(device)
        started = time.perf_counter()
        order = torch.randperm(n, generator=shuffle).to(device)
        bce_acc.zero_()
        kl_acc.zero_()
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            if graph is not None and idx.shape[0] == batch:
                static_idx.copy_(idx)
                graph.replay()
            else:
                eager_step(idx)
        sync(device)
        loop_seconds = time.perf_counter() - started
        iterations = reseeded = 0
        if prior.kind == "nearest" or S["method"] == "movable":
            iterations, reseeded = refit_prior(model, prior, train_x, train_y, True, device)
        sync(device)
        seconds = time.perf_counter() - started
        bce, kl = float(bce_acc) / n, float(kl_acc) / n
        record = {"epoch": epoch, "loss": bce + beta * kl, "bce": bce, "kl": kl,
                  "seconds": seconds, "images_per_second": n / loop_seconds}
        if prior.kind == "nearest":
            record["lloyd_iterations"], record["empty_clusters"] = iterations, reseeded
        records.append(record)
        log(f"epoch {epoch}/{S['epochs']} loss {record['loss']:.3f} (bce {bce:.3f}, kl {kl:.3f}) "
            f"{seconds:.3f} s, {record['images_per_second']:.0f} img/s")
    return records


def evaluate(model, prior, train_x, train_y, test_x, test_y, device):
    classes, latent = S["classes"], S["latent_dim"]
    m = {}
    n_test = test_x.shape[0]
    # One z per test image from the eval seed, drawn for the whole split at once (independent of
    # the evaluation batch size).
    eps_all = torch.randn(n_test, latent, generator=torch.Generator().manual_seed(S["eval_seed"]))
    sums = {"sampled": [0.0, 0.0], "mean": [0.0, 0.0]}
    with torch.no_grad():
        for start in range(0, n_test, S["eval_batch"]):
            xb = test_x[start:start + S["eval_batch"]].to(device)
            yb = test_y[start:start + S["eval_batch"]].to(device)
            eps = eps_all[start:start + S["eval_batch"]].to(device)
            for key, e in (("sampled", eps), ("mean", None)):
                bce, kl, _ = batch_losses(model, prior, xb, yb, e, classes)
                sums[key][0] += float(bce.double().sum())
                sums[key][1] += float(kl.double().sum())
    m["test_bce_sampled"] = sums["sampled"][0] / n_test
    m["test_bce_mean"] = sums["mean"][0] / n_test
    m["test_kl"] = sums["sampled"][1] / n_test

    test_mu, _ = encode_all(model, test_x, test_y, classes, S["eval_batch"], device)
    train_mu, _ = encode_all(model, train_x, train_y, classes, S["eval_batch"], device)
    labels = test_y.numpy()
    m["argmax_accuracy"] = None
    m["nearest_centre_accuracy"] = None
    if prior.kind == "class":
        m["argmax_accuracy"] = float((test_mu[:, :classes].argmax(dim=1).cpu() == test_y)
                                     .double().mean())
        nearest = torch.cdist(test_mu, prior.means).argmin(dim=1).cpu()
        m["nearest_centre_accuracy"] = float((nearest == test_y).double().mean())
    if prior.kind == "nearest":
        k = S["clusters"]
        clusters = torch.cdist(test_mu, prior.means).argmin(dim=1).cpu().numpy()
    else:
        k = classes
        clusters = kmeans_best_of(test_mu, k, 3, 300, S["eval_seed"])[1].cpu().numpy()
    (m["cluster_accuracy_majority"], m["cluster_accuracy_hungarian"],
     m["nmi"]) = cluster_scores(clusters, labels, k, classes)
    m["linear_probe_accuracy"], m["linear_probe_train_accuracy"] = linear_probe(
        train_mu, train_y, test_mu, test_y, classes)
    m["test_images"] = int(n_test)
    return m


def main():
    device = torch.device(ARGS.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("torch_reference: --device cuda but this PyTorch sees no CUDA device")
    torch.manual_seed(S["seed"])  # weights (nn.Linear's default init) and the training noise
    train_x, train_y = load_split(ARGS.data_dir, S["dataset"], "train", S["train_limit"])
    test_x, test_y = (None, None) if ARGS.time_only else load_split(
        ARGS.data_dir, S["dataset"], "t10k", S["test_limit"])
    if S["method"] == "kmeans" and S["clusters"] > train_x.shape[0]:
        raise SystemExit(f"torch_reference: clusters = {S['clusters']} is more than the "
                         f"{train_x.shape[0]} training images")
    if S["arch"] == "conv":
        model = ConvVAE(train_x.shape[1], S["latent_dim"], S["classes"], S["method"] == "cvae",
                        S["conv1_channels"], S["conv2_channels"]).to(device)
    else:
        model = VAE(train_x.shape[1], S["hidden"], S["latent_dim"], S["classes"],
                    S["method"] == "cvae").to(device)
    prior = Prior(S["method"], S["classes"], S["latent_dim"], S["lambda"], S["clusters"], device)
    train_x_dev, train_y_dev = train_x.to(device), train_y.to(device)
    if prior.kind == "nearest":  # initial centroids under the untrained encoder (not timed)
        refit_prior(model, prior, train_x, train_y, False, device)

    records = train(model, prior, train_x_dev, train_y_dev, device)
    result = {}
    if not ARGS.time_only:
        started = time.perf_counter()
        model.eval()
        result.update(evaluate(model, prior, train_x, train_y, test_x, test_y, device))
        result["evaluation_seconds"] = time.perf_counter() - started
    result["epoch_seconds"] = [r["seconds"] for r in records]
    result["images_per_second"] = (sum(r["images_per_second"] for r in records) / len(records)
                                   if records else 0.0)
    result["final_train_loss"] = records[-1]["loss"] if records else None
    result["method"] = S["method"]
    result["arch"] = S["arch"]
    result["dataset"] = S["dataset"]
    result["seed"] = S["seed"]
    result["backend"] = "torch"
    variant = "eager"
    if ARGS.compile:
        variant = "compile:" + ARGS.compile
    if ARGS.cuda_graphs:
        variant += "+cuda-graphs"
    cpu = bench_common.cpu_model() or platform.processor() or "unknown"
    result["device"] = (torch.cuda.get_device_name(device) if device.type == "cuda"
                        else f"{cpu}, {torch.get_num_threads()} threads")
    result["torch"] = {
        "version": torch.__version__, "variant": variant, "threads": torch.get_num_threads(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
        "blas": bench_common.blas_description(), "adam_foreach": bool(ARGS.foreach),
        "train_images": int(train_x.shape[0]), "epochs_log": records,
    }
    bench_common.write_json(result, ARGS.out)


if __name__ == "__main__":
    main()
