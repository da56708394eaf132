"""File ▸ Open audit…: the table sorts and filters, and a row opens its drawing, explained."""
from __future__ import annotations

import math

import numpy as np
import pyarrow.parquet as pq
import pytest
from audit_synthetic import make_audit
from PySide6.QtCore import Qt

from sketchstudio.sketch.io import load_sketch
from sketchstudio.studio.audit_view import COLUMNS, AuditData, AuditDialog

WAIT_MS = 60000     # a ceiling, not a pace: the waits end on the window's signals


@pytest.fixture
def audit(tmp_path):
    return make_audit(tmp_path, per_class=6, shards=2, errors=2)


@pytest.fixture
def rows(audit):
    return pq.read_table(audit / "results.parquet").to_pylist()


@pytest.fixture
def dialog(audit, qtbot):
    dialog = AuditDialog(AuditData(audit))
    qtbot.addWidget(dialog)
    return dialog


def column(key: str) -> int:
    return next(i for i, c in enumerate(COLUMNS) if c[1] == key)


def shown(dialog, key: str) -> list:
    return [dialog.audit.columns[key][i] for i in dialog.shown_rows()]


def test_every_row_is_listed_and_sorts_by_value(dialog, rows):
    assert dialog.proxy.rowCount() == len(rows)
    dialog.table.sortByColumn(column("p_pred"), Qt.SortOrder.DescendingOrder)
    values = [v for v in shown(dialog, "p_pred") if math.isfinite(v)]
    assert values == sorted((r["p_pred"] for r in rows if r["error"] is None), reverse=True)
    dialog.table.sortByColumn(column("faithfulness"), Qt.SortOrder.AscendingOrder)
    values = shown(dialog, "faithfulness")
    skipped = sum(r["error"] is not None for r in rows)
    assert all(math.isnan(v) for v in values[:skipped])      # rows without figures first
    assert values[skipped:] == sorted(r["insertion_auc"] - r["deletion_auc"] for r in rows
                                      if r["error"] is None)


def test_filters_by_class_correctness_and_faithfulness(dialog, rows):
    dialog.set_filters(word="cat")
    assert set(shown(dialog, "word")) == {"cat"}
    assert dialog.proxy.rowCount() == sum(r["word"] == "cat" for r in rows)

    dialog.set_filters(correctness="Wrong")
    wrong = [r for r in rows if r["correct"] is False]
    assert dialog.proxy.rowCount() == len(wrong) > 0
    assert set(shown(dialog, "correct")) == {0}

    dialog.set_filters(correctness="Skipped")
    assert dialog.proxy.rowCount() == sum(r["error"] is not None for r in rows) == 2

    dialog.set_filters(word="house", correctness="Right", low=0.1, high=0.6)
    expected = [r for r in rows if r["word"] == "house" and r["correct"]
                and 0.1 <= r["insertion_auc"] - r["deletion_auc"] <= 0.6]
    got = shown(dialog, "faithfulness")
    assert len(got) == len(expected) and all(0.1 <= v <= 0.6 for v in got)
    assert dialog.count.text() == f"{len(expected)} of {len(rows)} shown"

    # Sorted, then filtered: the filter sees every row where it now stands.
    dialog.table.sortByColumn(column("p_pred"), Qt.SortOrder.DescendingOrder)
    dialog.set_filters(correctness="Wrong")
    assert shown(dialog, "p_pred") == sorted((r["p_pred"] for r in wrong), reverse=True)
    assert [dialog.row_at(k).word for k in range(len(wrong))] == shown(dialog, "word")

    # The controls drive the same filter.
    dialog.set_filters()
    dialog.correctness.setCurrentIndex(dialog.correctness.findData("Right"))
    assert dialog.proxy.rowCount() == sum(r["correct"] is True for r in rows)


def test_a_row_opens_its_drawing_with_the_audits_explanation(make_window, tiny_card, audit,
                                                             qtbot):
    window = make_window()
    with qtbot.waitSignal(window.modelReady, timeout=WAIT_MS):
        window.start(model=str(tiny_card))
    dialog = window.open_audit(audit)
    assert isinstance(dialog, AuditDialog) and dialog.isVisible()
    qtbot.addWidget(dialog)     # closed after the test: a table left open covers later windows
    dialog.set_filters(word="apple", correctness="Right")
    dialog.table.sortByColumn(column("index"), Qt.SortOrder.DescendingOrder)
    row = dialog.row_at(0)
    assert row.index == max(i for i, w, c in zip(dialog.audit.columns["index"],
                                                 dialog.audit.columns["word"],
                                                 dialog.audit.columns["correct"], strict=True)
                            if w == "apple" and c == 1)
    assert row.target == "apple"
    with qtbot.waitSignal(window.fileLoaded, timeout=WAIT_MS) as loaded:
        dialog.open_row(0)
    assert loaded.args == [True]
    expected = load_sketch(row.source, row.index)
    assert window.document.sketch == expected
    assert len(window.document.sketch) == len(row.attributions)
    qtbot.waitUntil(lambda: window.last_result is not None
                    and window.last_result[0] is window.document.sketch
                    and window.last_result[1].target == "apple", timeout=WAIT_MS)
    assert window.state.target == "apple"
    assert np.isfinite(window.last_result[1].strokes).all()


def test_a_folder_that_is_no_audit_is_one_message(make_window, tmp_path, qtbot):
    window = make_window()
    with qtbot.waitSignal(window.errorShown, timeout=5000) as shown_error:
        assert window.open_audit(tmp_path / "nothing-here") is None
    assert "not an audit folder" in shown_error.args[0]
