"""Train the default generator: sketch completion on real Quick, Draw! drawings.

Task: a drawing with some of its strokes removed goes in; the full drawing's raster comes out, in
the same pixels as the input. The input is rendered exactly as the card's `[input]` spec says (the
partial drawing is centred, like every other model's input); the target is the full drawing placed
with the *partial* drawing's placement, so input and target pixels line up. Ink that leaves the
frame is simply not there.

Which strokes go: mostly a suffix (the last strokes drawn: "what comes next"), sometimes a random
subset; a one-stroke drawing loses the end of its stroke instead. Every training drawing gets
`variants` such removals, rendered once before training (the renders, not the network, would
otherwise dominate on a small CPU); epoch e uses variant e mod `variants`, randomly mirrored.

The network is a small U-Net whose last step is `out = max(x, sigmoid(z))` with its own input x: a
completion only adds ink, so every input stroke is in the output by construction and the network
learns only what to add. The loss is BCE against the full drawing's ink > 0.5, so sigmoid(z) is the
probability that a pixel is ink at the evaluation's threshold. Two earlier versions (seed 0) scored
below output = input on the held-out drawings, both by adding ink beside every input line: a soft
OR, 1 - (1 - x)(1 - sigmoid(z)), with soft targets (IoU 0.742 vs 0.764, 10 epochs: faint additions
pushed line edges over the threshold), and max with soft targets (0.752, 8 epochs: the expected soft
ink beside a line passes 0.5 where the ink itself rarely does). An optional soft Dice term is off.

The held-out drawings are the default classifier's split (`training.data.split`: per category the 5
drawings with the smallest sha256(key_id)), taken in every category of the data folder; they are
never trained on. Their pixel IoU (ink > 0.5) against the full drawing is measured for the model
and for the trivial completion "output = input".
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from ..errors import UserError
from ..models.tasks import ModelTask
from ..progress import TaskState
from ..render import RenderSpec, render_ink, to_model_input
from ..sketch import Sketch, Stroke
from . import common
from .common import LogFn, ModelResult
from .data import RENDER_SPEC
from .fill_truth import iou

# Like the default classifier's input, with a wider margin: the completion often reaches past the
# partial drawing's bounding box, and the margin is the room it has to do so.
COMPLETION_SPEC = replace(RENDER_SPEC, margin=0.15)
INK_THRESHOLD = 0.5
EVAL_REMOVE = 0.4             # evaluation: the last 40% of strokes (at least one) are removed
# Thin at full resolution, where convolutions cost the most: ~160 drawings/s on one idle CPU core.
DEFAULT_CHANNELS = (8, 24, 48, 96)


# --- which strokes go --------------------------------------------------------------------------

def remove_suffix(sketch: Sketch, fraction: float = EVAL_REMOVE) -> Sketch | None:
    """The drawing without its last round(fraction * n) strokes (at least 1, keeping at least 1).

    None for a one-stroke drawing (nothing can go). The evaluation's fixed, deterministic removal.
    """
    n = len(sketch)
    if n < 2:
        return None
    drop = min(max(1, int(round(fraction * n))), n - 1)
    return sketch.with_strokes(sketch.strokes[:n - drop])


def random_removal(sketch: Sketch, rng: np.random.Generator) -> Sketch:
    """A training input: a stroke suffix (75%) or a random subset (25%) removed; for one stroke,
    the end of the stroke."""
    n = len(sketch)
    if n == 1:
        points = sketch.strokes[0].points
        if len(points) < 3:
            return sketch
        keep = int(rng.integers(max(2, len(points) // 3), len(points)))
        return sketch.with_strokes([Stroke(points[:keep])])
    if rng.random() < 0.75:
        keep = int(rng.integers(1, n))           # 1..n-1 strokes kept
        return sketch.with_strokes(sketch.strokes[:keep])
    p = rng.uniform(0.2, 0.6)
    drop = rng.random(n) < p
    if drop.all():
        drop[rng.integers(n)] = False
    if not drop.any():
        drop[rng.integers(n)] = True
    return sketch.with_strokes([s for s, d in zip(sketch.strokes, drop, strict=True) if not d])


def render_pair(partial: Sketch, full: Sketch,
                spec: RenderSpec) -> tuple[torch.Tensor, torch.Tensor]:
    """(input ink, target ink), both (S, S): the full drawing placed where the partial one is."""
    scale, offset = spec.placement(partial)
    placed_full = Sketch(tuple(Stroke(s.points * scale + offset) for s in full.strokes))
    pixels = replace(spec, fit="canvas", canvas=float(spec.size))   # pixel coordinates as they are
    return render_ink(partial, spec), render_ink(placed_full, pixels)


# --- the network --------------------------------------------------------------------------------

def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class CompletionUNet(nn.Module):
    """(B, 1, S, S) ink (light on dark, [0, 1]) -> (B, 1, S, S) completed ink in [0, 1].

    S is a multiple of 8. Three poolings; transposed-convolution upsampling with skip connections.
    """

    def __init__(self, channels: tuple[int, ...] = DEFAULT_CHANNELS) -> None:
        super().__init__()
        if len(channels) != 4:
            raise ValueError(f"CompletionUNet needs 4 channel counts, got {len(channels)}")
        c0, c1, c2, c3 = channels
        self.enc0, self.enc1, self.enc2 = _block(1, c0), _block(c0, c1), _block(c1, c2)
        self.bottom = _block(c2, c3)
        self.up2, self.dec2 = nn.ConvTranspose2d(c3, c2, 2, 2), _block(2 * c2, c2)
        self.up1, self.dec1 = nn.ConvTranspose2d(c2, c1, 2, 2), _block(2 * c1, c1)
        self.up0, self.dec0 = nn.ConvTranspose2d(c1, c0, 2, 2), _block(2 * c0, c0)
        self.head = nn.Conv2d(c0, 1, 1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        pool = nn.functional.max_pool2d
        a = self.enc0(x)
        b = self.enc1(pool(a, 2))
        c = self.enc2(pool(b, 2))
        d = self.bottom(pool(c, 2))
        c = self.dec2(torch.cat([self.up2(d), c], 1))
        b = self.dec1(torch.cat([self.up1(c), b], 1))
        a = self.dec0(torch.cat([self.up0(b), a], 1))
        return self.head(a)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        added = torch.sigmoid(self.logits(x))
        return torch.maximum(x[:, :1].clamp(0.0, 1.0), added)


# --- metrics ------------------------------------------------------------------------------------

def pixel_iou(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per image IoU of ink > INK_THRESHOLD; (B, ...) -> (B,). Both empty counts as 1."""
    return iou(pred > INK_THRESHOLD, target > INK_THRESHOLD)


