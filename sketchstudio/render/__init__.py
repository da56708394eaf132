"""Differentiable rasterisation of sketches into exactly the input a model expects."""
from .._callable import make_callable
from .images import ink_to_gray, save_png
from .pipeline import Placed, place, rasterise, render, render_ink, to_model_input
from .raster import Layout, StrokeInk, dense_ink_image, stroke_ink
from .spec import RenderSpec

__all__ = ["Layout", "Placed", "RenderSpec", "StrokeInk", "dense_ink_image", "ink_to_gray", "place",
           "rasterise", "render", "render_ink", "save_png", "stroke_ink", "to_model_input"]

make_callable(__name__, lambda: render)
