"""Rasteriser forward+backward (time, peak tensor memory) next to a model's own forward+backward.

    .venv/bin/python benchmarks/bench_rasteriser.py [--json]

Input sizes 28, 64 and 224 px; 30 and 300 strokes of real raw Quick, Draw! drawings composed into
one sketch. `local` is the product rasteriser (gradients with respect to presence weights and point
coordinates); `dense` is the O(H W S) reference, run only where it fits in memory. The model at each
size: a small CNN (28), the default classifier's architecture if installed (64), ResNet-18 (224).
"""
from __future__ import annotations

import argparse
import json
import sys
from functools import partial

import torch
from torch import nn

from sketchstudio.benchmarking import compose_sketch, median_ms, peak_mb, resnet18_224
from sketchstudio.commands.bench import real_drawings
from sketchstudio.render import Placed, RenderSpec, dense_ink_image, place, rasterise

DENSE_LIMIT = 40_000_000  # segments x pixels the dense reference may touch


def model_for(size: int):
    if size == 224:
        return resnet18_224(torch.device("cpu")).module, resnet18_224(torch.device("cpu")).spec
    if size == 64:
        try:
            from sketchstudio.models import load_model

            m = load_model("default")
            return m.module, m.spec
        except Exception as exc:  # noqa: BLE001 - a benchmark may run before the model exists
            print(f"(default model unavailable: {exc}; using a small CNN)", file=sys.stderr)
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(64 * (size // 4) ** 2, 40)).eval()
    for p in cnn.parameters():
        p.requires_grad_(False)
    return cnn, RenderSpec(size=size, sigma=0.5 * size / 28)


def _local_pass(placed: Placed, spec: RenderSpec) -> None:
    points = placed.points.clone().requires_grad_(True)
    alpha = torch.ones(1, placed.layout.num_strokes, requires_grad=True)
    ink = rasterise(Placed(points, placed.layout, placed.scale, placed.offset), spec)
    ink.composite(alpha).sum().backward()


def _dense_pass(placed: Placed, spec: RenderSpec) -> None:
    points = placed.points.clone().requires_grad_(True)
    alpha = torch.ones(1, placed.layout.num_strokes, requires_grad=True)
    ink = dense_ink_image(points, placed.layout, spec.size, spec.sigma, alpha=alpha)
    ink.sum().backward()


def _model_pass(model: torch.nn.Module, spec: RenderSpec) -> None:
    x = torch.rand(1, spec.channels, spec.size, spec.size, requires_grad=True)
    model(x)[0, 0].backward()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    drawings = real_drawings()
    rows = []
    for size in (28, 64, 224):
        model, spec = model_for(size)
        for n in (30, 300):
            sketch = compose_sketch(drawings, n)
            placed = place(sketch, spec)

            cases = [("model", partial(_model_pass, model, spec)),
                     ("local", partial(_local_pass, placed, spec))]
            if placed.layout.num_segments * size * size <= DENSE_LIMIT:
                cases.append(("dense", partial(_dense_pass, placed, spec)))
            for name, fn in cases:
                row = {"size": size, "strokes": n, "points": sketch.num_points,
                       "segments": placed.layout.num_segments, "what": name,
                       "median_ms": round(median_ms(fn, 7), 3),
                       "peak_mb": round(peak_mb(fn, torch.device("cpu")), 2)}
                rows.append(row)
                if not args.json:
                    print(f"{size:>4}px N={n:<4} segments={row['segments']:<6} {name:<6} "
                          f"{row['median_ms']:>9.2f} ms {row['peak_mb']:>9.1f} MB", flush=True)
    if args.json:
        print(json.dumps({"threads": torch.get_num_threads(), "rows": rows}))


if __name__ == "__main__":
    main()