def evaluate_completion(predict: Callable[[torch.Tensor], torch.Tensor], spec: RenderSpec,
                        drawings: Sequence[Sketch], remove: float = EVAL_REMOVE,
                        batch: int = 64, state: TaskState | None = None) -> dict:
    """Pixel IoU with the full drawing: the model vs the trivial "output = input".

    Each drawing with 2+ strokes loses its last round(remove * n) strokes (at least one);
    one-stroke drawings are skipped. `predict` maps model inputs to (B, 1|3, S, S) images in
    [0, 1], light ink on dark, in the input's pixels (the card's [output]). `state` receives the
    progress and is checked between batches (`Cancelled`).
    """
    state = TaskState.coerce(state)
    pairs = []
    strokes_removed, ink_removed = [], []
    for sketch in drawings:
        partial = remove_suffix(sketch, remove)
        if partial is None:
            continue
        pairs.append((partial, sketch))
        strokes_removed.append(1.0 - len(partial) / len(sketch))
    if not pairs:
        raise UserError("no held-out drawing has 2 or more strokes")
    model_iou, base_iou = [], []
    for start in range(0, len(pairs), batch):
        state.check()
        rendered = [render_pair(p, f, spec) for p, f in pairs[start:start + batch]]
        x = torch.stack([r[0] for r in rendered])
        target = torch.stack([r[1] for r in rendered])
        with torch.no_grad():
            out = predict(to_model_input(x, spec))
        if (out.ndim != 4 or out.shape[0] != x.shape[0]
                or tuple(out.shape[2:]) != tuple(x.shape[1:])):
            raise UserError(f"the generator returned {tuple(out.shape)}; evaluation needs "
                            f"(batch, channels, {spec.size}, {spec.size}) in the input's pixels")
        pred = out.float().mean(1)
        model_iou.append(pixel_iou(pred, target))
        base_iou.append(pixel_iou(x, target))
        tgt_ink = (target > INK_THRESHOLD).flatten(1).sum(1).float()
        in_ink = ((x > INK_THRESHOLD) & (target > INK_THRESHOLD)).flatten(1).sum(1).float()
        ink_removed.extend((1.0 - in_ink / tgt_ink.clamp(min=1)).tolist())
        state.set_progress(min(start + batch, len(pairs)) / len(pairs))
    m, b = torch.cat(model_iou), torch.cat(base_iou)
    return {
        "drawings": len(pairs),
        "skipped_one_stroke": len(drawings) - len(pairs),
        "remove": remove,
        "fraction_strokes_removed": round(float(np.mean(strokes_removed)), 4),
        "fraction_ink_removed": round(float(np.mean(ink_removed)), 4),
        "threshold": INK_THRESHOLD,
        "iou_model": round(float(m.mean()), 4),
        "iou_baseline": round(float(b.mean()), 4),
        "model_better": int((m > b + 1e-6).sum()),
        "model_worse": int((m < b - 1e-6).sum()),
    }


