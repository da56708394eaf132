"""An audit's results as columns for the studio's table (no Qt, no torch: pyarrow and numpy).

`AuditData(DIR)` reads `DIR/results.parquet` through `sketchstudio.audit.results` and keeps each
column as a numpy array or a list; the filters and the sort keys are computed over whole columns.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError

ALL = "All"
CORRECTNESS = ("All", "Right", "Wrong", "Not scored", "Skipped")


@dataclass(frozen=True)
class AuditRow:
    source: str
    index: int
    word: str | None
    prediction: str | None
    target: str | None
    attributions: tuple[float, ...]


# (header, column key, kind): kind says how a value is shown and sorted.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("File", "file", "text"), ("#", "index", "int"), ("Word", "word", "text"),
    ("Prediction", "prediction", "text"), ("p", "p_pred", "float2"),
    ("Correct", "correct", "correct"), ("Strokes", "strokes", "int"),
    ("Faithfulness", "faithfulness", "float3"), ("Deletion AUC", "deletion_auc", "float3"),
    ("Insertion AUC", "insertion_auc", "float3"),
    ("Compl. error", "completeness_error", "float3"), ("ms", "elapsed_ms", "float0"),
    ("Error", "error", "text"),
)


class AuditData:
    """The columns of one audit, as numpy arrays and lists (no Qt)."""

    def __init__(self, out_dir: str | Path) -> None:
        from ..audit.results import read_results

        self.out_dir = Path(out_dir)
        table = read_results(self.out_dir)          # UserError when it is no audit folder
        if table.num_rows == 0:
            raise UserError(f"{self.out_dir}: the audit has no results yet")
        self.summary = _read_summary(self.out_dir / "summary.json")
        self.n = table.num_rows
        column = table.column
        self.source: list[str] = column("source").to_pylist()
        self.columns: dict[str, Any] = {"file": [Path(s).name for s in self.source]}
        for key in ("word", "prediction", "target", "error"):
            self.columns[key] = column(key).to_pylist()
        for key in ("index", "strokes"):
            self.columns[key] = column(key).to_numpy(zero_copy_only=False)
        for key in ("p_pred", "deletion_auc", "insertion_auc", "completeness_error",
                    "elapsed_ms"):
            self.columns[key] = np.asarray(column(key).to_numpy(zero_copy_only=False),
                                           dtype=np.float64)
        # Nullable booleans: 1 right, 0 wrong, -1 not scored (the word is not a model class).
        self.columns["correct"] = np.array([-1 if c is None else int(c) for c in
                                            column("correct").to_pylist()], dtype=np.int8)
        self.columns["faithfulness"] = self.columns["insertion_auc"] - self.columns["deletion_auc"]
        self._attributions = column("attributions")
        self.skipped = np.array([e is not None for e in self.columns["error"]], dtype=bool)
        self.words = sorted({w for w in self.columns["word"] if w is not None})
        self._sort_keys: dict[str, np.ndarray] = {}

    def sort_key(self, key: str) -> np.ndarray:
        """A float per row that orders the column: numbers as they are (missing ones first),
        text by its rank in case-insensitive order. Computed once per column."""
        cached = self._sort_keys.get(key)
        if cached is None:
            values = self.columns[key]
            if isinstance(values, np.ndarray):
                cached = np.where(np.isfinite(values), values, -np.inf).astype(np.float64)
            else:
                text = np.array(["" if v is None else str(v).lower() for v in values])
                cached = np.unique(text, return_inverse=True)[1].astype(np.float64)
            self._sort_keys[key] = cached
        return cached

    def row(self, i: int) -> AuditRow:
        values = self._attributions[i].as_py() or []
        return AuditRow(self.source[i], int(self.columns["index"][i]), self.columns["word"][i],
                        self.columns["prediction"][i], self.columns["target"][i], tuple(values))

    def mask(self, word: str, correctness: str, low: float, high: float) -> np.ndarray:
        """Which rows pass the filters (vectorised over the whole table)."""
        keep = np.ones(self.n, dtype=bool)
        if word != ALL:
            keep &= np.array([w == word for w in self.columns["word"]], dtype=bool)
        correct = self.columns["correct"]
        if correctness == "Right":
            keep &= correct == 1
        elif correctness == "Wrong":
            keep &= correct == 0
        elif correctness == "Not scored":
            keep &= (correct == -1) & ~self.skipped
        elif correctness == "Skipped":
            keep &= self.skipped
        if low > -1.0 or high < 1.0:        # a narrowed range leaves out rows without figures
            faithfulness = self.columns["faithfulness"]
            with np.errstate(invalid="ignore"):
                keep &= (faithfulness >= low) & (faithfulness <= high)
        return keep


def _read_summary(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
