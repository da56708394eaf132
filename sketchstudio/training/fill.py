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

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import UserError
from ..progress import TaskState
from ..render import RenderSpec, render_ink, to_model_input
from ..sketch import Sketch
from .data import (
    CREDIT,
    HELDOUT_PER_CATEGORY,
    RENDER_SPEC,
    available_categories,
    load_category,
    split,
)
from .export import export_torchscript
from .fill_net import DEFAULT_CHANNELS, FillUNet
from .fill_truth import filled_figure

LogFn = Callable[[str], None]

FILL_SPEC = RENDER_SPEC          # the default classifier's pixels: 64 px, centred, 8% margin
DEFAULT_REDUCE = 2


@dataclass(frozen=True)
class FillConfig:
    data: str | Path | None = None
    out: str | Path = "resources/models/default-generate"
    seed: int = 0
    epochs: int = 4
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    channels: tuple[int, ...] = DEFAULT_CHANNELS
    reduce: int = DEFAULT_REDUCE
    size: int = FILL_SPEC.size            # tests use a smaller input
    categories: tuple[str, ...] = ()      # () : every category in the data folder
    limit_per_category: int = 0           # 0: all training drawings (smoke runs use a few)
    threads: int = 1
    name: str = "Quick, Draw! sketch to filled figure (U-Net)"

    @property
    def spec(self) -> RenderSpec:
        return replace(FILL_SPEC, size=self.size)


@dataclass
class FillResult:
    card_path: Path
    model_path: Path
    heldout: dict
    seconds: float
    card: dict = field(default_factory=dict)


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
    """Train, export, measure on the held-out drawings, and write card.toml + model.pt."""
    log = log or (lambda line: None)
    state = TaskState.coerce(state)
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, config.threads))
    try:
        return _train(config, log, state, time.perf_counter())
    finally:
        torch.set_num_threads(threads)


def _train(config: FillConfig, log: LogFn, state: TaskState, started: float) -> FillResult:
    from .data import resolve_data_dir

    depth = len(config.channels) - 1
    if config.size % (config.reduce * 2 ** depth):
        raise UserError(f"the fill U-Net needs a size divisible by {config.reduce * 2 ** depth}, "
                        f"got {config.size}")
    if config.epochs < 1:
        raise UserError(f"--epochs must be at least 1, got {config.epochs}")
    folder = resolve_data_dir(config.data)
    categories = list(config.categories) or available_categories(folder)
    spec = config.spec
    splits = {c: split(load_category(folder, c), HELDOUT_PER_CATEGORY) for c in categories}
    train = [s for c in categories
             for s in (splits[c].train[:config.limit_per_category] if config.limit_per_category
                       else splits[c].train)]
    heldout = {c: list(splits[c].heldout) for c in categories}
    train_by_category = {c: list(splits[c].train) for c in categories}
    log(f"data: {folder}: {len(categories)} categories, {len(train)} training drawings, "
        f"{sum(map(len, heldout.values()))} held out")

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
        log(f"epoch {epoch + 1}/{config.epochs}: loss {total / per_epoch:.4f}  "
            f"({time.perf_counter() - t1:.0f} s, {time.perf_counter() - started:.0f} s in all)")
    model.eval()
    seconds = time.perf_counter() - started
    result = _write(model, config, spec, len(categories), len(train), heldout, train_by_category,
                    Path(config.out), seconds, state.child(0.85, 1.0))
    state.set_progress(1.0)
    h = result.heldout
    log(f"held-out ({h['drawings']} drawings): figure IoU model {h['model']:.3f}; baselines "
        + ", ".join(f"{k} {v:.3f}" for k, v in h["baselines"].items()))
    log(f"wrote {result.card_path} and {result.model_path} "
        f"({result.model_path.stat().st_size / 1e6:.2f} MB) in {seconds / 60:.1f} min")
    return result


def output_section(spec: RenderSpec) -> dict:
    """The card's [output]: what the generator's image means (documentation for people and UIs)."""
    return {"size": spec.size, "channels": 1, "range": [0.0, 1.0], "ink": "light-on-dark",
            "frame": "input", "content": "filled-figure",
            "description": ("the drawing's filled figure: its ink plus every region the ink "
                            "encloses, filled as a colouring book would (1 = filled)")}


