"""What every trained network goes through before it ships: batch norm folded, TorchScript saved.

One implementation for the classifier, the completion and the fill networks. The saved file is
what `sketchstudio.models.load_model` reads.
"""
from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from os import PathLike
from typing import Any

import torch
from torch import nn


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """An eval-mode CPU copy with every BatchNorm folded into the convolution before it (in every
    `nn.Sequential`, nested or not), in-place ReLUs made plain (explainers differentiate through
    them) and no parameter requiring a gradient. The trained model is left as it was."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model = copy.deepcopy(model).cpu().eval()
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if not isinstance(child, nn.Sequential):
                continue
            layers: list[nn.Module] = []
            mods, i = list(child), 0
            while i < len(mods):
                current = mods[i]
                after = mods[i + 1] if i + 1 < len(mods) else None
                if isinstance(current, nn.Conv2d) and isinstance(after, nn.BatchNorm2d):
                    layers.append(fuse_conv_bn_eval(current, after))
                    i += 2
                    continue
                layers.append(nn.ReLU() if isinstance(current, nn.ReLU) else current)
                i += 1
            setattr(module, name, nn.Sequential(*layers))
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def export_torchscript(model: nn.Module, path: str | PathLike[str],
                       fold: Callable[[Any], nn.Module] = fold_batchnorm) -> None:
    """Fold (`fold`), script and save to `path`."""
    with warnings.catch_warnings():
        # torch deprecates TorchScript; it is still what every SketchStudio loader reads.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(fold(model)), str(path))
