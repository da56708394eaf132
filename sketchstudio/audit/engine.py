"""`run_audit`: explain a corpus with the local engine (default) or Ray, then summarise and report.

    summary = run_audit(["drawings/"], "default", "audit-out", limit=2000)

Long work in the project's one pattern: `state` (sketchstudio.progress.TaskState) receives the
progress fraction, an `AuditProgress` as partial result after every batch (the CLI's progress bar
and the studio read it), and a cancel stops the audit with `Cancelled` after every finished row
has been written. `resume=True` continues an audit in the same folder: the rows already written
are skipped, so a stopped and resumed audit has exactly the rows of an uninterrupted one.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..progress import TaskState
from .compute import check_settings
from .inputs import count_drawings, expand_paths, iter_records
from .results import done_keys, read_settings, shard_files, write_settings
from .summary import write_summary

ENGINES = ("local", "ray")
DEFAULT_BATCH_SIZE = 32
# Below this many drawings per core an audit runs in-process: a worker process spends seconds
# starting (torch import, model load), as long as ~100 drawings take (benchmarks/audit_workers.py).
SMALL_AUDIT_PER_WORKER = 100


@dataclass
class AuditProgress:
    """Partial result of an audit: where it stands, and the rows of the batch just finished."""

    done: int                  # rows written or finished, this run and earlier ones
    total: int                 # rows the whole audit will have
    errors: int                # error rows among those finished in this run
    resumed: int = 0           # rows found from an earlier run
    rows: list[dict[str, Any]] = field(default_factory=list)


def default_workers(device: str | None = None) -> int:
    """One worker process per core on CPU; one in-process worker for a GPU (it is the GPU that
    works; more processes would only hold more CUDA contexts)."""
    if device is not None and not str(device).startswith("cpu"):
        return 1
    if device is None:
        try:
            import torch

            if torch.cuda.is_available():
                return 1
        except ImportError:
            pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # not on Linux
        return max(1, os.cpu_count() or 1)


def count_total(files: Sequence[Path], limit: int | None) -> int:
    total = 0
    for path in files:
        if limit is not None and total >= limit:
            break
        total += count_drawings(path)
    return total if limit is None else min(total, limit)


def _prepare(out_dir: Path, settings: dict[str, Any], resume: bool) -> set[tuple[str, int]]:
    """Check the output folder against what is asked; the (source, index) pairs already done."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir}: exists and is not a folder")
    existing = shard_files(out_dir)
    if existing and not resume:
        raise UserError(f"--out {out_dir} already holds an audit; pass --resume to continue it, "
                        "or choose another folder")
    done: set[tuple[str, int]] = set()
    if resume:
        before = read_settings(out_dir)
        for key in ("model", "method", "target"):
            if key in before and before[key] != settings[key]:
                raise UserError(f"--resume: {out_dir} holds an audit with {key} "
                                f"{before[key]!r}, not {settings[key]!r}; use the same settings "
                                "or another --out")
        done = done_keys(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_settings(out_dir, settings)
    return done


def run_audit(data: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], model: str,
              out_dir: str | os.PathLike[str], *, method: str = "live",
              target: str = "predicted", limit: int | None = None, engine: str = "local",
              address: str | None = None, resume: bool = False,
              batch_size: int = DEFAULT_BATCH_SIZE, workers: int | None = None,
              state: TaskState | None = None, device: str | None = None,
              report: bool = True) -> dict[str, Any]:
    """Audit every drawing of `data` (files or folders); returns the summary (summary.json).

    Writes out_dir/results.parquet/ (shards), summary.json and, when `report`, report.html."""
    state = TaskState.coerce(state)
    check_settings(method, target)
    if engine not in ENGINES:
        raise UserError(f"unknown engine {engine!r}; choose local or ray")
    if batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {batch_size}")
    if workers is not None and workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    if limit is not None and limit < 0:
        raise UserError(f"--limit must be 0 or more, got {limit}")
    if address and engine != "ray":
        raise UserError("--address joins a Ray cluster: it needs --engine ray")
    paths = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    files = expand_paths(paths)
    _check_model(model)
    out_dir = Path(out_dir)
    settings = {"model": str(model), "method": method, "target": target, "engine": engine,
                "data": [str(f) for f in files], "limit": limit}
    done = _prepare(out_dir, settings, resume)
    worker_settings = {"model_ref": str(model), "method": method, "target": target,
                       "device": device}

    if engine == "ray":
        from .ray_engine import run_ray  # the optional extra: imported only when asked for

        run_ray(files, limit, out_dir, worker_settings, done=done, batch_size=batch_size,
                workers=workers, address=address, state=state)
    else:
        _run_local(files, limit, out_dir, worker_settings, done, batch_size, workers, state)
    state.set_progress(1.0)
    summary = write_summary(out_dir)
    if report:
        _write_report(out_dir)
    return summary


def _check_model(model: str) -> None:
    """A missing model or a card of another task is one clear error now, not one per worker."""
    from ..models import ModelCatalogue, ModelTask, load_card

    _, card_path = ModelCatalogue().resolve(model)
    task = load_card(card_path).task
    if task != ModelTask.CLASSIFY:
        raise UserError(f"{model}: an audit needs a classifier; this model's task is {task!r}")


def _run_local(files: list[Path], limit: int | None, out_dir: Path,
               worker_settings: dict[str, Any], done: set[tuple[str, int]], batch_size: int,
               workers: int | None, state: TaskState) -> None:
    from .local_engine import run_local

    total = count_total(files, limit)
    if workers is None:
        workers = default_workers(worker_settings["device"])
        if total - len(done) < SMALL_AUDIT_PER_WORKER * workers:
            workers = 1   # starting worker processes would cost more than they save
    records = iter_records(files, limit)
    if done:   # streamed past, not held: a resumed audit keeps the same bounded memory
        records = (r for r in records if (r["source"], r["index"]) not in done)
    resumed = min(len(done), total)
    progress = AuditProgress(done=resumed, total=total, errors=0, resumed=resumed)
    state.set_partial(progress)

    def on_rows(rows: list[dict[str, Any]]) -> None:
        progress.done += len(rows)
        progress.errors += sum(r["error"] is not None for r in rows)
        progress.rows = rows
        state.set_progress(progress.done / max(total, 1))
        state.set_partial(progress)

    try:
        run_local(records, out_dir, worker_settings, batch_size=batch_size, workers=workers,
                  state=state, on_rows=on_rows)
    except BaseException:
        # Cancelled, Ctrl+C or a failure: what was finished is on disk; say so in the summary too.
        try:
            write_summary(out_dir)
        except Exception as exc:  # noqa: BLE001 - the original error matters more
            print(f"audit: could not write the partial summary ({exc})", file=sys.stderr)
        raise


def _write_report(out_dir: Path) -> None:
    try:
        from .report import write_report
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.report":
            raise
        print("audit: the HTML report is not available in this build; skipped",
              file=sys.stderr)
        return
    write_report(out_dir)
