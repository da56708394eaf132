"""Stress: a 1,000-stroke sketch, then 100 edits per second for 10 seconds while live attribution
runs.

The studio (offscreen, autosave on) opens a sheet of 1,000 real strokes; a precise 10 ms timer then
applies edits at 100 per second — add a stroke, move one, erase one, undo — catching up if the loop
falls behind, so the rate is the rate. Every edit starts a live explanation in the worker with the
studio's chosen method (`live` by default: occlusion within a budget, else few-step `sla`),
cancelling the one before, and a journal write (throttled). Measured:

  - event-loop stall: how late a 5 ms heartbeat fires (target: max < 100 ms);
  - memory: resident set size before, at its peak and after (target: growth < 300 MB);
  - the final heat colours equal a fresh `explain()` of the final document with the method the
    studio was asked for (compared once the last recolour slice is applied: `canvas.heat_pending`);
  - the autosave journal holds the final document.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_stress.py [--seconds 10 --rate 100]

Exit status 0 when every target holds, 1 otherwise. Uses the built-in default model when it is
installed, else the stand-in of bench_studio_stall.py.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
from _heartbeat import Heartbeat  # noqa: E402
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

HEARTBEAT_MS = 5
SETTLE_SECONDS = 60.0
STALL_TARGET_MS = 100.0
RSS_TARGET_MB = 300.0


def rss_mb() -> float:
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wait_until(app: QCoreApplication, ready: Callable[[], bool], seconds: float) -> bool:
    """Run the event loop until `ready()` (re-checked after every batch of events) or `seconds`
    pass; whether it became ready. Blocks between events, so it neither sleeps nor spins."""
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.start(int(seconds * 1000))     # its timeout is an event too: the wait ends
    while not ready() and deadline.isActive():
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    return ready()


def sheet(n: int):
    """n real strokes (Quick, Draw!, laid out on a grid) or scribbles when the data is absent."""
    from bench_studio_stall import real_strokes

    from sketchstudio.sketch import Sketch

    return Sketch(tuple(real_strokes(n)))


class Editor:
    """Edits at a fixed rate: add, move, erase, undo, in turn (catching up when late)."""

    def __init__(self, window, rate: float, seconds: float, seed: int = 0) -> None:
        self.window, self.rate, self.seconds = window, rate, seconds
        self.rng = np.random.default_rng(seed)
        self.done = 0
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(max(1, int(1000 / rate)))
        self.timer.timeout.connect(self.tick)
        self.finished = False

    def start(self) -> None:
        self.clock.start()
        self.timer.start()

    def tick(self) -> None:
        due = min(int(self.clock.elapsed() / 1000 * self.rate), int(self.rate * self.seconds))
        while self.done < due:
            self.edit(self.done)
            self.done += 1
        if self.done >= int(self.rate * self.seconds):
            self.timer.stop()
            self.finished = True

    def edit(self, k: int) -> None:
        from sketchstudio.sketch import Stroke

        document = self.window.document
        sketch = document.sketch
        kind = k % 4
        if kind == 0 or len(sketch) < 2:
            start = self.rng.uniform(0, 1000, 2)
            walk = np.cumsum(self.rng.normal(0, 6, (12, 2)), axis=0) + start
            document.apply(sketch.add_stroke(Stroke(walk)), "Draw")
        elif kind == 1:
            i = int(self.rng.integers(len(sketch)))
            shift = self.rng.normal(0, 4, 2)
            moved = sketch.strokes[i].with_points(sketch.strokes[i].points + shift)
            strokes = list(sketch.strokes)
            strokes[i] = moved
            document.apply(sketch.with_strokes(strokes), "Move", (i,))
        elif kind == 2:
            document.apply(sketch.remove_strokes([int(self.rng.integers(len(sketch)))]), "Erase")
        else:
            document.undo_stack.undo()


def final_colours_match(window, model_source: str, device: str) -> tuple[bool, str]:
    from sketchstudio.explain import explain
    from sketchstudio.explain.colormap import heat_rgb
    from sketchstudio.models import load_model

    if window.last_result is None or window.last_result[0] is not window.document.sketch:
        return False, "the last explanation is not of the final document"
    if window.canvas.heat_pending:
        return False, f"the heat colours were still being applied after {SETTLE_SECONDS:.0f} s"
    sketch, shown = window.last_result
    # The method the studio was asked for (`live` resolves to occlusion or few-step sla by the
    # model's counted cost and the stroke count, so the same sketch resolves the same here).
    method = window.state.method
    reference = explain(sketch, load_model(model_source, device=device), method=method)
    if reference.method != shown.method:
        return False, f"the studio ran {shown.method}, explain() ran {reference.method}"
    scale = window.explainer.heat.scale
    want = heat_rgb(np.asarray(reference.strokes, dtype=float), scale).astype(int)
    got = np.array([(c.red(), c.green(), c.blue()) for c in window.canvas.stroke_colours()])
    if got.shape != want.shape:
        return False, f"{len(got)} coloured strokes for {len(want)} strokes"
    worst = int(np.abs(got - want).max()) if len(got) else 0
    values = float(np.abs(np.asarray(shown.strokes) - reference.strokes).max())
    return worst <= 1, (f"{shown.method}: max colour difference {worst}/255, "
                        f"max value difference {values:.2g}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="edits per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--model", default=None, help="store id or card (default: see above)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    data = tempfile.TemporaryDirectory(prefix="bench-stress-")
    os.environ["SKETCHSTUDIO_DATA_DIR"] = data.name
    os.environ["XDG_CONFIG_HOME"] = str(Path(data.name) / "config")
    app = QApplication.instance() or QApplication([])
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope,
                      str(Path(data.name) / "config"))
    from bench_studio_stall import stand_in_model

    from sketchstudio.explain import explain
    from sketchstudio.models import builtin_models_dir, load_model
    from sketchstudio.sketch.io import load_document
    from sketchstudio.studio.main_window import MainWindow

    source = args.model
    if source is None:
        default = builtin_models_dir() / "default" / "card.toml"
        source = str(default) if default.is_file() else stand_in_model(Path(data.name))

    big = sheet(args.strokes)
    model = load_model(source, device=args.device)
    for method in ("sla-grad", "sla", "occlusion", "live"):
        started = time.perf_counter()
        result = explain(big, model, method=method)
        took_ms = (time.perf_counter() - started) * 1000
        print(f"{len(big)}-stroke sketch, {method}: {took_ms:.0f} ms, "
              f"{len(result.strokes)} values, finite: {bool(np.isfinite(result.strokes).all())}")
    del model

    window = MainWindow(device=args.device, persist=True)   # persist: autosave on, as for users
    window.resize(1280, 800)
    window.show()
    shown = []
    window.explanationShown.connect(lambda: shown.append(time.perf_counter()))
    errors: list[str] = []
    window.errorShown.connect(errors.append)
    loaded: list = []
    window.modelReady.connect(loaded.append)    # the ModelInfo, once the model is in
    window.start(model=source)
    if not wait_until(app, lambda: bool(loaded), 120):
        print(f"FAIL: no model after 120 s ({window.last_error})")
        window.shutdown()
        return 1
    window.document.apply(big, "Import")
    window.canvas.reset_page(big)
    wait_until(app, lambda: window.last_result is not None and window.last_result[0] is big,
               SETTLE_SECONDS)

    rss_before = rss_mb()
    rss_peak = [rss_before]

    def sample_rss(beats: int) -> None:
        if beats % 20 == 0:
            rss_peak[0] = max(rss_peak[0], rss_mb())

    heartbeat = Heartbeat(HEARTBEAT_MS, sample_rss)
    editor = Editor(window, args.rate, args.seconds)
    shown.clear()
    heartbeat.start()
    editor.start()
    started = time.perf_counter()
    wait_until(app, lambda: editor.finished, args.seconds * 10 + 60)
    edit_seconds = time.perf_counter() - started
    explained_during = len(shown)
    # Let the last explanation land and its colours be applied: a large drawing is recoloured a
    # slice per event-loop turn, and `heat_pending` says whether slices are still to come.
    wait_until(app, lambda: (window.last_result is not None
                             and window.last_result[0] is window.document.sketch
                             and not window.canvas.heat_pending), SETTLE_SECONDS)
    heartbeat.stop()
    assert window.autosave is not None      # persist=True
    window.autosave.flush()
    window.autosave.wait_idle()
    journal_ok = len(load_document(window.autosave.path).sketch) == len(window.document.sketch)
    rss_after = rss_mb()
    ok_colours, colour_note = final_colours_match(window, source, args.device)

    growth = max(rss_peak[0], rss_after) - rss_before
    print(f"model: {loaded[0].name} on {loaded[0].device}")
    print(f"edits: {editor.done} in {edit_seconds:.1f} s ({editor.done / edit_seconds:.0f}/s) on a "
          f"{args.strokes}-stroke sketch; final strokes {len(window.document.sketch)}; "
          f"explanations shown during the edits: {explained_during}")
    print(heartbeat.summary(STALL_TARGET_MS))
    print(f"RSS: {rss_before:.0f} MB before, peak {rss_peak[0]:.0f} MB, {rss_after:.0f} MB after "
          f"(growth {growth:.0f} MB, target < {RSS_TARGET_MB:.0f} MB)")
    print(f"final heat colours match explain(method={window.state.method!r}) of the final "
          f"document: {ok_colours} ({colour_note})")
    print(f"autosave journal holds the final document: {journal_ok}; errors shown: {len(errors)}")
    window.shutdown()
    window.deleteLater()
    app.processEvents()
    data.cleanup()
    passed = (max(heartbeat.stalls) < STALL_TARGET_MS and growth < RSS_TARGET_MB and ok_colours
              and journal_ok and not errors)
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
