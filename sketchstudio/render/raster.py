"""The differentiable rasteriser.

Ink of segment s at pixel q: a Gaussian of the distance d from q to the segment, shifted and
rescaled so it reaches exactly 0 at `CUTOFF_SIGMAS` sigmas (compact support). A stroke's ink is the
largest ink of its segments (= the profile of the distance to its polyline, so ink does not depend
on how densely the stroke was sampled). Strokes are composited with presence weights alpha in
[0, 1] by soft OR:

    I(q) = 1 - prod_k (1 - alpha_k I_k(q))

P-SLA gives every segment its own weight: I_k(q) = max_s alpha_s I_s(q). At equal weights both
agree.

The fast path works locally: the canvas is cut into T x T tiles, every segment is paired only with
the tiles within its cutoff radius, and every (stroke, tile) group holds that stroke's ink on the
tile. Cost and memory grow with the ink (segments x nearby pixels), not with canvas area x
segments. The compositing step only needs the per-group inks, so integrated gradients over many
presence vectors render the geometry once and composite it B times (`StrokeInk.composite`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .spec import CUTOFF_SIGMAS, PROFILE_FLOOR

# Peak ink just under 1 keeps log(1 - ink) finite, so gradients stay finite at the stroke centre.
PEAK_INK = 1.0 - 1e-4


@dataclass(frozen=True)
class Layout:
    """Which point starts and ends every segment, and which stroke owns it (no geometry)."""

    seg_start: np.ndarray    # (S,) index into the flat point array
    seg_end: np.ndarray      # (S,)
    seg_stroke: np.ndarray   # (S,)
    num_strokes: int
    stroke_seg_offsets: np.ndarray  # (N + 1,): segments of stroke k are [off[k], off[k+1])

    @classmethod
    def from_lengths(cls, lengths: list[int]) -> Layout:
        n_points = np.asarray(lengths, dtype=np.int64).reshape(-1)
        n_segs = np.maximum(n_points - 1, 1)          # a dot is one zero-length segment
        offsets = np.concatenate([[0], np.cumsum(n_segs)]).astype(np.int64)
        first_point = np.concatenate([[0], np.cumsum(n_points)[:-1]]).astype(np.int64)
        owner = np.repeat(np.arange(len(n_points), dtype=np.int64), n_segs)
        local = np.arange(offsets[-1], dtype=np.int64) - offsets[owner]
        start = first_point[owner] + local
        end = start + (n_points[owner] > 1)
        return cls(start, end, owner, len(n_points), offsets)

    @property
    def num_segments(self) -> int:
        return len(self.seg_start)


def ink_profile(dist2: torch.Tensor, sigma: float, width: float = 0.0) -> torch.Tensor:
    """Ink from squared distance: shifted Gaussian, exactly 0 beyond the cutoff.

    With a `width`, the stroke has a solid core of that width and the Gaussian edge starts at its
    border (like a pen of that width, softened by sigma).
    """
    gain = PEAK_INK / (1.0 - PROFILE_FLOOR)
    if width > 0:
        # +1e-12 keeps sqrt's gradient finite on the centre line (where the core absorbs it anyway).
        dist2 = torch.clamp(torch.sqrt(dist2 + 1e-12) - width / 2.0, min=0.0) ** 2
    g = torch.exp(dist2 * (-0.5 / sigma ** 2))
    if not (torch.is_grad_enabled() and g.requires_grad):
        return g.sub_(PROFILE_FLOOR).mul_(gain).clamp_(min=0.0)  # in place: no graph to keep
    return torch.clamp((g - PROFILE_FLOOR) * gain, min=0.0)


def segment_dist2(q: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared distance from points q (..., 2) to segments a-b (broadcastable)."""
    ab = b - a
    aq = q - a
    len2 = (ab * ab).sum(-1)
    t = ((aq * ab).sum(-1) / len2.clamp_min(1e-12)).clamp(0.0, 1.0)
    diff = aq - t.unsqueeze(-1) * ab
    return (diff * diff).sum(-1)


