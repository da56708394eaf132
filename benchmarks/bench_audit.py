"""Corpus audit figures (issue 18, item 4), printed:

1. overhead - drawings/s of the local engine (`run_audit`, one in-process worker) against the
   bare engine loop (load the model, then `explain` + the faithfulness curves on each drawing, no
   audit machinery), interleaved and repeated, medians; target: overhead at most 20%.
2. ray      - the Ray engine with 1 and 2 workers (a local Ray instance limited to that many CPUs);
   target: 2 workers at least 1.6x one.
3. memory   - peak RSS (main process and the largest worker) as the corpus grows from 1,000 to
   20,000 drawings (composed by repeating the shared Quick, Draw! drawings), local engine with
   its default worker count; target: flat.

Every measurement runs in a fresh child process (same imports, same torch threads: 1 per worker),
so a run never inherits another's caches or Ray instance.

    .venv/bin/python benchmarks/bench_audit.py                  # full sizes (long on 2 cores)
    .venv/bin/python benchmarks/bench_audit.py --quick          # small sizes, a few minutes
    .venv/bin/python benchmarks/bench_audit.py --only memory --sizes 1000,5000,20000

The memory section uses a tiny stand-in classifier by default (`--memory-model default` for the
real one): what is measured is the engine's streaming, and the real model costs ~0.2-1 s per
drawing on this machine, which would make 20,000 drawings take hours.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# --- corpus -------------------------------------------------------------------------------------
def compose_corpus(folder: Path, n: int) -> Path:
    """n drawings in one .ndjson, cycling through every shared Quick, Draw! file line by line
    (so that every size mixes all categories). Written to a temporary folder, never the project."""
    from sketchstudio.shared_data import shared_data_dir

    path = folder / f"corpus-{n}.ndjson"
    if path.exists():
        return path
    files = sorted((shared_data_dir() / "quickdraw" / "simplified").glob("*.ndjson"))
    lines = [f.read_text(encoding="utf-8").splitlines() for f in files]
    rows = (line for group in itertools.zip_longest(*lines) for line in group if line)
    with open(path, "w", encoding="utf-8") as out:
        for line in itertools.islice(itertools.cycle(list(rows)), n):
            out.write(line + "\n")
    return path


def tiny_model(folder: Path) -> Path:
    """The tests' tiny TorchScript classifier (28x28 input): a model that costs almost nothing."""
    sys.path.insert(0, str(ROOT / "tests"))
    import model_zoo

    card = folder / "tiny" / "card.toml"
    return card if card.exists() else model_zoo.make_model(folder / "tiny")


# --- children: one measurement each -------------------------------------------------------------
def _peak_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def _cpu_s() -> float:
    """CPU seconds used by this process and its finished children: on a machine shared with
    other work, the cost of a drawing in core-seconds is steadier than wall time."""
    me, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                        resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def child_bare(args: argparse.Namespace) -> dict:
    import torch

    from sketchstudio.explain import explain
    from sketchstudio.explain.faithfulness import curves, order_by
    from sketchstudio.models import load_model
    from sketchstudio.sketch.io import iter_sketches

    torch.set_num_threads(1)
    started = time.perf_counter()
    model = load_model(args.model, device=args.device)
    done = 0
    for sketch in itertools.islice(iter_sketches(args.corpus), args.n):
        if len(sketch):
            result = explain(sketch, model, method=args.method)
            curves(sketch, model, result.target_index, order_by(result.strokes))
        done += 1
    return {"seconds": time.perf_counter() - started, "drawings": done, "cpu_s": _cpu_s()}


def child_startup(args: argparse.Namespace) -> dict:
    """What a run costs before its first drawing: the imports and loading the model."""
    import torch

    from sketchstudio.audit import run_audit  # noqa: F401 - imported as the audit child does
    from sketchstudio.explain import explain  # noqa: F401
    from sketchstudio.models import load_model

    torch.set_num_threads(1)
    load_model(args.model, device=args.device)
    return {"cpu_s": _cpu_s()}


