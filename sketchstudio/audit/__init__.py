"""Corpus audit: explain every drawing of a corpus, stroke by stroke, and write what was found.

`run_audit(data, model, out_dir, ...)` (engine.py) writes `out_dir/results.parquet/` (one row per
drawing, results.py), `out_dir/summary.json` (summary.py) and `out_dir/report.html` (report.py).
The per-batch work is `compute.AuditWorker`, fed by `inputs.iter_records`; the local engine runs
it in worker processes, the Ray engine (ray_engine.py, optional extra `scale`) in an actor pool.

Importing this package is cheap and never imports torch or ray: the studio reads audits through
`results.read_results`.
"""
from __future__ import annotations

from typing import Any

__all__ = ["read_results", "run_audit", "write_summary"]


def __getattr__(name: str) -> Any:
    # Lazy: run_audit pulls in torch, and the studio only needs the readers.
    if name == "run_audit":
        from .engine import run_audit

        return run_audit
    if name == "read_results":
        from .results import read_results

        return read_results
    if name == "write_summary":
        from .summary import write_summary

        return write_summary
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
