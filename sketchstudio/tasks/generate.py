"""Generation (card `task = "generate"`): a sketch in, an image out, strokes explained per region.

A generator maps the rendered sketch (the card's `[input]`) to one image, `(1, C, H, W)` with C = 1
or 3 (completion, colourisation, sketch-to-photo). What is attributed to the strokes is the mean of
that image inside a rectangle of interest (all channels), `RegionMean`; the whole image by default.

Regions are in **output pixel coordinates**: `(x0, y0, x1, y1)` with x to the right and y down,
pixel (row i, column j) covering [j, j+1) x [i, i+1) (the renderer's convention), and **x1, y1
exclusive** (Python slices): the whole image is `(0, 0, W, H)` and `(3, 5, 4, 6)` is the single
pixel at column 3, row 5. A region must lie inside the output and hold at least one pixel; a
rectangle dragged in a user interface is made into one with `region_from_rect` (which clamps).

    from sketchstudio.tasks.generate import generate, explain_region
    g = generate(sketch, model)            # GenerationResult: g.image (H, W, C) float32, g.stats
    r = explain_region(sketch, model, region=(16, 16, 48, 48))   # an explain() Attribution
    r.strokes                      # one value per stroke; they sum to r.score_full - r.score_blank
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import numpy as np
import torch

from ..errors import UserError
from ..progress import CancelledFn, ProgressFn, TaskState, report
from ..render import render_ink, to_model_input
from ..render.pipeline import pixels_to_sketch
from ..sketch import Sketch

TASK = "generate"
REGION_CONVENTION = "output pixels (x0, y0, x1, y1), x right, y down, x1 and y1 exclusive"


# --- regions ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Region:
    """A rectangle of output pixels; x1 and y1 are exclusive (see the module docstring)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def area(self) -> int:
        return self.width * self.height

    def to_list(self) -> list[int]:
        return [self.x0, self.y0, self.x1, self.y1]

    def __str__(self) -> str:
        return f"{self.x0},{self.y0},{self.x1},{self.y1}"


def parse_region(value: str | Sequence[Any] | Region) -> Region:
    """'x0,y0,x1,y1' (or four integers) -> Region; checks the numbers, not the image bounds."""
    if isinstance(value, Region):
        return value
    if isinstance(value, str):
        parts = [p for p in re.split(r"[,\s]+", value.strip()) if p]
    else:
        try:
            parts = list(value)
        except TypeError:
            raise UserError(f"region must be x0,y0,x1,y1, got {value!r}") from None
    if len(parts) != 4:
        raise UserError(f"region must be 4 integers x0,y0,x1,y1 (output pixels, x1/y1 exclusive), "
                        f"got {value!r}")
    numbers = []
    for p in parts:
        try:
            f = float(p)
        except (TypeError, ValueError):
            raise UserError(f"region must be 4 integers x0,y0,x1,y1, got {value!r}") from None
        if isinstance(p, bool) or not math.isfinite(f) or f != int(f):
            raise UserError(f"region must be 4 integers x0,y0,x1,y1 (whole output pixels), "
                            f"got {value!r}")
        numbers.append(int(f))
    x0, y0, x1, y1 = numbers
    if x1 <= x0 or y1 <= y0:
        raise UserError(f"region {x0},{y0},{x1},{y1} is empty: it needs x0 < x1 and y0 < y1 "
                        "(x1 and y1 are exclusive)")
    return Region(x0, y0, x1, y1)


def check_region(region: str | Sequence[Any] | Region | None, width: int, height: int) -> Region:
    """A valid region inside a width x height output; None is the whole image."""
    if region is None:
        return Region(0, 0, width, height)
    r = parse_region(region)
    if r.x0 < 0 or r.y0 < 0 or r.x1 > width or r.y1 > height:
        raise UserError(f"region {r} lies outside the {width}x{height} output (x in 0..{width}, "
                        f"y in 0..{height}; x1 and y1 are exclusive)")
    return r


def region_from_rect(x0: float, y0: float, x1: float, y1: float, width: int,
                     height: int) -> Region | None:
    """A dragged rectangle (any corner order, fractional output pixels) -> the pixels it touches,
    clamped to the image; None when nothing of it is inside."""
    xa, xb = sorted((x0, x1))
    ya, yb = sorted((y0, y1))
    # A click or a zero-width drag still means the pixel under it.
    ix0, iy0 = math.floor(xa), math.floor(ya)
    ix1, iy1 = max(math.ceil(xb), ix0 + 1), max(math.ceil(yb), iy0 + 1)
    ix0, iy0, ix1, iy1 = max(ix0, 0), max(iy0, 0), min(ix1, width), min(iy1, height)
    if ix1 <= ix0 or iy1 <= iy0:
        return None
    return Region(ix0, iy0, ix1, iy1)


