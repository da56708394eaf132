"""Measures the built app: folder size, and start-up times (median of N launches).

    xvfb-run -a .venv/bin/python packaging/measure_start.py [--runs 3] [--cold]

- "first window": launch dist/SketchStudio/SketchStudio on the X display and poll (xwininfo, every
  20 ms) until its window is mapped and viewable. Needs an X server (xvfb-run) and x11-utils.
- "first explanation": `SketchStudio --open resources/demo/house.json --screenshot OUT.png`,
  offscreen: window, default model loaded, first explanation on screen, picture saved, exit.
- --cold drops the page cache before every launch (root on Linux only), so each launch reads the
  whole app from disk like the first launch after installing or booting.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dist" / "SketchStudio" / "SketchStudio"
DEMO = ROOT / "resources" / "demo" / "house.json"


def drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, XDG_CONFIG_HOME=str(home / "config"),
               SKETCHSTUDIO_DATA_DIR=str(home / "data"), **extra)
    env.pop("SKETCHSTUDIO_BUILTIN_MODELS", None)
    return env


def _viewable_window() -> bool:
    tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True).stdout
    # The main window: "Untitled — SketchStudio", WM_CLASS ("SketchStudio" "SketchStudio").
    for window_id in re.findall(r'^\s+(0x[0-9a-f]+) "[^"]*SketchStudio": \("SketchStudio"', tree,
                                re.MULTILINE):
        info = subprocess.run(["xwininfo", "-id", window_id], capture_output=True, text=True).stdout
        if "IsViewable" in info and re.search(r"Width: (\d{3,})", info):
            return True
    return False


def first_window(home: Path, timeout_s: float = 120.0) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen([str(APP)], env=_env(home, QT_QPA_PLATFORM="xcb"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while time.perf_counter() - start < timeout_s:
            if proc.poll() is not None:
                raise SystemExit(f"the app exited early: {proc.stderr.read().decode()[-2000:]}")
            if _viewable_window():
                return time.perf_counter() - start
            time.sleep(0.02)
        raise SystemExit("no window within the timeout")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def first_explanation(home: Path) -> float:
    out = home / "shot.png"
    start = time.perf_counter()
    result = subprocess.run([str(APP), "--open", str(DEMO), "--screenshot", str(out)],
                            env=_env(home, QT_QPA_PLATFORM="offscreen"), capture_output=True,
                            text=True, timeout=300)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(result.stderr[-2000:])
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()
    if not APP.is_file():
        print(f"no app at {APP}: run `make package`", file=sys.stderr)
        return 1
    size = subprocess.run(["du", "-sh", str(APP.parent)], capture_output=True, text=True).stdout
    print(f"size: {size.split()[0]}")
    measures = {"first explanation (offscreen)": first_explanation}
    if os.environ.get("DISPLAY"):
        measures = {"first window (X)": first_window, **measures}
    for name, measure in measures.items():
        times = []
        for _ in range(args.runs):
            if args.cold and not drop_caches():
                print("cannot drop the page cache (not root?): warm start only", file=sys.stderr)
                args.cold = False
            with tempfile.TemporaryDirectory() as home:
                times.append(measure(Path(home)))
        print(f"{name}{' cold' if args.cold else ''}: median {statistics.median(times):.2f} s "
              f"({', '.join(f'{t:.2f}' for t in times)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
