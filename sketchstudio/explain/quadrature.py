"""Quadrature rules on [0, 1] for integrated gradients: nodes and weights (weights sum to 1)."""
from __future__ import annotations

import numpy as np

from ..errors import UserError

RULES = ("gauss-legendre", "midpoint", "trapezoid")
# The engine's rule, and so this function's default: one default, not two that disagree.
DEFAULT_QUADRATURE = "midpoint"


def quadrature(steps: int, rule: str = DEFAULT_QUADRATURE) -> tuple[np.ndarray, np.ndarray]:
    if steps < 1:
        raise UserError(f"steps must be at least 1, got {steps}")
    if rule == "gauss-legendre":
        x, w = np.polynomial.legendre.leggauss(steps)
        return (x + 1.0) / 2.0, w / 2.0
    if rule == "midpoint":
        return (np.arange(steps) + 0.5) / steps, np.full(steps, 1.0 / steps)
    if rule == "trapezoid":
        if steps == 1:
            return np.array([1.0]), np.array([1.0])
        x = np.linspace(0.0, 1.0, steps)
        w = np.full(steps, 1.0 / (steps - 1))
        w[[0, -1]] /= 2.0
        return x, w
    raise UserError(f"unknown quadrature {rule!r}; choose one of {', '.join(RULES)}")