# --- output checks ------------------------------------------------------------------------------

def check_output_shape(output: torch.Tensor, model_id: str | None = None,
                       batch: int | None = 1) -> None:
    """A generator's output must be (batch, C, H, W) with C = 1 or 3; one clear line otherwise."""
    who = f"generator {model_id!r}" if model_id else "the generator"
    if not isinstance(output, torch.Tensor):
        raise UserError(f"{who} returned {type(output).__name__}, not an image tensor")
    shape = tuple(output.shape)
    if output.ndim != 4 or (batch is not None and shape[0] != batch):
        expected = f"({batch}, C, H, W)" if batch is not None else "(batch, C, H, W)"
        raise UserError(f"{who} must return an image {expected} with C = 1 or 3; got shape {shape}")
    if shape[1] not in (1, 3):
        raise UserError(f"{who} must return 1 or 3 channels (batch, C, H, W); got {shape[1]} "
                        f"channels, shape {shape}")
    if shape[2] < 1 or shape[3] < 1:
        raise UserError(f"{who} returned an empty image, shape {shape}")


def check_output(output: torch.Tensor, model_id: str | None = None) -> None:
    check_output_shape(output, model_id, batch=1)
    if not torch.isfinite(output).all():
        who = f"generator {model_id!r}" if model_id else "the generator"
        raise UserError(f"{who} returned NaN or infinite values for this sketch")


