"""`DIR/summary.json`: the audit in numbers (counts, accuracy, faithfulness distributions).

Accuracy is judged only where it can be: a drawing whose word is one of the model's classes
(`correct` is not null). Distributions are over the drawings that were explained (no error).
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .results import SUMMARY_FILE, iter_batches, read_settings

DISTRIBUTIONS = ("deletion_auc", "insertion_auc", "completeness_error", "elapsed_ms")


# Percentiles come from at most this many values per figure: exact up to that many explained
# drawings, and from a uniform (seeded) sample beyond it, so memory stays flat at any corpus size.
SAMPLE_LIMIT = 1_000_000
SUMMARY_COLUMNS = ("word", "correct", "error") + DISTRIBUTIONS


def distribution(values: np.ndarray) -> dict[str, float | int | None]:
    """count, mean, median, p10, p90, min, max of the finite values (None when there are none)."""
    return _Distribution(values.size or 1).add(values).result()


class _Distribution:
    """Exact count, mean, min and max; percentiles from a bounded uniform sample."""

    def __init__(self, limit: int = SAMPLE_LIMIT, seed: int = 0) -> None:
        self.count, self.total = 0, 0.0
        self.low, self.high = math.inf, -math.inf
        self.limit = limit
        self.sample = np.empty(0, dtype=np.float64)
        self.keys = np.empty(0, dtype=np.float64)
        self.rng = np.random.default_rng(seed)

    def add(self, values: np.ndarray) -> _Distribution:
        values = values[np.isfinite(values)]
        if not values.size:
            return self
        self.count += int(values.size)
        self.total += float(values.sum())
        self.low = min(self.low, float(values.min()))
        self.high = max(self.high, float(values.max()))
        # Reservoir by random keys: keep the `limit` values with the smallest keys seen so far.
        keys = self.rng.random(values.size)
        self.sample = np.concatenate([self.sample, values])
        self.keys = np.concatenate([self.keys, keys])
        if self.sample.size > self.limit:
            keep = np.argpartition(self.keys, self.limit)[: self.limit]
            self.sample, self.keys = self.sample[keep], self.keys[keep]
        return self

    def result(self) -> dict[str, float | int | None]:
        if not self.count:
            return {"count": 0, "mean": None, "median": None, "p10": None, "p90": None,
                    "min": None, "max": None}
        p10, median, p90 = np.percentile(self.sample, [10, 50, 90])
        return {"count": self.count, "mean": self.total / self.count, "median": float(median),
                "p10": float(p10), "p90": float(p90), "min": self.low, "max": self.high}


def _floats(batch: pa.RecordBatch | pa.Table, column: str) -> np.ndarray:
    return np.array(batch.column(column).to_pylist(), dtype=np.float64)   # None -> nan


def summarise(batches: Iterable[pa.RecordBatch | pa.Table],
              settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The summary of an audit read a batch at a time (a whole table is one batch)."""
    settings = settings or {}
    drawings = explained = errors = 0
    per_class: dict[str, dict[str, int]] = {}
    figures = {name: _Distribution() for name in DISTRIBUTIONS}
    for batch in batches:
        drawings += batch.num_rows
        ok = batch.filter(pc.is_null(batch.column("error")))
        errors += batch.num_rows - ok.num_rows
        explained += ok.num_rows
        for word, right in zip(ok.column("word").to_pylist(), ok.column("correct").to_pylist(),
                               strict=True):
            if right is None:
                continue
            entry = per_class.setdefault(word, {"n": 0, "correct": 0})
            entry["n"] += 1
            entry["correct"] += int(right)
        for name in DISTRIBUTIONS:
            figures[name].add(_floats(ok, name))
    judged = sum(e["n"] for e in per_class.values())
    right_total = sum(e["correct"] for e in per_class.values())
    return {
        "model": settings.get("model"),
        "method": settings.get("method"),
        "target": settings.get("target"),
        "engine": settings.get("engine"),
        "counts": {"drawings": drawings, "explained": explained, "errors": errors,
                   "judged": judged},
        # judged: drawings whose word is one of the model's classes (the rest have no right answer)
        "accuracy": right_total / judged if judged else None,
        "per_class": {word: {"n": e["n"], "accuracy": e["correct"] / e["n"]}
                      for word, e in sorted(per_class.items())},
        "distributions": {name: figures[name].result() for name in DISTRIBUTIONS},
    }


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def write_summary(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Summarise DIR/results.parquet into DIR/summary.json (atomically) and return it."""
    from ..fsutil import write_atomically

    out_dir = Path(out_dir)
    summary = _json_safe(summarise(iter_batches(out_dir, SUMMARY_COLUMNS),
                                   read_settings(out_dir)))
    text = json.dumps(summary, indent=2, allow_nan=False).encode("utf-8")
    write_atomically(out_dir / SUMMARY_FILE, lambda f: f.write(text))
    return summary
