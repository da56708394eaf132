"""Load a model (store id, card file or card folder) into a frozen, ready-to-call LoadedModel."""
from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import UserError
from ..render.spec import RenderSpec
from ..stdout_guard import running_model
from .card import ModelCard, load_card
from .catalogue import ModelCatalogue
from .device import choose_device
from .formats import EXPORT, TORCHSCRIPT, detect_format
from .safety import check_export_module, check_torchscript_module


@dataclass(eq=False)
class LoadedModel:
    """A model on a device, eval mode, parameters frozen (explanations need input gradients only).

    Calling it runs the forward pass; a failure inside the model becomes one UserError line with
    the model's own message, except out-of-memory, which callers may want to retry elsewhere.
    """

    id: str
    card: ModelCard
    module: Any                     # torch.jit.ScriptModule or an unlifted torch.export module
    device: torch.device
    format: str                     # TORCHSCRIPT or EXPORT
    _one_at_a_time: bool = field(default=False, repr=False)  # set once a batch of several fails
    gallery_module: Any = field(default=None, repr=False)   # embed: the image encoder, if any

    @property
    def has_image_encoder(self) -> bool:
        return self.gallery_module is not None

    def embed_images(self, x: torch.Tensor) -> torch.Tensor:
        """The image encoder's forward pass on (B, C, H, W) images fed per [gallery_input]."""
        if self.gallery_module is None:
            raise UserError(f"model {self.id!r} has no image encoder (gallery_file in its card)")
        try:
            with running_model():
                out = self.gallery_module(x.to(self.device).clone())
        except torch.cuda.OutOfMemoryError:
            raise
        except Exception as exc:
            raise UserError(f"model {self.id!r}: image encoder failed: {one_line(exc)}") from None
        if isinstance(out, (tuple, list)) and len(out) == 1:
            out = out[0]
        if not isinstance(out, torch.Tensor):
            raise UserError(f"model {self.id!r}: image encoder returned {type(out).__name__}, "
                            "not a tensor")
        return out

    @property
    def spec(self) -> RenderSpec:
        return self.card.spec

    @property
    def labels(self) -> tuple[str, ...]:
        return self.card.labels

    @property
    def task(self) -> str:
        return self.card.task

    @property
    def name(self) -> str:
        return self.card.name

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > 1 and self._one_at_a_time:
            return torch.cat([self.forward_as_is(x[i:i + 1]) for i in range(x.shape[0])])
        try:
            return self.forward_as_is(x)
        except UserError:
            if x.shape[0] == 1:
                raise
            # Some exported programs are specialised to a batch of one: run the rows one by one,
            # and keep doing so if that works (the `batch` check warns about such models).
            rows = torch.cat([self.forward_as_is(x[i:i + 1]) for i in range(x.shape[0])])
            self._one_at_a_time = True
            return rows

    def forward_as_is(self, x: torch.Tensor) -> torch.Tensor:
        """One forward pass of the batch as given (no one-by-one fallback)."""
        try:
            # A copy: a model that edits its input in place must not corrupt our renders (nor
            # the autograd graph built on them); it is explained as the function it computes.
            with running_model():   # what it prints goes to stderr, never into our output
                out = self.module(x.to(self.device).clone())
        except torch.cuda.OutOfMemoryError:
            raise
        except Exception as exc:
            raise UserError(f"model {self.id!r} failed: {one_line(exc)}") from None
        if isinstance(out, (tuple, list)) and len(out) == 1:
            out = out[0]  # torch.export flattens a single output into a 1-tuple on some versions
        if not isinstance(out, torch.Tensor):
            raise UserError(f"model {self.id!r} returned {type(out).__name__}, not a tensor")
        if out.dim() == 0 or out.shape[0] != x.shape[0]:
            # One row per input, or explanations would silently mix sketches up (a model fixed
            # to a batch of 1 answering a batch with one row): __call__ then goes one by one.
            raise UserError(f"model {self.id!r} returned shape {tuple(out.shape)} for a batch "
                            f"of {x.shape[0]} (expected one row per input)")
        return out

    def to(self, device: torch.device | str) -> LoadedModel:
        """The same model on another device (used by the out-of-memory fallback)."""
        device = torch.device(device)
        if device == self.device:
            return self
        gallery = None if self.gallery_module is None else _move(self.gallery_module, device)
        return LoadedModel(self.id, self.card, _move(self.module, device), device, self.format,
                           gallery_module=gallery)


