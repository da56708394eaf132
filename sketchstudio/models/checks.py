"""Checks that a model can be explained at all, before anyone relies on it.

Stroke attributions need a model that loads, takes the rendered input the card describes, answers
with finite numbers of the right shape, is deterministic, depends on the drawing, and lets
gradients flow back to its input. Each check gives one line; `models check` prints them and
`models add` refuses a model that fails any.

A check never raises: whatever a hostile model returns (a 0-d tensor, zero outputs, a shape that
changes with the drawing) or does (keeps state between calls, edits its input in place, answers
only a batch of 1) ends as one line that says so, never a traceback and never a silent pass.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from ..errors import UserError
from ..render import render
from ..sketch import Sketch
from ..stdout_guard import running_model
from ..stoppable import TimeLimitExceeded
from .card import ModelCard, load_card
from .catalogue import ModelCatalogue
from .loader import LoadedModel, load_card_model, one_line
from .tasks import ModelTask


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


def probe_forward(model: LoadedModel) -> None:
    """One forward pass on the probe drawing: loads the kernels, and refuses (UserError) a model
    that cannot run or answers with NaN or infinity."""
    with torch.no_grad():
        output = model(render(probe_sketch(), model.spec, model.device))
    if not torch.isfinite(output).all():
        raise UserError("the model returned NaN or infinite values for a test drawing")


def run_checks(target: ModelCard | str | Path, device: Any = None,
               render_fn: Callable[..., torch.Tensor] | None = None) -> list[CheckResult]:
    """All checks in order; stops after a check that the later ones depend on fails."""
    results: list[CheckResult] = []

    def record(name: str, ok: bool, detail: str = "", warning: bool = False) -> bool:
        results.append(CheckResult(name, ok, detail, warning))
        return ok

    try:
        _run_checks(target, device, render_fn, record)
    except _NEVER_SWALLOWED:
        raise
    except Exception as exc:   # a model outwitting a check is a failed check, not a traceback
        last = _ORDER.index(results[-1].name) if results and results[-1].name in _ORDER else -1
        step = _ORDER[last + 1] if last + 1 < len(_ORDER) else "checks"
        record(step, False, f"stopped: {one_line(exc)}")
    return results


# Out of memory: callers may retry on another device. A time limit: the command must stop.
_NEVER_SWALLOWED = (torch.cuda.OutOfMemoryError, TimeLimitExceeded)
# The order checks run in (names as printed), to name the step an unexpected error stopped.
_ORDER = ("card", "loads", "forward", "finite", "outputs", "deterministic", "batch",
          "gradient", "depends on input")


class _Record(Protocol):
    """Adds one check's line; returns `ok`."""

    def __call__(self, name: str, ok: bool, detail: str = "", warning: bool = False) -> bool: ...


def _run_checks(target: ModelCard | str | Path, device: Any,
                render_fn: Callable[..., torch.Tensor] | None, record: _Record) -> None:
    try:
        card = target if isinstance(target, ModelCard) else _card_of(target)
    except UserError as exc:
        record("card", False, str(exc))
        return
    record("card", True, f"{card.name} ({card.task}, {card.spec.size}x{card.spec.size}x"
                         f"{card.spec.channels}, {card.spec.ink})")
    try:
        model = load_card_model(card, device)
    except UserError as exc:
        record("loads", False, str(exc))
        return
    record("loads", True, f"{model.format} on {model.device}")

    render_input = render_fn or render
    try:
        blank_x = render_input(Sketch(), card.spec, model.device)
        drawn_x = render_input(probe_sketch(), card.spec, model.device)
    except Exception as exc:  # the renderer is not the model's fault, but nothing can go on
        record("render", False, one_line(exc))
        return

    with torch.no_grad():
        try:
            blank_out, drawn_out = model(blank_x), model(drawn_x)
        except UserError as exc:
            record("forward", False, _channels_hint(model, drawn_x) or str(exc))
            return
    edits = _edits_input(model, drawn_x)
    record("forward", True, f"output {tuple(drawn_out.shape)} {_dtype(drawn_out)}"
           + ("; the model edits its input in place (harmless: it is given a copy)" if edits
              else ""), warning=edits)
    if not _check_shapes(blank_out, drawn_out, record):
        return

    if not drawn_out.is_floating_point():
        record("finite", False, f"output is {_dtype(drawn_out)}, not floating point "
                                f"(argmax or rounding at the end of the model?)")
        return
    bad = [n for n, o in (("blank", blank_out), ("drawn", drawn_out))
           if not torch.isfinite(o).all()]
    if not record("finite", not bad, f"NaN or infinity in the output for the {' and '.join(bad)} "
                                     f"sketch" if bad else ""):
        return

    if not _check_outputs(card, drawn_out, record):
        return   # the later checks compare outputs of this shape
    if _check_deterministic(model, drawn_x, drawn_out, record):
        # Comparing a batch with single runs only means something for a deterministic model.
        _check_batch(model, blank_x, drawn_x, blank_out, drawn_out, record)
    _check_gradient(model, drawn_x, record)
    _check_depends(blank_out, drawn_out, record)


