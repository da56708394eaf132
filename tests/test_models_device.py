"""Device choice (argument > env > CUDA > MPS > CPU) and the out-of-memory fallback to the CPU."""
from __future__ import annotations

import warnings

import pytest
import torch

from sketchstudio.errors import UserError
from sketchstudio.models import DeviceFallbackWarning, choose_device, run_with_oom_fallback
from sketchstudio.models import device as device_module


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.delenv("SKETCHSTUDIO_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_module, "_mps_available", lambda: False)


def test_cpu_when_nothing_else(no_gpu):
    assert choose_device() == torch.device("cpu")
    assert choose_device("auto") == torch.device("cpu")


def test_prefers_cuda_then_mps(no_gpu, monkeypatch):
    monkeypatch.setattr(device_module, "_mps_available", lambda: True)
    assert choose_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device() == torch.device("cuda")


def test_env_then_argument(no_gpu, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("SKETCHSTUDIO_DEVICE", "cpu")
    assert choose_device() == torch.device("cpu")        # env beats auto-detection
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert choose_device("cuda:1") == torch.device("cuda:1")  # argument beats env
    monkeypatch.setenv("SKETCHSTUDIO_DEVICE", "auto")
    assert choose_device() == torch.device("cuda")


@pytest.mark.parametrize("preference, message", [
    ("cuda", "CUDA was asked for but is not available"),
    ("mps", "MPS was asked for but is not available"),
    ("banana", "unknown device"),
])
def test_unavailable_or_unknown_is_a_clear_error(no_gpu, preference, message):
    with pytest.raises(UserError, match=message):
        choose_device(preference)


def test_bad_env_names_the_variable(no_gpu, monkeypatch):
    monkeypatch.setenv("SKETCHSTUDIO_DEVICE", "cuda")
    with pytest.raises(UserError, match="SKETCHSTUDIO_DEVICE"):
        choose_device()


def test_oom_on_cuda_retries_once_on_cpu():
    calls = []

    def work(device, value):
        calls.append(device.type)
        if device.type == "cuda":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        return value * 2

    with pytest.warns(DeviceFallbackWarning, match="ran out of memory.*CPU"):
        result, used = run_with_oom_fallback(work, "cuda", 21)
    assert (result, used, calls) == (42, torch.device("cpu"), ["cuda", "cpu"])


def test_no_oom_no_fallback():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run_with_oom_fallback(lambda d: d.type, "cpu") == ("cpu", torch.device("cpu"))


def test_other_errors_pass_through():
    def work(device):
        raise ValueError("not memory")

    with pytest.raises(ValueError):
        run_with_oom_fallback(work, "cuda")


def test_a_gpu_that_fails_mid_run_falls_back_to_the_cpu():
    calls = []

    def work(device):
        calls.append(device.type)
        if device.type == "cuda":
            raise RuntimeError("CUDA error: unspecified launch failure\nCUDA kernel errors ...")
        return "done"

    with pytest.warns(DeviceFallbackWarning, match="stopped working.*CPU"):
        result, used = run_with_oom_fallback(work, "cuda")
    assert (result, used, calls) == ("done", torch.device("cpu"), ["cuda", "cpu"])


def test_a_model_error_on_the_gpu_is_not_mistaken_for_a_lost_device():
    def work(device):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (1x8 and 9x2)")

    with pytest.raises(RuntimeError, match="shapes"):
        run_with_oom_fallback(work, "cuda")
