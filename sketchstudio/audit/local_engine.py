"""The local engine: the embedded default, no server.

Input records stream from `inputs.iter_records` in batches; at most `2 x workers` batches are in
flight, so memory stays bounded whatever the corpus size. With `workers > 1` each batch goes to a
worker process that loads the model once (torch held to one thread per process: on small models
one process per core is faster than one process using every core, see README "Audit"); with
`workers == 1` the batches run in this process, on one torch thread.

Finished rows are buffered and written as one Parquet shard every `shard_rows` rows or
`flush_s` seconds, whichever comes first, and once more on the way out, whether the audit
finished, was cancelled (TaskState / Ctrl+C) or failed: everything explained so far is kept, and
`--resume` skips it. Shards are written atomically (results.write_shard), so a killed process
leaves no half a shard.
"""
from __future__ import annotations

import itertools
import multiprocessing
import signal
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from ..progress import TaskState
from .compute import AuditWorker
from .results import write_shard

SHARD_ROWS = 4096      # rows per shard: large enough for Parquet, small enough to lose little
FLUSH_S = 30.0         # ...and at least this often, so a killed audit loses at most this much
POLL_S = 0.25          # how often the waiting loop looks at cancellation
# torch threads of an in-process audit on CPU (None: torch's default, one per core). One: the
# model's small convolutions gain little from a second thread and lose much when the cores are
# shared (benchmarks/audit_workers.py, README "Audit").
IN_PROCESS_THREADS: int | None = 1

Rows = list[dict[str, Any]]


def batched(records: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(records)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class ShardWriter:
    """Buffers rows and writes them as shards named in the order they were written."""

    def __init__(self, out_dir: Path, shard_rows: int = SHARD_ROWS, flush_s: float = FLUSH_S):
        self.out_dir = out_dir
        self.shard_rows = shard_rows
        self.flush_s = flush_s
        # Time first, so that shards list in the order runs wrote them; random, so that two
        # runs (or a resumed one) never collide.
        self.run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self.sequence = 0
        self.buffer: Rows = []
        self.last_flush = time.monotonic()
        self.written = 0

    def add(self, rows: Rows) -> None:
        self.buffer.extend(rows)
        if (len(self.buffer) >= self.shard_rows
                or time.monotonic() - self.last_flush >= self.flush_s):
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            name = f"part-{self.run_id}-{self.sequence:05d}.parquet"
            write_shard(self.out_dir, self.buffer, name)
            self.sequence += 1
            self.written += len(self.buffer)
            self.buffer = []
        self.last_flush = time.monotonic()


# --- worker processes: module-level so that they pickle by name under "spawn" ------------------

_worker: AuditWorker | None = None


def _ignore_sigint() -> None:
    # Ctrl+C reaches the whole process group; only the parent decides what it means (it flushes
    # what is done and stops the workers). A worker unwinding on its own would print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_in_worker(settings: dict[str, Any], batch: Rows) -> Rows:
    global _worker
    if _worker is None:   # here rather than in an initializer: a failure then reaches the parent
        _worker = AuditWorker(**settings, threads=1)
    return _worker(batch)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop now: cancel queued batches and end running ones (their rows are not wanted)."""
    terminate = getattr(pool, "terminate_workers", None)   # Python 3.14
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=0.5)


def run_local(records: Iterable[dict[str, Any]], out_dir: Path, settings: dict[str, Any], *,
              batch_size: int, workers: int, state: TaskState,
              on_rows: Callable[[Rows], None], shard_rows: int = SHARD_ROWS,
              flush_s: float = FLUSH_S) -> int:
    """Audit `records` into shards under out_dir; returns the number of rows written.

    `settings`: AuditWorker's keyword arguments (model_ref, method, target, device).
    `on_rows(rows)` is called with every finished batch, in completion order. Raises `Cancelled`
    when `state` is cancelled (after writing every finished row)."""
    writer = ShardWriter(out_dir, shard_rows, flush_s)

    def finished(rows: Rows) -> None:
        writer.add(rows)
        on_rows(rows)

    try:
        if workers <= 1:
            _run_here(records, settings, batch_size, state, finished)
        else:
            _run_pool(records, settings, batch_size, workers, state, finished)
    finally:
        writer.flush()   # on success, cancel, Ctrl+C or failure alike: done rows are kept
    return writer.written


def _run_here(records: Iterable[dict[str, Any]], settings: dict[str, Any], batch_size: int,
              state: TaskState, finished: Callable[[Rows], None]) -> None:
    import torch

    worker = AuditWorker(**settings)
    before = torch.get_num_threads()
    if IN_PROCESS_THREADS and worker.model.device.type == "cpu":
        torch.set_num_threads(IN_PROCESS_THREADS)
    try:
        for batch in batched(records, batch_size):
            rows = []
            for record in batch:
                state.check()
                rows.append(worker.audit(record))
            finished(rows)
        state.check()
    finally:
        torch.set_num_threads(before)


def _run_pool(records: Iterable[dict[str, Any]], settings: dict[str, Any], batch_size: int,
              workers: int, state: TaskState, finished: Callable[[Rows], None]) -> None:
    # spawn: a forked child would inherit torch's thread pools and locks mid-use
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint,
                               mp_context=multiprocessing.get_context("spawn"))
    pending: set[Future] = set()

    def collect(block: bool) -> None:
        nonlocal pending
        while pending:
            state.check()
            done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            for future in done:
                finished(future.result())
            if done and not block:
                return

    completed = False
    try:
        for batch in batched(records, batch_size):
            state.check()
            if len(pending) >= 2 * workers:
                collect(block=False)
            pending.add(pool.submit(_run_in_worker, settings, batch))
        while pending:
            collect(block=True)
        state.check()
        completed = True
    finally:
        if completed:
            pool.shutdown(wait=True)
        else:
            _stop_pool(pool)
