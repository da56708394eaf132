"""The fill generator's network: a small U-Net whose output keeps the input's ink.

`out = max(ink, sigmoid(net(ink)))`: every input line is part of the filled figure by
construction, so the network only learns which paper is enclosed. Deciding that is a global
question (is there a way out to the border?), so the U-Net pools down to a few pixels, where
every unit sees the whole drawing.
"""
from __future__ import annotations

import torch
from torch import nn

DEFAULT_CHANNELS = (8, 16, 32, 48, 64)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class _Up(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 2, 2)
        self.merge = _block(2 * cout, cout)

    def forward(self, h: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.merge(torch.cat([self.up(h), skip], 1))


class FillUNet(nn.Module):
    """(B, 1, S, S) ink (light on dark, [0, 1]) -> (B, 1, S, S) filled figure in [0, 1].

    The U-Net runs at S / `reduce` pixels (the ink max-pooled, so no line is lost) with
    len(channels) - 1 poolings below that; its logits are upsampled back to S and sharpened by a
    small convolution that also sees the full-resolution ink. Which paper is enclosed is decided
    at the coarse scale; where exactly a region ends is the ink's business, and the ink is kept
    as it is. S must be divisible by reduce * 2 ** (len(channels) - 1).
    """

    def __init__(self, channels: tuple[int, ...] = DEFAULT_CHANNELS, reduce: int = 2) -> None:
        super().__init__()
        if len(channels) < 2:
            raise ValueError(f"FillUNet needs at least 2 channel counts, got {len(channels)}")
        if reduce < 1:
            raise ValueError(f"reduce must be at least 1, got {reduce}")
        self.reduce = reduce
        self.depth = len(channels) - 1
        self.down = nn.ModuleList([_block(1, channels[0])] + [
            _block(channels[i], channels[i + 1]) for i in range(self.depth)])
        # Deepest level first, the order the decoder walks them (TorchScript loops over a
        # ModuleList only forwards).
        self.ups = nn.ModuleList([_Up(channels[i + 1], channels[i])
                                  for i in range(self.depth - 1, -1, -1)])
        self.head = nn.Conv2d(channels[0], 1, 1)
        self.refine = nn.Sequential(nn.Conv2d(2, 8, 3, padding=1), nn.ReLU(),
                                    nn.Conv2d(8, 1, 3, padding=1))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        skips: list[torch.Tensor] = []
        h = x
        for i, block in enumerate(self.down):
            if i > 0:
                skips.append(h)
                h = nn.functional.max_pool2d(h, 2)
            h = block(h)
        for i, up in enumerate(self.ups):
            h = up(h, skips[self.depth - 1 - i])
        return self.head(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ink = x[:, :1].clamp(0.0, 1.0)
        if self.reduce > 1:
            coarse = self.logits(nn.functional.max_pool2d(ink, self.reduce))
            z = nn.functional.interpolate(coarse, scale_factor=float(self.reduce),
                                          mode="bilinear", align_corners=False)
            z = z + self.refine(torch.cat([z, ink], 1))
        else:
            z = self.logits(ink)
        return torch.maximum(ink, torch.sigmoid(z))
