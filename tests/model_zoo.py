"""Small models and model cards for tests, built in temporary folders.

    from model_zoo import make_model, write_card, BEHAVIOURS

    card = make_model(tmp_path / "m")                        # a good TorchScript classifier
    card = make_model(tmp_path / "m", fmt="export")          # the same as a torch.export .pt2
    card = make_model(tmp_path / "m", behaviour="nan")       # see BEHAVIOURS for the bad ones
    card = make_model(tmp_path / "m", model_channels=3)      # the card still says channels = 1
    card = make_model(tmp_path / "m", task="embed", labels=None, classes=16)   # 16-d embedding
    card = make_model(tmp_path / "m", task="generate", labels=None, behaviour="generator")

Every model is tiny (one 3x3 conv, a mean and a linear layer, deterministic weights), so building
one takes milliseconds for TorchScript and about a second for torch.export.
"""
from __future__ import annotations

import pickle
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tomli_w
import torch
from torch import nn

LABELS = ("apple", "book")
SLOW_STEPS = 20                 # SlowForward: matrix products per call
HUGE_ELEMENTS = 1 << 60         # HugeAllocation: float32 elements asked for (4 EiB)
INPUT = {"size": 28, "channels": 1, "ink": "light-on-dark", "sigma": 0.5, "fit": "center",
         "margin": 0.08, "canvas": 256, "mean": [0.0], "std": [1.0]}


class TinyClassifier(nn.Module):
    """conv 3x3 -> tanh -> spatial mean -> linear: smooth, so gradients reach every input pixel."""

    def __init__(self, channels: int = 1, classes: int = 2, seed: int = 0) -> None:
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.conv = nn.Conv2d(channels, 8, 3, padding=1)
            self.head = nn.Linear(8, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv(x)).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class Raises(TinyClassifier):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("this model always fails")


class NaNOutput(TinyClassifier):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)) * float("nan")


class ArgmaxOutput(TinyClassifier):
    """One-hot of the argmax: right shape, finite, but no gradient reaches the input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.head(self.features(x))
        return nn.functional.one_hot(logits.argmax(dim=1), logits.shape[1]).float()


class ConstantOutput(TinyClassifier):
    """Looks at the input's shape only: the same answer for every drawing."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head.bias.unsqueeze(0).expand(x.shape[0], -1) + 0.0 * x.sum()


