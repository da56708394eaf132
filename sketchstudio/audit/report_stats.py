"""The figures of an audit's report, gathered in one streaming pass over results.parquet.

The results of a corpus audit can hold millions of rows, so nothing here loads the table whole:
record batches are folded into counters, sums, small heaps (the galleries) and a fixed-size sample
(stroke lengths need the drawings themselves, which are re-read only for that sample).
"""
from __future__ import annotations

import heapq
import math
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .results import shard_files

POSITIONS = 12          # strokes 1..11 each, then "12+" together
GALLERY = 24            # thumbnails per gallery
LENGTH_SAMPLE = 3000    # drawings re-read for the stroke-length figure
AUC_BINS = 20
COLUMNS = ["source", "index", "word", "prediction", "p_pred", "target", "correct", "strokes",
           "attributions", "deletion_auc", "insertion_auc", "completeness_error", "elapsed_ms",
           "error"]


@dataclass
class ClassFigures:
    n: int = 0                  # drawings of this word that were explained
    scored: int = 0             # of which the model knows the word (correct is not null)
    right: int = 0
    faithful_n: int = 0         # rows with finite faithfulness figures
    deletion: float = 0.0       # sums, divided by faithful_n when shown
    insertion: float = 0.0
    completeness: float = 0.0

    def mean(self, name: str) -> float:
        return getattr(self, name) / self.faithful_n if self.faithful_n else math.nan


@dataclass
class Stats:
    rows: int = 0
    errors: int = 0
    scored: int = 0
    right: int = 0
    classes: dict[str, ClassFigures] = field(default_factory=lambda: defaultdict(ClassFigures))
    confusion: Counter = field(default_factory=Counter)     # (word, prediction) -> count
    position_sum: np.ndarray = field(default_factory=lambda: np.zeros(POSITIONS))
    position_n: np.ndarray = field(default_factory=lambda: np.zeros(POSITIONS))
    top_stroke: np.ndarray = field(default_factory=lambda: np.zeros(POSITIONS))
    deletion_hist: np.ndarray = field(default_factory=lambda: np.zeros(AUC_BINS, dtype=np.int64))
    insertion_hist: np.ndarray = field(default_factory=lambda: np.zeros(AUC_BINS, dtype=np.int64))
    faithful_n: int = 0
    deletion_sum: float = 0.0
    insertion_sum: float = 0.0
    elapsed_n: int = 0
    elapsed_sum: float = 0.0
    error_examples: list[tuple[str, int, str]] = field(default_factory=list)
    error_reasons: Counter = field(default_factory=Counter)
    # Heaps of (key, tiebreak, row): the largest keys are kept.
    mistakes: list = field(default_factory=list)
    unfaithful: list = field(default_factory=list)
    sample: list = field(default_factory=list)               # ((-index, hash), tiebreak, row)

    @property
    def explained(self) -> int:
        return self.rows - self.errors


def _keep(heap: list, size: int, key: Any, tiebreak: tuple, row: dict) -> None:
    item = (key, tiebreak, row)
    if len(heap) < size:
        heapq.heappush(heap, item)
    elif item[:2] > heap[0][:2]:
        heapq.heapreplace(heap, item)


def _stable_hash(source: str, index: int) -> int:
    """The sample is chosen by a hash of the drawing, so it does not depend on shard order."""
    return zlib.crc32(f"{source}#{index}".encode())


def readable_shards(out_dir: Path) -> list[Path]:
    """The audit's shards, less any cut short by a killed writer (their rows count as not done)."""
    good = []
    for path in shard_files(out_dir):
        try:
            pq.read_metadata(path)
            good.append(path)
        except (OSError, pa.ArrowException):
            continue
    return good


def collect(out_dir: Path) -> Stats:
    """Every figure of the report, from the audit folder `out_dir`, in one pass."""
    stats = Stats()
    shards = readable_shards(out_dir)
    if not shards:
        return stats
    dataset = ds.dataset([str(p) for p in shards], format="parquet")
    names = set(dataset.schema.names)
    columns = [c for c in COLUMNS if c in names]
    # Little read-ahead: the pass must hold a few batches, not a growing share of the corpus.
    for batch in dataset.to_batches(columns=columns, batch_size=8192, batch_readahead=1,
                                    fragment_readahead=1):
        _fold(stats, batch)
    return stats


