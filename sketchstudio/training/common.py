"""What every trainer here shares: config fields, the data split, torch threads, the epoch line,
the card's common facts and the all-or-nothing write of model.pt + card.toml.

The classifier (train.py), the fill generator (fill.py) and the completion generator
(completion.py) differ in their networks, targets and measures; what surrounds them lives here once.
"""
from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch
from torch import nn

from ..progress import TaskState
from ..render import RenderSpec
from ..sketch import Sketch
from .data import (
    CREDIT,
    HELDOUT_PER_CATEGORY,
    RENDER_SPEC,
    Split,
    available_categories,
    load_category,
    resolve_data_dir,
    split,
)
from .export import export_torchscript

LogFn = Callable[[str], None]
T = TypeVar("T")
C = TypeVar("C", bound="BaseConfig")

DATA_NOTE = "Quick, Draw! simplified drawings (shared/data/quickdraw/simplified)"
HELDOUT_NOTE = (f"per category, the {HELDOUT_PER_CATEGORY} drawings with the smallest "
                "sha256(key_id)")


def quiet(line: str) -> None:
    """The log of a caller that wants none."""


@dataclass(frozen=True, kw_only=True)
class BaseConfig:
    """The fields every trainer takes; each trainer adds its own (and may change a default)."""

    data: str | Path | None = None        # default: the shared data folder
    seed: int = 0
    batch_size: int = 32
    weight_decay: float = 1e-4
    size: int = RENDER_SPEC.size          # input side in pixels; tests use a smaller one
    threads: int = 1                      # torch threads of the training process

    base_spec: ClassVar[RenderSpec] = RENDER_SPEC

    @property
    def spec(self) -> RenderSpec:
        return replace(self.base_spec, size=self.size)


@dataclass(frozen=True, kw_only=True)
class GeneratorConfig(BaseConfig):
    """A drawing-to-image network trained on every category's training drawings."""

    categories: tuple[str, ...] = ()      # () : every category in the data folder
    limit_per_category: int = 0           # 0: all training drawings (smoke runs use a few)


@dataclass(kw_only=True)
class ModelResult:
    """What a trainer wrote, and the held-out measure of the file it wrote."""

    card_path: Path
    model_path: Path
    heldout: dict[str, Any]
    seconds: float
    card: dict[str, Any] = field(default_factory=dict)

    def written(self) -> str:
        """The log's last line."""
        return (f"wrote {self.card_path} and {self.model_path} "
                f"({self.model_path.stat().st_size / 1e6:.2f} MB) in {self.seconds / 60:.1f} min")


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """The body runs with `count` torch threads (at least 1); the caller's count comes back."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, count))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_trainer(train: Callable[[C, LogFn, TaskState, float], T], config: C,
                log: LogFn | None, state: TaskState | None) -> T:
    """`train(config, log, state, started)` with the config's torch threads.

    Long work (sketchstudio/progress.py): every trainer reports its progress to `state` and checks
    it between batches; `Cancelled` stops the run before anything is written."""
    with torch_threads(config.threads):
        return train(config, log or quiet, TaskState.coerce(state), time.perf_counter())


@dataclass(frozen=True)
class TrainingData:
    folder: Path
    categories: list[str]
    splits: dict[str, Split]
    train: list[Sketch]                   # limit_per_category of each category when set

    @property
    def heldout(self) -> dict[str, list[Sketch]]:
        return {c: list(self.splits[c].heldout) for c in self.categories}


def generator_data(config: GeneratorConfig, log: LogFn) -> TrainingData:
    """The categories of `config`, their fixed held-out split and the training drawings."""
    folder = resolve_data_dir(config.data)
    categories = list(config.categories) or available_categories(folder)
    splits = {c: split(load_category(folder, c), HELDOUT_PER_CATEGORY) for c in categories}
    limit = config.limit_per_category or None
    train = [s for c in categories for s in splits[c].train[:limit]]
    n_heldout = sum(len(s.heldout) for s in splits.values())
    log(f"data: {folder}: {len(categories)} categories, {len(train)} training drawings, "
        f"{n_heldout} held out")
    return TrainingData(folder, categories, splits, train)


def epoch_line(label: str, epoch: int, epochs: int, detail: str, epoch_started: float,
               started: float) -> str:
    """"label e/n: detail  (s this epoch, s in all)": the log line after every epoch."""
    now = time.perf_counter()
    return (f"{label} {epoch + 1}/{epochs}: {detail}  ({now - epoch_started:.0f} s, "
            f"{now - started:.0f} s in all)")


def training_facts(*, categories: int, train_drawings: int, heldout_drawings: int,
                   heldout_split: str, seconds: float, machine: str, command: str,
                   **specific: Any) -> dict[str, Any]:
    """The card's [training] section: the facts every trainer records, around its own."""
    return {
        "data": DATA_NOTE,
        "credit": CREDIT,
        "categories": categories,
        "train_drawings": train_drawings,
        "heldout_drawings": heldout_drawings,
        "heldout_split": f"{HELDOUT_NOTE}{heldout_split}",
        **specific,
        "train_seconds": round(seconds, 1),
        "torch": torch.__version__,
        "machine": f"{platform.machine()} CPU, {machine}",
        "command": command,
    }


def model_card(*, name: str, task: str, description: str, training: dict[str, Any],
               spec: RenderSpec, **sections: Any) -> dict[str, Any]:
    """A card as TOML data (`file` is filled in by `ship`)."""
    return {"name": name, "task": task, "file": "", "description": description, "credit": CREDIT,
            "training": training, **sections, "input": spec.to_dict()}


def ship(model: nn.Module, card: dict[str, Any], out: Path,
         measure: Callable[[Any], tuple[T, dict[str, Any]]],
         export: Callable[[Any, Path], None] = export_torchscript) -> tuple[Path, Path, T]:
    """Write out/model.pt and out/card.toml, measured, whole or not at all.

    Both are written under temporary names first; the exported file is loaded the way the studio
    loads it and `measure(loaded)` returns its result and the values added to card["training"];
    only then are both renamed into place, so a crash (or a cancel inside `measure`) never
    leaves a card pointing at a half-written or unmeasured model. Returns (card, model, result).
    """
    import tomli_w

    from ..models.card import CARD_FILENAME, load_card
    from ..models.loader import load_card_model

    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "model.pt"
    card_path = out / CARD_FILENAME
    tmp_model = out / f".model.{os.getpid()}.tmp.pt"
    tmp_card = out / f".card.{os.getpid()}.tmp.toml"
    try:
        export(model, tmp_model)
        card["file"] = tmp_model.name
        tmp_card.write_text(tomli_w.dumps(card), encoding="utf-8")
        loaded = load_card_model(load_card(tmp_card), "cpu", out.name)   # measure what ships
        result, measured = measure(loaded)
        card["file"] = model_path.name
        card["training"].update(measured)
        os.replace(tmp_model, model_path)
        tmp_card.write_text(tomli_w.dumps(card), encoding="utf-8")
        os.replace(tmp_card, card_path)
    finally:
        tmp_model.unlink(missing_ok=True)
        tmp_card.unlink(missing_ok=True)
    return card_path, model_path, result


def output_section(spec: RenderSpec, **more: Any) -> dict[str, Any]:
    """A generator card's [output]: what its image means (documentation for people and UIs)."""
    return {"size": spec.size, "channels": 1, "range": [0.0, 1.0], "ink": "light-on-dark",
            "frame": "input", **more}