# --- training -----------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class CompletionConfig(common.GeneratorConfig):
    out: str | Path = "resources/models/default-generate"
    epochs: int = 8
    variants: int = 4                     # removals rendered per training drawing
    lr: float = 2e-3
    # BCE alone is calibrated, which is what an ink > 0.5 threshold needs; a Dice term buys recall
    # with speculative ink (a 3-epoch smoke run with weight 1 fell far below output = input).
    dice_weight: float = 0.0
    # Learn P(ink > 0.5) rather than E[ink]: thresholding an expected soft ink at 0.5 is not the
    # same decision, and next to every input line it added ink that was not there.
    binary_target: bool = True
    channels: tuple[int, ...] = DEFAULT_CHANNELS
    name: str = "Quick, Draw! sketch completion (U-Net)"

    base_spec: ClassVar[RenderSpec] = COMPLETION_SPEC


CompletionResult = ModelResult


def train_completion(config: CompletionConfig, log: LogFn | None = None,
                     state: TaskState | None = None) -> CompletionResult:
    """The completion U-Net of `config`, trained, exported and measured on the held-out drawings
    (long work: common.run_trainer)."""
    return common.run_trainer(_train, config, log, state)


def _train(config: CompletionConfig, log: LogFn, state: TaskState,
           started: float) -> CompletionResult:
    from .train import AdamW, one_cycle

    if config.size % 8:
        raise UserError(f"the completion U-Net needs a size divisible by 8, got {config.size}")
    data = common.generator_data(config, log)
    spec = config.spec
    train = data.train
    heldout = [s for items in data.heldout.values() for s in items]

    # Render every (input, target) pair once: variant v of drawing i depends on (seed, i, v) only.
    t0 = time.perf_counter()
    inputs = torch.zeros(config.variants, len(train), spec.size, spec.size, dtype=torch.uint8)
    targets = torch.zeros_like(inputs)
    for i, sketch in enumerate(train):
        if i % 256 == 0:
            state.check()
            state.set_progress(0.15 * i / len(train))
        for v in range(config.variants):
            rng = np.random.default_rng([config.seed, i, v])
            x, y = render_pair(random_removal(sketch, rng), sketch, spec)
            inputs[v, i] = (x * 255).round().to(torch.uint8)
            targets[v, i] = (y * 255).round().to(torch.uint8)
    log(f"rendered {config.variants} x {len(train)} pairs in {time.perf_counter() - t0:.0f} s")

    torch.manual_seed(config.seed)
    # Module.to's stubs omit memory_format, which torch accepts at run time.
    model = CompletionUNet(config.channels)
    model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    generator = torch.Generator().manual_seed(config.seed)
    per_epoch = math.ceil(len(train) / config.batch_size)
    steps = max(config.epochs * per_epoch, 1)
    opt = AdamW(list(model.parameters()), weight_decay=config.weight_decay)
    schedule = one_cycle(config.lr, steps)
    step = 0
    for epoch in range(config.epochs):
        model.train()
        t1, total, seen = time.perf_counter(), 0.0, 0
        order = torch.randperm(len(train), generator=generator)
        flips = torch.rand(len(train), generator=generator) < 0.5
        v = epoch % config.variants
        for start in range(0, len(train), config.batch_size):
            state.check()
            idx = order[start:start + config.batch_size]
            x = inputs[v, idx].float().div_(255)
            y = targets[v, idx].float().div_(255)
            if config.binary_target:
                y = (y > INK_THRESHOLD).float()
            f = flips[idx]
            x[f], y[f] = x[f].flip(-1), y[f].flip(-1)
            out = model(to_model_input(x, spec).contiguous(memory_format=torch.channels_last))[:, 0]
            loss = _loss(out, y, config.dice_weight)
            opt.zero_grad()
            loss.backward()
            opt.step(schedule(step))
            step += 1
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
            state.set_progress(0.15 + 0.8 * step / steps)
        log(common.epoch_line("epoch", epoch, config.epochs, f"loss {total / max(seen, 1):.4f}",
                              t1, started))
    model.eval()
    model.to(memory_format=torch.contiguous_format)
    seconds = time.perf_counter() - started
    result = _write(model, config, len(data.categories), len(train), heldout, seconds,
                    state.child(0.95, 1.0))
    state.set_progress(1.0)
    h = result.heldout
    log(f"held-out ({h['drawings']} drawings, "
        f"{100 * h['fraction_strokes_removed']:.0f}% of strokes removed): "
        f"IoU model {h['iou_model']:.3f}  vs output=input {h['iou_baseline']:.3f}")
    log(result.written())
    return result