def load_model(name_or_path: str | Path, device: torch.device | str | None = None,
               store: ModelCatalogue | None = None) -> LoadedModel:
    """A store id ("default"), a card .toml, or a folder holding card.toml -> LoadedModel."""
    model_id, card_path = (store or ModelCatalogue()).resolve(name_or_path)
    card = load_card(card_path)
    return load_card_model(card, device, model_id)


def load_card_model(card: ModelCard, device: torch.device | str | None = None,
                    model_id: str | None = None) -> LoadedModel:
    device = choose_device(device)
    kind, module = load_module(card.file, device)
    gallery = None
    if card.gallery_file is not None:  # same safety rules: inside the folder, never unpickled
        gallery = load_module(card.gallery_file, device)[1]
    return LoadedModel(model_id or card.folder.name, card, module, device, kind,
                       gallery_module=gallery)


def load_module(path: Path, device: torch.device) -> tuple[str, Any]:
    """(format, frozen module). The file is inspected first, every time: nothing reaches torch's
    loaders that formats.detect_format (members, sizes, operators, pickles) has not passed."""
    kind = detect_format(path)
    try:
        if kind == TORCHSCRIPT:
            with warnings.catch_warnings(), running_model():   # __setstate__ may print
                # torch deprecates TorchScript, but people still bring such files; say nothing.
                warnings.simplefilter("ignore", DeprecationWarning)
                module = torch.jit.load(str(path), map_location=device)
            check_torchscript_module(module, path)   # the second wall, before any forward pass
        elif kind == EXPORT:
            # A file object, not a path: torch.export.load warns about names not ending in .pt2.
            # check_guards=False: the guards are Python source from the file, which .module()
            # would exec; input shapes are still checked against the program's range constraints.
            with open(path, "rb") as fh, _quiet_export_logs():
                module = torch.export.load(fh).module(check_guards=False)
            check_export_module(module, path)
        else:
            raise AssertionError(kind)
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"{path}: cannot load {kind} model: {one_line(exc)}") from None
    return kind, _freeze(_move(module, device))


def _move(module: Any, device: torch.device) -> Any:
    try:
        return module.to(device)
    except Exception as exc:
        raise UserError(f"cannot move the model to {device}: {one_line(exc)}") from None


def _freeze(module: Any) -> Any:
    try:
        module.eval()
    except (NotImplementedError, RuntimeError):
        # Unlifted torch.export modules refuse eval(): their graph was frozen in whatever mode
        # it was exported in. The `deterministic` check catches programs exported in train mode.
        pass
    for p in module.parameters():
        p.requires_grad_(False)
    return module


@contextlib.contextmanager
def _quiet_export_logs() -> Iterator[None]:
    """torch.export.load logs full tracebacks before raising; we report one line instead."""
    loggers = [logging.getLogger(n) for n in ("torch.export", "torch.export.pt2_archive._package")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def one_line(exc: BaseException, limit: int = 300) -> str:
    """The message that matters, on one line.

    TorchScript wraps the model's own error under a code traceback and puts it last
    ("builtins.RuntimeError: expected 1 channel"); other errors put it first.
    """
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].startswith("The following operation failed in the TorchScript interpreter"):
        line = lines[-1]
        line = line.removeprefix("builtins.")
        if line.startswith(("RuntimeError: ", "Exception: ")):
            line = line.split(": ", 1)[1]
    else:
        line = lines[0]
    return line if len(line) <= limit else line[:limit - 3] + "..."
