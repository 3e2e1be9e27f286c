#!/usr/bin/env python3
"""SVG plot of bench/batch_sweep.sh's JSON: images/s against batch size (log2 axis), one line per
engine (clustervae and each PyTorch set-up), the median as a marker and the spread over the
repetitions as a bar, clustervae's ratio to the best PyTorch set-up above its markers. Plain SVG
written by hand: no plotting library.

  batch_sweep_plot.py results/batch-sweep-cpu-<date>.json results/batch-sweep-cpu-<date>.svg
"""
import json
import math
import sys
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 760, 500
LEFT, RIGHT, TOP, BOTTOM = 86, 200, 78, 64
COLOURS = ["#c0392b", "#2471a3", "#229954", "#7d3c98", "#b9770e", "#5d6d7e"]
FONT = "DejaVu Sans, Arial, sans-serif"


def nice_step(span, ticks=6):
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def thousands(v):
    return f"{v:,.0f}".replace(",", "\u2009")  # thin space between thousands


def main():
    src, dst = sys.argv[1:3]
    with open(src) as f:
        d = json.load(f)
    points = sorted(d["points"], key=lambda p: p["batch_size"])
    variants = list(points[0]["torch"])
    series = [("clustervae", lambda p: p["clustervae"])] + [
        (f"PyTorch {v}", (lambda v: lambda p: p["torch"][v])(v)) for v in variants]

    batches = [p["batch_size"] for p in points]
    xmin, xmax = math.log2(min(batches)), math.log2(max(batches))
    if xmax == xmin:
        xmin, xmax = xmin - 1, xmax + 1
    ymax_data = max(max(get(p)["images_per_second"] + [get(p)["median_images_per_second"]])
                    for _, get in series for p in points)
    step = nice_step(ymax_data * 1.12)
    ymax = step * math.ceil(ymax_data * 1.12 / step)
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    pad = 0.04 * pw

    def X(batch):
        return LEFT + pad + (math.log2(batch) - xmin) / (xmax - xmin) * (pw - 2 * pad)

    def Y(v):
        return TOP + ph - v / ymax * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{FONT}">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>']
    machine = d["machine"]
    device = (machine.get("gpu") or machine.get("cpu") or "?") if d["device"] == "cuda" else \
        f"{machine.get('cpu', '?')} ({machine.get('cores', '?')} cores)"
    threads = d["threads"]
    policy = d.get("environment", {}).get("OMP_WAIT_POLICY")
    dataset = {"mnist": "MNIST", "fashion": "FashionMNIST"}.get(d["dataset"], d["dataset"])
    title = f"Training throughput against batch size: {d['method']} (MLP VAE), {dataset}"
    sub = (f"{d['device'].upper()}: {device}, {threads} thread{'s' if threads != 1 else ''}"
           + (f", OMP_WAIT_POLICY={policy}" if policy else "")
           + (f"; first {thousands(d['train_limit'])} images" if d["train_limit"] else "; full epoch")
           + f", median of {d['repeats']} runs")
    out.append(f'<text x="{WIDTH / 2}" y="28" text-anchor="middle" font-size="17" '
               f'font-weight="bold">{escape(title)}</text>')
    out.append(f'<text x="{WIDTH / 2}" y="50" text-anchor="middle" font-size="12.5" '
               f'fill="#444">{escape(sub)}</text>')

    # Grid and y axis.
    v = 0.0
    while v <= ymax + 1e-9:
        y = Y(v)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" '
                   f'stroke="{"#999" if v == 0 else "#e3e3e3"}" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12">'
                   f'{thousands(v)}</text>')
        v += step
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + ph}" stroke="#999"/>')
    # x axis: one tick per measured batch size, at log2 positions.
    for b in batches:
        x = X(b)
        out.append(f'<line x1="{x:.1f}" y1="{TOP + ph}" x2="{x:.1f}" y2="{TOP + ph + 5}" stroke="#999"/>')
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + ph}" stroke="#f0f0f0"/>')
        out.append(f'<text x="{x:.1f}" y="{TOP + ph + 20}" text-anchor="middle" font-size="12">{b}</text>')
    out.append(f'<text x="{LEFT + pw / 2}" y="{HEIGHT - 18}" text-anchor="middle" font-size="13">'
               f'batch size (log\u2082 scale)</text>')
    out.append(f'<text transform="translate(22 {TOP + ph / 2}) rotate(-90)" text-anchor="middle" '
               f'font-size="13">images / s (training loop)</text>')

    # Series: spread bar, line, markers.
    for i, (name, get) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f'{"M" if j == 0 else "L"}{X(p["batch_size"]):.1f},'
                        f'{Y(get(p)["median_images_per_second"]):.1f}' for j, p in enumerate(points))
        width = 2.6 if i == 0 else 1.8
        dash = "" if i == 0 else ' stroke-dasharray="6 3"' if i == 1 else ' stroke-dasharray="2 3"'
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="{width}"{dash}/>')
        for p in points:
            x, vals = X(p["batch_size"]), get(p)["images_per_second"]
            if len(vals) > 1:
                out.append(f'<line x1="{x:.1f}" y1="{Y(min(vals)):.1f}" x2="{x:.1f}" '
                           f'y2="{Y(max(vals)):.1f}" stroke="{colour}" stroke-width="1.2" opacity="0.7"/>')
            y = Y(get(p)["median_images_per_second"])
            if i == 0:
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.2" fill="{colour}"/>')
            else:
                out.append(f'<rect x="{x - 3.6:.1f}" y="{y - 3.6:.1f}" width="7.2" height="7.2" '
                           f'fill="white" stroke="{colour}" stroke-width="1.6"/>')
    # clustervae's speed-up over the best PyTorch set-up, above clustervae's markers.
    for p in points:
        top = max(p["clustervae"]["images_per_second"] + [p["clustervae"]["median_images_per_second"]])
        out.append(f'<text x="{X(p["batch_size"]):.1f}" y="{Y(top) - 9:.1f}" text-anchor="middle" '
                   f'font-size="11.5" fill="{COLOURS[0]}">\u00d7{p["ratio_vs_best"]:.1f}</text>')

    # Legend, right of the plot.
    lx, ly = LEFT + pw + 18, TOP + 8
    for i, (name, _) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        y = ly + 22 * i
        dash = "" if i == 0 else ' stroke-dasharray="6 3"' if i == 1 else ' stroke-dasharray="2 3"'
        out.append(f'<line x1="{lx}" y1="{y}" x2="{lx + 26}" y2="{y}" stroke="{colour}" '
                   f'stroke-width="{2.6 if i == 0 else 1.8}"{dash}/>')
        if i == 0:
            out.append(f'<circle cx="{lx + 13}" cy="{y}" r="4.2" fill="{colour}"/>')
        else:
            out.append(f'<rect x="{lx + 9.4}" y="{y - 3.6}" width="7.2" height="7.2" fill="white" '
                       f'stroke="{colour}" stroke-width="1.6"/>')
        out.append(f'<text x="{lx + 34}" y="{y + 4}" font-size="12">{escape(name)}</text>')
    notes = [f"\u00d7n: clustervae / best PyTorch", "bars: min\u2013max of the runs",
             f"commit {str(d.get('commit', '?'))[:10]}"]
    for j, note in enumerate(notes):
        out.append(f'<text x="{lx}" y="{ly + 22 * len(series) + 14 + 17 * j}" font-size="11" '
                   f'fill="#555">{escape(note)}</text>')
    out.append("</svg>")
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