def _loss(out: torch.Tensor, target: torch.Tensor, dice_weight: float) -> torch.Tensor:
    out = out.clamp(1e-6, 1 - 1e-6)
    bce = nn.functional.binary_cross_entropy(out, target)
    inter = (out * target).flatten(1).sum(1)
    dice = 1.0 - (2 * inter + 1.0) / (out.flatten(1).sum(1) + target.flatten(1).sum(1) + 1.0)
    return bce + dice_weight * dice.mean()


def _write(model: CompletionUNet, config: CompletionConfig, n_categories: int, n_train: int,
           heldout: list[Sketch], seconds: float, state: TaskState) -> CompletionResult:
    spec = config.spec
    training = common.training_facts(
        categories=n_categories, train_drawings=n_train, heldout_drawings=len(heldout),
        heldout_split=" (the default classifier's split); never trained on",
        removal=("per drawing, 4 removals rendered once: the last 1..n-1 strokes (75%) or a "
                 "random subset (25%); one-stroke drawings lose the end of the stroke"),
        variants=config.variants, epochs=config.epochs, seed=config.seed,
        architecture=("U-Net, 3 poolings, two 3x3 conv + ReLU per level (BN folded), "
                      "transposed-conv upsampling, channels " + "-".join(map(str, config.channels))
                      + "; output = max(input ink, sigmoid(net))"),
        parameters=sum(p.numel() for p in model.parameters()),
        loss=(("BCE" if not config.dice_weight else f"BCE + {config.dice_weight:g} x soft Dice")
              + (" against the full drawing's ink > 0.5" if config.binary_target
                 else " against the full drawing's soft ink")),
        seconds=seconds, machine=f"{config.threads} torch thread(s)",
        command=(f"sketchstudio train completion --data DATA --out OUT --seed {config.seed} "
                 f"--epochs {config.epochs}"))
    card = common.model_card(
        name=config.name, task=ModelTask.GENERATE.value,
        description=("Sketch completion: a drawing with strokes removed in, the full "
                     "drawing's ink out (same pixels as the input). Small U-Net trained by "
                     f"SketchStudio on {n_train} real Quick, Draw! drawings of {n_categories} "
                     f"categories. {common.CREDIT}."),
        training=training, spec=spec, output=common.output_section(spec))

    def measure(loaded: Callable[[torch.Tensor], torch.Tensor]) -> tuple[dict, dict]:
        result = evaluate_completion(loaded, spec, heldout, state=state)
        return result, {"heldout_iou": result["iou_model"],
                        "heldout_iou_output_equals_input": result["iou_baseline"],
                        "heldout_fraction_strokes_removed": result["fraction_strokes_removed"],
                        "heldout_drawings_evaluated": result["drawings"]}

    card_path, model_path, result = common.ship(model, card, Path(config.out), measure)
    return CompletionResult(card_path=card_path, model_path=model_path, heldout=result,
                            seconds=seconds, card=card)
