"""Model checks: a good model passes every check; each kind of bad model fails the right one."""
from __future__ import annotations

import pytest
from model_zoo import make_model

from sketchstudio.models import load_card, run_checks
from sketchstudio.models.checks import failed

ALL_CHECKS = ["card", "loads", "forward", "finite", "outputs", "deterministic", "batch",
              "gradient", "depends on input"]


def _by_name(results):
    return {r.name: r for r in results}


@pytest.mark.parametrize("fmt", ["torchscript", "export"])
def test_good_model_passes_everything(tmp_path, fmt):
    results = run_checks(make_model(tmp_path, fmt=fmt))
    assert [r.name for r in results] == ALL_CHECKS
    assert not failed(results), [r.line() for r in results]
    assert all(r.status == "ok" for r in results)


def test_accepts_a_card_object_or_a_folder(tmp_path):
    card = make_model(tmp_path)
    assert not failed(run_checks(load_card(card)))
    assert not failed(run_checks(tmp_path))


def _failure(tmp_path, **kwargs):
    results = run_checks(make_model(tmp_path, **kwargs))
    bad = failed(results)
    assert bad, [r.line() for r in results]
    for r in results:
        assert "\n" not in r.line()
    return bad[0], _by_name(results)


def test_model_that_raises(tmp_path):
    first, _ = _failure(tmp_path, behaviour="raises")
    assert first.name == "forward" and "this model always fails" in first.detail


def test_nan_output(tmp_path):
    first, _ = _failure(tmp_path, behaviour="nan")
    assert first.name == "finite" and "NaN" in first.detail


def test_labels_count_differs_from_outputs(tmp_path):
    first, _ = _failure(tmp_path, classes=3, labels=["apple", "book"])
    assert first.name == "outputs"
    assert "3 outputs" in first.detail and "2 labels" in first.detail


def test_wrong_channels_names_the_fix(tmp_path):
    first, _ = _failure(tmp_path, model_channels=3)
    assert first.name == "forward"
    assert "takes 3 input channel(s)" in first.detail and "channels = 1" in first.detail


def test_argmax_inside_is_not_differentiable(tmp_path):
    first, checks = _failure(tmp_path, behaviour="argmax")
    assert first.name == "gradient" and "argmax" in first.detail
    assert checks["forward"].ok and checks["finite"].ok and checks["outputs"].ok


def test_output_independent_of_input(tmp_path):
    _, checks = _failure(tmp_path, behaviour="constant")
    assert not checks["depends on input"].ok
    assert "ignores its input" in checks["depends on input"].detail
    assert not checks["gradient"].ok  # no dependence means no gradient either


def test_dropout_left_on(tmp_path):
    first, _ = _failure(tmp_path, behaviour="noisy")
    assert first.name == "deterministic"


def test_batch_of_one_only_is_a_warning(tmp_path):
    results = run_checks(make_model(tmp_path, fmt="export", dynamic_batch=False))
    batch = _by_name(results)["batch"]
    assert batch.ok and batch.warning and batch.status == "warn"
    assert not failed(results)


def test_unloadable_file_stops_after_loads(tmp_path):
    results = run_checks(make_model(tmp_path, fmt="pickle"))
    assert [r.status for r in results] == ["ok", "FAIL"]
    assert results[-1].name == "loads" and "pickle" in results[-1].detail


def test_bad_card_is_the_first_failed_line(tmp_path):
    (tmp_path / "card.toml").write_text("name = ", encoding="utf-8")
    results = run_checks(tmp_path)
    assert len(results) == 1 and results[0].name == "card" and not results[0].ok
    assert results[0].line().startswith("FAIL  card: ")


@pytest.mark.parametrize("task, behaviour, classes", [("embed", "ok", 16),
                                                      ("generate", "generator", None)])
def test_embed_and_generate_models_pass(tmp_path, task, behaviour, classes):
    results = run_checks(make_model(tmp_path, task=task, labels=None, behaviour=behaviour,
                                    classes=classes))
    assert not failed(results), [r.line() for r in results]