class NoisyOutput(TinyClassifier):
    """Dropout left on (as when exported in train mode): two runs differ."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(nn.functional.dropout(self.features(x), 0.5, True))


class SlowForward(TinyClassifier):
    """Right answers, slowly: a fixed chain of 512x512 matrix products on every call (5 GFLOP,
    whatever the batch; 0.1-0.3 s on a laptop CPU), so long explanations must be cancelled, not
    waited for. The chain feeds the output (by 1e-30 of a logit), so no optimiser can drop it."""

    def __init__(self, channels: int = 1, classes: int = 2, seed: int = 0) -> None:
        super().__init__(channels, classes, seed)
        self.steps = SLOW_STEPS

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = torch.ones(512, 512) * (1.0 + x.mean()) / 512.0
        for _ in range(self.steps):
            m = torch.tanh(m @ m) * 0.5 + 0.5 / 512.0
        return self.head(self.features(x)) + m.mean() * 1e-30


class AnnouncedSlowForward(SlowForward):
    """SlowForward that prints a line as each forward pass starts (to stderr: the CLI routes a
    model's prints there): the readiness signal a test waits for instead of sleeping."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        print("slow model: forward pass")
        m = torch.ones(512, 512) * (1.0 + x.mean()) / 512.0   # TorchScript has no super()
        for _ in range(self.steps):
            m = torch.tanh(m @ m) * 0.5 + 0.5 / 512.0
        return self.head(self.features(x)) + m.mean() * 1e-30


class HugeAllocation(TinyClassifier):
    """Asks for 4 EiB in its forward pass. The allocator refuses at once (no machine has that much
    address space), so the test exercises the out-of-memory path without exhausting the host."""

    def __init__(self, channels: int = 1, classes: int = 2, seed: int = 0) -> None:
        super().__init__(channels, classes, seed)
        self.elements = HUGE_ELEMENTS

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        waste = torch.empty([self.elements], device=x.device)
        return self.head(self.features(x)) + waste[:1].sum() * 0.0


class TinyGenerator(TinyClassifier):
    """For task = "generate": an image out, (B, 1, H, W) in (0, 1), for every image in."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(x).mean(dim=1, keepdim=True))


BEHAVIOURS: dict[str, type[TinyClassifier]] = {
    "ok": TinyClassifier, "raises": Raises, "nan": NaNOutput, "argmax": ArgmaxOutput,
    "constant": ConstantOutput, "noisy": NoisyOutput, "generator": TinyGenerator,
    "slow": SlowForward, "announced_slow": AnnouncedSlowForward, "huge_memory": HugeAllocation,
}


def save_torchscript(module: nn.Module, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # torch 2.13 deprecates TorchScript, but users still bring such files: we must load them.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(module.eval()), str(path))
    return path


def save_export(module: nn.Module, path: Path, channels: int = 1, size: int = 28,
                dynamic_batch: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(2 if dynamic_batch else 1, channels, size, size)
    shapes = ({0: torch.export.Dim("batch", max=4096)},) if dynamic_batch else None
    program = torch.export.export(module.eval(), (example,), dynamic_shapes=shapes)
    torch.export.save(program, str(path))
    return path


def save_pickle(module: nn.Module, path: Path) -> Path:
    """A whole-module torch.save: what SketchStudio must refuse to load."""
    torch.save(module, str(path))
    return path


def save_raw_pickle(obj: Any, path: Path) -> Path:
    path.write_bytes(pickle.dumps(obj))
    return path


def card_dict(*, name: str = "Tiny test classifier", task: str = "classify",
              file: str = "model.pt", labels: Sequence[str] | None = LABELS,
              input: Mapping[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    card: dict[str, Any] = {"name": name, "task": task, "file": file}
    if labels is not None:
        card["labels"] = list(labels) if isinstance(labels, (list, tuple)) else labels
    card.update(extra)
    card["input"] = dict(INPUT if input is None else input)
    return card


def write_card(folder: Path, card: Mapping[str, Any] | None = None, *, text: str | None = None,
               **fields: Any) -> Path:
    """folder/card.toml from a dict (default: card_dict(**fields)) or from raw TOML text."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "card.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    else:
        path.write_text(tomli_w.dumps(dict(card if card is not None else card_dict(**fields))),
                        encoding="utf-8")
    return path


def make_model(folder: Path, *, behaviour: str = "ok", fmt: str = "torchscript",
               model_channels: int | None = None, classes: int | None = None,
               dynamic_batch: bool = True, **card_fields: Any) -> Path:
    """A model file plus card.toml in `folder`; returns the card path.

    fmt: "torchscript" (model.pt), "export" (model.pt2) or "pickle" (torch.save, model.pt).
    model_channels / classes default to what the card says, so a mismatch is opt-in.
    """
    folder.mkdir(parents=True, exist_ok=True)
    card = card_dict(**card_fields)
    spec = card["input"]
    channels = model_channels or spec.get("channels", 1)
    n = classes or len(card.get("labels") or LABELS)
    module = BEHAVIOURS[behaviour](channels=channels, classes=n)
    if fmt == "export":
        card["file"] = card_fields.get("file", "model.pt2")
        save_export(module, folder / card["file"], channels, spec.get("size", 28), dynamic_batch)
    elif fmt == "torchscript":
        save_torchscript(module, folder / card["file"])
    elif fmt == "pickle":
        save_pickle(module, folder / card["file"])
    else:
        raise ValueError(f"unknown fmt {fmt!r}")
    return write_card(folder, card)

