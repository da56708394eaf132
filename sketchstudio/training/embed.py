"""Derive the default embedding model (`default-embed`) from the default classifier.

The classifier's pooled penultimate features (256 numbers after ReLU and global average pooling)
are the embedding. They are non-negative, so every pair of drawings has a large positive cosine;
subtracting the mean feature of the classifier's own training drawings (never the held-out ones)
centres them, and the result is L2-normalised inside the model. No training, no new weights: the
derivation is a few seconds and fully reproducible from the classifier file and the data.
"""
from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tomli_w
import torch
from torch import nn

from ..errors import UserError
from ..fsutil import file_sha256
from ..models.card import CARD_FILENAME, load_card
from ..models.tasks import ModelTask
from ..progress import TaskState
from ..render import RenderSpec
from ..sketch import Sketch
from .data import (
    CREDIT,
    HELDOUT_PER_CATEGORY,
    available_categories,
    load_category,
    resolve_data_dir,
    split,
)
from .export import export_torchscript


class Embedder(nn.Module):
    """(B, C, S, S) -> (B, D) unit vectors: features(x) minus a fixed centre, L2-normalised."""

    def __init__(self, features: nn.Module, center: torch.Tensor) -> None:
        super().__init__()
        self.features = features
        self.register_buffer("center", center.reshape(1, -1).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x) - self.center
        return f / torch.sqrt((f * f).sum(dim=1, keepdim=True)).clamp_min(1e-12)


@dataclass
class EmbedResult:
    card_path: Path
    model_path: Path
    dim: int
    centered_on: int
    seconds: float


def derive_embedding(source: str | Path, out: str | Path, data: str | Path | None = None,
                     center: bool = True, log: Callable[[str], None] | None = None,
                     state: TaskState | None = None) -> EmbedResult:
    """Write out/card.toml + out/model.pt: the classifier's features as an embedding model.

    Long work (sketchstudio/progress.py): `state` receives the progress and is checked while the
    data is read and between feature batches; `Cancelled` stops it before anything is written."""
    from ..models.loader import load_card_model

    state = TaskState.coerce(state)
    log = log or (lambda line: None)
    started = time.perf_counter()
    card = load_card(source)
    if card.task != ModelTask.CLASSIFY:
        raise UserError(f"{card.path}: the source must be a classifier, got task {card.task!r}")
    loaded = load_card_model(card, "cpu")
    features = getattr(loaded.module, "features", None)
    if features is None:
        raise UserError(f"{card.file}: the classifier has no `features` submodule to embed with")

    centre = None
    n_centre = 0
    if center:
        folder = resolve_data_dir(data)
        sketches: list[Sketch] = []
        categories = available_categories(folder)
        chosen = set(card.labels)
        reading = state.child(0.0, 0.2)
        for n, c in enumerate(categories):
            reading.check()
            reading.set_progress(n / len(categories))
            drawings = load_category(folder, c)
            # The classifier's held-out drawings stay unseen: they are the retrieval queries.
            kept = split(drawings, HELDOUT_PER_CATEGORY).train if c in chosen else drawings
            sketches.extend(kept)
        log(f"centring on the mean feature of {len(sketches)} training drawings "
            f"({len(categories)} categories; held-out drawings of the {len(chosen)} classes "
            "excluded)")
        feats = _features(features, sketches, card.spec, state.child(0.2, 0.95))
        centre = torch.as_tensor(feats.mean(axis=0))
        n_centre = len(sketches)
    with torch.no_grad():
        blank = torch.zeros(1, card.spec.channels, card.spec.size, card.spec.size)
        dim = int(features(blank).shape[1])
    if centre is None:
        centre = torch.zeros(dim)
    state.check()   # the last moment a cancel leaves nothing written

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "model.pt"
    # Nothing to fold: the classifier's features were folded when it was exported.
    export_torchscript(Embedder(features, centre).eval(), model_path, fold=lambda m: m)
    source_hash = file_sha256(card.file)
    seconds = time.perf_counter() - started
    card_data = {
        "name": "Quick, Draw! sketch embedding (default CNN features)",
        "task": "embed",
        "file": "model.pt",
        "description": (f"The default classifier's pooled {dim}-d penultimate features"
                        + (", centred on the mean of its training drawings" if center else "")
                        + ", L2-normalised: cosine similarity between drawings. Derived by "
                        "SketchStudio from the default classifier (trained on real Quick, Draw! "
                        f"drawings). {CREDIT}."),
        "credit": CREDIT,
        "derivation": {
            "source": str(card.name),
            "source_file_sha256": source_hash,
            "features": f"features(x): conv stack, global average pool, flatten ({dim} values)",
            "centered": center,
            "center_drawings": n_centre,
            "center_split": ("every drawing of the data folder except the classifier's held-out "
                             f"drawings ({HELDOUT_PER_CATEGORY} per class, "
                             "smallest sha256(key_id))"),
            "normalised": "L2, inside the model",
            "seconds": round(seconds, 1),
            "torch": torch.__version__,
            "machine": f"{platform.machine()} CPU",
            "command": ("sketchstudio train embed --from resources/models/default "
                        "--out resources/models/default-embed"
                        + ("" if center else " --no-center")),
        },
        "input": card.spec.to_dict(),
    }
    card_path = out / CARD_FILENAME
    card_path.write_text(tomli_w.dumps(card_data), encoding="utf-8")
    load_card(card_path)  # what we wrote must be a valid card
    state.set_progress(1.0)
    log(f"wrote {model_path} and {card_path} ({dim}-d, {seconds:.1f} s)")
    return EmbedResult(card_path, model_path, dim, n_centre, seconds)


def _features(features: nn.Module, sketches: list[Sketch], spec: RenderSpec, state: TaskState,
              batch: int = 256) -> np.ndarray:
    from ..render import render_batch, to_model_input

    chunks = []
    with torch.no_grad():
        for i in range(0, len(sketches), batch):
            state.check()
            state.set_progress(i / len(sketches))
            x = to_model_input(render_batch(sketches[i:i + batch], spec), spec)
            chunks.append(features(x).float().numpy())
    state.set_progress(1.0)
    return np.concatenate(chunks).astype(np.float64)
