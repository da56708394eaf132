"""Shared pieces of the benchmarks: composed real sketches, a large stand-in model, timing,
memory."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .models.tasks import ModelTask
from .render import RenderSpec
from .sketch import Sketch, Stroke


def compose_sketch(drawings: list[Sketch], strokes: int, cell: float = 300.0) -> Sketch:
    """A sketch of exactly `strokes` strokes made of real drawings laid out on a grid (for large
    N)."""
    picked: list[Stroke] = []
    i = 0
    side = 1
    while side * side * 6 < strokes:  # about 6 strokes per drawing: enough grid cells
        side += 1
    while len(picked) < strokes:
        drawing = drawings[i % len(drawings)]
        x0, y0, _, _ = drawing.bbox()
        dx, dy = (i % side) * cell - x0, (i // side % side) * cell - y0
        picked += [s.with_points(s.points + (dx, dy)) for s in drawing.strokes]
        i += 1
    return Sketch(tuple(picked[:strokes]), {"word": f"composed-{strokes}"})


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                   nn.BatchNorm2d(cout))
                     if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.down(x))


class ResNet18(nn.Module):
    """ResNet-18's architecture (11.7 M parameters), randomly initialised: a large user model."""

    def __init__(self, classes: int = 1000):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        layers, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [_Block(cin, cout, stride), _Block(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.head = nn.Linear(512, classes)

    def forward(self, x):
        return self.head(self.layers(self.stem(x)).mean((2, 3)))


@dataclass(eq=False)
class StandInModel:
    """Duck-typed like a LoadedModel, for a model built in code."""

    id: str
    module: nn.Module
    spec: RenderSpec
    labels: tuple[str, ...]
    device: torch.device
    task: str = ModelTask.CLASSIFY

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)


def resnet18_224(device: torch.device) -> StandInModel:
    torch.manual_seed(0)
    module = ResNet18().eval().to(device)
    for p in module.parameters():
        p.requires_grad_(False)
    spec = RenderSpec(size=224, channels=3, ink="dark-on-light", sigma=1.5, fit="center",
                      margin=0.08, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    labels = tuple(f"class{i}" for i in range(1000))
    return StandInModel("resnet18-224", module, spec, labels, device)


def median_ms(fn: Callable[[], object], repeats: int = 5, budget_s: float = 20.0) -> float:
    """Median wall time after one warm-up run; fewer repeats for slow functions."""
    start = time.perf_counter()
    fn()
    warm = time.perf_counter() - start
    repeats = max(1, min(repeats, int(budget_s / max(warm, 1e-6))))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000.0)


def interleaved_ms(fns: dict[str, Callable[[], object]], repeats: int = 5,
                   budget_s: float = 60.0) -> dict[str, list[float]]:
    """Wall times (ms) of every function, taken round-robin: repeat r runs each function once, in
    turn, on the same input. A busy machine slows a whole round rather than one method, so ratios
    taken within a round (then their median) are far steadier than ratios of separate medians.
    One warm-up round first; fewer rounds when one round is slow."""
    start = time.perf_counter()
    for fn in fns.values():
        fn()
    warm = time.perf_counter() - start
    rounds = max(1, min(repeats, int(budget_s / max(warm, 1e-6))))
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - started) * 1000.0)
    return times


def median_ratio(numerator: list[float], denominator: list[float]) -> float:
    """Median of the per-round ratios (rounds taken by `interleaved_ms`)."""
    return float(np.median(np.asarray(numerator) / np.asarray(denominator)))


def peak_mb(fn: Callable[[], object], device: torch.device) -> float:
    """Peak tensor memory of one run: CUDA's allocator statistics, or the profiler's CPU events."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        torch.cuda.synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - base) / 2 ** 20
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    # Leaf operators and free events only: a parent operator repeats its children's allocations.
    events = sorted((e for e in prof.events()
                     if e.cpu_memory_usage and (e.name == "[memory]" or not e.cpu_children)),
                    key=lambda e: e.time_range.start)
    level = peak = 0
    for e in events:
        level += e.cpu_memory_usage
        peak = max(peak, level)
    return peak / 2 ** 20
