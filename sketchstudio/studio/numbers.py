"""How the studio writes strokes and numbers: one formatter per kind of number, used by the canvas,
the plots and the panels alike (no Qt, so it is trivially testable).

- Strokes are numbered as users count, from 1 (`stroke_name(0) == "stroke 1"`); index 0 is only
  ever an index in code.
- An attribution value (or any difference of scores) is signed with three significant digits:
  `+0.512`, `-1.23`, `+0.000421`; exactly zero is `0`.
- A score (a logit, a similarity) has three significant digits and no forced sign.
- A probability is a whole percentage; `<1%` and `>99%` instead of a rounded 0% or 100% that the
  model did not say.
- The unit of a value is the unit of the objective it is attributed from (`score_unit`).
"""
from __future__ import annotations

import math

# What an attribution's objective (Attribution.objective) measures, as the heat scale names it.
UNITS: dict[str, str] = {
    "logit": "logit",
    "probability": "probability",
    "log-probability": "log-probability",
    "cosine": "cosine similarity",
    "region-mean": "mean output",
}


def stroke_number(index: int) -> int:
    """The number a user sees for the stroke at `index` (0-based in code)."""
    return int(index) + 1


def stroke_name(index: int) -> str:
    return f"stroke {stroke_number(index)}"


def format_value(value: float) -> str:
    """An attribution value: signed, three significant digits (`+0.512`, `-1.23`, `0`)."""
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if v == 0.0:
        return "0"
    return f"{v:+.3g}"


def format_score(value: float) -> str:
    """A score (logit, similarity, mean output): three significant digits, sign only if negative."""
    v = float(value)
    return str(v) if not math.isfinite(v) else f"{v:.3g}"


def format_probability(p: float) -> str:
    """A probability as a whole percentage, never rounded to a 0% or 100% it is not."""
    p = float(p)
    if 0.0 < p < 0.005:
        return "<1%"
    if 0.995 <= p < 1.0:
        return ">99%"
    return f"{p:.0%}"


def verdict(value: float) -> str:
    """What a value says about the target: it helps, hurts, or is neutral."""
    return "helps" if value > 0 else "hurts" if value < 0 else "neutral"


def score_unit(objective: str | None) -> str:
    """The unit attribution values are in: the unit of the objective they divide up."""
    if not objective:
        return "score"
    return UNITS.get(objective, objective)
