"""Differentiable rasterisation of sketches into exactly the input a model expects.

Calling this package is calling `render`, the README's `sketchstudio.render(...)`: once anything has
imported `sketchstudio.render`, Python binds this sub-package to that name on `sketchstudio`.

Importing the package does not import torch (the studio and the model cards read `RenderSpec`
while the window opens): the names in the `lazy_package` table are imported on first use.
"""
from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_package
from .spec import RenderSpec

if TYPE_CHECKING:
    import torch

    from .batch import render_batch
    from .images import ink_to_gray, save_png
    from .pipeline import Placed, place, rasterise, render, render_ink, to_model_input
    from .raster import Layout, StrokeInk, dense_ink_image, stroke_ink

__all__ = ["Layout", "Placed", "RenderSpec", "StrokeInk", "dense_ink_image", "ink_to_gray", "place",
           "rasterise", "render", "render_batch", "render_ink", "save_png", "stroke_ink",
           "to_model_input"]

_LAZY, __getattr__, __dir__ = lazy_package(globals(), {
    ".batch": ("render_batch",),
    ".images": ("ink_to_gray", "save_png"),
    ".pipeline": ("Placed", "place", "rasterise", "render", "render_ink", "to_model_input"),
    ".raster": ("Layout", "StrokeInk", "dense_ink_image", "stroke_ink"),
})


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        from .pipeline import render

        return render(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
