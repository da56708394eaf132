"""Which device to compute on, and what to do when a GPU runs out of memory.

Order of preference: the explicit argument (e.g. the CLI's --device) > env SKETCHSTUDIO_DEVICE >
CUDA if available > Apple MPS if available > CPU. "auto" (or empty) means "no preference here".
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import torch

from ..errors import UserError

DEVICE_ENV = "SKETCHSTUDIO_DEVICE"
T = TypeVar("T")


class DeviceFallbackWarning(RuntimeWarning):
    """Work that ran out of GPU memory, or whose GPU failed, was redone on the CPU."""


def choose_device(preference: str | torch.device | None = None) -> torch.device:
    if isinstance(preference, torch.device):
        return _checked(preference, "device")
    if preference and preference.strip().lower() != "auto":
        return _parse(preference, "--device")
    env = os.environ.get(DEVICE_ENV, "").strip()
    if env and env.lower() != "auto":
        return _parse(env, DEVICE_ENV)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _parse(text: str, source: str) -> torch.device:
    try:
        device = torch.device(text.strip().lower())
    except (RuntimeError, ValueError):
        raise UserError(f"{source}: unknown device {text!r} (use cpu, cuda, cuda:N, mps or auto)") \
            from None
    return _checked(device, source)


def _checked(device: torch.device, source: str) -> torch.device:
    """Fail now, with a clear line, rather than deep inside the first tensor operation."""
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"{source}: CUDA was asked for but is not available on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UserError(f"{source}: {device} does not exist "
                            f"({torch.cuda.device_count()} CUDA device(s))")
    elif device.type == "mps" and not _mps_available():
        raise UserError(f"{source}: Apple MPS was asked for but is not available on this machine")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise UserError(f"{source}: unsupported device {str(device)!r} (use cpu, cuda or mps)")
    return device


def device_choices() -> list[tuple[str, str]]:
    """(value, label) for every device this machine offers, "auto" first: what a device menu lists
    (each value is accepted by `choose_device`)."""
    choices = [("auto", "Automatic (best available)"), ("cpu", "CPU")]
    if torch.cuda.is_available():
        choices.append(("cuda", "CUDA (GPU 0)"))
        choices += [(f"cuda:{i}", f"CUDA GPU {i}") for i in range(1, torch.cuda.device_count())]
    if _mps_available():
        choices.append(("mps", "Apple MPS"))
    return choices


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def run_with_oom_fallback(fn: Callable[..., T], device: torch.device | str, *args: Any,
                          **kwargs: Any) -> tuple[T, torch.device]:
    """`fn(device, *args, **kwargs)`; if the GPU runs out of memory or fails, once more on the CPU.

    Returns (result, the device that produced it) so the caller can move its model for the next
    request, and emits a DeviceFallbackWarning (the studio shows it in the status bar; the CLI
    prints it) so a silent slowdown never goes unexplained. `fn` must take the device as its first
    argument and put everything it needs there itself (e.g. `model.to(device)`).
    """
    device = torch.device(device)
    try:
        return fn(device, *args, **kwargs), device
    except torch.cuda.OutOfMemoryError as exc:
        if device.type != "cuda":
            raise
        what = f"{device} ran out of memory ({_first_line(exc, 'out of memory')})"
    except RuntimeError as exc:
        if device.type == "cpu" or not device_lost(exc):
            raise
        what = f"{device} stopped working ({_first_line(exc, 'device error')})"
    # Outside the except block, so the failed attempt's frames (and their tensors) are released.
    if torch.cuda.is_available():
        try:
            torch.cuda.empty_cache()
        except RuntimeError:
            pass    # the device that failed may refuse this too
    warnings.warn(f"{what}; running on the CPU instead", DeviceFallbackWarning, stacklevel=2)
    cpu = torch.device("cpu")
    return fn(cpu, *args, **kwargs), cpu


# What the CUDA and MPS runtimes say when a GPU goes away mid-session (driver reset, eGPU unplugged,
# Xid error): the work can only go on elsewhere.
_DEVICE_LOST = ("cuda error", "cudnn_status", "cublas_status", "no cuda gpus are available",
                "device-side assert", "driver shutting down", "mps backend", "device lost",
                "unspecified launch failure", "an illegal memory access")


def device_lost(exc: BaseException) -> bool:
    """Whether `exc` says the GPU itself failed (rather than the model or its input)."""
    text = str(exc).lower()
    return any(marker in text for marker in _DEVICE_LOST)


def _first_line(exc: BaseException, fallback: str) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else fallback
