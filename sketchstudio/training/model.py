"""The default classifier: a small all-convolutional CNN, cheap enough to explain while drawing.

Logits out, nothing but convolutions, ReLU, pooling and one linear layer in between, so gradients
reach every input pixel (no argmax, no thresholds). For export, batch norm is folded into the
convolutions and the network is scripted with TorchScript.
"""
from __future__ import annotations

from os import PathLike

import torch
from torch import nn

from . import export


def _conv(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]


# Output channels of the seven convolutions. Multiples of 16 suit the CPU kernels (24 trains 1.5x
# slower per multiply than 16 or 32); the cheap low-resolution end is the wide one.
DEFAULT_CHANNELS = (16, 32, 48, 64, 96, 128, 256)


class SketchCNN(nn.Module):
    """(B, 1, S, S) ink, light on dark, in [0, 1] -> (B, classes) logits. S is a multiple of 16."""

    def __init__(self, num_classes: int, channels: tuple[int, ...] = DEFAULT_CHANNELS,
                 dropout: float = 0.3) -> None:
        super().__init__()
        if len(channels) != 7:
            raise ValueError(f"SketchCNN needs 7 channel counts, got {len(channels)}")
        c = channels
        self.features = nn.Sequential(
            *_conv(1, c[0], 5, 2),                                    # S/2
            *_conv(c[0], c[1]), nn.MaxPool2d(2),                      # S/4
            *_conv(c[1], c[2]), *_conv(c[2], c[3]), nn.MaxPool2d(2),  # S/8
            *_conv(c[3], c[4]), *_conv(c[4], c[5]), nn.MaxPool2d(2),  # S/16
            *_conv(c[5], c[6]),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(c[6], num_classes)
        self.num_features = c[6]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))


class _Exported(nn.Module):
    """What ships: BN folded into the convolutions, dropout gone."""

    def __init__(self, features: nn.Sequential, head: nn.Linear) -> None:
        super().__init__()
        self.features = features
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def fold_batchnorm(model: SketchCNN) -> _Exported:
    """An eval-mode copy for export (training/export.py folds it), without the dropout layer."""
    folded = export.fold_batchnorm(model)
    assert isinstance(folded, SketchCNN)
    exported = _Exported(folded.features, folded.head).eval()
    for p in exported.parameters():
        p.requires_grad_(False)
    return exported


def export_torchscript(model: SketchCNN, path: str | PathLike[str]) -> None:
    """Fold, script and save; the saved file is what `load_model` reads."""
    export.export_torchscript(model, path, fold=fold_batchnorm)
