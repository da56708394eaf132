"""PNG of a sketch coloured by its attribution, with a legend (headless; the studio draws its
own)."""
from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from ..errors import UserError
from ..sketch import Sketch, fit_transform
from .colormap import heat_rgb, symmetric_scale
from .registry import method_label
from .result import Attribution

if TYPE_CHECKING:   # Pillow is imported when an image is made, not with the package
    from PIL.Image import Image as PILImage
    from PIL.ImageDraw import ImageDraw

SUPERSAMPLE = 3  # Pillow draws aliased lines: draw large, then downsample.


def heat_image(sketch: Sketch, result: Attribution, size: int = 512) -> PILImage:
    from PIL import Image, ImageDraw, ImageFont

    legend_w = max(150, size // 3)
    s = SUPERSAMPLE
    canvas = Image.new("RGB", ((size + legend_w) * s, size * s), "white")
    draw = ImageDraw.Draw(canvas)
    values = result.strokes
    scale = symmetric_scale(np.concatenate(result.segments) if result.segments else values)
    fit_scale, offset = fit_transform(sketch, size * s, margin=0.06)
    width = max(2, round(size / 128)) * s
    for k, stroke in enumerate(sketch.strokes):
        pts = stroke.points * fit_scale + offset
        if result.segments is not None and len(pts) > 1:
            colours = heat_rgb(result.segments[k], scale)
            for j in range(len(pts) - 1):
                draw.line([tuple(pts[j]), tuple(pts[j + 1])],
                          fill=tuple(int(c) for c in colours[j]), width=width)
                _dot(draw, pts[j + 1], width, colours[j])
        else:
            colour = heat_rgb(values[k:k + 1], scale)[0]
            if len(pts) > 1:
                draw.line([tuple(p) for p in pts], fill=tuple(int(c) for c in colour), width=width,
                          joint="curve")
            _dot(draw, pts[0], width, colour)
            _dot(draw, pts[-1], width, colour)
    image = canvas.resize((size + legend_w, size), Image.Resampling.LANCZOS)
    _legend(ImageDraw.Draw(image), ImageFont, size, legend_w, scale, result)
    return image


def _dot(draw: ImageDraw, centre: np.ndarray, width: int, colour: np.ndarray) -> None:
    r = width / 2
    draw.ellipse([centre[0] - r, centre[1] - r, centre[0] + r, centre[1] + r],
                 fill=tuple(int(c) for c in colour))


def _legend(draw: ImageDraw, font_module: ModuleType, size: int, legend_w: int, scale: float,
            result: Attribution) -> None:
    font = font_module.load_default(size=max(11, size // 40))
    x0 = size + 16
    top, bottom = int(size * 0.18), int(size * 0.82)
    bar = heat_rgb(np.linspace(scale, -scale, bottom - top), scale)
    for i, colour in enumerate(bar):
        draw.line([(x0, top + i), (x0 + 18, top + i)], fill=tuple(int(c) for c in colour))
    draw.rectangle([x0, top, x0 + 18, bottom], outline=(90, 90, 90))
    target = result.target or "score"
    draw.text((x0, 8), method_label(result.method), fill="black", font=font)
    draw.text((x0, 8 + font.size + 4), f"target: {target}", fill="black", font=font)
    draw.text((x0 + 24, top - font.size // 2), f"+{scale:.3g}  helps", fill="black", font=font)
    draw.text((x0 + 24, (top + bottom) // 2 - font.size // 2), "0", fill="black", font=font)
    draw.text((x0 + 24, bottom - font.size // 2), f"-{scale:.3g}  hurts", fill="black", font=font)
    if result.prediction:
        label, prob = result.prediction[0]
        draw.text((x0, size - 2 * font.size - 8), f"predicted: {label}", fill="black", font=font)
        draw.text((x0, size - font.size - 6), f"p = {prob:.2f}", fill="black", font=font)


def save_heat_png(sketch: Sketch, result: Attribution, path: str | Path, size: int = 512) -> None:
    from ..fsutil import write_atomically

    image = heat_image(sketch, result, size)
    try:   # whole or not at all, like every file we write (a temporary file renamed into place)
        write_atomically(path, lambda file: image.save(file, format="PNG"))
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