class RegionMean:
    """Objective: model output (B, C, H, W) -> (B,) mean of all channels inside the region.

    The region is a rectangle (`region`; None: the whole image) or any set of output pixels
    (`mask`, an (H, W) bool array: a filled area a user clicked). The output's shape is checked on
    every call, so a generator that answers a batch with the wrong shape fails with one line, not
    an indexing error.
    """

    name = "region-mean"

    def __init__(self, region: Region | str | Sequence[int] | None = None,
                 mask: np.ndarray | None = None) -> None:
        self.mask = None
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.ndim != 2 or not mask.any():
                raise UserError(f"a region mask must be a non-empty (H, W) array of output pixels, "
                                f"got shape {mask.shape} with {int(mask.sum())} pixels")
            ys, xs = np.nonzero(mask)
            # The mask's bounding box stands for it wherever a rectangle is shown or reported.
            region = Region(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
            self.mask = mask
        self.region = None if region is None else parse_region(region)
        self._weights: dict = {}

    @property
    def pixels(self) -> int | None:
        """How many output pixels the objective averages (None: a rectangle, see `region`)."""
        return None if self.mask is None else int(self.mask.sum())

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        check_output_shape(output, batch=None)
        h, w = output.shape[2], output.shape[3]
        if self.mask is not None:
            if self.mask.shape != (h, w):
                raise UserError(f"the region mask is {self.mask.shape[1]}x{self.mask.shape[0]} "
                                f"pixels but the output is {w}x{h}")
            key = (output.device, output.dtype)
            if key not in self._weights:
                m = torch.as_tensor(self.mask, device=output.device, dtype=output.dtype)
                self._weights[key] = m / m.sum()
            return (output * self._weights[key]).sum(dim=(2, 3)).mean(dim=1)
        r = check_region(self.region, w, h)
        return output[:, :, r.y0:r.y1, r.x0:r.x1].mean(dim=(1, 2, 3))

    def __repr__(self) -> str:
        if self.mask is not None:
            return f"RegionMean(mask of {self.pixels} pixels in {self.region})"
        return f"RegionMean({self.region})"


# --- generation ---------------------------------------------------------------------------------

@dataclass
class GenerationResult:
    """What a generator made of a sketch.

    `image` is the raw model output as (H, W, C) float32, C = 1 or 3, row 0 at the top, in the
    model's own range (the card's `[output] range`, e.g. [0, 1]). `to_uint8()` is the displayable
    (H, W, 3) picture. Output pixel (column x, row y) shows the sketch point
    `output_to_sketch(x, y)` when the output shares the input's frame (`same_frame`), which is how a
    completion is laid behind the canvas as a ghost layer (`ink()`).
    """

    image: np.ndarray
    input_ink: np.ndarray                  # (S, S) ink in [0, 1] the model was given, light on dark
    stats: dict[str, Any]
    scale: float                           # input pixel = sketch point * scale + offset
    offset: np.ndarray
    input_size: int
    model: str | None = None
    output_ink: str | None = None          # card [output] ink: "light-on-dark" | "dark-on-light"
    output_range: tuple[float, float] | None = None   # card [output] range, if it says
    same_frame: bool = True                # card [output] frame == "input" (or not said)
    description: str | None = None         # card [output] description: what the image shows
    elapsed_ms: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def channels(self) -> int:
        return int(self.image.shape[2])

    def whole_region(self) -> Region:
        return Region(0, 0, self.width, self.height)

    def to_uint8(self, paper: bool = True) -> np.ndarray:
        """(H, W, 3) uint8 for display. Values map from the card's range (else [0, 1] when they fit,
        else their own min..max). `paper`: an ink image (card says its polarity) is shown dark on
        white, as on the canvas."""
        x = self.image.astype(np.float32)
        lo, hi = self.output_range or (0.0, 1.0)
        if self.output_range is None and (x.min() < -1e-3 or x.max() > 1 + 1e-3):
            lo, hi = float(x.min()), float(x.max())
        x = np.clip((x - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
        if paper and self.output_ink == "light-on-dark":
            x = 1.0 - x
        if x.shape[2] == 1:
            x = np.repeat(x, 3, axis=2)
        return np.round(x * 255.0).astype(np.uint8)

    def ink(self) -> np.ndarray:
        """(H, W) ink strength in [0, 1] (channel mean, polarity from the card): the ghost layer."""
        x = self.image.mean(axis=2)
        lo, hi = self.output_range or (0.0, 1.0)
        x = np.clip((x - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
        return (1.0 - x if self.output_ink == "dark-on-light" else x).astype(np.float32)

    def added_ink(self) -> np.ndarray:
        """(H, W) ink the generator added beyond the input ("what comes next"); zeros if the output
        is not in the input's pixels."""
        if not self.same_frame or self.image.shape[:2] != self.input_ink.shape:
            return np.zeros(self.image.shape[:2], np.float32)
        return np.clip(self.ink() - self.input_ink, 0.0, 1.0).astype(np.float32)

    def region_at(self, x: float, y: float) -> np.ndarray | None:
        """The area the generator made around output pixel (column x, row y): the 4-connected
        region of pixels it inks (> 0.5) that the input does not (a fill generator's filled area),
        as an (H, W) bool mask; None where the pixel is not such a pixel."""
        from .regions import region_at

        if not self.same_frame or self.image.shape[:2] != self.input_ink.shape:
            return region_at(self.ink() > 0.5, x, y)
        return region_at((self.ink() > 0.5) & (self.input_ink <= 0.5), x, y)

    def output_to_sketch(self, x: float | np.ndarray, y: float | np.ndarray) -> tuple:
        """Output pixel coordinates (pixel centres at +0.5) -> sketch coordinates."""
        sx, sy = self.input_size / self.width, self.input_size / self.height
        return pixels_to_sketch(np.asarray(x) * sx, np.asarray(y) * sy, self.scale, self.offset)

    def sketch_to_output(self, x: float | np.ndarray, y: float | np.ndarray) -> tuple:
        sx, sy = self.width / self.input_size, self.height / self.input_size
        return ((np.asarray(x) * self.scale + self.offset[0]) * sx,
                (np.asarray(y) * self.scale + self.offset[1]) * sy)

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "shape": [self.channels, self.height, self.width],
                **self.stats, "elapsed_ms": round(self.elapsed_ms, 3), "notes": self.notes}


def output_card(model: Any) -> dict[str, Any]:
    """The card's optional `[output]` table (documentation of the image: size, channels, range,
    ink polarity, frame); {} when the card has none."""
    card = getattr(model, "card", None)
    section = getattr(card, "extra", {}).get("output", {}) if card is not None else {}
    return dict(section) if isinstance(section, dict) else {}


def check_generator(model: Any) -> None:
    task = getattr(model, "task", None)
    if task != TASK:
        raise UserError(f"model {getattr(model, 'id', '?')!r} is a {task!r} model; generation "
                        f"needs a model whose card says task = \"generate\"")


def generate(sketch: Sketch, model: Any, state: TaskState | None = None) -> GenerationResult:
    """Render the sketch as the card says, run the generator once, check and describe its image.

    `state` (progress and cancellation, `sketchstudio.progress`): one forward pass is short, so
    it is only asked whether to stop before the work and told when the work is done.
    """
    check_generator(model)
    state = TaskState.coerce(state)
    state.check()
    started = time.perf_counter()
    spec = model.spec
    device = getattr(model, "device", torch.device("cpu"))
    ink = render_ink(sketch, spec, device)
    with torch.no_grad():
        output = model(to_model_input(ink.unsqueeze(0), spec))
    model_id = getattr(model, "id", None)
    check_output(output, model_id)
    image = output[0].detach().float().permute(1, 2, 0).cpu().numpy()
    section = output_card(model)
    rng = section.get("range")
    output_range = (float(rng[0]), float(rng[1])) if _pair(rng) else None
    polarity = (section.get("ink") if section.get("ink") in ("light-on-dark", "dark-on-light")
                else None)
    scale, offset = spec.placement(sketch)
    result = GenerationResult(
        image=image, input_ink=ink.cpu().numpy().astype(np.float32), stats={}, scale=float(scale),
        offset=np.asarray(offset, dtype=np.float64), input_size=spec.size, model=model_id,
        output_ink=polarity, output_range=output_range,
        same_frame=section.get("frame", "input") == "input",
        description=(section.get("description")
                     if isinstance(section.get("description"), str) else None),
        elapsed_ms=(time.perf_counter() - started) * 1000.0)
    result.stats = _stats(result)
    if len(sketch) == 0:
        result.notes.append("the sketch is empty: the image is the generator's blank-canvas output")
    state.set_progress(1.0)
    return result


def _pair(value: Any) -> TypeGuard[Sequence[float]]:
    return (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    for v in value) and value[1] > value[0])


def _stats(result: GenerationResult) -> dict[str, Any]:
    x = result.image
    stats = {"min": float(x.min()), "max": float(x.max()), "mean": float(x.mean()),
             "std": float(x.std())}
    if result.output_ink is not None:
        ink = result.ink()
        stats["ink_fraction"] = float((ink > 0.5).mean())            # pixels with ink > 0.5
        if result.same_frame and ink.shape == result.input_ink.shape:
            stats["input_ink_fraction"] = float((result.input_ink > 0.5).mean())
            stats["added_ink_fraction"] = float(((ink > 0.5) & (result.input_ink <= 0.5)).mean())
    return stats


def explain_region(sketch: Sketch, model: Any, region: Region | str | Sequence[int] | None = None,
                   method: str = "sla", steps: int | None = None, progress: ProgressFn = None,
                   cancelled: CancelledFn = None, *, mask: np.ndarray | None = None,
                   state: TaskState | None = None):
    """Attribute the mean of the generated image inside `region` (None: the whole image), or over
    the output pixels of `mask` (an (H, W) bool array, e.g. one filled area), to the strokes: an
    `explain()` Attribution (objective "region-mean"; `params["region"]` holds the checked region,
    or the mask's bounding box, as [x0, y0, x1, y1], x1/y1 exclusive; `params["mask_pixels"]` the
    mask's size). sla/psla values sum to score_full - score_blank (the region mean on the sketch
    and on the blank canvas). `state` replaces `progress`/`cancelled` when given."""
    from ..explain import explain

    if state is not None:
        progress, cancelled = state.progress_fn(), state.cancelled_fn()
    check_generator(model)
    # One forward pass first: the region is checked against the real output size, and a generator
    # with a wrong output shape is reported before any attribution work.
    generated = generate(sketch, model, TaskState(cancelled=cancelled))
    if mask is not None:
        objective = RegionMean(region, mask=mask)
        shape = np.shape(mask)   # RegionMean has checked it is (H, W)
        if shape != (generated.height, generated.width):
            raise UserError(f"the region mask is {shape[1]}x{shape[0]} pixels but the output is "
                            f"{generated.width}x{generated.height}")
        # The mask's bounding box, inside the output since the shapes agree.
        r = check_region(objective.region, generated.width, generated.height)
    else:
        r = check_region(region, generated.width, generated.height)
        objective = RegionMean(r)
    report(progress, 0.02)
    inner = None if progress is None else (lambda f: report(progress, 0.02 + 0.98 * f))
    result = explain(sketch, model, method=method, steps=steps, objective=objective,
                     progress=inner, cancelled=cancelled)
    result.params = {**result.params, "region": r.to_list(),
                     "output_shape": [generated.channels, generated.height, generated.width]}
    if objective.mask is not None:
        result.params["mask_pixels"] = objective.pixels
    return result