def child_audit(args: argparse.Namespace) -> dict:
    import torch

    from sketchstudio.audit import run_audit
    from sketchstudio.audit.report import write_report
    from sketchstudio.progress import TaskState

    torch.set_num_threads(1)
    marks: list[tuple[float, int]] = []
    peaks: list[dict] = []
    me = os.getpid()

    def partial(progress) -> None:
        marks.append((time.perf_counter(), progress.done))
        if args.engine == "local":
            workers = [_peak_kb(pid) for pid in _children(me)]
            peaks.append({"done": progress.done, "main_kb": _peak_kb(me),
                          "worker_kb": max(workers, default=0)})

    out = Path(args.out)
    started = time.perf_counter()
    summary = run_audit([args.corpus], args.model, out, method=args.method, limit=args.n,
                        engine=args.engine, workers=args.workers, report=False,
                        state=TaskState(partial=partial), device=args.device)
    seconds = time.perf_counter() - started
    figures = {"seconds": seconds, "drawings": summary["counts"]["drawings"],
               "errors": summary["counts"]["errors"],
               "median_ms": summary["distributions"]["elapsed_ms"]["median"],
               "cpu_s": _cpu_s(), "main_kb": _peak_kb(me),
               "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
               "peaks": peaks}
    if len(marks) > 1:      # the rate once the first batch is out (Ray's start-up excluded)
        (t0, d0), (t1, d1) = marks[0], marks[-1]
        figures["steady_per_s"] = (d1 - d0) / (t1 - t0) if t1 > t0 else None
    if args.report:
        t = time.perf_counter()
        write_report(out)
        figures["report_s"] = time.perf_counter() - t
    return figures


