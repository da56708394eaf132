"""DIR/report.html: one self-contained page that shows what an audit found.

Sections: overview, accuracy per class, confusion matrix, attribution by stroke position (drawing
order) and by stroke length, faithfulness per class, and galleries of heat-coloured thumbnails for
the most confident mistakes and the least faithful explanations, then the skipped drawings.
Pictures are inline SVG or PNG data URIs: the page makes no request to anywhere. Every text that
comes from the data is escaped.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from ..fsutil import write_atomically
from ..sketch import Sketch
from ..sketch.io import iter_sketches, load_sketch
from . import report_draw as draw
from .report_stats import POSITIONS, Stats, collect, normalised, sorted_rows

SECTIONS = {
    "overview": "Overview", "accuracy": "Accuracy per class", "confusion": "Confusion matrix",
    "stroke-order": "Attribution by stroke order", "stroke-length": "Attribution by stroke length",
    "faithfulness": "Faithfulness per class", "mistakes": "Most confident mistakes",
    "unfaithful": "Least faithful explanations", "errors": "Skipped drawings",
}
MAX_ROWS = 40               # classes shown in a chart before the middle is left out
MAX_MATRIX = 30             # classes in the confusion matrix
OTHER = "(other)"
HALF_MATRIX = 20            # up to this many columns, accuracy and matrix share a row
LENGTH_BINS = (0.0, 0.15, 0.3, 0.6, 1.0, 2.0, math.inf)     # stroke length / drawing size
LENGTH_LABELS = ("< 0.15", "0.15–0.3", "0.3–0.6", "0.6–1", "1–2", "≥ 2")


def write_report(out_dir: Path) -> Path:
    """Write out_dir/report.html from out_dir/results.parquet and summary.json; return its path."""
    out_dir = Path(out_dir)
    summary_path = out_dir / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    stats = collect(out_dir)
    page = render_page(stats, summary)
    path = out_dir / "report.html"
    write_atomically(path, lambda file: file.write(page.encode("utf-8")))
    return path


def read_drawings(wanted: set[tuple[str, int]]) -> dict[tuple[str, int], Sketch]:
    """The drawings named by (source, index). A file with many wanted drawings is read once up to
    the last of them; a few drawings deep in a large file are picked one by one (the readers
    parse only the line they return). A file that is gone or no longer parses leaves its drawings
    out (the report shows a gap, never fails)."""
    by_source: dict[str, set[int]] = defaultdict(set)
    for source, index in wanted:
        by_source[source].add(index)
    found: dict[tuple[str, int], Sketch] = {}
    for source, indices in by_source.items():
        last = max(indices)
        if len(indices) >= 8 or last < 2000:
            try:
                for index, sketch in enumerate(iter_sketches(source)):
                    if index in indices:
                        found[(source, index)] = sketch
                    if index >= last:
                        break
            except Exception:   # noqa: BLE001 - e.g. one bad line: the rest one by one below
                pass
        if not Path(source).is_file():
            continue
        for index in sorted(i for i in indices if (source, i) not in found):
            try:
                found[(source, index)] = load_sketch(source, index)
            except Exception:   # noqa: BLE001 - an unreadable drawing only costs its thumbnail
                continue
    return found


def render_page(stats: Stats, summary: dict[str, Any]) -> str:
    mistakes, unfaithful = sorted_rows(stats.mistakes), sorted_rows(stats.unfaithful)
    sample = sorted_rows(stats.sample)
    drawings = read_drawings({(r["source"], r["index"]) for r in mistakes + unfaithful + sample})
    parts = [
        _overview(stats, summary), _accuracy(stats), _confusion(stats), _stroke_order(stats),
        _stroke_length(sample, drawings), _faithfulness(stats),
        _gallery("mistakes", mistakes, drawings,
                 "Wrong predictions, most confident first. Strokes coloured by their attribution "
                 "to the class the explanation targeted."),
        _gallery("unfaithful", unfaithful, drawings,
                 "Largest deletion AUC − insertion AUC first: removing the strokes the explanation "
                 "ranks highest hardly lowers the score, adding them hardly raises it. Drawings of "
                 "one stroke are left out: there is no order to get wrong."),
        _errors(stats),
    ]
    title = f"Audit of {stats.rows:,} drawings"
    nav = "".join(f"<a href='#{key}'>{escape(name)}</a>" for key, name in SECTIONS.items())
    credit = ""
    if any("quickdraw" in str(r["source"]).lower() for r in sample[:50]):
        credit = "<p class='muted'>Drawings: Quick, Draw! dataset by Google, CC BY 4.0.</p>"
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{escape(title)} — SketchStudio</title><style>{CSS}</style></head><body>"
            f"<header><h1>{escape(title)}</h1><p class='muted'>{_settings_line(summary)}</p>"
            f"<nav>{nav}</nav></header><main>{''.join(parts)}</main>"
            f"<footer>{credit}<p class='muted'>Written by <code>sketchstudio audit</code>. "
            f"Red: the stroke helps the target class; blue: it argues against it; "
            f"grey: neutral.</p>"
            f"</footer></body></html>")


def _section(key: str, body: str, lead: str = "", wide: bool = True) -> str:
    lead_html = f"<p class='lead'>{lead}</p>" if lead else ""
    size = "wide" if wide else "half"
    return (f"<section id='{key}' class='{size}'><h2>{escape(SECTIONS[key])}</h2>{lead_html}"
            f"{body}</section>")


def _settings_line(summary: dict[str, Any]) -> str:
    keys = (("model", "model"), ("method", "method"), ("target", "target"), ("engine", "engine"))
    return " · ".join(f"{label} <b>{escape(str(summary[key]))}</b>" for label, key in keys
                      if summary.get(key) is not None)


def _tile(value: str, label: str) -> str:
    return f"<div class='tile'><div class='value'>{escape(value)}</div>" \
           f"<div class='label'>{escape(label)}</div></div>"


def _typical(summary: dict[str, Any], name: str, total: float, n: int) -> tuple[float, str]:
    """The summary's median of a figure, or (no summary.json) the mean of the results."""
    value = ((summary.get("distributions") or {}).get(name) or {}).get("median")
    if isinstance(value, (int, float)):
        return float(value), "median"
    return (total / n if n else math.nan), "mean"