def _tile_dist2(base_rel: torch.Tensor, ab: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Squared distance from every pixel of a tile to its paired segment: (P, T*T).

    base_rel: first pixel centre of the tile minus the segment start (P, 2); ab: segment vector
    (P, 2); offsets: pixel offsets inside the tile (T*T, 2). Works on x and y separately because
    broadcasting over a trailing axis of 2 is several times slower on the CPU.
    """
    dx = base_rel[:, :1] + offsets[:, 0]
    dy = base_rel[:, 1:] + offsets[:, 1]
    abx, aby = ab[:, :1], ab[:, 1:]
    inv_len2 = 1.0 / (abx * abx + aby * aby).clamp_min(1e-12)
    # In-place steps only overwrite tensors no backward formula has saved.
    t = (dx * abx).addcmul_(dy, aby).mul_(inv_len2).clamp_(0.0, 1.0)
    ex = torch.addcmul(dx, t, abx, value=-1.0)
    ey = torch.addcmul(dy, t, aby, value=-1.0)
    return (ex * ex).addcmul_(ey, ey)


def choose_tile(radius: float) -> int:
    """Tile side in pixels: about the ink radius (measured fastest: a segment meets few tiles and
    each tile wastes few pixels)."""
    for tile in (2, 4, 8, 16):
        if radius <= tile:
            return tile
    return 32


@dataclass
class StrokeInk:
    """Per-(stroke, tile) ink of a placed sketch, ready to be composited with presence weights."""

    size: int
    tile: int
    padded: int                  # canvas side rounded up to whole tiles
    group_stroke: torch.Tensor   # (G,) stroke of each group
    group_pixels: torch.Tensor   # (G, T*T) flat index into the padded canvas
    ink: torch.Tensor            # (G, T*T) the stroke's ink on that tile (max over its segments)
    # Pair-level data, for per-segment presence (P-SLA):
    pair_segment: torch.Tensor   # (P,)
    pair_group: torch.Tensor     # (P,)
    pair_ink: torch.Tensor       # (P, T*T)
    num_strokes: int
    num_segments: int

    def composite(self, alpha: torch.Tensor | None = None) -> torch.Tensor:
        """Ink image (B, size, size) for stroke presence weights alpha (B, N); None: all present."""
        if alpha is None:
            alpha = torch.ones(1, self.num_strokes, dtype=self.ink.dtype, device=self.ink.device)
        inks = self.ink.unsqueeze(0) * alpha[:, self.group_stroke].unsqueeze(-1)
        return self._soft_or(inks, alpha.shape[0])

    def composite_segments(self, alpha: torch.Tensor) -> torch.Tensor:
        """Ink image (B, size, size) for per-segment presence weights alpha (B, S)."""
        batch = alpha.shape[0]
        weighted = self.pair_ink.unsqueeze(0) * alpha[:, self.pair_segment].unsqueeze(-1)
        index = self.pair_group.view(1, -1, 1).expand_as(weighted)
        inks = torch.zeros(batch, *self.ink.shape, dtype=weighted.dtype, device=weighted.device)
        inks = inks.scatter_reduce(1, index, weighted, reduce="amax", include_self=False)
        return self._soft_or(inks, batch)

    def composite_leave_one_out(self, strokes: torch.Tensor) -> torch.Tensor:
        """Ink images (B, size, size): row b is the whole sketch without stroke `strokes[b]`.

        Soft OR is a sum in log space, so leaving stroke k out subtracts only its own groups from
        the whole sketch's sum: each row costs its stroke's ink plus one canvas, not the whole
        sketch again (occlusion of N strokes costs O(ink + N canvases) instead of O(N x ink)).
        Equal to `composite(1 - e_k)` up to float rounding (ink peaks below 1, so logs are finite).
        """
        with torch.no_grad():
            logs = torch.log1p(-self.ink)
            pixels = self.padded * self.padded
            whole = torch.zeros(pixels, dtype=logs.dtype, device=logs.device)
            whole = whole.index_add(0, self.group_pixels.reshape(-1), logs.reshape(-1))
            # Groups are sorted by stroke (their key starts with the stroke), so each stroke's
            # groups are one contiguous range.
            counts = torch.bincount(self.group_stroke, minlength=self.num_strokes)
            starts = torch.cumsum(counts, 0) - counts
            strokes = strokes.to(self.group_stroke.device)
            per_row = counts[strokes]
            row = torch.repeat_interleave(torch.arange(len(strokes), device=logs.device), per_row)
            first = torch.repeat_interleave(starts[strokes] - (torch.cumsum(per_row, 0) - per_row),
                                            per_row)
            group = first + torch.arange(len(row), device=logs.device)
            target = (row[:, None] * pixels + self.group_pixels[group]).reshape(-1)
            own = torch.zeros(len(strokes) * pixels, dtype=logs.dtype, device=logs.device)
            own = own.index_add(0, target, logs[group].reshape(-1)).view(len(strokes), pixels)
            image = -torch.expm1(whole.unsqueeze(0) - own).view(-1, self.padded, self.padded)
            return image[:, : self.size, : self.size]

    def _soft_or(self, inks: torch.Tensor, batch: int) -> torch.Tensor:
        logs = torch.log1p(-inks).reshape(batch, -1)
        acc = torch.zeros(batch, self.padded * self.padded, dtype=inks.dtype, device=inks.device)
        acc = acc.index_add(1, self.group_pixels.reshape(-1), logs)
        image = -torch.expm1(acc).view(batch, self.padded, self.padded)
        return image[:, : self.size, : self.size]


def _tile_pairs(a: np.ndarray, b: np.ndarray, radius: float, tile: int,
                tiles: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(segment, tile_x, tile_y) for every tile within `radius` of each segment (numpy, no grad)."""
    # Clipping before the int conversion makes far-away points harmless: their range is empty.
    lo = np.clip(np.floor((np.minimum(a, b) - radius) / tile), 0, tiles).astype(np.int64)
    hi = np.clip(np.floor((np.maximum(a, b) + radius) / tile), -1, tiles - 1).astype(np.int64)
    span = np.maximum(hi - lo + 1, 0)
    count = span[:, 0] * span[:, 1]
    seg = np.repeat(np.arange(len(a)), count)
    local = np.arange(len(seg)) - np.repeat(np.cumsum(count) - count, count)
    nx = span[seg, 0]
    tx = lo[seg, 0] + local % nx
    ty = lo[seg, 1] + local // nx
    # Keep only tiles whose centre is close enough for one of their pixels to be within the radius.
    ax, ay = a[seg, 0], a[seg, 1]
    abx, aby = b[seg, 0] - ax, b[seg, 1] - ay
    cx, cy = tx * tile + (tile / 2.0) - ax, ty * tile + (tile / 2.0) - ay
    t = np.clip((cx * abx + cy * aby) / np.maximum(abx * abx + aby * aby, 1e-12), 0.0, 1.0)
    ex, ey = cx - t * abx, cy - t * aby
    keep = ex * ex + ey * ey <= (radius + tile * 0.7072) ** 2
    return seg[keep], tx[keep], ty[keep]


def ink_radius(sigma: float, width: float = 0.0) -> float:
    """Distance (pixels) beyond which a segment leaves no ink at all."""
    return width / 2.0 + CUTOFF_SIGMAS * sigma


def stroke_ink(points: torch.Tensor, layout: Layout, size: int, sigma: float,
               tile: int | None = None, width: float = 0.0) -> StrokeInk:
    """Lay out and ink a placed sketch (points in input pixels, (P, 2), may require grad)."""
    radius = ink_radius(sigma, width)
    tile = tile or choose_tile(radius)
    tiles = -(-size // tile)
    device, dtype = points.device, points.dtype
    pts = points.detach().cpu().numpy().astype(np.float64)
    a_np, b_np = pts[layout.seg_start], pts[layout.seg_end]
    seg, tx, ty = _tile_pairs(a_np, b_np, radius, tile, tiles)

    key = layout.seg_stroke[seg] * (tiles * tiles) + ty * tiles + tx
    group_key, pair_group = np.unique(key, return_inverse=True)
    g_stroke = group_key // (tiles * tiles)
    g_tile = group_key % (tiles * tiles)
    g_ty, g_tx = g_tile // tiles, g_tile % tiles
    offs_y, offs_x = np.divmod(np.arange(tile * tile), tile)
    padded = tiles * tile
    g_pixels = (g_ty[:, None] * tile + offs_y) * padded + g_tx[:, None] * tile + offs_x


    def to_t(x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(x, device=device)

    seg_t = to_t(seg)
    a = points[to_t(layout.seg_start[seg])]  # (P, 2)
    b = points[to_t(layout.seg_end[seg])]
    base = torch.as_tensor(np.stack([tx, ty], 1) * tile + 0.5, dtype=dtype, device=device)
    offsets = torch.as_tensor(np.stack([offs_x, offs_y], 1), dtype=dtype, device=device)
    pair_ink = ink_profile(_tile_dist2(base - a, b - a, offsets), sigma, width)
    pair_group_t = to_t(pair_group.reshape(-1).astype(np.int64))
    ink = torch.zeros(len(group_key), tile * tile, dtype=dtype, device=device)
    ink = ink.scatter_reduce(0, pair_group_t.view(-1, 1).expand_as(pair_ink), pair_ink,
                             reduce="amax", include_self=False)
    return StrokeInk(size=size, tile=tile, padded=padded,
                     group_stroke=to_t(g_stroke.astype(np.int64)),
                     group_pixels=to_t(g_pixels.astype(np.int64)), ink=ink,
                     pair_segment=seg_t, pair_group=pair_group_t, pair_ink=pair_ink,
                     num_strokes=layout.num_strokes, num_segments=layout.num_segments)


def dense_ink_image(points: torch.Tensor, layout: Layout, size: int, sigma: float,
                    alpha: torch.Tensor | None = None, segment_alpha: torch.Tensor | None = None,
                    width: float = 0.0) -> torch.Tensor:
    """Reference rasteriser: every pixel against every segment, O(H W S). For tests only."""
    device, dtype = points.device, points.dtype
    ys, xs = torch.meshgrid(torch.arange(size, dtype=dtype, device=device) + 0.5,
                            torch.arange(size, dtype=dtype, device=device) + 0.5, indexing="ij")
    q = torch.stack([xs, ys], -1).reshape(1, -1, 2)                      # (1, HW, 2)
    a = points[torch.as_tensor(layout.seg_start, device=device)].unsqueeze(1)  # (S, 1, 2)
    b = points[torch.as_tensor(layout.seg_end, device=device)].unsqueeze(1)
    seg_ink = ink_profile(segment_dist2(q, a, b), sigma, width)          # (S, HW)
    if segment_alpha is None:
        seg_alpha = torch.ones(1, layout.num_segments, dtype=dtype, device=device)
        if alpha is not None:
            seg_alpha = alpha[:, torch.as_tensor(layout.seg_stroke, device=device)]
    else:
        seg_alpha = segment_alpha
    weighted = seg_alpha.unsqueeze(-1) * seg_ink.unsqueeze(0)           # (B, S, HW)
    owner = torch.as_tensor(layout.seg_stroke, device=device).view(1, -1, 1).expand_as(weighted)
    strokes = torch.zeros(weighted.shape[0], layout.num_strokes, size * size, dtype=dtype,
                          device=device)
    strokes = strokes.scatter_reduce(1, owner, weighted, reduce="amax", include_self=False)
    image = -torch.expm1(torch.log1p(-strokes).sum(1))
    return image.view(-1, size, size)
