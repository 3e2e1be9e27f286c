"""Load a clustervae checkpoint into the PyTorch VAE example's module, strict=True.

    from torch_load import VAE, load_state_dict       # scripts/ on sys.path
    model = VAE(784, 400, 20)      # pixels, hidden, latent (extra=10 for cvae); ConvVAE for conv
    model.load_state_dict(load_state_dict("RUN/weights.safetensors"), strict=True)

The checkpoint holds the model under the example's names (fc1, fc21, fc22, fc3, fc4; conv: conv1,
conv2, fc21, fc22, fc3, deconv1, deconv2) plus the prior's means and Adam's moments, which are
not the module's and are left out here. clustervae keeps images channels-last, so for arch=conv
the filters are [out, k, k, in] (PyTorch: permute(0, 3, 1, 2)) and the dense layers next to the
convolutions see the feature map flattened as (row, column, channel) where PyTorch flattens
(channel, row, column): fc21/fc22's first columns and fc3's rows are reordered to match.

Run as a script it checks itself against clustervae's own encoder:
    python3 scripts/torch_load.py RUN_DIR   (after clustervae-latents RUN_DIR: test_mu.npy)
loads the run into the module, encodes the run's test images and compares mu and log sigma^2
with test_mu.npy and test_logvar.npy (the encoder; the decoder's layers are reordered the same way).
Needs numpy and torch only (no safetensors package: the format is read here).
"""
import json
import math
import struct
import sys

import numpy as np
import torch


def read_safetensors(path):
    """name -> numpy array, and the metadata, of a safetensors file (float32 tensors)."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    body = data[8 + length:]
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise SystemExit("%s: tensor %s is %s, expected F32" % (path, name, info["dtype"]))
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[start:end], dtype="<f4").reshape(info["shape"]).copy()
    return tensors, metadata


def load_state_dict(path):
    """The module's state dict (torch tensors, PyTorch layouts) from a clustervae checkpoint."""
    tensors, _ = read_safetensors(path)
    model = {k: v for k, v in tensors.items() if not k.startswith(("prior.", "optimizer."))}
    if "conv1.weight" in model:  # arch=conv: channels-last to channels-first
        for name in ("conv1", "conv2", "deconv1", "deconv2"):
            model[name + ".weight"] = model[name + ".weight"].transpose(0, 3, 1, 2)
        c2 = model["conv2.weight"].shape[0]  # conv2's output channels, [c2, c1, k, k] now
        features = model["fc3.weight"].shape[0]
        q = int(round(math.sqrt(features // c2)))

        def hwc_to_chw(index_count):  # position in (h, w, c) order for each (c, h, w) position
            return np.arange(index_count).reshape(q, q, c2).transpose(2, 0, 1).reshape(-1)

        order = hwc_to_chw(features)
        for head in ("fc21", "fc22"):
            w = model[head + ".weight"]  # columns: features (h, w, c) | one-hot (CVAE)
            model[head + ".weight"] = np.concatenate([w[:, :features][:, order], w[:, features:]], axis=1)
        model["fc3.weight"] = model["fc3.weight"][order, :]
        model["fc3.bias"] = model["fc3.bias"][order]
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in model.items()}


class VAE(torch.nn.Module):
    """The PyTorch VAE example's network (pytorch/examples, vae/main.py), with the CVAE's one-hot."""

    def __init__(self, pixels=784, hidden=400, latent=20, extra=0):
        super().__init__()
        self.fc1 = torch.nn.Linear(pixels + extra, hidden)
        self.fc21 = torch.nn.Linear(hidden, latent)
        self.fc22 = torch.nn.Linear(hidden, latent)
        self.fc3 = torch.nn.Linear(latent + extra, hidden)
        self.fc4 = torch.nn.Linear(hidden, pixels)

    def encode(self, x):  # x: [N, pixels (+ one-hot)] in [0, 1]
        h = torch.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)


class ConvVAE(torch.nn.Module):
    """clustervae's arch=conv written channels-first, as a PyTorch user would."""

    def __init__(self, side=28, latent=20, c1=32, c2=64, extra=0):
        super().__init__()
        features = c2 * (side // 4) ** 2
        self.side = side
        self.conv1 = torch.nn.Conv2d(1, c1, 4, stride=2, padding=1)
        self.conv2 = torch.nn.Conv2d(c1, c2, 4, stride=2, padding=1)
        self.fc21 = torch.nn.Linear(features + extra, latent)
        self.fc22 = torch.nn.Linear(features + extra, latent)
        self.fc3 = torch.nn.Linear(latent + extra, features)
        self.deconv1 = torch.nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1)
        self.deconv2 = torch.nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1)

    def encode(self, x, onehot=None):  # x: [N, side²] in [0, 1]
        h = torch.relu(self.conv1(x.view(-1, 1, self.side, self.side)))
        h = torch.relu(self.conv2(h)).flatten(1)
        if onehot is not None:
            h = torch.cat((h, onehot), dim=1)
        return self.fc21(h), self.fc22(h)


def read_idx(path):
    """An unsigned-byte IDX file (optionally .gz) as a numpy array."""
    import gzip
    import os
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        raw = f.read()
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(raw[3])]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * raw[3]).reshape(dims)


def check_run(run_dir):
    """Loads the run into the module with strict=True and compares mu of the test images with
    clustervae's (test_mu.npy, test_logvar.npy from clustervae-latents): prints the largest
    differences; 1 when one is over 1e-4 relative to the values' scale."""
    import os
    config = json.load(open(os.path.join(run_dir, "config.json")))
    state = load_state_dict(os.path.join(run_dir, "weights.safetensors"))
    conditional = config["method"] == "cvae"
    classes, latent = config["classes"], config["latent_dim"]
    extra = classes if conditional else 0
    if config["arch"] == "conv":
        model = ConvVAE(28, latent, config["conv1_channels"], config["conv2_channels"], extra)
    else:
        model = VAE(state["fc4.weight"].shape[0], config["hidden"], latent, extra)
    model.load_state_dict(state, strict=True)
    data_dir = config["data_dir"] or os.environ.get("CLUSTERVAE_DATA") or "data"
    images = read_idx(os.path.join(data_dir, config["dataset"], "t10k-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data_dir, config["dataset"], "t10k-labels-idx1-ubyte"))
    if config["test_limit"] > 0:
        images, labels = images[:config["test_limit"]], labels[:config["test_limit"]]
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    onehot = torch.nn.functional.one_hot(torch.from_numpy(labels.astype(np.int64)), classes).float()
    with torch.no_grad():
        if config["arch"] == "conv":
            mu, logvar = model.encode(x, onehot if conditional else None)
        else:
            mu, logvar = model.encode(torch.cat((x, onehot), dim=1) if conditional else x)
    failed = 0
    for name, got in (("mu", mu), ("logvar", logvar)):
        expected = torch.from_numpy(np.load(os.path.join(run_dir, "test_%s.npy" % name)))
        worst = (got - expected).abs().max().item()
        scale = expected.abs().max().item()
        print("torch_load: %s (%s, %s): %d images, largest |%s difference| %.3g (%s up to %.3g)"
              % (run_dir, config["arch"], config["method"], len(x), name, worst, name, scale))
        failed |= worst > 1e-4 * max(1.0, scale)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python3 scripts/torch_load.py RUN_DIR")
    sys.exit(check_run(sys.argv[1]))