def _fmt(value: float, pattern: str = "{:.3f}") -> str:
    return pattern.format(value) if math.isfinite(value) else "–"


def _overview(stats: Stats, summary: dict[str, Any]) -> str:
    accuracy = stats.right / stats.scored if stats.scored else math.nan
    tiles = [
        _tile(f"{stats.rows:,}", "drawings"), _tile(f"{stats.explained:,}", "explained"),
        _tile(f"{stats.errors:,}", "skipped"), _tile(_fmt(accuracy, "{:.1%}"), "accuracy"),
    ]
    for name, total, n, pattern, label in (
            ("deletion_auc", stats.deletion_sum, stats.faithful_n, "{:.3f}",
             "deletion AUC (low is good)"),
            ("insertion_auc", stats.insertion_sum, stats.faithful_n, "{:.3f}",
             "insertion AUC (high is good)"),
            ("elapsed_ms", stats.elapsed_sum, stats.elapsed_n, "{:.0f} ms", "time per drawing")):
        value, kind = _typical(summary, name, total, n)
        tiles.append(_tile(_fmt(value, pattern), f"{kind} {label}"))
    unknown = stats.explained - stats.scored
    note = (f"<p class='muted'>{unknown:,} explained drawings are of words the model does not "
            f"know: they count in the faithfulness figures, not in accuracy.</p>"
            if unknown else "")
    hists = (f"<div class='row'><figure>{draw.histogram(stats.deletion_hist, '#4393c3')}"
             f"<figcaption>deletion AUC</figcaption></figure><figure>"
             f"{draw.histogram(stats.insertion_hist, '#d6604d')}<figcaption>insertion AUC"
             f"</figcaption></figure></div>")
    return _section("overview", f"<div class='tiles'>{''.join(tiles)}</div>{note}{hists}")


