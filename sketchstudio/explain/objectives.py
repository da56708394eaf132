"""Task objectives: the one scalar per input whose attribution we compute.

An objective maps a model's batched output to a (B,) tensor. Classification lives here; retrieval
and generation objectives implement the same protocol in `sketchstudio.tasks`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from ..errors import UserError


class Objective(Protocol):
    @property
    def name(self) -> str: ...

    def __call__(self, output: torch.Tensor) -> torch.Tensor: ...


def _logits(output: torch.Tensor) -> torch.Tensor:
    if output.ndim != 2:
        raise UserError("a classifier must return (batch, classes) logits, "
                        f"got shape {tuple(output.shape)}")
    return output


@dataclass(frozen=True)
class ClassLogit:
    """The target class's logit. Default: unlike the probability it does not saturate at confident
    predictions, so first-order (sla-grad) attributions keep their signal (README, "Objective")."""

    index: int
    name: str = "logit"

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        return _logits(output)[:, self.index]


@dataclass(frozen=True)
class ClassProbability:
    index: int
    name: str = "probability"

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        return torch.softmax(_logits(output), dim=1)[:, self.index]


# objective name -> its constructor from the target class index
CLASSIFY_OBJECTIVES: dict[str, Callable[[int], Objective]] = {"logit": ClassLogit,
                                                              "probability": ClassProbability}


def check_logits(output: torch.Tensor, labels: Sequence[str], rows: int = 1) -> None:
    """A classifier's answer for `rows` inputs: (rows, len(labels)) finite logits, else one line."""
    if output.ndim != 2 or output.shape[0] != rows:
        raise UserError("a classifier must return (batch, classes) logits, "
                        f"got {tuple(output.shape)}")
    if labels and output.shape[1] != len(labels):
        raise UserError(f"the model returns {output.shape[1]} logits but its card lists "
                        f"{len(labels)} labels")
    if not torch.isfinite(output).all():
        raise UserError("the model returned NaN or infinite values for this sketch")


def resolve_target(target: str | int | None, labels: Sequence[str], predicted: int) -> int:
    """Target class index from a label, an index (int or digit string), or None (= predicted)."""
    if target is None:
        return predicted
    if isinstance(target, str) and target in labels:
        return list(labels).index(target)
    numeric = isinstance(target, str) and target.strip().lstrip("-").isdigit()
    if isinstance(target, int) or numeric:
        index = int(target)
        if 0 <= index < len(labels):
            return index
        raise UserError(f"target index {index} is out of range 0..{len(labels) - 1}")
    shown = ", ".join(labels[:50]) + (", ..." if len(labels) > 50 else "")
    raise UserError(f"unknown target {target!r}; valid labels: {shown}")
