"""RenderSpec: exactly how a model expects a sketch to be turned into its input tensor.

It is the `[input]` section of a model card. Models are very sensitive to it (fitting, polarity,
stroke softness), so every field is validated and has one meaning, documented here and in the
README.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import UserError
from ..sketch import Sketch, fit_transform

INK_VALUES = ("light-on-dark", "dark-on-light")
FIT_VALUES = ("center", "canvas")


@dataclass(frozen=True)
class RenderSpec:
    size: int = 28                 # side of the square input, pixels
    channels: int = 1              # 1, or 3 (ink replicated)
    ink: str = "light-on-dark"     # which of ink/background is 1.0 before normalisation
    sigma: float = 0.5             # softness of the stroke profile, in input pixels
    width: float = 0.0             # solid core of the stroke, in input pixels (0: pure Gaussian)
    fit: str = "center"            # "center": bbox scaled and centred; "canvas": raw coordinates
    margin: float = 0.08           # fit = "center": empty fraction of the side on every border
    canvas: float = 256.0          # fit = "canvas": side of the square the coordinates live in
    mean: tuple[float, ...] = field(default=(0.0,))
    std: tuple[float, ...] = field(default=(1.0,))

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise UserError("invalid [input] render spec: " + "; ".join(problems))
        object.__setattr__(self, "mean", tuple(float(m) for m in self.mean))
        object.__setattr__(self, "std", tuple(float(s) for s in self.std))

    def _problems(self) -> list[str]:
        p = []
        size_ok = (isinstance(self.size, int) and not isinstance(self.size, bool)
                   and 4 <= self.size <= 2048)
        if not size_ok:
            p.append(f"size must be an integer in 4..2048, got {self.size!r}")
        if self.channels not in (1, 3):
            p.append(f"channels must be 1 or 3, got {self.channels!r}")
        if self.ink not in INK_VALUES:
            p.append(f"ink must be one of {', '.join(INK_VALUES)}, got {self.ink!r}")
        if not _number(self.sigma) or not 0.05 <= self.sigma <= 64:
            p.append(f"sigma must be a number in 0.05..64 pixels, got {self.sigma!r}")
        if not _number(self.width) or not 0 <= self.width <= 256:
            p.append(f"width must be a number in 0..256 pixels, got {self.width!r}")
        if self.fit not in FIT_VALUES:
            p.append(f"fit must be one of {', '.join(FIT_VALUES)}, got {self.fit!r}")
        if not _number(self.margin) or not 0 <= self.margin < 0.5:
            p.append(f"margin must be a number in [0, 0.5), got {self.margin!r}")
        if not _number(self.canvas) or not self.canvas > 0:
            p.append(f"canvas must be a positive number, got {self.canvas!r}")
        for name in ("mean", "std"):
            values = getattr(self, name)
            if not isinstance(values, (list, tuple)) or not all(_number(v) for v in values):
                p.append(f"{name} must be a list of numbers, got {values!r}")
            elif len(values) not in (1, self.channels if self.channels in (1, 3) else 1):
                p.append(f"{name} needs 1 or {self.channels} values, got {len(values)}")
        if isinstance(self.std, (list, tuple)) and any(_number(v) and v == 0 for v in self.std):
            p.append("std must not contain 0")
        return p

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RenderSpec:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"unknown key(s) in [input]: {', '.join(unknown)} "
                            f"(known: {', '.join(sorted(known))})")
        values = dict(data)
        for name in ("mean", "std"):
            if name in values and _number(values[name]):
                values[name] = (values[name],)
        if "canvas" in values and isinstance(values["canvas"], int):
            values["canvas"] = float(values["canvas"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d

    def placement(self, sketch: Sketch) -> tuple[float, np.ndarray]:
        """Scale s and offset t mapping sketch coordinates to input pixels: p * s + t.

        Pixel (i, j) covers [j, j+1) x [i, i+1); its centre is at (j + 0.5, i + 0.5).
        """
        if self.fit == "center":
            return fit_transform(sketch, float(self.size), self.margin)
        s = self.size / self.canvas
        return s, np.zeros(2)



# The ink profile is a Gaussian of the distance, shifted and rescaled so that it reaches exactly
# zero at CUTOFF_SIGMAS sigmas. The compact support is what lets the renderer work locally and still
# agree with the dense reference to float precision.
CUTOFF_SIGMAS = 3.0
PROFILE_FLOOR = math.exp(-0.5 * CUTOFF_SIGMAS ** 2)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