def _trim(items: list, keep: int = MAX_ROWS) -> tuple[list, int]:
    """At most `keep` items: the first and the last halves (the extremes), with None where the
    middle was left out, and how many were left out."""
    if len(items) <= keep:
        return items, 0
    return items[:keep // 2] + [None] + items[-keep // 2:], len(items) - keep


def _gap_label(left_out: int) -> str:
    return f"⋯ {left_out} more ⋯"


def _accuracy(stats: Stats) -> str:
    scored = sorted(((w, c) for w, c in stats.classes.items() if c.scored),
                    key=lambda item: (item[1].right / item[1].scored, item[0]))
    if not scored:
        return _section("accuracy", "<p class='muted'>No drawing had a word the model knows.</p>")
    shown, left_out = _trim(scored)
    nan = math.nan
    chart = draw.hbar_chart(
        [_gap_label(left_out) if r is None else r[0] for r in shown],
        [nan if r is None else r[1].right / r[1].scored for r in shown],
        ["" if r is None else f"{r[1].right / r[1].scored:.0%}  ({r[1].right}/{r[1].scored})"
         for r in shown],
        ["none" if r is None else draw.score_css(r[1].right / r[1].scored) for r in shown])
    return _section("accuracy", chart, "Share of drawings whose prediction is their own "
                    "word, worst class first.", wide=len(_matrix_axes(stats)[1]) > HALF_MATRIX)


def _matrix_axes(stats: Stats) -> tuple[list[str], list[str]]:
    """The rows (words) and columns (predictions) of the confusion matrix: every class while
    they fit, else those with the most mistakes."""
    mistakes: dict[str, int] = defaultdict(int)
    for (word, prediction), n in stats.confusion.items():
        if word != prediction:
            mistakes[word] += n
            mistakes[prediction] += n
    words = sorted({w for w, _ in stats.confusion})
    if len(words) > MAX_MATRIX:
        words = sorted(sorted(words, key=lambda w: (-mistakes.get(w, 0), w))[:MAX_MATRIX])
    columns = sorted(set(words) | {p for (w, p) in stats.confusion if w in words})
    if len(columns) > MAX_MATRIX + 10:     # predictions far from the shown words share a column
        columns = words + [OTHER]
    return words, columns


def _confusion(stats: Stats) -> str:
    if not stats.confusion:
        return _section("confusion", "<p class='muted'>Nothing to compare: no drawing had a word "
                        "the model knows.</p>")
    words, columns = _matrix_axes(stats)
    counts = np.zeros((len(words), len(columns)), dtype=np.int64)
    for (word, prediction), n in stats.confusion.items():
        if word in words:
            column = prediction if prediction in columns else OTHER
            counts[words.index(word), columns.index(column)] += n
    pairs = sorted(((n, w, p) for (w, p), n in stats.confusion.items() if w != p),
                   key=lambda t: (-t[0], t[1], t[2]))[:12]
    top = "".join(f"<li><b>{escape(w)}</b> taken for <b>{escape(p)}</b> — {n}</li>"
                  for n, w, p in pairs)
    lead = ("Rows: the drawing's word; columns: the prediction. Green: right; red: wrong; the "
            "darker, the larger the row's share.")
    if len(words) < len({w for w, _ in stats.confusion}):
        lead += f" The {len(words)} classes with the most mistakes."
    body = (f"<div class='row'><div class='scroll'>{draw.confusion_matrix(words, columns, counts)}"
            f"</div><div><h3>Most frequent confusions</h3><ol>{top or '<li>none</li>'}</ol></div>"
            "</div>")
    return _section("confusion", body, lead, wide=len(columns) > HALF_MATRIX)


def _stroke_order(stats: Stats) -> str:
    labels = [str(k + 1) for k in range(POSITIONS - 1)] + [f"{POSITIONS}+"]
    n = stats.position_n
    if not n.any():
        return _section("stroke-order", "<p class='muted'>No attributions.</p>")
    mean = np.where(n > 0, stats.position_sum / np.maximum(n, 1), np.nan)
    top = stats.top_stroke / max(stats.top_stroke.sum(), 1)
    chart = draw.column_chart(labels, mean.tolist(), [f"n={int(v):,}" for v in n])
    top_chart = draw.column_chart(labels, top.tolist(), [f"{v:.0%}" for v in top], signed=False)
    return _section(
        "stroke-order",
        f"<figure>{chart}<figcaption>mean share of the evidence by stroke, in drawing order"
        f"</figcaption></figure><figure>{top_chart}<figcaption>how often stroke k is the most "
        f"helpful one</figcaption></figure>",
        "Each drawing's attributions divided by their total |attribution|, so that every drawing "
        "weighs the same: does the model decide on the first strokes people draw?", wide=False)


def _stroke_length(sample: list[dict], drawings: dict) -> str:
    sums, counts = np.zeros(len(LENGTH_LABELS)), np.zeros(len(LENGTH_LABELS))
    used = 0
    for row in sample:
        sketch = drawings.get((row["source"], row["index"]))
        values = row["attributions"]
        if sketch is None or len(sketch) != len(values) or not len(values):
            continue
        x0, y0, x1, y1 = sketch.bbox()
        size = max(x1 - x0, y1 - y0) or 1.0
        lengths = np.array([s.length() for s in sketch.strokes]) / size
        bins = np.searchsorted(LENGTH_BINS, lengths, side="right") - 1
        np.add.at(sums, bins, np.nan_to_num(normalised(values)))
        np.add.at(counts, bins, 1)
        used += 1
    if not used:
        return _section("stroke-length", "<p class='muted'>The drawings could not be re-read "
                        "from their sources.</p>")
    mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    chart = draw.column_chart(LENGTH_LABELS, mean.tolist(), [f"n={int(v):,}" for v in counts])
    return _section(
        "stroke-length", f"<figure>{chart}<figcaption>mean share of the evidence by stroke length "
        f"(ink length ÷ the drawing's larger side)</figcaption></figure>",
        f"From {used:,} drawings re-read from their files (a fixed sample when there are more).",
        wide=False)


def _faithfulness(stats: Stats) -> str:
    rows = [(w, c) for w, c in stats.classes.items() if c.faithful_n]
    if not rows:
        return _section("faithfulness", "<p class='muted'>No faithfulness figures.</p>")
    rows.sort(key=lambda item: (item[1].mean("insertion") - item[1].mean("deletion"), item[0]))
    shown, left_out = _trim(rows)
    nan = math.nan
    chart = draw.dumbbell_chart(
        [_gap_label(left_out) if r is None else r[0] for r in shown],
        [nan if r is None else r[1].mean("deletion") for r in shown],
        [nan if r is None else r[1].mean("insertion") for r in shown],
        ["" if r is None else f"n={r[1].faithful_n}  compl. err {r[1].mean('completeness'):.3f}"
         for r in shown])
    return _section(
        "faithfulness", chart,
        "Per class, mean <span class='blue'>deletion AUC</span> (remove strokes most-helpful "
        "first: low is faithful) and <span class='red'>insertion AUC</span> (add them: high is "
        "faithful). Least faithful classes first.")


def _gallery(key: str, rows: list[dict], drawings: dict, lead: str) -> str:
    if not rows:
        return _section(key, "<p class='muted'>None.</p>")
    cards = []
    for row in rows:
        sketch = drawings.get((row["source"], row["index"]))
        values = np.nan_to_num(np.asarray(row["attributions"], dtype=np.float64))
        if sketch is not None and len(sketch) == len(values) and len(values):
            uri = draw.thumbnail(sketch, values)
            picture = f"<img alt='' width='148' height='148' src='{uri}'>"
        else:
            picture = "<div class='gone'>drawing not readable</div>"
        where = f"{Path(str(row['source'])).name} #{row['index']}"
        word = escape(str(row["word"])) if row["word"] is not None else "?"
        cards.append(
            f"<figure class='card'>{picture}<figcaption><b>{word}</b> → "
            f"{escape(str(row['prediction']))} <span class='muted'>"
            f"p={_fmt(row['p_pred'], '{:.2f}')}</span><br>"
            f"<span class='muted'>del {_fmt(row['deletion_auc'], '{:.2f}')} · ins "
            f"{_fmt(row['insertion_auc'], '{:.2f}')}</span><br><span class='where' "
            f"title='{escape(str(row['source']))}'>{escape(where)}</span></figcaption></figure>")
    return _section(key, f"<div class='gallery'>{''.join(cards)}</div>", lead)


def _errors(stats: Stats) -> str:
    if not stats.errors:
        return _section("errors", "<p class='muted'>None: every drawing was explained.</p>")
    reasons = "".join(f"<tr><td>{n:,}</td><td>{escape(reason)}</td></tr>"
                      for reason, n in stats.error_reasons.most_common(10))
    examples = "".join(f"<tr><td>{escape(Path(str(s)).name)} #{i}</td><td>{escape(r)}</td></tr>"
                       for s, i, r in stats.error_examples[:20])
    return _section(
        "errors", f"<div class='row'><table><tr><th>drawings</th><th>reason</th></tr>{reasons}"
        f"</table><table><tr><th>drawing</th><th>reason</th></tr>{examples}</table></div>",
        f"{stats.errors:,} drawings could not be explained; the audit went on without them.")


CSS = """
body { margin: 0; background: #f4f5f7; color: #2d3340; font: 14px/1.45 system-ui, sans-serif; }
header { background: #2d3340; color: white; padding: 24px 40px 12px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header .muted { color: #c5cad6; } header b { color: white; }
nav { margin-top: 14px; display: flex; flex-wrap: wrap; gap: 6px; }
nav a { color: #dfe3ec; text-decoration: none; font-size: 12px; padding: 3px 9px;
        border: 1px solid #4a5163; border-radius: 12px; }
main { padding: 16px 40px 8px; max-width: 1240px; display: grid; gap: 16px;
       grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); }
section { background: white; border-radius: 10px; padding: 14px 22px 18px; min-width: 0;
          box-shadow: 0 1px 2px rgba(0,0,0,.06); }
section.wide { grid-column: 1 / -1; }
section.half figure + figure { margin-top: 14px; }
h2 { margin: 4px 0 6px; font-size: 18px; } h3 { font-size: 14px; margin: 4px 0; }
.lead { color: #4a4d57; margin: 0 0 10px; max-width: 900px; }
.muted { color: #8a8d96; } .blue { color: #2166ac; font-weight: 600; }
.red { color: #b2182b; font-weight: 600; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 8px; }
.tile { background: #f7f8fa; border-radius: 8px; padding: 10px 16px; min-width: 120px; }
.tile .value { font-size: 24px; font-weight: 650; }
.tile .label { color: #6b6f7a; font-size: 12px; }
.row { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
.scroll { overflow-x: auto; max-width: 100%; flex: 0 1 auto; }
figure { margin: 0; } figcaption { color: #6b6f7a; font-size: 12px; text-align: center; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 12px; }
.card { background: #fafbfc; border: 1px solid #eceef2; border-radius: 8px; padding: 6px; }
.card img, .gone { display: block; margin: 0 auto; border-radius: 4px; background: white; }
.gone { width: 148px; height: 148px; line-height: 148px; text-align: center; color: #8a8d96; }
.card figcaption { text-align: left; padding: 4px 2px 0; color: #2d3340; }
.where { color: #8a8d96; font-size: 11px; word-break: break-all; }
table { border-collapse: collapse; font-size: 12px; }
td, th { border-bottom: 1px solid #eceef2; padding: 3px 10px; text-align: left; }
footer { padding: 0 40px 30px; font-size: 12px; }
"""
