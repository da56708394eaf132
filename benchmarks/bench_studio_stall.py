"""How long does the studio's event loop stall while strokes are explained live?

A 10 ms heartbeat QTimer runs in the GUI thread while strokes are added one by one, as pen-ups would
add them (each edit starts a live explanation in the worker, cancelling the previous one,
and each result recolours the strokes and updates the plots). A stall is how late a heartbeat fires
beyond its 10 ms period. Target: max stall < 50 ms on CPU.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_studio_stall.py [--strokes 80]

Uses the built-in default model when it is installed, else a stand-in with the default model's
architecture (SketchCNN, 345 classes, 64x64 input, untrained: the cost is the same). Drawings are
real Quick, Draw! strokes from ../shared/data when present, else synthetic scribbles.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
from _heartbeat import Heartbeat  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from sketchstudio.sketch import Stroke  # noqa: E402

HEARTBEAT_MS = 10


def stand_in_model(folder: Path) -> str:
    import tomli_w

    from sketchstudio.training.model import SketchCNN, export_torchscript

    model = SketchCNN(345)
    model.eval()
    export_torchscript(model, folder / "model.pt")
    card = {"name": "Stand-in SketchCNN (untrained)", "task": "classify", "file": "model.pt",
            "labels": [f"class {i}" for i in range(345)],
            "input": {"size": 64, "channels": 1, "ink": "light-on-dark", "sigma": 1.0,
                      "fit": "center", "margin": 0.08}}
    (folder / "card.toml").write_text(tomli_w.dumps(card), encoding="utf-8")
    return str(folder / "card.toml")


def real_strokes(limit: int) -> list[Stroke]:
    """Strokes of real drawings, laid out on a grid (a big sheet being filled in)."""
    folder = ROOT.parent / "shared" / "data" / "quickdraw" / "simplified"
    strokes: list[Stroke] = []
    if folder.is_dir():
        from sketchstudio.sketch.io import iter_sketches

        for k, path in enumerate(sorted(folder.glob("*.ndjson"))[::17]):
            drawing = next(iter(iter_sketches(path)))
            dx, dy = (k % 4) * 300.0, (k // 4) * 300.0
            strokes += [s.with_points(s.points + (dx, dy)) for s in drawing.strokes]
            if len(strokes) >= limit:
                return strokes[:limit]
    rng = np.random.default_rng(0)
    while len(strokes) < limit:
        start = rng.uniform(0, 1000, 2)
        walk = np.cumsum(rng.normal(0, 6, (30, 2)), axis=0) + start
        strokes.append(Stroke(walk))
    return strokes[:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=80)
    parser.add_argument("--interval", type=int, default=120, help="ms between pen-ups")
    parser.add_argument("--model", default=None, help="store id or card (default: see above)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--method", default="live", help="the chosen method, rerun after every "
                        "stroke (default live)")
    args = parser.parse_args()

    data = tempfile.TemporaryDirectory(prefix="bench-studio-")
    os.environ.setdefault("SKETCHSTUDIO_DATA_DIR", data.name)
    app = QApplication.instance() or QApplication([])
    from sketchstudio.models import builtin_models_dir
    from sketchstudio.studio.main_window import MainWindow

    source = args.model
    if source is None:
        default = builtin_models_dir() / "default" / "card.toml"
        source = str(default) if default.is_file() else stand_in_model(Path(data.name))
    window = MainWindow(device=args.device, persist=False)
    window.state.set_method(args.method)
    window.resize(1280, 800)
    window.show()
    loaded = []
    window.modelReady.connect(loaded.append)
    window.modelError.connect(lambda message: (print("model:", message), app.exit(2)))
    window.start(model=source)
    deadline = time.monotonic() + 120
    while not loaded and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    if not loaded:
        print("the model did not load", file=sys.stderr)
        return 2
    info = loaded[0]

    strokes = real_strokes(args.strokes)
    latencies: list[float] = []
    shown = [0]

    def on_shown() -> None:
        shown[0] += 1
        latencies.append(window.last_result[1].elapsed_ms)

    window.explanationShown.connect(on_shown)
    heartbeat = Heartbeat(HEARTBEAT_MS)
    added = [0]

    def add_stroke() -> None:
        if added[0] >= len(strokes):
            adder.stop()
            QTimer.singleShot(1500, lambda: app.exit(0))   # let the last explanation land
            return
        sketch = window.document.sketch
        window.document.apply(sketch.add_stroke(strokes[added[0]]), "Draw stroke")
        added[0] += 1

    adder = QTimer()
    adder.setInterval(args.interval)
    adder.timeout.connect(add_stroke)
    heartbeat.start()
    adder.start()
    app.exec()
    heartbeat.stop()

    print(f"model: {info.name} ({info.spec.size}x{info.spec.size}, {len(info.labels)} classes) "
          f"on {info.device}; torch threads: {torch_threads()}")
    print(f"strokes added: {added[0]} every {args.interval} ms; explanations shown: {shown[0]}; "
          f"attribution latency median {statistics.median(latencies):.0f} ms, "
          f"max {max(latencies):.0f} ms")
    print(heartbeat.summary(50))
    window.shutdown()
    window.deleteLater()
    app.processEvents()
    data.cleanup()
    return 0


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    sys.exit(main())
