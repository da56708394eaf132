"""The audit's table: one row per drawing, stored as Parquet shards in `DIR/results.parquet/`.

The folder holds `part-*.parquet` files that together make one table (pyarrow reads the folder as
a dataset). Shards are written whole or not at all (a temporary dot-name renamed into place, which
dataset readers ignore), so an audit stopped at any moment leaves a readable table, and `--resume`
only has to ask which (source, index) pairs are already there. Both engines write the same schema:
the local engine through `write_shard`, the Ray engine through Ray's own Parquet writer.

Only pyarrow here (no torch): the studio reads audits through this module.
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from ..errors import UserError

RESULTS_DIR = "results.parquet"
SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.html"
SETTINGS_FILE = "audit.json"   # what the audit was started with: checked by --resume
SHARD_PREFIX = "part-"
BATCH_ROWS = 65_536   # rows per batch in whole-corpus passes

SCHEMA = pa.schema([
    pa.field("source", pa.string(), nullable=False),   # the input file's path
    pa.field("index", pa.int64(), nullable=False),     # drawing index within that file
    pa.field("key_id", pa.string()),
    pa.field("word", pa.string()),
    pa.field("prediction", pa.string()),               # the model's top class
    pa.field("p_pred", pa.float64()),                  # its probability
    pa.field("target", pa.string()),                   # the class that was explained
    pa.field("correct", pa.bool_()),                   # null: the word is not one of the classes
    pa.field("strokes", pa.int64()),
    pa.field("points", pa.int64()),
    pa.field("attributions", pa.list_(pa.float64())),  # one value per stroke, drawing order
    pa.field("deletion_auc", pa.float64()),
    pa.field("insertion_auc", pa.float64()),
    pa.field("completeness_error", pa.float64()),
    pa.field("elapsed_ms", pa.float64()),
    pa.field("error", pa.string()),                    # null, or why the drawing was skipped
])
COLUMNS = tuple(SCHEMA.names)


def results_dir(out_dir: str | os.PathLike[str]) -> Path:
    return Path(out_dir) / RESULTS_DIR


def empty_row(source: str, index: int, **values: Any) -> dict[str, Any]:
    """A row with every column present (None where nothing is known), `values` filled in."""
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(source=source, index=index)
    unknown = set(values) - set(COLUMNS)
    if unknown:
        raise KeyError(f"not audit columns: {sorted(unknown)}")
    row.update(values)
    return row


def to_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows -> a table of exactly SCHEMA (a column that is all null keeps its declared type)."""
    return pa.Table.from_pylist([dict(r) for r in rows], schema=SCHEMA)


def shard_files(out_dir: str | os.PathLike[str]) -> list[Path]:
    folder = results_dir(out_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{SHARD_PREFIX}*.parquet") if p.is_file())


def write_shard(out_dir: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]],
                name: str | None = None) -> Path | None:
    """Write `rows` as one new shard, atomically; None when there is nothing to write."""
    if not rows:
        return None
    folder = results_dir(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = name or f"{SHARD_PREFIX}{uuid.uuid4().hex}.parquet"
    path = folder / name
    temporary = folder / f".{name}.tmp"
    try:
        pq.write_table(to_table(rows), temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _readable_shards(out_dir: Path) -> tuple[list[Path], list[Path]]:
    """(good, broken): a shard whose footer cannot be read was cut short (a killed Ray writer)."""
    good, broken = [], []
    for path in shard_files(out_dir):
        try:
            pq.read_metadata(path)
            good.append(path)
        except (OSError, pa.ArrowException):
            broken.append(path)
    return good, broken


def read_results(out_dir: str | os.PathLike[str]) -> pa.Table:
    """Every row of an audit as one table of SCHEMA, sorted by (source, index).

    A shard cut short by a killed writer is left out (its rows count as not done)."""
    out_dir = Path(out_dir)
    if not results_dir(out_dir).is_dir() and not (out_dir / SETTINGS_FILE).is_file():
        raise UserError(f"{out_dir}: not an audit folder (no {RESULTS_DIR}/ inside)")
    good, _ = _readable_shards(out_dir)
    if not good:
        return SCHEMA.empty_table()
    table = pads.dataset([str(p) for p in good], schema=SCHEMA, format="parquet").to_table()
    return table.sort_by([("source", "ascending"), ("index", "ascending")])


def iter_batches(out_dir: str | os.PathLike[str],
                 columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
    """The audit's rows, a bounded batch at a time, only `columns` (in shard order, unsorted).

    For whole-corpus passes (summary, resume): memory stays flat however many rows there are."""
    good, _ = _readable_shards(Path(out_dir))
    if not good:
        return
    dataset = pads.dataset([str(p) for p in good], schema=SCHEMA, format="parquet")
    yield from dataset.to_batches(columns=list(columns), batch_size=BATCH_ROWS)


def done_keys(out_dir: str | os.PathLike[str]) -> set[tuple[str, int]]:
    """(source, index) of every row already written, for --resume; removes cut-short shards."""
    out_dir = Path(out_dir)
    _, broken = _readable_shards(out_dir)
    for path in broken:
        path.unlink(missing_ok=True)
    keys: set[tuple[str, int]] = set()
    for batch in iter_batches(out_dir, ("source", "index")):
        keys.update(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True))
    return keys


def read_settings(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(out_dir) / SETTINGS_FILE
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read the audit's settings ({exc})") from None
    return value if isinstance(value, dict) else {}


def write_settings(out_dir: str | os.PathLike[str], settings: Mapping[str, Any]) -> None:
    from ..fsutil import write_atomically

    text = json.dumps(dict(settings), indent=2).encode("utf-8")
    write_atomically(Path(out_dir) / SETTINGS_FILE, lambda f: f.write(text))
