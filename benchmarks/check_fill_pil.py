"""Independent check of the fill generator's held-out figure: drawings drawn by PIL (hard 2 px
lines, not our Gaussian rasteriser), ground truth by PIL's own flood fill (ImageDraw.floodfill, not
`fill_truth`), the convex-hull baseline by PIL's polygon fill of a hull computed here again.

    .venv/bin/python benchmarks/check_fill_pil.py [--per-category N]

Prints the model's and the convex hull's mean filled-figure IoU on the held-out drawings
(per category the 5 with the smallest sha256(key_id)), as PIL sees them.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from PIL import Image, ImageDraw

from sketchstudio.models import load_model
from sketchstudio.training.data import (
    HELDOUT_PER_CATEGORY,
    available_categories,
    load_category,
    resolve_data_dir,
    split,
)


def draw(sketch, spec, width: int = 2) -> np.ndarray:
    scale, offset = spec.placement(sketch)
    image = Image.new("L", (spec.size, spec.size), 0)
    pen = ImageDraw.Draw(image)
    for stroke in sketch.strokes:
        pts = [(float(x), float(y)) for x, y in stroke.points * scale + offset - 0.5]
        if len(pts) == 1:
            pen.point(pts, fill=255)
        else:
            pen.line(pts, fill=255, width=width)
    return np.asarray(image, dtype=np.float32) / 255.0


def pil_figure(ink: np.ndarray) -> np.ndarray:
    size = ink.shape[0]
    padded = Image.new("L", (size + 2, size + 2), 0)
    padded.paste(Image.fromarray(np.where(ink > 0.5, 255, 0).astype(np.uint8)), (1, 1))
    ImageDraw.floodfill(padded, (0, 0), 100, thresh=0)
    outside = np.asarray(padded)[1:-1, 1:-1] == 100
    return ~outside


def hull_figure(ink: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(ink > 0.5)
    if len(xs) < 3:
        return ink > 0.5
    pts = np.stack([xs, ys], 1).astype(float)
    # Gift wrapping (a different algorithm from fill_truth's monotone chain).
    start = int(np.lexsort((pts[:, 1], pts[:, 0]))[0])
    hull, current = [], start
    while True:
        hull.append(tuple(pts[current]))
        candidate = (current + 1) % len(pts)
        for i in range(len(pts)):
            a, b = pts[candidate] - pts[current], pts[i] - pts[current]
            cross = a[0] * b[1] - a[1] * b[0]
            if cross < 0 or (cross == 0 and b @ b > a @ a):
                candidate = i
        current = candidate
        if current == start or len(hull) > len(pts):
            break
    image = Image.new("1", ink.shape[::-1], 0)
    ImageDraw.Draw(image).polygon(hull, fill=1, outline=1)
    return np.asarray(image, dtype=bool) | (ink > 0.5)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return 1.0 if union == 0 else float((a & b).sum() / union)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-category", type=int, default=5,
                        help="held-out drawings per category (default 5: all of them)")
    parser.add_argument("--model", default="default-generate")
    parser.add_argument("--width", type=int, default=2, help="PIL line width in pixels")
    args = parser.parse_args()
    model = load_model(args.model, device="cpu")
    folder = resolve_data_dir(None)
    drawings = [s for c in available_categories(folder)
                for s in split(load_category(folder, c),
                               HELDOUT_PER_CATEGORY).heldout[:args.per_category]]
    model_iou, hull_iou = [], []
    for sketch in drawings:
        ink = draw(sketch, model.spec, args.width)
        truth = pil_figure(ink)
        with torch.no_grad():
            out = model(torch.from_numpy(ink)[None, None])[0].mean(0).numpy()
        model_iou.append(iou(out > 0.5, truth))
        hull_iou.append(iou(hull_figure(ink), truth))
    print(f"{len(drawings)} held-out drawings drawn by PIL ({args.width} px lines), truth by PIL "
          "floodfill:")
    m, h = float(np.mean(model_iou)), float(np.mean(hull_iou))
    print(f"  filled-figure IoU  model {m:.4f}   convex hull {h:.4f}   model / hull - 1 = "
          f"{m / h - 1:+.1%}")


if __name__ == "__main__":
    main()
