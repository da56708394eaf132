"""Corpus audit, local engine: outputs, error rows, interrupted + resumed = uninterrupted, the CLI,
and no Ray on the local path."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sketchstudio.audit import read_results, run_audit
from sketchstudio.audit.compute import AuditWorker
from sketchstudio.audit.engine import AuditProgress
from sketchstudio.audit.inputs import iter_records, plan_shards
from sketchstudio.audit.results import COLUMNS, SCHEMA
from sketchstudio.errors import UserError
from sketchstudio.progress import Cancelled, TaskState

# 100 real drawings: three of the default classifier's classes and one it does not know.
FILES = ("airplane.ndjson", "apple.ndjson", "banana.ndjson", "cat.ndjson")
PROJECT = Path(__file__).resolve().parents[1]

# Audits of 100 real drawings with worker processes: minutes on a busy 2-core machine.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(shared_data) -> list[Path]:
    folder = shared_data("quickdraw", "simplified")
    return [folder / name for name in FILES]


@pytest.fixture(scope="module")
def reference(corpus, default_model, tmp_path_factory):
    """One uninterrupted audit, in this process (workers=1)."""
    out = tmp_path_factory.mktemp("audit-ref")
    summary = run_audit(corpus, "default", out, workers=1, batch_size=16, report=False,
                        device="cpu")
    return out, summary, read_results(out)


def _comparable(table) -> list[dict]:
    rows = table.drop_columns(["elapsed_ms"]).to_pylist()
    return rows


def _assert_same_rows(a, b, tol: float = 1e-5) -> None:
    rows_a, rows_b = _comparable(a), _comparable(b)
    keys = [(r["source"], r["index"]) for r in rows_a]
    assert keys == [(r["source"], r["index"]) for r in rows_b]
    for ra, rb in zip(rows_a, rows_b, strict=True):
        for key in ("key_id", "word", "prediction", "target", "correct", "strokes", "points",
                    "error"):
            assert ra[key] == rb[key], (ra["source"], ra["index"], key)
        for key in ("p_pred", "deletion_auc", "insertion_auc", "completeness_error"):
            assert ra[key] == pytest.approx(rb[key], abs=tol), (ra["index"], key)
        assert ra["attributions"] == pytest.approx(rb["attributions"], abs=tol)


def test_audit_writes_every_drawing_with_the_contract_columns(reference, corpus):
    out, summary, table = reference
    assert table.schema.names == list(COLUMNS)
    assert table.schema == SCHEMA
    # The folder is readable as one table by plain pyarrow, too.
    assert pq.read_table(out / "results.parquet").num_rows == 100
    assert table.num_rows == 100
    assert table.column("error").null_count == 100
    rows = table.to_pylist()
    assert [(r["source"], r["index"]) for r in rows] == [
        (str(f), i) for f in sorted(corpus) for i in range(25)]
    for row in rows:
        assert row["strokes"] == len(row["attributions"]) > 0
        assert 0.0 <= row["deletion_auc"] <= 1.0 and 0.0 <= row["insertion_auc"] <= 1.0
        assert 0.0 < row["p_pred"] <= 1.0 and row["target"] == row["prediction"]
        assert row["key_id"] and row["elapsed_ms"] > 0
        # correct is judged only where the word is one of the model's classes
        assert (row["correct"] is None) == (row["word"] == "cat")
        if row["correct"] is not None:
            assert row["correct"] == (row["prediction"] == row["word"])


def test_audit_row_matches_explaining_that_drawing_alone(reference, default_model, corpus):
    from sketchstudio.explain import explain
    from sketchstudio.explain.faithfulness import curves, order_by
    from sketchstudio.sketch.io import load_sketch

    _, _, table = reference
    row = table.to_pylist()[30]   # apple.ndjson, drawing 5
    sketch = load_sketch(row["source"], index=row["index"])
    result = explain(sketch, default_model, method="live")
    assert row["attributions"] == pytest.approx(result.strokes.tolist(), abs=1e-5)
    faith = curves(sketch, default_model, result.target_index, order_by(result.strokes))
    assert row["deletion_auc"] == pytest.approx(faith.deletion_auc, abs=1e-6)
    assert row["completeness_error"] == pytest.approx(result.completeness_error, abs=1e-6)


def test_summary_counts_accuracy_and_distributions(reference):
    out, summary, table = reference
    assert json.loads((out / "summary.json").read_text()) == summary
    assert summary["counts"] == {"drawings": 100, "explained": 100, "errors": 0, "judged": 75}
    assert set(summary["per_class"]) == {"airplane", "apple", "banana"}
    rows = table.to_pylist()
    for word, entry in summary["per_class"].items():
        mine = [r["correct"] for r in rows if r["word"] == word]
        assert entry == {"n": 25, "accuracy": pytest.approx(sum(mine) / 25)}
    judged = [r["correct"] for r in rows if r["correct"] is not None]
    assert summary["accuracy"] == pytest.approx(sum(judged) / len(judged))
    deletion = sorted(r["deletion_auc"] for r in rows)
    d = summary["distributions"]["deletion_auc"]
    assert d["count"] == 100 and d["min"] == deletion[0] and d["max"] == deletion[-1]
    assert d["median"] == pytest.approx((deletion[49] + deletion[50]) / 2)
    assert d["p10"] <= d["median"] <= d["p90"]
    assert (summary["model"], summary["method"], summary["target"], summary["engine"]) == (
        "default", "live", "predicted", "local")


def test_interrupted_then_resumed_audit_equals_the_uninterrupted_one(reference, corpus, tmp_path):
    _, _, expected = reference
    out = tmp_path / "audit"
    seen: list[int] = []

    def partial(progress: AuditProgress) -> None:
        seen.append(progress.done)
        if progress.done >= 30:
            state.cancel()

    state = TaskState(partial=partial)
    with pytest.raises(Cancelled):
        run_audit(corpus, "default", out, workers=2, batch_size=10, report=False, state=state,
                  device="cpu")
    partial_rows = read_results(out)
    assert 30 <= partial_rows.num_rows < 100   # what finished before the cancel is on disk
    assert json.loads((out / "summary.json").read_text())["counts"]["drawings"] == \
        partial_rows.num_rows

    with pytest.raises(UserError, match="--resume"):   # never silently appended to
        run_audit(corpus, "default", out, workers=1, report=False)
    resumed: list[AuditProgress] = []
    state = TaskState(partial=lambda p: resumed.append(p.resumed))
    summary = run_audit(corpus, "default", out, workers=2, batch_size=10, report=False,
                        resume=True, state=state, device="cpu")
    assert resumed[0] == partial_rows.num_rows
    assert summary["counts"]["drawings"] == 100
    _assert_same_rows(read_results(out), expected)


def test_resume_refuses_other_settings(reference, corpus):
    out, _, _ = reference
    with pytest.raises(UserError, match="method 'live', not 'sla-grad'"):
        run_audit(corpus, "default", out, method="sla-grad", resume=True, report=False)


def _bad_corpus(folder: Path) -> Path:
    good = json.dumps({"word": "apple", "key_id": "1", "drawing": [[[10, 60, 110], [10, 90, 10]],
                                                                   [[50, 60], [0, 40]]]})
    no_word = json.dumps({"drawing": [[[0, 100], [0, 100]]]})
    folder.mkdir()
    (folder / "mixed.ndjson").write_text(
        good + "\n" + '{"word": "apple", "drawing": "not strokes"}\n' + no_word + "\n")
    (folder / "garbage.npz").write_bytes(b"this is not a zip archive")
    return folder


def test_a_bad_drawing_is_an_error_row_and_the_audit_goes_on(tmp_path, default_model):
    data = _bad_corpus(tmp_path / "data")
    summary = run_audit(data, "default", tmp_path / "out", workers=1, report=False,
                        device="cpu")
    rows = read_results(tmp_path / "out").to_pylist()
    assert [(Path(r["source"]).name, r["index"]) for r in rows] == [
        ("garbage.npz", 0), ("mixed.ndjson", 0), ("mixed.ndjson", 1), ("mixed.ndjson", 2)]
    garbage, good, bad, no_word = rows
    assert "garbage.npz" in garbage["error"] and "\n" not in garbage["error"]
    assert bad["error"].endswith('mixed.ndjson:2: "drawing" should be a list of strokes, got '
                                 "a string") and bad["word"] == "apple"
    assert bad["attributions"] is None and bad["prediction"] is None
    assert good["error"] is None and good["word"] == "apple" and len(good["attributions"]) == 2
    assert good["correct"] == (good["prediction"] == "apple")
    assert no_word["error"] is None and no_word["word"] is None and no_word["correct"] is None
    assert summary["counts"] == {"drawings": 4, "explained": 2, "errors": 2,
                                 "judged": 1}


def test_target_true_explains_the_word_or_says_why_not(tmp_path, default_model):
    data = _bad_corpus(tmp_path / "data")
    records = list(iter_records([data / "mixed.ndjson"]))
    rows = AuditWorker("default", target="true", device="cpu")(records)
    assert rows[0]["target"] == "apple" and rows[0]["error"] is None
    assert "has no word" in rows[2]["error"]
    cat = {**records[0], "word": "cat"}
    assert "'cat' is not one of the model's classes" in AuditWorker(
        "default", target="true", device="cpu")([cat])[0]["error"]


def test_inputs_limit_and_shards_cover_the_same_records(corpus):
    records = list(iter_records(corpus, limit=60))
    assert len(records) == 60 and records[-1]["index"] == 9
    shards = plan_shards(corpus, 60, shard_size=20)
    assert [(Path(s["source"]).name, s["start"], s["stop"]) for s in shards] == [
        ("airplane.ndjson", 0, 20), ("airplane.ndjson", 20, 25), ("apple.ndjson", 0, 20),
        ("apple.ndjson", 20, 25), ("banana.ndjson", 0, 10)]


def test_bad_arguments_are_one_clear_error(tmp_path, corpus):
    with pytest.raises(UserError, match="no such file or folder"):
        run_audit(tmp_path / "missing", "default", tmp_path / "o")
    with pytest.raises(UserError, match="unknown method 'magic'"):
        run_audit(corpus, "default", tmp_path / "o", method="magic")
    with pytest.raises(UserError, match="needs --engine ray"):
        run_audit(corpus, "default", tmp_path / "o", address="ray://x:10001")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UserError, match="unknown sketch file type"):
        run_audit(tmp_path / "notes.txt", "default", tmp_path / "o")


def test_cli_audit_writes_the_outputs_and_prints_json(corpus, tmp_path, capsys, default_model):
    from sketchstudio.cli import main

    out = tmp_path / "cli-out"
    code = main(["--device", "cpu", "audit", str(corpus[0]), "--model", "default", "--out",
                 str(out), "--limit", "6", "--workers", "1", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["counts"]["drawings"] == 6 and summary["engine"] == "local"
    assert (out / "summary.json").is_file() and read_results(out).num_rows == 6
    assert (out / "report.html").is_file()
    code = main(["audit", str(corpus[0]), "--out", str(out), "--limit", "6"])
    assert code == 2 and "--resume" in capsys.readouterr().err


def test_local_engine_cli_and_studio_never_import_ray(tmp_path, corpus):
    script = f"""
import sys
from sketchstudio.cli import build_parser, _available_commands
build_parser(_available_commands())
import sketchstudio.audit.engine, sketchstudio.audit.local_engine, sketchstudio.commands.audit
import sketchstudio.studio.main_window
from sketchstudio.audit import run_audit
run_audit({str(corpus[0])!r}, "default", {str(tmp_path / "o")!r}, limit=2, workers=1,
          report=False, device="cpu")
print(sorted(m for m in sys.modules if m == "ray" or m.startswith("ray.")))
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env=env, cwd=PROJECT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_progress_reaches_the_end(corpus, tmp_path, default_model):
    fractions: list[float] = []
    run_audit(corpus[0], "default", tmp_path / "o", limit=5, workers=1, report=False,
              state=TaskState(progress=fractions.append), device="cpu")
    assert fractions[-1] == 1.0 and all(math.isfinite(f) for f in fractions)
    assert fractions == sorted(fractions)
