"""Pipelines that are not ours, to judge the tools' edits where a model really lives.

- `handtex_probabilities`: handtex's *own* rasteriser (handtex.detector.image_gen.
  strokes_to_grayscale_image: 1 px PIL lines on a 64 px image, points rounded to whole pixels),
  fed the way handtex's sketch pad feeds it (strokes scaled so the longer bbox side fills its
  1000-unit canvas, centred, coordinates truncated to integers: handtex.sketchpad.
  rescale_and_center_viewport), then ToTensor and Normalize(0.5, 0.5) as its tensorize_strokes does.
- `sketchstudio.tasks.external.pil_probabilities` (PIL lines, Lanczos) is the product's own second
  pipeline, used for the default classifier by `sketchstudio eval tools`.

handtex's image_gen imports torchvision at module level only for its tensor transforms, which are
not used here; when torchvision is absent a stand-in module is registered for that one import.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Sequence

import numpy as np
import torch

from sketchstudio.sketch import Sketch

HANDTEX_CANVAS = 1000
HANDTEX_SIZE = 64


def _image_gen():
    """handtex.detector.image_gen, imported without torchvision if need be."""
    if "handtex.detector.image_gen" in sys.modules:
        return sys.modules["handtex.detector.image_gen"]
    stand_ins = {}
    if importlib.util.find_spec("torchvision") is None:
        package = types.ModuleType("torchvision")
        transforms = types.ModuleType("torchvision.transforms")
        package.transforms = transforms
        stand_ins = {"torchvision": package, "torchvision.transforms": transforms}
        sys.modules.update(stand_ins)
    try:
        return importlib.import_module("handtex.detector.image_gen")
    finally:
        for name in stand_ins:
            sys.modules.pop(name, None)


def handtex_strokes(sketch: Sketch) -> list[list[tuple[int, int]]]:
    """The sketch as handtex's sketch pad hands it to the rasteriser: 0..1000, centred, ints."""
    x0, y0, x1, y1 = sketch.bbox()
    w, h = x1 - x0, y1 - y0
    scale = HANDTEX_CANVAS / max(w, h, 1e-9)
    ox = round((HANDTEX_CANVAS - w * scale) / 2 - x0 * scale)
    oy = round((HANDTEX_CANVAS - h * scale) / 2 - y0 * scale)
    return [[(int(x * scale + ox), int(y * scale + oy)) for x, y in stroke.points]
            for stroke in sketch.strokes]


def handtex_input(sketch: Sketch) -> torch.Tensor:
    """(1, 1, 64, 64): handtex's own image of the sketch, normalised as handtex does."""
    image = _image_gen().strokes_to_grayscale_image(handtex_strokes(sketch), HANDTEX_SIZE)
    x = torch.as_tensor(np.asarray(image, dtype=np.float32) / 255.0)
    return ((x - 0.5) / 0.5).view(1, 1, HANDTEX_SIZE, HANDTEX_SIZE)


def handtex_probabilities(sketches: Sequence[Sketch], model, batch: int = 64) -> np.ndarray:
    """(B, C) probabilities of handtex's CNN (loaded through its card) on handtex's own images."""
    out = []
    with torch.no_grad():
        for start in range(0, len(sketches), batch):
            x = torch.cat([handtex_input(s) for s in sketches[start:start + batch]])
            out.append(torch.softmax(model(x).double(), dim=1).numpy())
    return np.concatenate(out) if out else np.zeros((0, len(model.labels)))
