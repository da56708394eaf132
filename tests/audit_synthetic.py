"""A synthetic audit directory (results.parquet + summary.json) for the report and studio tests.

The drawings are real files (written here into the test's folder), so that thumbnails and the
studio's "open this row" have something to read; the results are made up with the audit's schema.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sketchstudio.sketch import Sketch
from sketchstudio.sketch.io import save_sketches

CLASSES = ("apple", "cat", "house", "fish")
SCHEMA = pa.schema([
    ("source", pa.string()), ("index", pa.int64()), ("key_id", pa.string()),
    ("word", pa.string()), ("prediction", pa.string()), ("p_pred", pa.float64()),
    ("target", pa.string()), ("correct", pa.bool_()), ("strokes", pa.int64()),
    ("points", pa.int64()), ("attributions", pa.list_(pa.float64())),
    ("deletion_auc", pa.float64()), ("insertion_auc", pa.float64()),
    ("completeness_error", pa.float64()), ("elapsed_ms", pa.float64()), ("error", pa.string()),
])


def _drawing(rng: np.random.Generator, word: str, n_strokes: int) -> Sketch:
    strokes = []
    for _ in range(n_strokes):
        start = rng.uniform(20, 230, size=2)
        steps = rng.normal(0, 12, size=(int(rng.integers(2, 9)), 2)).cumsum(axis=0)
        strokes.append(np.clip(np.vstack([start, start + steps]), 0, 255))
    return Sketch.from_arrays(strokes, word=word, key_id=str(rng.integers(10**15, 10**16)))


def make_audit(folder: Path, per_class: int = 6, shards: int = 2, errors: int = 1,
               seed: int = 0) -> Path:
    """Write drawings (one .ndjson per class) and an audit of them into `folder`; return
    the audit directory. Every class has right and wrong predictions; `errors` rows failed."""
    rng = np.random.default_rng(seed)
    data, out = folder / "data", folder / "audit"
    data.mkdir(parents=True, exist_ok=True)
    (out / "results.parquet").mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for c, word in enumerate(CLASSES):
        sketches = [_drawing(rng, word, int(rng.integers(1, 9))) for _ in range(per_class)]
        source = data / f"{word}.ndjson"
        save_sketches(source, sketches)
        for index, sketch in enumerate(sketches):
            wrong = index % 3 == 1
            prediction = CLASSES[(c + 1) % len(CLASSES)] if wrong else word
            n = len(sketch)
            attributions = rng.normal(0.2, 0.5, size=n) * np.linspace(1.5, 0.5, n)
            deletion = float(rng.uniform(0.05, 0.6))
            rows.append(dict(
                source=str(source), index=index, key_id=sketch.metadata["key_id"], word=word,
                prediction=prediction, p_pred=float(rng.uniform(0.3, 0.99)), target=prediction,
                correct=not wrong, strokes=n, points=sketch.num_points,
                attributions=attributions.tolist(), deletion_auc=deletion,
                insertion_auc=float(min(1.0, deletion + rng.uniform(-0.2, 0.5))),
                completeness_error=float(rng.uniform(0, 0.05)),
                elapsed_ms=float(rng.uniform(5, 40)), error=None))
    for k in range(errors):
        rows.append(dict(source=str(data / "broken.ndjson"), index=k, key_id=None, word=None,
                         prediction="", p_pred=float("nan"), target="", correct=None, strokes=0,
                         points=0, attributions=[], deletion_auc=float("nan"),
                         insertion_auc=float("nan"), completeness_error=float("nan"),
                         elapsed_ms=0.0, error="line 1: not JSON <script>alert(1)</script>"))
    for s in range(shards):
        part = rows[s::shards]
        table = pa.Table.from_pylist(part, schema=SCHEMA)
        pq.write_table(table, out / "results.parquet" / f"part-{s:05d}.parquet")
    ok = [r for r in rows if r["error"] is None]
    summary = {
        "counts": {"drawings": len(rows), "explained": len(ok), "errors": len(rows) - len(ok)},
        "accuracy": {"overall": float(np.mean([r["correct"] for r in ok])), "per_class": {
            w: {"n": sum(r["word"] == w for r in ok),
                "accuracy": float(np.mean([r["correct"] for r in ok if r["word"] == w]))}
            for w in CLASSES}},
        "distributions": {name: _distribution([r[name] for r in ok]) for name in
                          ("deletion_auc", "insertion_auc", "completeness_error", "elapsed_ms")},
        "model": "synthetic <model>", "method": "live", "target": "predicted", "engine": "local",
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return out


def _distribution(values: list[float]) -> dict:
    a = np.asarray(values, dtype=np.float64)
    return {"count": int(len(a)), "mean": float(a.mean()), "median": float(np.median(a)),
            "p10": float(np.percentile(a, 10)), "p90": float(np.percentile(a, 90)),
            "min": float(a.min()), "max": float(a.max())}
