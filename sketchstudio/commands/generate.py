"""`sketchstudio generate FILE`: run a generator on a sketch, save its image, and attribute the mean
of a region of that image to the strokes."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError
from ..progress import TaskState
from ._args import add_method_arguments, add_sketch_command

DEFAULT_MODEL = "default-generate"


def add_parser(subparsers) -> None:
    p = add_sketch_command(
        subparsers, "generate", DEFAULT_MODEL, run,
        help="generate an image from a sketch and explain a region of it per stroke",
        description="Runs a generator (card task = \"generate\"), writes its output image, and "
                    "attributes the mean of the output inside --region (whole image by default) "
                    "to every input stroke.")
    add_method_arguments(p)
    p.add_argument("--region", metavar="x0,y0,x1,y1",
                   help="output pixels, x right, y down, x1/y1 exclusive (default: whole image)")
    p.add_argument("--at", metavar="x,y",
                   help="explain the area the generator made around this output pixel (a fill "
                        "generator's filled region) instead of a rectangle")
    p.add_argument("--out", help="write the generated image as PNG (ink shown dark on white)")
    p.add_argument("--scale", type=int, default=4,
                   help="PNG pixels per output pixel (nearest neighbour, default 4)")
    p.add_argument("--json", action="store_true", help="one JSON object")


def run(args) -> int:
    from ..models import load_model
    from ..sketch.io import load_sketch
    from ..tasks.generate import REGION_CONVENTION, check_generator, explain_region, generate

    if args.out and Path(args.out).suffix.lower() != ".png":
        raise UserError(f"--out must end in .png, got {args.out}")
    if not 1 <= args.scale <= 64:
        raise UserError(f"--scale must be in 1..64, got {args.scale}")
    if args.steps is not None and args.steps < 1:
        raise UserError(f"--steps must be at least 1, got {args.steps}")
    if args.at and args.region:
        raise UserError("give --region or --at, not both")
    at = _parse_point(args.at) if args.at else None
    sketch = load_sketch(args.file, index=args.index)
    model = load_model(args.model, device=args.device)
    check_generator(model)
    state = TaskState()
    generated = generate(sketch, model, state)
    mask = None
    if at is not None:
        mask = generated.region_at(*at)
        if mask is None:
            raise UserError(f"output pixel {args.at} is not in an area the generator made "
                            f"(output > 0.5 where the input has no ink; the output is "
                            f"{generated.width}x{generated.height})")
    attribution = explain_region(sketch, model, region=args.region, method=args.method,
                                 steps=args.steps, mask=mask, state=state)
    if args.out:
        _save_png(generated.to_uint8(), Path(args.out), args.scale)
    region = attribution.params["region"]
    if args.json:
        record = {
            "file": str(args.file), "index": args.index, "model": model.id,
            "method": attribution.method, "objective": attribution.objective,
            "region": region, "region_convention": REGION_CONVENTION,
            "mask_pixels": attribution.params.get("mask_pixels"),
            "output": generated.to_json(),
            "score_full": attribution.score_full, "score_blank": attribution.score_blank,
            "strokes": [float(v) for v in attribution.strokes],
            "completeness_error": (attribution.completeness_error
                                   if attribution.method in ("sla", "psla") else None),
            "segments": (None if attribution.segments is None
                         else [[float(v) for v in s] for s in attribution.segments]),
            "params": attribution.params, "elapsed_ms": round(attribution.elapsed_ms, 3),
            "notes": generated.notes + attribution.notes,
            "out": args.out,
        }
        print(json.dumps(record), flush=True)
        return 0
    s = generated.stats
    word = sketch.metadata.get("word")
    from ..textsafe import printable  # the word comes from the file: no raw controls

    print(f"drawing {args.index}" + (f" ({printable(word)})" if word else "")
          + f": {model.id} -> image {generated.channels}x{generated.height}x{generated.width}, "
          f"min {s['min']:.3f} max {s['max']:.3f} mean {s['mean']:.3f}"
          + (f", ink {100 * s['ink_fraction']:.1f}% of pixels" if "ink_fraction" in s else ""))
    pixels = attribution.params.get("mask_pixels")
    where = (f"filled area of {pixels} pixels in {','.join(map(str, region))}" if pixels
             else f"region {','.join(map(str, region))} ({REGION_CONVENTION})")
    print(f"{where}: mean {attribution.score_full:.4f} (blank canvas "
          f"{attribution.score_blank:.4f}), {attribution.method}")
    scale = max(abs(attribution.strokes).max(initial=0.0), 1e-12)
    for k, value in enumerate(attribution.strokes):
        bar = ("+" if value > 0 else "-") * int(round(abs(value) / scale * 20))
        print(f"  stroke {k:3d}  {value:+.5f}  {bar}")
    for note in generated.notes + attribution.notes:
        print(f"  note: {note}")
    if args.out:
        print(f"wrote {args.out}")
    return 0


def _parse_point(text: str) -> tuple[float, float]:
    parts = [p for p in text.replace(" ", ",").split(",") if p]
    try:
        x, y = (float(p) for p in parts)
    except ValueError:
        raise UserError(f"--at must be two numbers x,y (output pixels), got {text!r}") from None
    return x, y


def _save_png(pixels, path: Path, scale: int) -> None:
    import numpy as np
    from PIL import Image

    if scale > 1:
        pixels = np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)
    from ..fsutil import write_atomically

    image = Image.fromarray(pixels, mode="RGB")
    try:   # whole or not at all, like every file we write (a temporary file renamed into place)
        write_atomically(path, lambda file: image.save(file, format="PNG"))
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
