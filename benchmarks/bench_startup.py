"""How long from launch until the studio's window is on screen, and until the first colour?

Launches, in interleaved rounds (each round runs each variant once, the order alternating from round
to round, so a machine that gets busier or quieter affects all alike):

    floor   a bare `python -c` that imports PySide6, shows a QMainWindow and exits on its first
            paint: no Python program can show a Qt window sooner on this machine;
    floor+pyqtgraph  the same after `import numpy, pyqtgraph` (the studio's plots): for reference,
            what a window that imports its plotting library before it shows costs;
    studio  `sketchstudio --open resources/demo/house.json`, which prints when its window has
            painted ("window-shown") and when the first explanation is on screen ("first-colour")
            with SKETCHSTUDIO_STARTUP_TRACE=exit (sketchstudio/studio/startup.py), then quits.

Times are measured from the launcher's own clock: time.monotonic() just before the process is
started, against the time.monotonic() the child prints (the same system-wide clock). Prints every
launch, then the medians and the ratio window/floor (target: 1.5x or less).

    .venv/bin/python benchmarks/bench_startup.py [--rounds 5] [--xvfb] [--open FILE]

Offscreen (QT_QPA_PLATFORM=offscreen) by default; --xvfb starts a private Xvfb and uses the xcb
platform, as a desktop would. The studio's launches share one fresh, private data and settings
folder (SKETCHSTUDIO_DATA_DIR, XDG_CONFIG_HOME): nothing of the user's is read or changed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo" / "house.json"
TARGET_RATIO = 1.5

# The floor: the least a Python program needs to show a Qt main window (same first-paint rule as
# the studio's trace: the event-loop turn after the window's first paint event).
FLOOR_CODE = """
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(QLabel("floor"))
window.resize(1280, 800)
def shown():
    print(f"window-shown {time.monotonic():.6f}", flush=True)
    app.quit()
class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            window.removeEventFilter(self)
            QTimer.singleShot(0, shown)
        return False
first_paint = FirstPaint()
window.installEventFilter(first_paint)
window.show()
sys.exit(app.exec())
"""

PLOTS_FLOOR_CODE = FLOOR_CODE.replace("import sys, time", "import sys, time, numpy, pyqtgraph")
STUDIO_CODE = "import sys; from sketchstudio.cli import main; sys.exit(main())"


@dataclass
class Launch:
    variant: str
    marks: dict[str, float] = field(default_factory=dict)   # event -> seconds after launch
    code: int | None = None
    error: str = ""
    torch_first = False      # torch was imported before the window was shown


def launch(variant: str, argv: list[str], env: dict[str, str], timeout_s: float) -> Launch:
    """Start `argv`, wait for it to end, read its "<event> <monotonic>" lines."""
    result = Launch(variant)
    started = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env, cwd=ROOT)
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        result.error = f"no exit within {timeout_s:.0f} s"
    result.code = process.returncode
    for line in out.splitlines():
        words = line.split()
        try:
            result.marks.setdefault(words[0], float(words[1]) - started)
        except (IndexError, ValueError):
            continue
        if words[0] == "window-shown" and "torch=1" in words:
            result.torch_first = True
    if process.returncode != 0 and not result.error:
        result.error = f"exit status {process.returncode}: {err.strip().splitlines()[-1:]}"
    return result


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """A private Xvfb; its display number comes back on a pipe (-displayfd), so none is guessed."""
    if shutil.which("Xvfb") is None:
        sys.exit("bench_startup: --xvfb needs Xvfb (Debian: apt install xvfb)")
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24",
                               "-nolisten", "tcp"], pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        sys.exit("bench_startup: Xvfb did not start")
    return server, f":{number}"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1,
                        help="uncounted rounds first (disk caches, the model's cost cache)")
    parser.add_argument("--open", type=Path, default=DEMO, help="the drawing the studio opens")
    parser.add_argument("--model", help="the studio's --model (default: the store's default)")
    parser.add_argument("--xvfb", action="store_true", help="a private Xvfb instead of offscreen")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per launch")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.pop("SKETCHSTUDIO_STARTUP_TRACE", None)
    data = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    server = None
    if args.xvfb:
        server, display = start_xvfb()
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    studio_env = dict(env, SKETCHSTUDIO_DATA_DIR=str(data), XDG_CONFIG_HOME=str(data / "config"),
                      SKETCHSTUDIO_STARTUP_TRACE="exit")
    studio_argv = [sys.executable, "-c", STUDIO_CODE, "--open", str(args.open)]
    if args.model:
        studio_argv += ["--model", args.model]
    variants = {"floor": ([sys.executable, "-c", FLOOR_CODE], env),
                "floor+pyqtgraph": ([sys.executable, "-c", PLOTS_FLOOR_CODE], env),
                "studio": (studio_argv, studio_env)}

    print(f"platform {env['QT_QPA_PLATFORM']}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; {args.rounds} rounds after {args.warmup} warm-up")
    runs: list[Launch] = []
    try:
        for number in range(args.warmup + args.rounds):
            order = list(variants) if number % 2 == 0 else list(reversed(variants))
            for name in order:
                argv_, env_ = variants[name]
                run = launch(name, argv_, env_, args.timeout)
                counted = number >= args.warmup
                marks = "  ".join(f"{event} {t:6.2f} s" for event, t in run.marks.items())
                print(f"{'round ' + str(number - args.warmup + 1) if counted else 'warm-up':>8}"
                      f"  {name:<15}  {marks}{'  (torch before the window)' * run.torch_first}"
                      f"  {run.error}", flush=True)
                if counted:
                    runs.append(run)
    finally:
        if server is not None:
            server.kill()
            server.wait()
        shutil.rmtree(data, ignore_errors=True)

    def times(variant: str, event: str) -> list[float]:
        return [r.marks[event] for r in runs if r.variant == variant and event in r.marks]

    floor = median(times("floor", "window-shown"))
    plots_floor = median(times("floor+pyqtgraph", "window-shown"))
    window = median(times("studio", "window-shown"))
    model = median(times("studio", "model-ready"))
    colour = median(times("studio", "first-colour"))
    failed = [r for r in runs if r.error]
    torch_first = sum(r.torch_first for r in runs)
    print(f"\nmedians over {args.rounds} rounds (launch to ...):")
    print(f"  floor (bare PySide6 window)      {floor:6.2f} s")
    print(f"  floor + import numpy, pyqtgraph  {plots_floor:6.2f} s   {plots_floor / floor:.2f}x")
    print(f"  studio window shown              {window:6.2f} s   {window / floor:.2f}x the floor "
          f"(target {TARGET_RATIO}x: {'met' if window <= TARGET_RATIO * floor else 'missed'})")
    print(f"  studio model ready               {model:6.2f} s")
    print(f"  studio first colour              {colour:6.2f} s")
    if torch_first:
        print(f"  torch was imported before the window in {torch_first} studio launch(es)")
    if failed:
        print(f"{len(failed)} launch(es) failed: {failed[0].variant}: {failed[0].error}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
