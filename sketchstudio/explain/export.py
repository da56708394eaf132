"""Attributions as files: the record `sketchstudio explain --json` prints, as JSON or CSV.

One record per explained drawing: where the drawing came from (`file`, `index`) and every field of
`Attribution.to_json()`. The CLI prints these records and the studio's File ▸ Export attributions…
writes them, through the same function, so the two can be compared field by field. A record can be
read back (`load_attribution`) to colour a drawing without a model: `sketchstudio convert DRAWING
OUT.svg --heat RECORD.json` draws what the studio exported.

CSV has one row per stroke: the record's scalar fields repeated, the stroke's number (counted from
1, as the studio shows strokes), its value and its segment values (P-SLA) separated by spaces.
"""
from __future__ import annotations

import csv
import io
import json
import math
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from .result import Attribution

SUFFIXES = (".json", ".csv")
CSV_FIELDS = ("file", "index", "model", "task", "method", "objective", "target", "target_index",
              "predicted", "predicted_prob", "score_full", "score_blank", "elapsed_ms",
              "stroke", "value", "segments")


def attribution_record(result: Attribution, file: str | PathLike[str] | None = None,
                       index: int | None = None) -> dict[str, Any]:
    """The one record of an explained drawing: `file`, `index`, then `result.to_json()`."""
    return {"file": None if file is None else str(file), "index": index, **result.to_json()}


def _csv_text(record: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    prediction = record.get("prediction") or []
    top = prediction[0] if prediction else {}
    common = {key: record.get(key) for key in CSV_FIELDS[:8]}
    common.update(predicted=top.get("label"), predicted_prob=top.get("prob"),
                  score_full=record.get("score_full"), score_blank=record.get("score_blank"),
                  elapsed_ms=record.get("elapsed_ms"))
    segments = record.get("segments")
    for k, value in enumerate(record.get("strokes") or []):
        row = dict(common, stroke=k + 1, value=repr(float(value)))
        if segments is not None:
            row["segments"] = " ".join(repr(float(v)) for v in segments[k])
        writer.writerow({key: "" if v is None else v for key, v in row.items()})
    return out.getvalue()


def save_attributions(path: str | PathLike[str], record: dict[str, Any]) -> None:
    """Write one record as .json (the object `explain --json` prints) or .csv (a row a stroke),
    whole or not at all; one error line for an unknown suffix or a failed write."""
    from ..fsutil import write_atomically

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = json.dumps(record, indent=1) + "\n"
    elif suffix == ".csv":
        text = _csv_text(record)
    else:
        raise UserError(f"{path.name}: attributions are saved as {' or '.join(SUFFIXES)}")
    try:
        write_atomically(path, lambda file: file.write(text.encode("utf-8")))
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


# --- reading a record back ----------------------------------------------------------------------
def _numbers(value: object, what: str) -> np.ndarray:
    if not isinstance(value, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in value):
        raise ValueError(f"{what} should be a list of finite numbers")
    return np.asarray(value, dtype=np.float64)


def attribution_from_record(record: dict[str, Any]) -> Attribution:
    """The Attribution a record describes (enough to draw it: values, target, prediction)."""
    strokes = _numbers(record.get("strokes"), '"strokes"')
    raw_segments = record.get("segments")
    segments = None
    if raw_segments is not None:
        if not isinstance(raw_segments, list) or len(raw_segments) != len(strokes):
            raise ValueError('"segments" should hold one list per stroke')
        segments = [_numbers(s, f'"segments"[{k}]') for k, s in enumerate(raw_segments)]
    prediction = []
    for item in record.get("prediction") or []:
        if not isinstance(item, dict) or not isinstance(item.get("label"), str):
            raise ValueError('"prediction" should hold {"label", "prob"} objects')
        prediction.append((str(item["label"]), float(item.get("prob") or 0.0)))
    method, target = record.get("method"), record.get("target")
    if not isinstance(method, str) or not (target is None or isinstance(target, str)):
        raise ValueError('"method" should be a name and "target" a label or null')
    scores = [record.get("score_full", 0.0), record.get("score_blank", 0.0)]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in scores):
        raise ValueError('"score_full" and "score_blank" should be numbers')
    objective = record.get("objective")
    return Attribution(method=method, strokes=strokes, score_full=float(scores[0]),
                       score_blank=float(scores[1]), target=target,
                       objective=objective if isinstance(objective, str) else "logit",
                       prediction=prediction, segments=segments)


def load_attribution(path: str | PathLike[str], index: int | None = None) -> Attribution:
    """The record in a .json file (the studio's export, or `explain --json` output: with one
    record a line, the one for drawing `index`, else the first)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the attributions: {exc}") from None
    try:
        try:
            records = [json.loads(text)]
        except json.JSONDecodeError:        # JSON lines, as `explain --all --json` prints them
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        if not records or not all(isinstance(r, dict) for r in records):
            raise ValueError("expected the JSON object `sketchstudio explain --json` prints")
        chosen = next((r for r in records if index is not None and r.get("index") == index),
                      records[0])
        return attribution_from_record(chosen)
    except ValueError as exc:       # json.JSONDecodeError is a ValueError too
        raise UserError(f"{path}: not an attribution record: {exc}") from None


def check_fits(result: Attribution, stroke_points: list[int], what: str) -> None:
    """One error line when an attribution read from a file does not describe this drawing."""
    if len(result.strokes) != len(stroke_points):
        raise UserError(f"{what}: the attribution has {len(result.strokes)} stroke values but the "
                        f"drawing has {len(stroke_points)} strokes")
    if result.segments is not None:
        for k, (values, points) in enumerate(zip(result.segments, stroke_points, strict=True)):
            if points > 1 and len(values) < points - 1:
                raise UserError(f"{what}: stroke {k + 1} has {points} points but "
                                f"{len(values)} segment values")
