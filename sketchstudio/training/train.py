"""Train the default classifier on real Quick, Draw! drawings and write its card and model.

Two phases, one network:

1. pretrain: every drawing of every category in the data folder (344 x 25) except the held-out and
   validation drawings of the chosen categories, as one 344-way task. Twenty drawings a category
   are too few to learn stroke features from; 8,000 real drawings are not.
2. fine-tune: the chosen categories only; the new head starts from the pretrained head's rows of
   the same categories, so fine-tuning starts from an already useful classifier.

Every sample is augmented afresh at the stroke level (sketchstudio.sketch.augment) and rendered
with the project's own renderer, so the model sees exactly the pixels it is explained on. The
augmentation of sample i in epoch e depends only on (seed, phase, e, i): runs are reproducible
whether the rendering runs in a worker process or not.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import UserError
from ..models.tasks import ModelTask
from ..progress import TaskState
from ..render import RenderSpec, render_ink, to_model_input
from ..sketch import Sketch
from ..sketch.augment import Augmenter
from . import common
from .common import LogFn, ModelResult
from .data import (
    CREDIT,
    DEFAULT_CATEGORIES,
    HELDOUT_PER_CATEGORY,
    available_categories,
    load_category,
    resolve_data_dir,
    split,
)
from .evaluate import accuracy
from .model import DEFAULT_CHANNELS, SketchCNN, export_torchscript


@dataclass(frozen=True, kw_only=True)
class TrainConfig(common.BaseConfig):
    out: str | Path = "resources/models/default"
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    pretrain_epochs: int = 30
    epochs: int = 15
    batch_size: int = 64
    lr: float = 3e-3
    finetune_lr: float = 1e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    channels: tuple[int, ...] = DEFAULT_CHANNELS
    dropout: float = 0.3
    validation: int = 0                   # per category, carved from the training share (tuning)
    pretrain_repeat: int = 2              # the chosen categories' drawings, this often per epoch
    workers: int = 1                      # render processes beside the training process
    augmenter: Augmenter = field(default_factory=Augmenter)
    name: str | None = None               # default: "Quick, Draw! CNN (N categories)"


@dataclass(kw_only=True)
class TrainResult(ModelResult):
    validation: dict[str, Any] | None = None


class AugmentedSketches(torch.utils.data.Dataset[tuple[torch.Tensor, int]]):
    """(ink (S, S) float, label): drawing i, augmented with rng (seed, phase, epoch, i),
    rendered."""

    def __init__(self, items: Sequence[tuple[Sketch, int]], spec: RenderSpec,
                 augmenter: Augmenter | None, seed: int, phase: int) -> None:
        self.items = list(items)
        self.spec = spec
        self.augmenter = augmenter
        self.seed = seed
        self.phase = phase
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        sketch, label = self.items[i]
        if self.augmenter is not None:
            rng = np.random.default_rng([self.seed, self.phase, self.epoch, i])
            sketch = self.augmenter(sketch, rng)
        return render_ink(sketch, self.spec), label


def train_classifier(config: TrainConfig, log: LogFn | None = None,
                     state: TaskState | None = None) -> TrainResult:
    """Train, export and measure the classifier of `config` (long work: common.run_trainer)."""
    return common.run_trainer(_train, config, log, state)


def _train(config: TrainConfig, log: LogFn, state: TaskState, started: float) -> TrainResult:
    folder = resolve_data_dir(config.data)
    categories = list(dict.fromkeys(config.categories))
    if len(categories) < 2:
        raise UserError("a classifier needs at least 2 categories")
    present = available_categories(folder)
    missing = [c for c in categories if c not in present]
    if missing:
        raise UserError(f"{folder}: no drawings for {', '.join(map(repr, missing))}")
    spec = config.spec

    # --- data ------------------------------------------------------------------------------
    splits = {c: split(load_category(folder, c), HELDOUT_PER_CATEGORY, config.validation)
              for c in categories}
    train_items = [(s, i) for i, c in enumerate(categories) for s in splits[c].train]
    pre_items: list[tuple[Sketch, int]] = []
    pre_drawings = 0
    pre_index = {c: i for i, c in enumerate(present)}
    if config.pretrain_epochs > 0:
        for c in present:
            # The chosen categories are what the features are for: they come round more often.
            group = (list(splits[c].train) * max(config.pretrain_repeat, 1) if c in splits
                     else load_category(folder, c))
            pre_items.extend((s, pre_index[c]) for s in group)
            pre_drawings += len(splits[c].train) if c in splits else len(group)
    log(f"data: {folder}")
    n_validation = sum(len(s.validation) for s in splits.values())
    log(f"{len(categories)} categories, {len(train_items)} training drawings, "
        f"{sum(len(s.heldout) for s in splits.values())} held out"
        + (f", {n_validation} validation" if n_validation else "")
        + (f"; pretraining on {pre_drawings} drawings of {len(present)} categories"
           if pre_items else ""))

    torch.manual_seed(config.seed)
    pre_steps = config.pretrain_epochs * math.ceil(len(pre_items) / config.batch_size)
    fine_steps = config.epochs * math.ceil(len(train_items) / config.batch_size)
    total = max(pre_steps + fine_steps, 1)
    done = [0]

    def step_done() -> None:
        done[0] += 1
        state.set_progress(0.97 * done[0] / total)

    # --- phase 1: pretrain -----------------------------------------------------------------
    if pre_items:
        model = SketchCNN(len(present), config.channels, config.dropout)
        _fit(model, AugmentedSketches(pre_items, spec, config.augmenter, config.seed, 1),
             config, config.pretrain_epochs, config.lr, "pretrain", log, step_done, state,
             started)
        rows = torch.tensor([pre_index[c] for c in categories])
        head = nn.Linear(model.num_features, len(categories))
        with torch.no_grad():
            head.weight.copy_(model.head.weight[rows])
            head.bias.copy_(model.head.bias[rows])
        model.head = head
        fine_lr = config.finetune_lr
    else:
        model = SketchCNN(len(categories), config.channels, config.dropout)
        fine_lr = config.lr

    # --- phase 2: the chosen categories ---------------------------------------------------
    if config.epochs > 0:
        _fit(model, AugmentedSketches(train_items, spec, config.augmenter, config.seed, 2),
             config, config.epochs, fine_lr, "train", log, step_done, state, started)
    model.eval()
    model.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]  # not in torch stubs
    state.check()

    validation = None
    if config.validation:
        held = {c: splits[c].validation for c in categories}
        validation = accuracy(model, spec, categories, held)
        log(f"validation: top-1 {validation['top1']:.3f}  top-3 {validation['top3']:.3f} "
            f"({validation['heldout']} drawings)")

    # --- export, then measure what was written --------------------------------------------
    seconds = time.perf_counter() - started
    out = Path(config.out)
    result = _write(model, config, categories, spec, splits, pre_drawings,
                    len(present) if pre_items else 0, out, seconds, validation)
    state.set_progress(1.0)
    log(f"held-out: top-1 {result.heldout['top1']:.3f}  top-3 {result.heldout['top3']:.3f} "
        f"({result.heldout['heldout']} drawings)")
    log(result.written())
    return result


class AdamW:
    """Decoupled-weight-decay Adam (Loshchilov & Hutter), the same update as torch.optim.AdamW.

    Our own because torch.optim imports torch._dynamo on first use, which costs seconds at the
    start of every run (and of every test that trains).
    """

    def __init__(self, params: list[torch.Tensor], betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, lr: float) -> None:
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1 ** self.t, 1.0 - b2 ** self.t
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            p.mul_(1.0 - lr * self.weight_decay)
            m.mul_(b1).add_(p.grad, alpha=1.0 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1.0 - b2)
            p.addcdiv_(m, (v / c2).sqrt_().add_(self.eps), value=-lr / c1)


def one_cycle(peak: float, steps: int, warmup: float = 0.15, start: float = 0.05,
              end: float = 1e-3) -> Callable[[int], float]:
    """Learning rate of step i: linear warm-up from start*peak, then cosine down to end*peak."""
    rise = max(int(round(warmup * steps)), 1)

    def lr(i: int) -> float:
        if i < rise:
            return peak * (start + (1.0 - start) * i / rise)
        t = min((i - rise) / max(steps - rise, 1), 1.0)
        return peak * (end + (1.0 - end) * 0.5 * (1.0 + math.cos(math.pi * t)))
    return lr


def _fit(model: SketchCNN, dataset: AugmentedSketches, config: TrainConfig, epochs: int,
         lr: float, phase: str, log: LogFn, step_done: Callable[[], None],
         state: TaskState, started: float) -> None:
    spec = dataset.spec
    generator = torch.Generator().manual_seed(config.seed * 1000 + dataset.phase)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=config.batch_size, shuffle=True,
        drop_last=len(dataset) > config.batch_size, num_workers=config.workers,
        generator=generator, persistent_workers=False)
    steps = epochs * len(loader)
    opt = AdamW(list(model.parameters()), weight_decay=config.weight_decay)
    schedule = one_cycle(lr, max(steps, 1))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    # channels-last convolutions train about 1.4x faster on the CPU
    model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # not in torch stubs
    step = 0
    for epoch in range(epochs):
        dataset.epoch = epoch  # read by workers, which start afresh every epoch
        model.train()
        t0, seen, correct, total_loss = time.perf_counter(), 0, 0, 0.0
        for ink, label in loader:
            state.check()
            logits = model(to_model_input(ink, spec).contiguous(memory_format=torch.channels_last))
            loss = loss_fn(logits, label)
            opt.zero_grad()
            loss.backward()
            opt.step(schedule(step))
            step += 1
            seen += len(label)
            correct += int((logits.argmax(1) == label).sum())
            total_loss += float(loss.detach()) * len(label)
            step_done()
        log(common.epoch_line(f"{phase} epoch", epoch, epochs,
                              f"loss {total_loss / max(seen, 1):.3f}  "
                              f"train acc {correct / max(seen, 1):.3f}", t0, started))


def _write(model: SketchCNN, config: TrainConfig, categories: list[str], spec: RenderSpec,
           splits: dict[str, Any], pre_drawings: int, pre_categories: int, out: Path,
           seconds: float,
           validation: dict[str, Any] | None) -> TrainResult:
    card = _card(config, categories, spec, splits, pre_drawings, pre_categories, seconds,
                 validation)

    def measure(loaded: SketchCNN) -> tuple[dict[str, Any], dict[str, Any]]:
        heldout = accuracy(loaded, spec, categories, {c: splits[c].heldout for c in categories})
        return heldout, {"heldout_top1": round(heldout["top1"], 4),
                         "heldout_top3": round(heldout["top3"], 4)}

    card_path, model_path, heldout = common.ship(model, card, out, measure,
                                                 export=export_torchscript)
    return TrainResult(card_path=card_path, model_path=model_path, heldout=heldout,
                       validation=validation, seconds=seconds, card=card)


def _card(config: TrainConfig, categories: list[str], spec: RenderSpec, splits: dict[str, Any],
          pre_drawings: int, pre_categories: int, seconds: float,
          validation: dict[str, Any] | None) -> dict[str, Any]:
    n_train = sum(len(s.train) for s in splits.values())
    training = common.training_facts(
        categories=len(categories), train_drawings=n_train,
        heldout_drawings=sum(len(s.heldout) for s in splits.values()),
        heldout_split="; never used in training or pretraining",
        pretrain_drawings=pre_drawings, pretrain_categories=pre_categories,
        pretrain_epochs=config.pretrain_epochs, epochs=config.epochs, seed=config.seed,
        architecture=("SketchCNN: 7 conv 3x3 (5x5 stride-2 stem; BN folded) + ReLU, "
                      "3 max-pools, global average pool, linear; channels "
                      + "-".join(map(str, config.channels))),
        seconds=seconds,
        machine=f"{config.threads} torch thread(s) + {config.workers} render worker(s)",
        command=(f"sketchstudio train classifier --data DATA --out OUT --seed {config.seed} "
                 f"--pretrain-epochs {config.pretrain_epochs} --epochs {config.epochs}"))
    if validation is not None:
        training["validation_top1"] = round(validation["top1"], 4)
    card = common.model_card(
        name=config.name or f"Quick, Draw! CNN ({len(categories)} categories)",
        task=ModelTask.CLASSIFY.value,
        description=(f"Small CNN trained by SketchStudio on {n_train} real Quick, Draw! "
                     f"drawings of {len(categories)} categories"
                     + (f" (pretrained on {pre_drawings} drawings of {pre_categories})"
                        if pre_drawings else "") + f". {CREDIT}."),
        training=training, spec=spec, labels=list(categories))
    return card
