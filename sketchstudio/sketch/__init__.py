"""Pure data: sketches, strokes, transforms and file formats. Imports numpy only (never torch or
Qt)."""
from .core import Sketch, SketchError, Stroke
from .transforms import fit_square, fit_transform, resample, scale, simplify, translate

__all__ = ["Sketch", "SketchError", "Stroke", "fit_square", "fit_transform", "resample", "scale",
           "simplify", "translate"]
