"""Train the default generator: sketch to filled figure, on real Quick, Draw! drawings.

Task: a drawing goes in; its filled figure comes out, in the same pixels: the ink plus every
region the ink encloses, filled as a colouring book would (`fill_truth`: a flood fill from the
border through paper). The ground truth needs no labels, and a region's explanation has a known
answer: the strokes that close it.

The drawings are the shared Quick, Draw! ones minus the held-out split of the default classifier
(per category the 5 drawings with the smallest sha256(key_id)); they are rendered once with the
card's spec, and every batch is turned by a random multiple of 90 degrees and mirrored at random
(the fill commutes with both, so the target turns with the input). BCE against the figure, so
sigmoid(net) is the probability that a pixel is filled at the evaluation's threshold of 0.5.
Seeded: one torch thread and a seeded generator give the same weights on a rerun.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from ..errors import UserError
from ..models.tasks import ModelTask
from ..progress import TaskState
from ..render import RenderSpec, render_ink, to_model_input
from ..sketch import Sketch
from . import common
from .common import LogFn, ModelResult
from .data import RENDER_SPEC
from .fill_net import DEFAULT_CHANNELS, FillUNet
from .fill_truth import filled_figure

FILL_SPEC = RENDER_SPEC          # the default classifier's pixels: 64 px, centred, 8% margin
DEFAULT_REDUCE = 2

FillResult = ModelResult


@dataclass(frozen=True, kw_only=True)
class FillConfig(common.GeneratorConfig):
    out: str | Path = "resources/models/default-generate"
    epochs: int = 4
    lr: float = 3e-3
    channels: tuple[int, ...] = DEFAULT_CHANNELS
    reduce: int = DEFAULT_REDUCE
    name: str = "Quick, Draw! sketch to filled figure (U-Net)"

    base_spec: ClassVar[RenderSpec] = FILL_SPEC


def render_inks(drawings: list[Sketch], spec: RenderSpec,
                state: TaskState | None = None) -> torch.Tensor:
    """(N, S, S) float ink of each drawing, rendered with `spec`."""
    state = TaskState.coerce(state)
    out = torch.zeros(len(drawings), spec.size, spec.size)
    for i, sketch in enumerate(drawings):
        if i % 128 == 0:
            state.check()
            state.set_progress(i / max(len(drawings), 1))
        out[i] = render_ink(sketch, spec)
    state.set_progress(1.0)
    return out


def train_fill(config: FillConfig, log: LogFn | None = None,
               state: TaskState | None = None) -> FillResult:
    """The filled-figure U-Net of `config`, trained, exported and measured on the held-out
    drawings (long work: common.run_trainer)."""
    return common.run_trainer(_train, config, log, state)


def _train(config: FillConfig, log: LogFn, state: TaskState, started: float) -> FillResult:
    depth = len(config.channels) - 1
    if config.size % (config.reduce * 2 ** depth):
        raise UserError(f"the fill U-Net needs a size divisible by {config.reduce * 2 ** depth}, "
                        f"got {config.size}")
    if config.epochs < 1:
        raise UserError(f"--epochs must be at least 1, got {config.epochs}")
    data = common.generator_data(config, log)
    spec = config.spec
    train = data.train

    t0 = time.perf_counter()
    inks = render_inks(train, spec, state.child(0.0, 0.08))
    figures = filled_figure(inks)
    log(f"rendered {len(train)} drawings and their filled figures in "
        f"{time.perf_counter() - t0:.0f} s")

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model = FillUNet(config.channels, config.reduce)
    per_epoch = max(1, len(train) // config.batch_size)
    steps = config.epochs * per_epoch
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, config.lr, total_steps=steps)
    training = state.child(0.08, 0.85)
    step = 0
    for epoch in range(config.epochs):
        t1 = time.perf_counter()
        model.train()
        order = torch.randperm(len(train), generator=generator)
        total = 0.0
        for b in range(per_epoch):
            state.check()
            idx = order[b * config.batch_size:(b + 1) * config.batch_size]
            x, y = inks[idx], figures[idx].float()
            turns = int(torch.randint(4, (1,), generator=generator))
            x, y = torch.rot90(x, turns, (1, 2)), torch.rot90(y, turns, (1, 2))
            if float(torch.rand(1, generator=generator)) < 0.5:
                x, y = x.flip(-1), y.flip(-1)
            out = model(to_model_input(x, spec))[:, 0].clamp(1e-6, 1 - 1e-6)
            loss = nn.functional.binary_cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
            total += float(loss.detach())
            step += 1
            training.set_progress(step / steps)
        log(common.epoch_line("epoch", epoch, config.epochs, f"loss {total / per_epoch:.4f}", t1,
                              started))
    model.eval()
    seconds = time.perf_counter() - started
    result = _write(model, config, data, seconds, state.child(0.85, 1.0))
    state.set_progress(1.0)
    h = result.heldout
    log(f"held-out ({h['drawings']} drawings): figure IoU model {h['model']:.3f}; baselines "
        + ", ".join(f"{k} {v:.3f}" for k, v in h["baselines"].items()))
    log(result.written())
    return result


def output_section(spec: RenderSpec) -> dict:
    """The card's [output]: what the generator's image means (documentation for people and UIs)."""
    return common.output_section(
        spec, content="filled-figure",
        description=("the drawing's filled figure: its ink plus every region the ink "
                     "encloses, filled as a colouring book would (1 = filled)"))


def _write(model: FillUNet, config: FillConfig, data: common.TrainingData, seconds: float,
           state: TaskState) -> FillResult:
    from .fill_eval import category_means, evaluate_fill

    spec = config.spec
    heldout = data.heldout
    n_train, n_categories = len(data.train), len(data.categories)
    training = common.training_facts(
        categories=n_categories, train_drawings=n_train,
        heldout_drawings=sum(map(len, heldout.values())),
        heldout_split=" (the default classifier's split); never trained on",
        target=("flood fill from the image border through paper (ink <= 0.5, 4-connected) "
                "of the rendered drawing; the figure is every pixel it cannot reach"),
        augmentation="per batch: a random multiple of 90 degrees and a random mirror",
        epochs=config.epochs, seed=config.seed,
        architecture=("U-Net at 1/" + str(config.reduce) + " resolution (max-pooled ink), "
                      + str(len(config.channels) - 1) + " poolings, two 3x3 conv + ReLU per "
                      "level (BN folded), channels " + "-".join(map(str, config.channels))
                      + "; logits upsampled and refined with the full-resolution ink; "
                      "output = max(input ink, sigmoid(net))"),
        parameters=sum(p.numel() for p in model.parameters()),
        loss="BCE against the filled figure",
        seconds=seconds, machine=f"{config.threads} torch thread(s)",
        command=(f"sketchstudio train fill --data DATA --out OUT --seed {config.seed} "
                 f"--epochs {config.epochs}"))
    card = common.model_card(
        name=config.name, task=ModelTask.GENERATE.value,
        description=(f"Sketch to filled figure: a drawing in, its ink plus every region it "
                     f"encloses out (same pixels as the input), as a colouring book would fill "
                     f"it. Small U-Net trained by SketchStudio on {n_train} real Quick, Draw! "
                     f"drawings of {n_categories} categories. {common.CREDIT}."),
        training=training, spec=spec, output=output_section(spec))
    train_by_category = {c: list(data.splits[c].train) for c in data.categories}

    def measure(loaded: object) -> tuple[dict, dict]:
        drawings = [(c, s) for c, items in heldout.items() for s in items]
        means = category_means(train_by_category, spec)
        result = evaluate_fill(loaded, drawings, means, state=state)
        return result, {"heldout_metric": result["metric"], "heldout_model": result["model"],
                        "heldout_baselines": result["baselines"],
                        "heldout_drawings_evaluated": result["drawings"]}

    card_path, model_path, result = common.ship(model, card, Path(config.out), measure)
    return FillResult(card_path=card_path, model_path=model_path, heldout=result,
                      seconds=seconds, card=card)
