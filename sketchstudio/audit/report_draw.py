"""Pictures for the audit report: heat-coloured thumbnails (PNG data URIs, drawn with Pillow) and
small inline SVG charts. Everything is embedded in the page; nothing is fetched from anywhere.
"""
from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from html import escape

import numpy as np

from ..explain.colormap import heat_rgb, symmetric_scale
from ..sketch import Sketch, fit_transform

SUPERSAMPLE = 3          # Pillow draws aliased lines: draw large, then downsample
INK = "#2d3340"
MUTED = "#8a8d96"
GRID = "#e6e8ee"
FONT = "font-family='system-ui, sans-serif'"


def heat_css(value: float, scale: float) -> str:
    r, g, b = (int(c) for c in heat_rgb(np.array([value]), scale)[0])
    return f"rgb({r},{g},{b})"


def score_css(value: float) -> str:
    """0 -> red, 0.5 -> amber, 1 -> green: for shares where more is better (accuracy)."""
    stops = np.array([(178, 24, 43), (224, 160, 60), (46, 125, 90)], dtype=np.float64)
    t = min(max(value, 0.0), 1.0) * 2
    lo = min(int(t), 1)
    r, g, b = np.round(stops[lo] + (stops[lo + 1] - stops[lo]) * (t - lo)).astype(int)
    return f"rgb({r},{g},{b})"


def thumbnail(sketch: Sketch, attributions: np.ndarray, size: int = 148) -> str:
    """A data URI: the drawing with every stroke in the heat colour of its attribution."""
    from PIL import Image, ImageDraw

    s = SUPERSAMPLE
    image = Image.new("RGB", (size * s, size * s), "white")
    draw = ImageDraw.Draw(image)
    scale = symmetric_scale(attributions)
    fit_scale, offset = fit_transform(sketch, size * s, margin=0.08)
    width = max(2, round(size / 64)) * s
    colours = heat_rgb(attributions, scale)
    # Weak strokes first, so that the decisive ones are drawn on top where strokes cross.
    for k in np.argsort(np.abs(attributions), kind="stable"):
        colour = tuple(int(c) for c in colours[k])
        points = [tuple(p) for p in sketch.strokes[k].points * fit_scale + offset]
        if len(points) > 1:
            draw.line(points, fill=colour, width=width, joint="curve")
        for x, y in (points[0], points[-1]):
            r = width / 2
            draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    image = image.resize((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _svg_open(width: int, height: int, shrink: bool = True) -> str:
    """Scales down to fit a narrow column, never up (text stays the size it was drawn at); a
    chart that must stay legible (`shrink=False`) keeps its size and its box scrolls instead."""
    if not shrink:
        return (f"<svg class='chart' viewBox='0 0 {width} {height}' width='{width}' "
                f"height='{height}' role='img'>")
    return (f"<svg class='chart' viewBox='0 0 {width} {height}' width='100%' "
            f"style='max-width:{width}px' role='img'>")


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 11,
          fill: str = INK, extra: str = "") -> str:
    return (f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}' font-size='{size}' {FONT} "
            f"fill='{fill}' {extra}>{escape(text)}</text>")


def hbar_chart(labels: Sequence[str], values: Sequence[float], notes: Sequence[str],
               colours: Sequence[str], width: int = 560, label_w: int = 150,
               maximum: float = 1.0) -> str:
    """Horizontal bars on [0, maximum], one row per label, a note (e.g. "12 / 15") at the end."""
    row = 18
    height = row * len(labels) + 24
    plot_w = width - label_w - 90
    parts = [_svg_open(width, height)]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + plot_w * tick
        parts.append(f"<line x1='{x:.1f}' y1='4' x2='{x:.1f}' y2='{height - 18}' "
                     f"stroke='{GRID}'/>")
        parts.append(_text(x, height - 5, f"{tick * maximum:.0%}" if maximum == 1.0
                           else f"{tick * maximum:.2g}", "middle", 10, MUTED))
    for i, (label, value, note, colour) in enumerate(zip(labels, values, notes, colours,
                                                                strict=True)):
        y = 4 + i * row
        w = plot_w * (min(max(value, 0.0), maximum) / maximum if math.isfinite(value) else 0.0)
        if not math.isfinite(value):        # a gap row: its label only
            parts.append(_text(label_w - 8, y + 12, label, "end", fill=MUTED))
            continue
        parts.append(_text(label_w - 8, y + 12, label, "end"))
        parts.append(f"<rect x='{label_w}' y='{y + 2}' width='{w:.1f}' height='{row - 5}' "
                     f"rx='3' fill='{colour}'><title>{escape(label)}: {escape(note)}</title>"
                     "</rect>")
        parts.append(_text(label_w + w + 6, y + 12, note, size=10, fill=MUTED))
    parts.append("</svg>")
    return "".join(parts)