def failed(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.ok]


def _card_of(target: str | Path) -> ModelCard:
    return load_card(ModelCatalogue().resolve(target)[1])


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


def _edits_input(model: LoadedModel, x: torch.Tensor) -> bool:
    """Whether the model writes into the tensor it is given. LoadedModel always hands it a copy,
    so this cannot corrupt an explanation; the check says so, because the same model fed by other
    code (or exported elsewhere) would change its caller's data."""
    probe = x.to(model.device).clone()
    try:
        with torch.no_grad(), running_model():
            model.module(probe)
    except _NEVER_SWALLOWED:
        raise
    except Exception:
        return False   # the forward check has already run it successfully through LoadedModel
    return not torch.equal(probe, x.to(model.device))


def _check_shapes(blank_out: torch.Tensor, drawn_out: torch.Tensor, record: _Record) -> bool:
    """Shapes every later check relies on: one row per sketch, some values in it, and the same
    shape for every drawing (a 0-d or empty output has nothing to attribute)."""
    shape = tuple(drawn_out.shape)
    if drawn_out.dim() == 0:
        return record("outputs", False, "the model returns a single number (a 0-d tensor), not "
                                        "one row of outputs per sketch")
    if drawn_out.numel() == 0:
        return record("outputs", False, f"the output {shape} holds no values (zero-width)")
    if blank_out.shape != drawn_out.shape:
        return record("outputs", False, f"the output's shape depends on the drawing: "
                                        f"{tuple(blank_out.shape)} for a blank sketch, {shape} "
                                        f"for a drawn one")
    return True


def _check_outputs(card: ModelCard, out: torch.Tensor, record: _Record) -> bool:
    if out.dim() < 1 or out.shape[0] != 1:
        return record("outputs", False, f"expected a batch of 1 first, got shape "
                                        f"{tuple(out.shape)}")
    per_sketch = out[0].numel()
    if card.task == ModelTask.CLASSIFY:
        n = len(card.labels)
        if per_sketch != n:
            return record("outputs", False, f"the model gives {per_sketch} outputs per sketch "
                                            f"but the card has {n} labels")
        return record("outputs", True, f"{n} logits = {n} labels")
    if per_sketch == 0:
        return record("outputs", False, "empty output")
    return record("outputs", True, f"{per_sketch} values per sketch")


def _check_deterministic(model: LoadedModel, x: torch.Tensor, out: torch.Tensor,
                         record: _Record) -> bool:
    with torch.no_grad():
        again = model(x)
    if _same(again, out):
        return record("deterministic", True)
    # Randomness or memory? Two runs from the same random seed repeat a random model (dropout),
    # not one that keeps state between calls (a counter or cache in a buffer): say which.
    if _same(*(_seeded_run(model, x) for _ in range(2))):
        why = "random: two runs on the same input differ (dropout active? exported in train mode?)"
    else:
        why = ("keeps state between calls: the same input gives a different answer on every call, "
               "even from the same random seed (a counter or cache inside the model?)")
    return record("deterministic", False, why)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=1e-4, atol=1e-5))


def _seeded_run(model: LoadedModel, x: torch.Tensor) -> torch.Tensor:
    """One run from random seed 0, leaving the caller's random state as it was."""
    devices = [model.device] if model.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        torch.manual_seed(0)
        return model(x)


def _check_batch(model: LoadedModel, blank_x: torch.Tensor, drawn_x: torch.Tensor,
                 blank_out: torch.Tensor, drawn_out: torch.Tensor, record: _Record) -> None:
    """Explanations batch many renders; a model fixed to batch 1 still works, one by one."""
    try:
        with torch.no_grad():
            both = model.forward_as_is(torch.cat([blank_x, drawn_x]))
    except UserError as exc:
        record("batch", True, f"takes one sketch at a time, so explanations run slower ({exc})",
               warning=True)
        return
    single = torch.cat([blank_out, drawn_out])
    ok = both.shape == single.shape and bool(torch.allclose(both, single, rtol=1e-3, atol=1e-4))
    record("batch", ok, "" if ok else
           f"a batch of 2 gives {tuple(both.shape)} that differs from 2 single runs "
           f"(batch statistics or a hard-coded batch size inside the model?)")


def _check_gradient(model: LoadedModel, x: torch.Tensor, record: _Record) -> None:
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


def _check_depends(blank_out: torch.Tensor, drawn_out: torch.Tensor, record: _Record) -> None:
    diff = (blank_out - drawn_out).abs().max().item()
    scale = max(blank_out.abs().max().item(), drawn_out.abs().max().item(), 1e-12)
    ok = diff > 1e-6 * max(scale, 1.0)
    record("depends on input", ok, f"blank vs drawn differ by up to {diff:.3g}" if ok else
           "a blank and a drawn sketch give the same output: the model ignores its input")