def _fold(stats: Stats, batch: pa.RecordBatch) -> None:
    data: dict[str, Any] = {name: batch.column(name) for name in batch.schema.names}
    n = batch.num_rows
    stats.rows += n
    error = data["error"].to_pylist() if "error" in data else [None] * n
    failed = np.array([e is not None for e in error], dtype=bool)
    stats.errors += int(failed.sum())
    sources = data["source"].to_pylist()
    indices = data["index"].to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(failed):
        reason = str(error[i]).splitlines()[0] if error[i] else "unknown"
        stats.error_reasons[reason[:160]] += 1
        if len(stats.error_examples) < 50:
            stats.error_examples.append((sources[i], int(indices[i]), reason))

    words = data["word"].to_pylist()
    predictions = data["prediction"].to_pylist()
    targets = data["target"].to_pylist()
    correct = data["correct"].to_pylist()
    p_pred = _floats(data["p_pred"])
    deletion, insertion = _floats(data["deletion_auc"]), _floats(data["insertion_auc"])
    completeness = _floats(data["completeness_error"])
    elapsed = _floats(data["elapsed_ms"])[~failed]
    elapsed = elapsed[np.isfinite(elapsed)]
    stats.elapsed_n += len(elapsed)
    stats.elapsed_sum += float(elapsed.sum())
    attributions = data["attributions"]
    offsets = attributions.offsets.to_numpy()
    values = np.asarray(attributions.values.to_numpy(zero_copy_only=False), dtype=np.float64)
    _fold_positions(stats, values, offsets, ~failed)

    for i in np.flatnonzero(~failed):
        word = words[i] if words[i] is not None else "(no word)"
        figures = stats.classes[word]
        figures.n += 1
        if correct[i] is not None:
            figures.scored += 1
            figures.right += bool(correct[i])
            stats.scored += 1
            stats.right += bool(correct[i])
            stats.confusion[(word, predictions[i])] += 1
        if math.isfinite(deletion[i]) and math.isfinite(insertion[i]):
            figures.faithful_n += 1
            figures.deletion += deletion[i]
            figures.insertion += insertion[i]
            figures.completeness += completeness[i] if math.isfinite(completeness[i]) else 0.0
            stats.faithful_n += 1
            stats.deletion_sum += deletion[i]
            stats.insertion_sum += insertion[i]
            stats.deletion_hist[_bin(deletion[i])] += 1
            stats.insertion_hist[_bin(insertion[i])] += 1
        tiebreak = (sources[i], -int(indices[i]))
        # A row is built only for the drawings that enter a gallery or the sample.
        wanted = []
        if correct[i] is False and math.isfinite(p_pred[i]):
            wanted.append((stats.mistakes, GALLERY, p_pred[i]))
        # With one stroke there is no order to be faithful to (both curves are the same line).
        if math.isfinite(deletion[i] - insertion[i]) and offsets[i + 1] - offsets[i] > 1:
            wanted.append((stats.unfaithful, GALLERY, deletion[i] - insertion[i]))
        # The sample favours each file's first drawings (cheap to re-read from a file of
        # millions), spread over the files by a hash of the drawing (not by shard order).
        sample_key = (-int(indices[i]), _stable_hash(sources[i], int(indices[i])))
        wanted.append((stats.sample, LENGTH_SAMPLE, sample_key))
        wanted = [w for w in wanted if _enters(w[0], w[1], w[2], tiebreak)]
        if not wanted:
            continue
        row = dict(source=sources[i], index=int(indices[i]), word=words[i],
                   prediction=predictions[i], target=targets[i], p_pred=p_pred[i],
                   deletion_auc=deletion[i], insertion_auc=insertion[i],
                   attributions=values[offsets[i]:offsets[i + 1]].copy())
        for heap, size, key in wanted:
            _keep(heap, size, key, tiebreak, row)


def _enters(heap: list, size: int, key: Any, tiebreak: tuple) -> bool:
    return len(heap) < size or (key, tiebreak) > heap[0][:2]


def _floats(column: pa.Array) -> np.ndarray:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def _bin(value: float) -> int:
    return int(min(max(value, 0.0), 1.0 - 1e-9) * AUC_BINS)


def normalised(values: np.ndarray) -> np.ndarray:
    """A drawing's attributions as shares of its total evidence (sum of |values| = 1): drawings
    whose scores differ by orders of magnitude then weigh the same in a mean."""
    total = np.abs(values).sum()
    return values / total if total > 0 else np.zeros_like(values)


def _fold_positions(stats: Stats, values: np.ndarray, offsets: np.ndarray,
                    explained: np.ndarray) -> None:
    """Mean share of the evidence by stroke position, and how often stroke k is the top one."""
    counts = np.diff(offsets)
    keep = explained & (counts > 0)
    if not keep.any():
        return
    row_of_value = np.repeat(np.arange(len(counts)), counts)
    position = np.arange(len(values)) - offsets[:-1][row_of_value]
    total = np.zeros(len(counts))
    np.add.at(total, row_of_value, np.abs(values))
    denominator = np.where(total > 0, total, 1.0)[row_of_value]
    share = np.where(np.isfinite(values), values / denominator, 0.0)
    bucket = np.minimum(position, POSITIONS - 1)
    mask = keep[row_of_value]
    np.add.at(stats.position_sum, bucket[mask], share[mask])
    np.add.at(stats.position_n, bucket[mask], 1)
    for i in np.flatnonzero(keep):
        chunk = values[offsets[i]:offsets[i + 1]]
        if np.isfinite(chunk).all() and np.abs(chunk).sum() > 0:
            stats.top_stroke[min(int(np.argmax(chunk)), POSITIONS - 1)] += 1


def sorted_rows(heap: list) -> list[dict]:
    """A gallery's rows, largest key first."""
    return [row for _key, _tie, row in sorted(heap, key=lambda item: item[:2], reverse=True)]
