"""The Ray engine gives the local engine's rows: a few hundred real drawings (and a bad one) on a
local Ray instance limited to 2 CPUs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sketchstudio.audit import read_results, run_audit

ray = pytest.importorskip("ray", reason="Ray is the optional extra `scale` (in `dev` too)")

DRAWINGS = 300
TOLERANCE = 1e-5


def _corpus(shared_data, tmp_path: Path) -> list[Path]:
    bad = tmp_path / "bad.ndjson"
    good = {"word": "apple", "key_id": "7", "drawing": [[[10, 60, 110], [10, 90, 10]]]}
    bad.write_text(json.dumps(good) + "\n" + '{"word": "apple", "drawing": [[1, 2, 3]]}\n')
    return [bad, shared_data("quickdraw", "simplified")]


@pytest.mark.slow
def test_ray_engine_equals_the_local_engine(shared_data, tmp_path, default_model):
    data = _corpus(shared_data, tmp_path)
    local = run_audit(data, "default", tmp_path / "local", limit=DRAWINGS, workers=1,
                      report=False, device="cpu")
    on_ray = run_audit(data, "default", tmp_path / "ray", limit=DRAWINGS, engine="ray",
                       workers=2, batch_size=16, report=False)
    assert not ray.is_initialized()   # the local instance it started is stopped again
    shards = sorted(p.name for p in (tmp_path / "ray" / "results.parquet").iterdir())
    assert shards and all(n.startswith("part-ray-") and n.endswith(".parquet") for n in shards)

    a, b = read_results(tmp_path / "local"), read_results(tmp_path / "ray")
    assert a.num_rows == b.num_rows == DRAWINGS and a.schema == b.schema
    assert b.column("error").null_count == DRAWINGS - 1
    for ra, rb in zip(a.to_pylist(), b.to_pylist(), strict=True):
        for key in ("source", "index", "key_id", "word", "prediction", "target", "correct",
                    "strokes", "points", "error"):
            assert ra[key] == rb[key], (ra["source"], ra["index"], key)
        if ra["error"] is None:
            assert rb["attributions"] == pytest.approx(ra["attributions"], abs=TOLERANCE)
            for key in ("p_pred", "deletion_auc", "insertion_auc", "completeness_error"):
                assert rb[key] == pytest.approx(ra[key], abs=TOLERANCE), key
    assert on_ray["counts"] == local["counts"] and on_ray["engine"] == "ray"
    assert on_ray["per_class"] == local["per_class"]
