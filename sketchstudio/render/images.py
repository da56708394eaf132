"""Raster images for people (PNG export, thumbnails), drawn by the same renderer models see."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UserError
from ..sketch import Sketch
from .spec import RenderSpec


def preview_spec(size: int) -> RenderSpec:
    """Dark ink on white, centred; the stroke softness scales with the picture."""
    return RenderSpec(size=size, ink="light-on-dark", sigma=max(0.6, size / 256.0), fit="center",
                      margin=0.05)


def ink_to_gray(sketch: Sketch, size: int = 256) -> np.ndarray:
    """uint8 (size, size) image, black ink on white."""
    from .pipeline import render_ink  # torch, when a picture is made: not with the studio window

    ink = render_ink(sketch, preview_spec(size)).cpu().numpy()
    return np.round(255.0 * (1.0 - ink)).astype(np.uint8)


def save_png(sketch: Sketch, path: str | Path, size: int = 256) -> None:
    from PIL import Image

    if not 8 <= size <= 8192:
        raise UserError(f"PNG size must be in 8..8192, got {size}")
    from ..fsutil import write_atomically

    image = Image.fromarray(ink_to_gray(sketch, size), mode="L")
    try:   # whole or not at all, like every file we write (a temporary file renamed into place)
        write_atomically(path, lambda file: image.save(file, format="PNG"))
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
