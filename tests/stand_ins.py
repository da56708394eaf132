"""Small in-memory models for engine tests: any nn.Module behind the loaded-model interface."""
from __future__ import annotations

import torch
from torch import nn

from sketchstudio.benchmarking import StandInModel
from sketchstudio.render import RenderSpec

CANVAS_32 = RenderSpec(size=32, sigma=0.8, fit="canvas", canvas=32.0)


def model_of(module: nn.Module, spec: RenderSpec = CANVAS_32,
             labels: tuple[str, ...] = ("a", "b", "c")) -> StandInModel:
    """`module` frozen in eval mode, seen through `spec`, with `labels` (CPU)."""
    module = module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return StandInModel("test", module, spec, tuple(labels), torch.device("cpu"))


class LeftRight(nn.Module):
    """Class 0's logit: `gain` x the ink in the left half; class 1's: in the right half."""

    def __init__(self, gain: float = 1.0) -> None:
        super().__init__()
        self.gain = gain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = x.shape[-1] // 2
        return self.gain * torch.stack([x[..., :w].sum((1, 2, 3)), x[..., w:].sum((1, 2, 3))],
                                       dim=1)


def smooth_cnn(classes: int = 3, seed: int = 0) -> nn.Module:
    """Tanh activations: a smooth integrand, so the quadrature error is small and testable."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.Tanh(), nn.AvgPool2d(4),
                         nn.Conv2d(8, 8, 3, padding=1), nn.Tanh(), nn.Flatten(),
                         nn.Linear(8 * 8 * 8, classes))
