"""A sketch coloured by its attribution, with a legend, as PNG or SVG (headless; the studio draws
its own on screen).

One layout serves both: the drawing fitted into a `size` square, every stroke (or, with P-SLA
segment values, every segment) in its heat colour, and the legend beside it (method, target, the
scale with its ends, the prediction). `sketchstudio explain --out`, `sketchstudio convert --heat`
and the studio's Export all write through here, so the same drawing and attribution give the same
file from each.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, BinaryIO
from xml.sax.saxutils import escape

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
LEGEND_STEPS = 64   # colour bands of the SVG legend bar


@dataclass(frozen=True)
class _Line:
    """A polyline in picture coordinates, one colour (a segment, or a whole stroke)."""

    points: np.ndarray          # (n, 2)
    colour: tuple[int, int, int]


def _scale(result: Attribution) -> float:
    # Segments set the scale when there are any (the studio's canvas does the same).
    return symmetric_scale(np.concatenate(result.segments) if result.segments else result.strokes)


def _lines(sketch: Sketch, result: Attribution, size: float, scale: float) -> list[_Line]:
    fit_scale, offset = fit_transform(sketch, size, margin=0.06)
    lines: list[_Line] = []
    for k, stroke in enumerate(sketch.strokes):
        pts = stroke.points * fit_scale + offset
        if result.segments is not None and len(pts) > 1:
            colours = heat_rgb(result.segments[k], scale)
            lines.extend(_Line(pts[j:j + 2], _rgb(colours[j])) for j in range(len(pts) - 1))
        else:
            lines.append(_Line(pts, _rgb(heat_rgb(result.strokes[k:k + 1], scale)[0])))
    return lines


def _rgb(colour: np.ndarray) -> tuple[int, int, int]:
    return int(colour[0]), int(colour[1]), int(colour[2])


def _legend_width(size: int) -> int:
    return max(150, size // 3)


def _legend_text(result: Attribution, scale: float) -> tuple[list[str], tuple[str, str, str],
                                                             list[str]]:
    """(heading lines, the bar's top/middle/bottom labels, prediction lines)."""
    heading = [method_label(result.method), f"target: {result.target or 'score'}"]
    bar = (f"+{scale:.3g}  helps", "0", f"-{scale:.3g}  hurts")
    prediction = []
    if result.prediction:
        label, prob = result.prediction[0]
        prediction = [f"predicted: {label}", f"p = {prob:.2f}"]
    return heading, bar, prediction


# --- PNG ----------------------------------------------------------------------------------------
def heat_image(sketch: Sketch, result: Attribution, size: int = 512) -> PILImage:
    from PIL import Image, ImageDraw, ImageFont

    legend_w = _legend_width(size)
    s = SUPERSAMPLE
    canvas = Image.new("RGB", ((size + legend_w) * s, size * s), "white")
    draw = ImageDraw.Draw(canvas)
    scale = _scale(result)
    width = max(2, round(size / 128)) * s
    for line in _lines(sketch, result, size * s, scale):
        pts = [(float(x), float(y)) for x, y in line.points]
        if len(pts) > 1:
            draw.line(pts, fill=line.colour, width=width, joint="curve")
        for point in (pts[0], pts[-1]):     # round ends, as the SVG's round caps
            _dot(draw, point, width, line.colour)
    image = canvas.resize((size + legend_w, size), Image.Resampling.LANCZOS)
    _legend(ImageDraw.Draw(image), ImageFont, size, scale, result)
    return image


def _dot(draw: ImageDraw, centre: tuple[float, float], width: int,
         colour: tuple[int, int, int]) -> None:
    r = width / 2
    draw.ellipse([centre[0] - r, centre[1] - r, centre[0] + r, centre[1] + r], fill=colour)


def _legend(draw: ImageDraw, font_module: ModuleType, size: int, scale: float,
            result: Attribution) -> None:
    font = font_module.load_default(size=max(11, size // 40))
    x0 = size + 16
    top, bottom = int(size * 0.18), int(size * 0.82)
    bar = heat_rgb(np.linspace(scale, -scale, bottom - top), scale)
    for i, colour in enumerate(bar):
        draw.line([(x0, top + i), (x0 + 18, top + i)], fill=_rgb(colour))
    draw.rectangle([x0, top, x0 + 18, bottom], outline=(90, 90, 90))
    heading, (high, zero, low), prediction = _legend_text(result, scale)
    for i, text in enumerate(heading):
        draw.text((x0, 8 + i * (font.size + 4)), text, fill="black", font=font)
    draw.text((x0 + 24, top - font.size // 2), high, fill="black", font=font)
    draw.text((x0 + 24, (top + bottom) // 2 - font.size // 2), zero, fill="black", font=font)
    draw.text((x0 + 24, bottom - font.size // 2), low, fill="black", font=font)
    for i, text in enumerate(prediction):
        draw.text((x0, size - (2 - i) * font.size - 8 + 2 * i), text, fill="black", font=font)


def save_heat_png(sketch: Sketch, result: Attribution, path: str | Path, size: int = 512) -> None:
    image = heat_image(sketch, result, size)
    _write(path, lambda file: image.save(file, format="PNG"))


# --- SVG ----------------------------------------------------------------------------------------
def _n(value: float) -> str:
    """Coordinates to 1/100 of a pixel: the same drawing gives the same text on every machine."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _hex(colour: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def heat_svg(sketch: Sketch, result: Attribution, size: int = 512) -> str:
    """The PNG's picture as SVG text: polylines in heat colours, the legend as a bar and text."""
    legend_w = _legend_width(size)
    scale = _scale(result)
    width = max(2, round(size / 128))
    font = max(11, size // 40)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + legend_w}" height="{size}" '
           f'viewBox="0 0 {size + legend_w} {size}">',
           f'<rect width="{size + legend_w}" height="{size}" fill="white" stroke="none"/>',
           f'<g fill="none" stroke-width="{width}" stroke-linecap="round" '
           'stroke-linejoin="round">']
    for line in _lines(sketch, result, size, scale):
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in line.points)
        if len(line.points) == 1:   # a dot: a zero-length line shows as a round cap
            points = f"{points} {points}"
        out.append(f'<polyline points="{points}" stroke="{_hex(line.colour)}"/>')
    out.append("</g>")
    x0 = size + 16
    top, bottom = int(size * 0.18), int(size * 0.82)
    band = (bottom - top) / LEGEND_STEPS
    colours = heat_rgb(np.linspace(scale, -scale, LEGEND_STEPS), scale)
    # Bands rather than a gradient: every SVG viewer draws them alike (some mishandle gradients).
    out.append('<g shape-rendering="crispEdges">')
    out.extend(f'<rect x="{x0}" y="{_n(top + i * band)}" width="18" height="{_n(band + 1)}" '
               f'fill="{_hex(_rgb(c))}" stroke="none"/>' for i, c in enumerate(colours))
    out.append(f'<rect x="{x0}" y="{top}" width="18" height="{bottom - top}" fill="none" '
               'stroke="#5a5a5a"/></g>')
    heading, (high, zero, low), prediction = _legend_text(result, scale)
    texts = [(x0, 8 + font + i * (font + 4), t) for i, t in enumerate(heading)]
    texts += [(x0 + 24, top + font // 2, high), (x0 + 24, (top + bottom) // 2 + font // 2, zero),
              (x0 + 24, bottom + font // 2, low)]
    texts += [(x0, size - (1 - i) * (font + 2) - 8, t) for i, t in enumerate(prediction)]
    out.append(f'<g font-family="sans-serif" font-size="{font}" fill="black" '
               'style="white-space:pre">')
    out.extend(f'<text x="{x}" y="{y}">{_xml_text(text)}</text>' for x, y, text in texts)
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def save_heat_svg(sketch: Sketch, result: Attribution, path: str | Path, size: int = 512) -> None:
    text = heat_svg(sketch, result, size)
    _write(path, lambda file: file.write(text.encode("utf-8")))


def _xml_text(text: str) -> str:
    # Labels come from model cards: characters XML cannot hold (controls) become "?".
    return escape("".join(c if c >= " " or c in "\t" else "?" for c in text))


def _write(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    from ..fsutil import write_atomically

    try:   # whole or not at all, like every file we write (a temporary file renamed into place)
        write_atomically(path, write)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
