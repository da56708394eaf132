"""How the local audit engine should use the cores: worker processes or torch threads?

Audits the same N real drawings (default classifier, --method live) three ways, interleaved and
repeated, and prints drawings per second (medians):

    in-process, torch threads = cores   (--workers 1, torch's default)
    in-process, torch threads = 1       (--workers 1 with one thread: the floor)
    worker processes, 1 thread each     (--workers = cores, the audit's default)

    .venv/bin/python benchmarks/audit_workers.py [--n 96] [--rounds 2]

"steady" leaves out the start-up of worker processes (spawn, torch import, model load), which a
long audit pays once; "overall" includes it.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sketchstudio.shared_data import shared_data_dir


def _audit(data: Path, out: Path, n: int, workers: int,
           threads: int | None) -> tuple[float, float]:
    """(drawings/s overall, drawings/s from the first finished batch to the last: without the
    start-up of worker processes, which a long audit pays once)."""
    from sketchstudio.audit import local_engine, run_audit
    from sketchstudio.progress import TaskState

    marks: list[tuple[float, int]] = []
    state = TaskState(partial=lambda p: marks.append((time.perf_counter(), p.done)))
    local_engine.IN_PROCESS_THREADS = threads
    try:
        shutil.rmtree(out, ignore_errors=True)
        started = time.perf_counter()
        run_audit(data, "default", out, limit=n, workers=workers, report=False, device="cpu",
                  batch_size=8, state=state)
        overall = n / (time.perf_counter() - started)
    finally:
        local_engine.IN_PROCESS_THREADS = 1
    (t0, d0), (t1, d1) = marks[1], marks[-1]   # marks[0]: the start, before any batch
    return overall, (d1 - d0) / (t1 - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    data = shared_data_dir() / "quickdraw" / "simplified"
    ways = {f"in-process, {cores} torch threads": (1, None),   # None: torch's default
            "in-process, 1 torch thread": (1, 1),
            f"{cores} worker processes, 1 thread each": (cores, None)}
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    with tempfile.TemporaryDirectory(prefix="audit-workers-") as folder:
        _audit(data, Path(folder) / "warm", 16, 1, None)   # model cost cache, imports
        for _ in range(args.rounds):
            for name, (workers, threads) in ways.items():
                rates[name].append(_audit(data, Path(folder) / "o", args.n, workers, threads))
    print(f"audit_workers: {args.n} drawings, {cores} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(f"  {'':<40} {'overall':>9} {'steady':>9}  drawings/s, medians of {args.rounds}")
    for name, values in rates.items():
        overall = statistics.median(v[0] for v in values)
        steady = statistics.median(v[1] for v in values)
        print(f"  {name:<40} {overall:9.2f} {steady:9.2f}")


if __name__ == "__main__":
    main()
