"""summary.json is computed a batch at a time: exact counts and moments, bounded memory."""
from __future__ import annotations

import numpy as np

from sketchstudio.audit import summary as audit_summary
from sketchstudio.audit.results import empty_row, iter_batches, write_shard


def _rows(start: int, count: int, rng: np.random.Generator) -> list[dict]:
    rows = []
    for index in range(start, start + count):
        if index % 17 == 0:
            rows.append(empty_row("a.ndjson", index, word="cat", error="no strokes"))
            continue
        word = "cat" if index % 2 else "dog"
        rows.append(empty_row(
            "a.ndjson", index, word=word, prediction="cat", p_pred=0.9, target="cat",
            correct=(word == "cat"), strokes=2, points=10, attributions=[0.5, -0.1],
            deletion_auc=float(rng.random()), insertion_auc=float(rng.random()),
            completeness_error=0.0, elapsed_ms=float(rng.integers(1, 100))))
    return rows


def test_summary_streams_shards_and_matches_the_whole_table_exactly(tmp_path):
    rng = np.random.default_rng(0)
    rows = _rows(0, 700, rng) + _rows(700, 500, rng)
    write_shard(tmp_path, rows[:700])
    write_shard(tmp_path, rows[700:])
    summary = audit_summary.write_summary(tmp_path)

    explained = [r for r in rows if r["error"] is None]
    assert summary["counts"] == {"drawings": 1200, "explained": len(explained),
                                 "errors": 1200 - len(explained), "judged": len(explained)}
    cats = [r for r in explained if r["word"] == "cat"]
    assert summary["per_class"]["cat"] == {"n": len(cats), "accuracy": 1.0}
    assert summary["per_class"]["dog"]["accuracy"] == 0.0
    auc = np.array([r["deletion_auc"] for r in explained])
    figure = summary["distributions"]["deletion_auc"]
    assert figure["count"] == len(auc)
    assert np.isclose(figure["mean"], auc.mean()) and np.isclose(figure["median"], np.median(auc))
    assert figure["min"] == auc.min() and figure["max"] == auc.max()


def test_percentiles_beyond_the_sample_limit_come_from_a_bounded_sample(monkeypatch):
    values = np.random.default_rng(1).normal(size=20_000)
    figure = audit_summary._Distribution(limit=2_000)
    for chunk in np.array_split(values, 9):
        figure.add(chunk)
    result = figure.result()
    assert figure.sample.size == 2_000                       # memory bounded by the limit
    assert result["count"] == 20_000 and np.isclose(result["mean"], values.mean())
    assert abs(result["median"] - np.median(values)) < 0.1   # a 2,000-value sample of N(0, 1)


def test_whole_corpus_passes_read_only_the_columns_they_need(tmp_path):
    write_shard(tmp_path, _rows(0, 50, np.random.default_rng(2)))
    batches = list(iter_batches(tmp_path, ("source", "index")))
    assert batches and all(b.schema.names == ["source", "index"] for b in batches)
    assert sum(b.num_rows for b in batches) == 50
