"""Differentiable rasterisation of sketches into exactly the input a model expects.

Calling this package is calling `render`, the README's `sketchstudio.render(...)`: once anything has
imported `sketchstudio.render`, Python binds this sub-package to that name on `sketchstudio`.
"""
import sys
import types
from typing import Any

import torch

from .batch import render_batch
from .images import ink_to_gray, save_png
from .pipeline import Placed, place, rasterise, render, render_ink, to_model_input
from .raster import Layout, StrokeInk, dense_ink_image, stroke_ink
from .spec import RenderSpec

__all__ = ["Layout", "Placed", "RenderSpec", "StrokeInk", "dense_ink_image", "ink_to_gray", "place",
           "rasterise", "render", "render_batch", "render_ink", "save_png", "stroke_ink",
           "to_model_input"]


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        return render(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
