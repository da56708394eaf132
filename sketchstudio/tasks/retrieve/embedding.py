"""Sketches and images to unit-length embeddings, in batches, with progress and cancellation."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...errors import UserError
from ...models.tasks import ModelTask
from ...progress import TaskState
from ...render import render_batch, render_ink, to_model_input
from ...sketch import Sketch

BATCH_SIZE = 256            # sketches rendered into one atlas and embedded in one forward pass
IMAGE_BATCH_SIZE = 64


def check_embed_model(model: Any) -> None:
    task = getattr(model, "task", ModelTask.EMBED)
    if task != ModelTask.EMBED:
        raise UserError(f"model {getattr(model, 'id', '?')!r} is a {task!r} model; retrieval needs "
                        'an embedding model (card task = "embed"), e.g. --model default-embed')


def unit_rows(output: torch.Tensor, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(B, D) float32 unit rows and a (B,) mask of the rows that are usable (finite, non-zero)."""
    if output.ndim != 2:
        raise UserError(f"{what} must return (batch, dim) embeddings, got shape "
                        f"{tuple(output.shape)}")
    out = output.detach().float().cpu().numpy()
    norms = np.linalg.norm(out, axis=1)
    ok = np.isfinite(out).all(axis=1) & np.isfinite(norms) & (norms > 1e-12)
    rows = np.zeros_like(out)
    rows[ok] = out[ok] / norms[ok, None]
    return rows.astype(np.float32), ok


def embed_sketches(sketches: Sequence[Sketch], model: Any, batch_size: int = BATCH_SIZE,
                   state: TaskState | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Unit embeddings (N, D) of sketches and a mask of the usable ones (finite, non-zero)."""
    check_embed_model(model)
    state = TaskState.coerce(state)
    device = getattr(model, "device", None)
    chunks, masks = [], []
    step = max(batch_size, 1)
    for start in range(0, len(sketches), step):
        state.check()
        batch = sketches[start:start + step]
        x = to_model_input(render_batch(batch, model.spec, device), model.spec)
        with torch.no_grad():
            rows, ok = unit_rows(model(x), f"model {getattr(model, 'id', '?')!r}")
        chunks.append(rows)
        masks.append(ok)
        state.set_progress((start + len(batch)) / len(sketches))
    if not chunks:
        return np.zeros((0, 0), np.float32), np.zeros(0, bool)
    return np.concatenate(chunks), np.concatenate(masks)


def embed_sketch(sketch: Sketch, model: Any) -> np.ndarray:
    """The unit embedding (D,) of one sketch, rendered exactly as `explain` renders it."""
    check_embed_model(model)
    with torch.no_grad():
        ink = render_ink(sketch, model.spec, getattr(model, "device", None)).unsqueeze(0)
        rows, ok = unit_rows(model(to_model_input(ink, model.spec)),
                             f"model {getattr(model, 'id', '?')!r}")
    if not ok[0]:
        raise UserError("the model's embedding of this sketch is zero or not finite")
    return rows[0]


def image_input(paths: Sequence[Path], card_input: Any) -> torch.Tensor:
    """(B, C, size, size) images per [gallery_input]: resized (squashed) to a square, [0, 1],
    normalised. Raises OSError/ValueError for an unreadable file (the caller skips it)."""
    from PIL import Image

    arrays = []
    for path in paths:
        with Image.open(path) as opened:
            picture = opened.convert("RGB" if card_input.channels == 3 else "L")
            picture = picture.resize((card_input.size, card_input.size),
                                     Image.Resampling.BILINEAR)
            a = np.asarray(picture, dtype=np.float32) / 255.0
        arrays.append(a.reshape(card_input.size, card_input.size, -1).transpose(2, 0, 1))
    x = torch.from_numpy(np.stack(arrays))
    mean = torch.tensor(card_input.mean).view(1, -1, 1, 1)
    std = torch.tensor(card_input.std).view(1, -1, 1, 1)
    return (x - mean) / std


def embed_images(paths: list[Path], model: Any, state: TaskState | None = None
                 ) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Unit embeddings of images by the model's image encoder, a usable mask, and the reason
    for every unreadable image (by position)."""
    state = TaskState.coerce(state)
    spec = model.card.gallery_input
    rows = np.zeros((len(paths), 0), np.float32)
    ok = np.zeros(len(paths), bool)
    bad: dict[int, str] = {}
    chunks: list[tuple[list[int], np.ndarray, np.ndarray]] = []
    for start in range(0, len(paths), IMAGE_BATCH_SIZE):
        state.check()
        good, tensors = [], []
        for i in range(start, min(start + IMAGE_BATCH_SIZE, len(paths))):
            try:
                tensors.append(image_input([paths[i]], spec))
                good.append(i)
            except Exception as exc:  # Pillow raises many kinds for a broken image
                bad[i] = f"{paths[i]}: not a readable image: {str(exc).splitlines()[0][:200]}"
        if tensors:
            with torch.no_grad():
                r, o = unit_rows(model.embed_images(torch.cat(tensors)),
                                 f"the image encoder of {getattr(model, 'id', '?')!r}")
            chunks.append((good, r, o))
        state.set_progress(min(start + IMAGE_BATCH_SIZE, len(paths)) / len(paths))
    if chunks:
        rows = np.zeros((len(paths), chunks[0][1].shape[1]), np.float32)
        for good, r, o in chunks:
            rows[good] = r
            ok[good] = o
    return rows, ok, bad