def column_chart(labels: Sequence[str], values: Sequence[float], notes: Sequence[str],
                 width: int = 560, height: int = 220, signed: bool = True) -> str:
    """Vertical bars around zero, coloured with the heat scale (red helps, blue hurts)."""
    finite = [abs(v) for v in values if math.isfinite(v)]
    top = max(finite, default=1.0) or 1.0
    left, bottom, pad = 44, 40, 10
    plot_h = height - bottom - pad
    zero = pad + (plot_h / 2 if signed else plot_h)
    span = plot_h / 2 if signed else plot_h
    step = (width - left - pad) / max(len(labels), 1)
    parts = [_svg_open(width, height)]
    for tick in ((-1.0, -0.5, 0.0, 0.5, 1.0) if signed else (0.0, 0.5, 1.0)):
        y = zero - tick * span
        parts.append(f"<line x1='{left}' y1='{y:.1f}' x2='{width - pad}' y2='{y:.1f}' "
                     f"stroke='{GRID if tick else MUTED}'/>")
        parts.append(_text(left - 6, y + 4, f"{tick * top:+.2f}" if signed else
                           f"{tick * top:.0%}", "end", 10, MUTED))
    for i, (label, value, note) in enumerate(zip(labels, values, notes, strict=True)):
        x = left + i * step + step * 0.15
        if math.isfinite(value):
            h = abs(value) / top * span
            y = zero - h if value >= 0 else zero
            colour = heat_css(value, top) if signed else "#6b7a99"
            parts.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='{step * 0.7:.1f}' "
                         f"height='{max(h, 0.5):.1f}' rx='2' fill='{colour}'><title>"
                         f"{escape(label)}: {escape(note)}</title></rect>")
        parts.append(_text(x + step * 0.35, height - bottom + 16, label, "middle", 10))
        parts.append(_text(x + step * 0.35, height - bottom + 30, note, "middle", 9, MUTED))
    parts.append("</svg>")
    return "".join(parts)


def histogram(counts: np.ndarray, colour: str, width: int = 270, height: int = 120) -> str:
    """Counts of values in equal bins over [0, 1]."""
    top = max(int(counts.max(initial=0)), 1)
    left, bottom = 6, 18
    step = (width - 2 * left) / len(counts)
    parts = [_svg_open(width, height)]
    for i, count in enumerate(counts):
        h = (height - bottom - 6) * count / top
        parts.append(f"<rect x='{left + i * step:.1f}' y='{height - bottom - h:.1f}' "
                     f"width='{step - 1:.1f}' height='{h:.1f}' fill='{colour}'><title>"
                     f"{i / len(counts):.2f}–{(i + 1) / len(counts):.2f}: {count}</title></rect>")
    for tick in (0.0, 0.5, 1.0):
        parts.append(_text(left + tick * (width - 2 * left), height - 4, f"{tick:g}",
                           "middle", 10, MUTED))
    parts.append("</svg>")
    return "".join(parts)


def dumbbell_chart(labels: Sequence[str], deletion: Sequence[float],
                   insertion: Sequence[float], notes: Sequence[str], width: int = 760,
                   label_w: int = 150) -> str:
    """Per class: a blue dot at the mean deletion AUC, a red one at the mean insertion AUC. The
    further apart (red right of blue), the more faithful the explanations."""
    row = 18
    height = row * len(labels) + 24
    plot_w = width - label_w - 150
    x_of = lambda v: label_w + plot_w * min(max(v, 0.0), 1.0)  # noqa: E731
    blue, red = heat_css(-1, 1.3), heat_css(1, 1.3)
    parts = [_svg_open(width, height)]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f"<line x1='{x_of(tick):.1f}' y1='4' x2='{x_of(tick):.1f}' "
                     f"y2='{height - 18}' stroke='{GRID}'/>")
        parts.append(_text(x_of(tick), height - 5, f"{tick:g}", "middle", 10, MUTED))
    for i, (label, d, ins, note) in enumerate(zip(labels, deletion, insertion, notes,
                                                        strict=True)):
        y = 4 + i * row + 9
        if not (math.isfinite(d) and math.isfinite(ins)):    # a gap row: its label only
            parts.append(_text(label_w - 8, y + 4, label, "end", fill=MUTED))
            continue
        parts.append(_text(label_w - 8, y + 4, label, "end"))
        good = ins >= d
        parts.append(f"<line x1='{x_of(d):.1f}' y1='{y}' x2='{x_of(ins):.1f}' y2='{y}' "
                     f"stroke='{'#9aa5bd' if good else '#e0a39a'}' stroke-width='3'/>")
        parts.append(f"<circle cx='{x_of(d):.1f}' cy='{y}' r='4.5' fill='{blue}'><title>"
                     f"{escape(label)}: deletion AUC {d:.3f}</title></circle>")
        parts.append(f"<circle cx='{x_of(ins):.1f}' cy='{y}' r='4.5' fill='{red}'><title>"
                     f"{escape(label)}: insertion AUC {ins:.3f}</title></circle>")
        parts.append(_text(label_w + plot_w + 10, y + 4, note, size=10, fill=MUTED))
    parts.append("</svg>")
    return "".join(parts)


def confusion_matrix(labels: Sequence[str], columns: Sequence[str], counts: np.ndarray) -> str:
    """Rows: the drawing's word; columns: the prediction; cells shaded by the row's share."""
    cell = 16 if len(labels) > 24 else 22
    label_w = 120
    top = 110
    width = label_w + cell * len(columns) + 10
    height = top + cell * len(labels) + 10
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    parts = [_svg_open(width, height, shrink=False)]
    for j, name in enumerate(columns):
        x = label_w + j * cell + cell * 0.65
        parts.append(_text(x, top - 6, name, size=10, extra=f"transform='rotate(-55 {x:.1f} "
                                                                f"{top - 6})'"))
    for i, name in enumerate(labels):
        y = top + i * cell
        parts.append(_text(label_w - 6, y + cell * 0.7, name, "end", 10))
        for j, column in enumerate(columns):
            n, share = int(counts[i, j]), float(shares[i, j])
            if n == 0:
                fill = "#f7f8fa"
            elif name == column:
                fill = f"rgba(46,125,90,{0.15 + 0.85 * share:.3f})"
            else:
                fill = f"rgba(178,24,43,{0.15 + 0.85 * share:.3f})"
            parts.append(f"<rect x='{label_w + j * cell}' y='{y}' width='{cell - 1}' "
                         f"height='{cell - 1}' fill='{fill}'><title>{escape(name)} drawn, "
                         f"{escape(column)} predicted: {n} ({share:.0%})</title></rect>")
    parts.append("</svg>")
    return "".join(parts)
