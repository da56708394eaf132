"""Every trainer follows the one long-work protocol (sketchstudio/progress.py): progress through a
`TaskState`, ending at 1.0, and a cancel honoured mid-run with nothing written."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sketchstudio.models.card import load_card
from sketchstudio.progress import Cancelled, TaskState

pytestmark = pytest.mark.slow  # trains networks


@pytest.fixture(scope="module")
def two_categories(shared_data, tmp_path_factory) -> Path:
    """A data folder of two real categories (links to the shared files, never copies)."""
    source = shared_data("quickdraw", "simplified")
    folder = tmp_path_factory.mktemp("quickdraw")
    for name in ("apple", "house"):
        (folder / f"{name}.ndjson").symlink_to(source / f"{name}.ndjson")
    return folder


def _cancel_past(fraction: float) -> tuple[TaskState, list[float]]:
    """A state that records its progress and cancels itself once the work passes `fraction`."""
    seen: list[float] = []

    def progress(value: float) -> None:
        seen.append(value)
        if value > fraction:
            state.cancel()

    state = TaskState(progress=progress)
    return state, seen


def _nothing_written(out: Path) -> bool:
    return not out.exists() or not any(out.iterdir())


def _completion(data: Path, out: Path) -> Callable[[TaskState], object]:
    from sketchstudio.training.completion import CompletionConfig, train_completion

    config = CompletionConfig(data=data, out=out, epochs=2, variants=1, size=16,
                              limit_per_category=4, channels=(4, 8, 8, 8), batch_size=2)
    return lambda state: train_completion(config, state=state)


def _embedding(data: Path, out: Path) -> Callable[[TaskState], object]:
    from sketchstudio.models import builtin_models_dir
    from sketchstudio.training.embed import derive_embedding

    source = builtin_models_dir() / "default"
    if not (source / "card.toml").is_file():
        pytest.skip("the built-in default classifier is not installed")
    return lambda state: derive_embedding(source, out, data=data, state=state)


TRAINERS = {"completion": (_completion, "generate"), "embed": (_embedding, "embed")}


@pytest.mark.parametrize("name", TRAINERS)
def test_trainer_reports_progress_to_its_state(name, two_categories, tmp_path):
    make, task = TRAINERS[name]
    seen: list[float] = []
    result = make(two_categories, tmp_path / "out")(TaskState(progress=seen.append))
    assert seen and seen == sorted(seen) and seen[-1] == 1.0
    assert any(0.0 < f < 1.0 for f in seen)          # reported along the way, not only at the end
    assert load_card(result.card_path).task == task


@pytest.mark.parametrize("name", TRAINERS)
def test_trainer_cancelled_midway_writes_nothing(name, two_categories, tmp_path):
    make, _ = TRAINERS[name]
    out = tmp_path / "out"
    state, seen = _cancel_past(0.3)
    with pytest.raises(Cancelled):
        make(two_categories, out)(state)
    assert seen[-1] < 1.0                             # stopped before the end
    assert _nothing_written(out)


@pytest.mark.parametrize("name", TRAINERS)
def test_trainer_cancelled_before_it_starts_writes_nothing(name, two_categories, tmp_path):
    make, _ = TRAINERS[name]
    out = tmp_path / "out"
    state = TaskState()
    state.cancel()
    with pytest.raises(Cancelled):
        make(two_categories, out)(state)
    assert _nothing_written(out)


@pytest.mark.parametrize("what", ["completion", "embed"])
def test_train_cli_writes_a_card_and_prints_its_measure(what, two_categories, tmp_path,
                                                        run_cli):
    out = tmp_path / "cli"
    args = {"completion": ["--epochs", "1", "--limit", "2"], "embed": []}[what]
    code, printed, _ = run_cli("train", what, "--data", str(two_categories), "--out", str(out),
                               "--quiet", *args)
    assert code == 0 and (out / "card.toml").is_file() and (out / "model.pt").is_file()
    expected = {"completion": "held-out pixel IoU", "embed": "-d embedding model"}[what]
    assert expected in printed and str(out / "card.toml") in printed
