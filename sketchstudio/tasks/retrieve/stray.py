"""Stray marks: queries with strokes from drawings of other categories, for measuring refinement."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...errors import UserError
from ...sketch import Sketch


def add_stray_strokes(sketch: Sketch, donors: Sequence[Sketch], count: int,
                      rng: np.random.Generator) -> tuple[Sketch, tuple[int, ...]]:
    """The sketch with `count` strokes appended, each a random stroke of a random donor drawing
    (kept where it was drawn: Quick, Draw! drawings share one 0..255 frame, so a stray mark lands
    over the drawing as a slip or a leftover would), and the indices of the added strokes.

    The donors are the caller's choice (drawings of other categories); `rng` makes it repeatable.
    """
    if count < 0:
        raise UserError(f"--stray must be 0 or more, got {count}")
    usable = [d for d in donors if len(d)]
    if count and not usable:
        raise UserError("no drawings of other categories to take stray strokes from")
    strokes = list(sketch.strokes)
    for _ in range(count):
        donor = usable[int(rng.integers(len(usable)))]
        strokes.append(donor.strokes[int(rng.integers(len(donor)))])
    added = tuple(range(len(sketch), len(strokes)))
    return sketch.with_strokes(strokes), added