def _write(model: FillUNet, config: FillConfig, spec: RenderSpec, n_categories: int, n_train: int,
           heldout: dict[str, list[Sketch]], train_by_category: dict[str, list[Sketch]], out: Path,
           seconds: float, state: TaskState) -> FillResult:
    import tomli_w

    from ..models.card import CARD_FILENAME, load_card
    from ..models.loader import load_card_model
    from .fill_eval import category_means, evaluate_fill

    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "model.pt"
    card_path = out / CARD_FILENAME
    tmp_model = out / f".model.{os.getpid()}.tmp.pt"
    tmp_card = out / f".card.{os.getpid()}.tmp.toml"
    n_params = sum(p.numel() for p in model.parameters())
    card: dict[str, Any] = {   # the TOML card, sections of mixed types
        "name": config.name,
        "task": "generate",
        "file": tmp_model.name,
        "description": (f"Sketch to filled figure: a drawing in, its ink plus every region it "
                        f"encloses out (same pixels as the input), as a colouring book would fill "
                        f"it. Small U-Net trained by SketchStudio on {n_train} real Quick, Draw! "
                        f"drawings of {n_categories} categories. {CREDIT}."),
        "credit": CREDIT,
        "training": {
            "data": "Quick, Draw! simplified drawings (shared/data/quickdraw/simplified)",
            "credit": CREDIT,
            "categories": n_categories,
            "train_drawings": n_train,
            "heldout_drawings": sum(map(len, heldout.values())),
            "heldout_split": (f"per category, the {HELDOUT_PER_CATEGORY} drawings with the "
                              "smallest sha256(key_id) (the default classifier's split); never "
                              "trained on"),
            "target": ("flood fill from the image border through paper (ink <= 0.5, 4-connected) "
                       "of the rendered drawing; the figure is every pixel it cannot reach"),
            "augmentation": "per batch: a random multiple of 90 degrees and a random mirror",
            "epochs": config.epochs,
            "seed": config.seed,
            "architecture": ("U-Net at 1/" + str(config.reduce) + " resolution (max-pooled ink), "
                             + str(len(config.channels) - 1) + " poolings, two 3x3 conv + ReLU per "
                             "level (BN folded), channels " + "-".join(map(str, config.channels))
                             + "; logits upsampled and refined with the full-resolution ink; "
                             "output = max(input ink, sigmoid(net))"),
            "parameters": n_params,
            "loss": "BCE against the filled figure",
            "train_seconds": round(seconds, 1),
            "torch": torch.__version__,
            "machine": f"{platform.machine()} CPU, {config.threads} torch thread(s)",
            "command": (f"sketchstudio train fill --data DATA --out OUT --seed {config.seed} "
                        f"--epochs {config.epochs}"),
        },
        "output": output_section(spec),
        "input": spec.to_dict(),
    }
    try:
        export_torchscript(model, tmp_model)
        tmp_card.write_text(tomli_w.dumps(card), encoding="utf-8")
        loaded = load_card_model(load_card(tmp_card), "cpu", out.name)   # measure what ships
        drawings = [(c, s) for c, items in heldout.items() for s in items]
        means = category_means(train_by_category, spec)
        result = evaluate_fill(loaded, drawings, means, state=state)
        card["file"] = model_path.name
        card["training"].update(
            heldout_metric=result["metric"], heldout_model=result["model"],
            heldout_baselines=result["baselines"], heldout_drawings_evaluated=result["drawings"])
        os.replace(tmp_model, model_path)
        tmp_card.write_text(tomli_w.dumps(card), encoding="utf-8")
        os.replace(tmp_card, card_path)
    finally:
        tmp_model.unlink(missing_ok=True)
        tmp_card.unlink(missing_ok=True)
    return FillResult(card_path, model_path, result, seconds, card)


def figure_iou(pred: np.ndarray, target: np.ndarray) -> float:
    """IoU of two bool masks (both empty: 1)."""
    union = np.logical_or(pred, target).sum()
    return 1.0 if union == 0 else float(np.logical_and(pred, target).sum() / union)