def run_child(kind: str, **options) -> dict:
    command = [sys.executable, __file__, "--child", kind]
    for key, value in options.items():
        if value is True:
            command.append(f"--{key}")
        elif value is not None and value is not False:
            command += [f"--{key}", str(value)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "RAY_USAGE_STATS_ENABLED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- sections -----------------------------------------------------------------------------------
def overhead(work: Path, n: int, repeats: int, method: str, device: str = "cpu") -> dict:
    corpus = compose_corpus(work, n)
    bare, local, ratios, reports, cpu_bare, cpu_local = [], [], [], [], [], []
    print(f"\n== overhead: {n} drawings, method {method}, device {device}, 1 worker (1 torch "
          f"thread), "
          f"{repeats} rounds interleaved")
    for r in range(repeats):
        order = ("bare", "local") if r % 2 == 0 else ("local", "bare")
        got = {}
        for kind in order:
            if kind == "bare":
                got[kind] = run_child("bare", corpus=corpus, n=n, model="default", method=method,
                                      device=device)
            else:
                out = work / f"overhead-{r}"
                got[kind] = run_child("audit", corpus=corpus, n=n, model="default",
                                      method=method, engine="local", workers=1, out=out,
                                      report=True, device=device)
                reports.append(got[kind]["report_s"])
        bare.append(n / got["bare"]["seconds"])
        local.append(n / got["local"]["seconds"])
        ratios.append(got["bare"]["seconds"] / got["local"]["seconds"])
        cpu_bare.append(got["bare"]["cpu_s"] / n)
        cpu_local.append(got["local"]["cpu_s"] / n)
        print(f"  round {r + 1}: bare {bare[-1]:.2f}/s, audit {local[-1]:.2f}/s "
              f"(audit/bare throughput {ratios[-1]:.3f}); CPU per drawing bare "
              f"{cpu_bare[-1]:.3f} s, audit {cpu_local[-1]:.3f} s; audit's per-drawing "
              f"median {got['local']['median_ms']:.0f} ms wall")
    ratio = statistics.median(ratios)
    overhead_pct = (1 / ratio - 1) * 100
    print(f"  median: bare {statistics.median(bare):.2f} drawings/s, local engine "
          f"{statistics.median(local):.2f} drawings/s; overhead {overhead_pct:+.1f}% "
          f"(target <= 20%: {'met' if overhead_pct <= 20 else 'missed'})")
    startup = statistics.median(run_child("startup", model="default", device=device)["cpu_s"]
                                for _ in range(2))
    marginal_bare = statistics.median(cpu_bare) - startup / n
    marginal_local = statistics.median(cpu_local) - startup / n
    cpu_overhead = (statistics.median(cpu_local) / statistics.median(cpu_bare) - 1) * 100
    print(f"  CPU per drawing (core-seconds, model load included): bare "
          f"{statistics.median(cpu_bare):.3f} s, audit {statistics.median(cpu_local):.3f} s "
          f"({cpu_overhead:+.1f}%)")
    print(f"  start-up (imports + model load) {startup:.2f} s CPU; per drawing after it: bare "
          f"{marginal_bare * 1000:.0f} ms CPU, audit {marginal_local * 1000:.0f} ms CPU "
          f"({(marginal_local / marginal_bare - 1) * 100:+.1f}%)")
    print(f"  report.html for {n} drawings: median {statistics.median(reports):.1f} s "
          "(not in the audit time above)")
    return {"bare_per_s": statistics.median(bare), "local_per_s": statistics.median(local),
            "overhead_pct": overhead_pct, "cpu_overhead_pct": cpu_overhead,
            "cpu_per_drawing": marginal_local,
            "report_s": statistics.median(reports)}


def ray_scaling(work: Path, n: int, repeats: int, method: str) -> dict:
    corpus = compose_corpus(work, n)
    print(f"\n== ray: {n} drawings, method {method}, local Ray limited to 1 and 2 CPUs, "
          f"{repeats} rounds interleaved")
    got: dict[int, list[dict]] = {1: [], 2: []}
    for r in range(repeats):
        for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
            figures = run_child("audit", corpus=corpus, n=n, model="default", method=method,
                                engine="ray", workers=workers, out=work / f"ray-{workers}-{r}")
            got[workers].append(figures)
            steady = figures.get("steady_per_s")
            print(f"  round {r + 1}, {workers} worker(s): {n / figures['seconds']:.2f} drawings/s "
                  f"end to end, Ray's start included ({figures['seconds']:.0f} s)"
                  + (f", steady {steady:.2f}/s" if steady else ""))
    total = {w: statistics.median(n / f["seconds"] for f in got[w]) for w in got}
    steady = {w: statistics.median(f.get("steady_per_s") or 0.0 for f in got[w]) for w in got}
    speedup = total[2] / total[1]
    steady_note = (f", {steady[2] / steady[1]:.2f}x steady" if steady[1] and steady[2] else "")
    print(f"  median: 1 worker {total[1]:.2f}/s, 2 workers {total[2]:.2f}/s: {speedup:.2f}x end "
          f"to end{steady_note} (target >= 1.6x: {'met' if speedup >= 1.6 else 'missed'})")
    return {"one_per_s": total[1], "two_per_s": total[2], "speedup": speedup,
            "steady_speedup": steady[2] / steady[1] if steady[1] else None}


def memory(work: Path, sizes: list[int], model: str, method: str) -> dict:
    card = str(tiny_model(work)) if model == "tiny" else model
    print(f"\n== memory: local engine, default workers, method {method}, model {model}")
    rows = []
    for n in sizes:
        corpus = compose_corpus(work, n)
        figures = run_child("audit", corpus=corpus, n=n, model=card, method=method,
                            engine="local", out=work / f"memory-{n}")
        worker_kb = max([p["worker_kb"] for p in figures["peaks"]] + [figures["children_kb"]])
        rows.append((n, figures["main_kb"], worker_kb, n / figures["seconds"]))
        print(f"  {n:>6} drawings: peak RSS main {figures['main_kb'] / 1024:.0f} MB, largest "
              f"worker {worker_kb / 1024:.0f} MB, {n / figures['seconds']:.1f} drawings/s")
    # Within the largest run: the peaks so far as its rows were written (the same run seen at
    # 1,000, 5,000, ... drawings done).
    marks = [m for m in (1000, 2000, 5000, 10000, 20000, 50000) if m <= sizes[-1]]
    for mark in marks:
        seen = [p for p in figures["peaks"] if p["done"] >= mark]
        if seen:
            p = seen[0]
            print(f"    largest run, after {p['done']:>6} rows: peak RSS main "
                  f"{p['main_kb'] / 1024:.0f} MB, largest worker {p['worker_kb'] / 1024:.0f} MB")
    growth = rows[-1][1] / rows[0][1] - 1
    worker_growth = rows[-1][2] / rows[0][2] - 1 if rows[0][2] else 0.0
    flat = growth <= 0.1 and worker_growth <= 0.1
    print(f"  {sizes[0]:,} -> {sizes[-1]:,} drawings: main {growth:+.1%}, worker "
          f"{worker_growth:+.1%} (target flat, within 10%: {'met' if flat else 'missed'})")
    return {"rows": rows, "main_growth": growth, "worker_growth": worker_growth}


def report_scaling(work: Path, rows: int, seed: Path | None = None) -> dict:
    """write_report on a large table: the rows of a small real audit repeated (new indices), so
    the page's one streaming pass is timed at a size the other sections cannot reach here."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from sketchstudio.audit.report import write_report
    from sketchstudio.audit.results import read_results

    seed = seed or work / "report-seed"     # --report-seed: an audit folder already made
    if not (seed / "results.parquet").is_dir():
        run_child("audit", corpus=compose_corpus(work, 64), n=64, model="default",
                  method="live", engine="local", workers=1, out=seed)
    base = read_results(seed)
    big = work / "report-big"
    (big / "results.parquet").mkdir(parents=True, exist_ok=True)
    copies, written = -(-rows // base.num_rows), 0
    for c in range(copies):
        part = base.slice(0, min(base.num_rows, rows - written))
        index = pc.add(part.column("index"), pa.scalar(c * base.num_rows, pa.int64()))
        part = part.set_column(part.schema.get_field_index("index"), "index", index)
        pq.write_table(part, big / "results.parquet" / f"part-{c:06d}.parquet")
        written += part.num_rows
        if written >= rows:
            break
    from sketchstudio.audit.report_stats import collect

    cpu = _cpu_s()
    collect(big)
    pass_cpu = _cpu_s() - cpu
    write_report(big)
    cpu_s = _cpu_s() - cpu - pass_cpu
    print(f"\n== report: {written:,} rows; the streaming pass alone {pass_cpu:.1f} s CPU "
          f"({pass_cpu / written * 1e6:.0f} us per row); the whole write_report (the pass, "
          f"re-reading the sampled drawings, thumbnails) {cpu_s:.1f} s CPU; peak RSS "
          f"{_peak_kb(os.getpid()) / 1024:.0f} MB")
    return {"rows": written, "pass_us_per_row": pass_cpu / written * 1e6, "report_cpu_s": cpu_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
    parser.add_argument("--only", choices=("overhead", "ray", "memory", "report"),
                        action="append")
    parser.add_argument("--report-rows", type=int, help="report section size (default 200000)")
    parser.add_argument("--report-seed", help="an audit folder whose rows the report section "
                        "repeats (default: a 64-drawing audit made first)")
    parser.add_argument("--drawings", type=int, help="overhead corpus size (default 100)")
    parser.add_argument("--ray-drawings", type=int, help="Ray corpus size (default 200)")
    parser.add_argument("--repeats", type=int, help="interleaved rounds (default 3)")
    parser.add_argument("--sizes", help="memory corpus sizes (default 1000,5000,20000)")
    parser.add_argument("--method", default="live")
    parser.add_argument("--device", default="cpu",
                        help="cpu (default) or cuda: the overhead section's per-drawing cost")
    parser.add_argument("--memory-model", default="tiny", help="tiny (default) or a model id")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    for name in ("corpus", "model", "engine", "out"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--report", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        children = {"bare": child_bare, "startup": child_startup, "audit": child_audit}
        figures = children[args.child](args)
        print(json.dumps(figures))
        return 0

    quick = args.quick
    n = args.drawings or (16 if quick else 100)
    ray_n = args.ray_drawings or (32 if quick else 200)
    repeats = args.repeats or (2 if quick else 3)
    sizes = [int(s) for s in (args.sizes or ("200,1000" if quick else "1000,5000,20000"))
             .split(",")]
    sections = args.only or ["overhead", "ray", "memory", "report"]
    print(f"bench_audit: {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        work = Path(folder)
        if "overhead" in sections:
            overhead(work, n, repeats, args.method, args.device)
        if "ray" in sections:
            ray_scaling(work, ray_n, repeats, args.method)
        if "memory" in sections:
            memory(work, sizes, args.memory_model, args.method)
        if "report" in sections:
            report_scaling(work, args.report_rows or (20000 if quick else 200000),
                           Path(args.report_seed) if args.report_seed else None)
    print(f"\nload average at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
