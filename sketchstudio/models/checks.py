"""Checks that a model can be explained at all, before anyone relies on it.

Stroke attributions need a model that loads, takes the rendered input the card describes, answers
with finite numbers of the right shape, is deterministic, depends on the drawing, and lets
gradients flow back to its input. Each check gives one line; `models check` prints them and
`models add` refuses a model that fails any.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from ..errors import UserError
from ..sketch import Sketch
from .card import ModelCard, load_card
from .loader import LoadedModel, load_card_model, one_line


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str = ""
    warning: bool = False   # passed, but with something the user should know (e.g. batch of 1 only)

    @property
    def status(self) -> str:
        return "FAIL" if not self.ok else ("warn" if self.warning else "ok")

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}" + (f": {self.detail}" if self.detail else "")


def probe_sketch() -> Sketch:
    """A small hand-drawn-looking house (wobbly points, 3 strokes, one dot) in 0..255 units."""
    return Sketch.from_arrays([
        [[60, 200], [62, 130], [61, 120], [190, 122], [192, 200], [60, 201]],   # walls
        [[55, 125], [100, 80], [126, 58], [150, 82], [197, 124]],                # roof
        [[110, 201], [111, 160], [140, 159], [141, 200]],                        # door
        [[160, 150]],                                                            # a dot: window
    ])


def run_checks(target: ModelCard | str | Path, device: Any = None,
               render_fn: Callable[..., torch.Tensor] | None = None) -> list[CheckResult]:
    """All checks in order; stops after a check that the later ones depend on fails."""
    results: list[CheckResult] = []

    def record(name: str, ok: bool, detail: str = "", warning: bool = False) -> bool:
        results.append(CheckResult(name, ok, detail, warning))
        return ok

    try:
        card = target if isinstance(target, ModelCard) else _card_of(target)
    except UserError as exc:
        record("card", False, str(exc))
        return results
    record("card", True, f"{card.name} ({card.task}, {card.spec.size}x{card.spec.size}x"
                         f"{card.spec.channels}, {card.spec.ink})")
    try:
        model = load_card_model(card, device)
    except UserError as exc:
        record("loads", False, str(exc))
        return results
    record("loads", True, f"{model.format} on {model.device}")

    render = render_fn or _default_render()
    try:
        blank_x = render(Sketch(), card.spec, model.device)
        drawn_x = render(probe_sketch(), card.spec, model.device)
    except Exception as exc:  # the renderer is not the model's fault, but nothing can go on
        record("render", False, one_line(exc))
        return results

    with torch.no_grad():
        try:
            blank_out, drawn_out = model(blank_x), model(drawn_x)
        except UserError as exc:
            record("forward", False, _channels_hint(model, drawn_x) or str(exc))
            return results
    if not record("forward", True, f"output {tuple(drawn_out.shape)} {_dtype(drawn_out)}"):
        return results

    if not drawn_out.is_floating_point():
        record("finite", False, f"output is {_dtype(drawn_out)}, not floating point "
                                f"(argmax or rounding at the end of the model?)")
        return results
    bad = [n for n, o in (("blank", blank_out), ("drawn", drawn_out))
           if not torch.isfinite(o).all()]
    if not record("finite", not bad, f"NaN or infinity in the output for the {' and '.join(bad)} "
                                     f"sketch" if bad else ""):
        return results

    _check_outputs(card, drawn_out, record)
    if _check_deterministic(model, drawn_x, drawn_out, record):
        # Comparing a batch with single runs only means something for a deterministic model.
        _check_batch(model, blank_x, drawn_x, blank_out, drawn_out, record)
    _check_gradient(model, drawn_x, record)
    _check_depends(blank_out, drawn_out, record)
    return results


def failed(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.ok]


def _card_of(target: str | Path) -> ModelCard:
    from .store import ModelStore

    return load_card(ModelStore().resolve(target)[1])


def _default_render() -> Callable[..., torch.Tensor]:
    from ..render import render

    return render


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


def _channels_hint(model: LoadedModel, x: torch.Tensor) -> str | None:
    """When the forward pass fails, see whether the other channel count works, and say so."""
    have = x.shape[1]
    other = 3 if have == 1 else 1
    try:
        with torch.no_grad():
            model(x[:, :1].expand(-1, other, -1, -1).contiguous())
    except Exception:
        return None
    return (f"the model takes {other} input channel(s) but the card's [input] channels = {have}; "
            f"set channels = {other}")


def _check_outputs(card: ModelCard, out: torch.Tensor, record) -> None:
    if out.dim() < 1 or out.shape[0] != 1:
        record("outputs", False, f"expected a batch of 1 first, got shape {tuple(out.shape)}")
        return
    per_sketch = out[0].numel()
    if card.task == "classify":
        n = len(card.labels)
        if per_sketch != n:
            record("outputs", False, f"the model gives {per_sketch} outputs per sketch but the "
                                     f"card has {n} labels")
            return
        record("outputs", True, f"{n} logits = {n} labels")
    elif per_sketch == 0:
        record("outputs", False, "empty output")
    else:
        record("outputs", True, f"{per_sketch} values per sketch")


def _check_deterministic(model: LoadedModel, x: torch.Tensor, out: torch.Tensor, record) -> bool:
    with torch.no_grad():
        again = model(x)
    same = again.shape == out.shape and torch.allclose(again, out, rtol=1e-4, atol=1e-5)
    return record("deterministic", same, "" if same else
           "two runs on the same input differ (dropout active? exported in train mode?)")


def _check_batch(model: LoadedModel, blank_x, drawn_x, blank_out, drawn_out, record) -> None:
    """Explanations batch many renders; a model fixed to batch 1 still works, one by one."""
    try:
        with torch.no_grad():
            both = model.forward_as_is(torch.cat([blank_x, drawn_x]))
    except UserError as exc:
        record("batch", True, f"takes one sketch at a time, so explanations run slower ({exc})",
               warning=True)
        return
    single = torch.cat([blank_out, drawn_out])
    ok = both.shape == single.shape and torch.allclose(both, single, rtol=1e-3, atol=1e-4)
    record("batch", ok, "" if ok else
           f"a batch of 2 gives {tuple(both.shape)} that differs from 2 single runs "
           f"(batch statistics or a hard-coded batch size inside the model?)")


def _check_gradient(model: LoadedModel, x: torch.Tensor, record) -> None:
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        try:
            out = model(x)
        except UserError as exc:
            record("gradient", False, str(exc))
            return
        if not out.requires_grad:
            record("gradient", False, "the output does not depend differentiably on the input "
                                      "(argmax, rounding, detach or no_grad inside the model?)")
            return
        # A fixed random mix of all outputs, so no single dead logit hides a live gradient.
        weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(0))
        (out.float() * weights.to(out.device)).sum().backward()
    grad = x.grad
    if grad is None or not torch.isfinite(grad).all():
        record("gradient", False, "the gradient at the input is missing or not finite")
    elif grad.abs().max() == 0:
        record("gradient", False, "the gradient at the input is exactly zero "
                                  "(argmax or thresholding inside the model?)")
    else:
        record("gradient", True, f"max |d out / d input| = {grad.abs().max().item():.3g}")


def _check_depends(blank_out: torch.Tensor, drawn_out: torch.Tensor, record) -> None:
    diff = (blank_out - drawn_out).abs().max().item()
    scale = max(blank_out.abs().max().item(), drawn_out.abs().max().item(), 1e-12)
    ok = diff > 1e-6 * max(scale, 1.0)
    record("depends on input", ok, f"blank vs drawn differ by up to {diff:.3g}" if ok else
           "a blank and a drawn sketch give the same output: the model ignores its input")
