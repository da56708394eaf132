"""`sketchstudio audit DATA... --model M --out DIR`: explain a whole corpus, stroke by stroke."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "audit", help="explain every drawing of a corpus: Parquet table, summary, HTML report",
        description="Explain every drawing of DATA (files or folders of .ndjson, .npz, .svg, "
                    ".json) and write DIR/results.parquet/ (one row per drawing), "
                    "DIR/summary.json and DIR/report.html. Ctrl+C stops with every finished "
                    "row kept; --resume continues.")
    p.add_argument("data", nargs="+", metavar="DATA", help="sketch files or folders")
    p.add_argument("--model", default="default", help="model store id or path to a model card "
                                                      "(default: default)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--method", default="live",
                   help="attribution method: live (default), sla, sla-grad, psla, occlusion")
    p.add_argument("--target", choices=("predicted", "true"), default="predicted",
                   help="explain the predicted class (default) or the drawing's true word")
    p.add_argument("--limit", type=int, metavar="N", help="audit only the first N drawings")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local worker processes (default) or a Ray Data pipeline "
                        "(pip install 'sketchstudio[scale]')")
    p.add_argument("--address", metavar="ADDR",
                   help="with --engine ray: join this Ray cluster (default: start a local one)")
    p.add_argument("--resume", action="store_true",
                   help="continue the audit already in DIR, skipping the drawings it has")
    p.add_argument("--batch-size", type=int, default=32, metavar="N",
                   help="drawings per batch sent to a worker (default 32)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="worker processes or Ray actors (default: one per CPU core; in-process "
                        "for small audits and on a GPU)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.set_defaults(run=run)


def _progress_bar():
    """A tqdm bar on stderr (rate and ETA), fed by the audit's partial results."""
    from tqdm import tqdm  # type: ignore[import-untyped]

    bar = None

    def partial(progress: Any) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=progress.total, initial=progress.done, unit="drawing",
                       desc="audit", file=sys.stderr, dynamic_ncols=True, smoothing=0.05,
                       disable=None)   # None: no bar when stderr is not a terminal
        bar.update(progress.done - bar.n)
        if progress.errors:
            bar.set_postfix(errors=progress.errors, refresh=False)

    def close() -> None:
        if bar is not None:
            bar.close()

    return partial, close


def run(args) -> int:
    from ..audit.engine import run_audit
    from ..audit.results import read_results
    from ..progress import TaskState

    partial, close = _progress_bar()
    started = time.perf_counter()
    try:
        summary = run_audit(args.data, args.model, args.out, method=args.method,
                            target=args.target, limit=args.limit, engine=args.engine,
                            address=args.address, resume=args.resume,
                            batch_size=args.batch_size, workers=args.workers,
                            state=TaskState(partial=partial), device=args.device)
    except KeyboardInterrupt:
        close()
        try:
            rows = read_results(args.out).num_rows
            print(f"audit: stopped; {rows} drawings are in {Path(args.out)}; "
                  "--resume continues", file=sys.stderr)
        except Exception:  # noqa: BLE001 - the interruption is what matters
            pass
        raise
    close()
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_summary(summary, Path(args.out), elapsed)
    return 0


def _print_summary(summary: dict[str, Any], out: Path, elapsed: float) -> None:
    counts = summary["counts"]
    dist = summary["distributions"]
    accuracy = summary["accuracy"]
    print(f"audited {counts['drawings']} drawings in {elapsed:.1f} s "
          f"({counts['explained']} explained, {counts['errors']} errors)")
    if accuracy is not None:
        print(f"  accuracy {accuracy:.3f} on the {counts['judged']} drawings whose word is one "
              "of the model's classes")
    for name in ("deletion_auc", "insertion_auc", "completeness_error", "elapsed_ms"):
        d = dist[name]
        if d["count"]:
            print(f"  {name:<19} median {d['median']:.4g}  (p10 {d['p10']:.4g}, "
                  f"p90 {d['p90']:.4g})")
    outputs = [out / name for name in ("results.parquet", "summary.json", "report.html")]
    print("  wrote " + ", ".join(str(p) for p in outputs if p.exists()))
