"""The audit's HTML report: every section, self-contained, escaped, and right about the figures."""
from __future__ import annotations

import json
import re

import pyarrow.parquet as pq
import pytest
from audit_synthetic import CLASSES, make_audit

from sketchstudio.audit.report import SECTIONS, write_report
from sketchstudio.audit.report_stats import collect


@pytest.fixture
def audit(tmp_path):
    return make_audit(tmp_path, per_class=6, shards=3, errors=2)


def test_report_has_every_section_and_fetches_nothing(audit):
    page = write_report(audit).read_text(encoding="utf-8")
    for key in SECTIONS:
        assert f"<section id='{key}'" in page, key
    # Every picture is embedded: no src/href/url() points anywhere but data: or an anchor.
    links = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]*)['"]|url\(([^)]*)\)""", page)
    targets = [a or b for a, b in links]
    assert targets, "the page links its sections and embeds its thumbnails"
    assert all(t.startswith(("data:", "#")) for t in targets), targets
    assert "http://" not in page and "https://" not in page and "@import" not in page
    # The galleries show real thumbnails (the drawings were re-read from their files).
    assert page.count("src='data:image/png;base64,") >= 2 * 4


def test_text_from_the_data_is_escaped(audit):
    page = write_report(audit).read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page      # the skipped drawings' reason
    assert "synthetic &lt;model&gt;" in page


def test_figures_match_the_results(audit):
    table = pq.read_table(audit / "results.parquet").to_pylist()
    ok = [r for r in table if r["error"] is None]
    stats = collect(audit)
    assert stats.rows == len(table) and stats.errors == 2
    assert stats.right == sum(r["correct"] for r in ok) and stats.scored == len(ok)
    for word in CLASSES:
        rows = [r for r in ok if r["word"] == word]
        figures = stats.classes[word]
        assert figures.n == len(rows) and figures.right == sum(r["correct"] for r in rows)
        assert figures.mean("deletion") == pytest.approx(
            sum(r["deletion_auc"] for r in rows) / len(rows))
    # The most confident mistake leads its gallery; the least faithful explanation leads its own.
    wrong = max((r for r in ok if not r["correct"]), key=lambda r: r["p_pred"])
    page = write_report(audit).read_text(encoding="utf-8")
    mistakes = page[page.index("<section id='mistakes'"):page.index("<section id='unfaithful'")]
    first = re.search(r"class='where'[^>]*>([^<]*)<", mistakes).group(1)
    assert first == f"{wrong['word']}.ndjson #{wrong['index']}"
    # (a drawing of one stroke has no order to get wrong, so it is never "least faithful")
    worst = max((r for r in ok if r["strokes"] > 1),
                key=lambda r: r["deletion_auc"] - r["insertion_auc"])
    unfaithful = page[page.index("<section id='unfaithful'"):page.index("<section id='errors'")]
    first = re.search(r"class='where'[^>]*>([^<]*)<", unfaithful).group(1)
    assert first == f"{worst['word']}.ndjson #{worst['index']}"


def test_position_means_are_shares_of_each_drawings_evidence(audit):
    table = [r for r in pq.read_table(audit / "results.parquet").to_pylist() if r["error"] is None]
    stats = collect(audit)
    first = [r["attributions"][0] / sum(abs(v) for v in r["attributions"]) for r in table]
    assert stats.position_n[0] == len(table)
    assert stats.position_sum[0] / stats.position_n[0] == pytest.approx(sum(first) / len(first))


def test_missing_drawing_files_leave_a_gap_not_a_failure(audit):
    for path in (audit.parent / "data").iterdir():
        path.unlink()
    page = write_report(audit).read_text(encoding="utf-8")
    assert "drawing not readable" in page and "data:image/png" not in page
    summary = json.loads((audit / "summary.json").read_text())
    assert f"Audit of {summary['counts']['drawings']:,} drawings" in page


def test_a_shard_cut_short_is_left_out(audit):
    rows = collect(audit).rows
    (audit / "results.parquet" / "part-zz-cut.parquet").write_bytes(b"PAR1 cut short")
    assert collect(audit).rows == rows
    assert "<section id='overview'" in write_report(audit).read_text(encoding="utf-8")


def test_an_audit_without_rows_still_has_every_section(tmp_path):
    (tmp_path / "results.parquet").mkdir()
    page = write_report(tmp_path).read_text(encoding="utf-8")
    for key in SECTIONS:
        assert f"<section id='{key}'" in page, key
    assert "Audit of 0 drawings" in page


def test_one_bad_line_costs_only_its_own_thumbnail(audit):
    from sketchstudio.audit.report import read_drawings

    source = audit.parent / "data" / "apple.ndjson"
    lines = source.read_text().splitlines()
    lines[2] = "{not json"
    source.write_text("\n".join(lines) + "\n")
    found = read_drawings({(str(source), i) for i in range(len(lines))})
    assert sorted(i for _, i in found) == [i for i in range(len(lines)) if i != 2]
