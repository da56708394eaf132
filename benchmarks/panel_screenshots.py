"""Remake docs/panel-*.png: the real studio at 1280x800, every task panel in use.

Under a real X server (Xvfb), as a person would see it; the window is driven through its own
API (models chosen, panels run) and the screen is captured with ImageMagick's `import`:

    Xvfb :98 -screen 0 1280x800x24 &
    DISPLAY=:98 QT_QPA_PLATFORM=xcb .venv/bin/python benchmarks/panel_screenshots.py

Without a DISPLAY it falls back to the offscreen platform and `QWidget.grab()` (no window frame
either way: Xvfb runs no window manager). Data folder, model store and settings live in a
temporary folder, so the user's own are never read or changed. The Retrieve gallery is a folder
of links to 40 Quick, Draw! class files of ../shared/data (CC BY 4.0, Google); nothing is copied.
The dark-theme picture is taken by a second run of this script with SKETCHSTUDIO_THEME=dark.

    --only classify,assist   take only these panels      --out DIR   where the PNGs go (docs/)
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHOTS = ("classify", "assist", "attack", "retrieve", "generate")
WAIT_S = 240.0        # a model load or a tool run on a busy 2-core machine
GALLERY_CLASSES = 40


def private_folders(base: Path) -> None:
    """Store, data and settings in `base`: the user's are untouched (as tests/conftest.py)."""
    os.environ["SKETCHSTUDIO_DATA_DIR"] = str(base / "data")
    os.environ["XDG_CONFIG_HOME"] = str(base / "config")
    os.environ.pop("SKETCHSTUDIO_DEVICE", None)


def gallery_folder(base: Path) -> Path:
    """A folder of links to the first GALLERY_CLASSES class files of the shared data, plus house."""
    source = ROOT.parent / "shared" / "data" / "quickdraw" / "simplified"
    files = sorted(source.glob("*.ndjson"))
    chosen = files[:GALLERY_CLASSES] + [f for f in files if f.stem in ("house", "barn", "church")]
    folder = base / "quickdraw gallery"
    folder.mkdir(exist_ok=True)
    for path in chosen:
        link = folder / path.name
        if not link.exists():
            link.symlink_to(path)
    return folder


class Driver:
    def __init__(self, out: Path) -> None:
        from PySide6.QtWidgets import QApplication

        from sketchstudio.studio.app import _application
        from sketchstudio.studio.main_window import MainWindow

        self.out = out
        self.app: QApplication = _application("sketchstudio")
        self.window = MainWindow(device="cpu", persist=False)
        self.window.resize(1280, 800)
        self.window.move(0, 0)
        self.window.show()
        self.window.errorShown.connect(lambda *a: print("error shown:", a, file=sys.stderr))

    def wait(self, ready: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
        """Run the event loop until `ready()` (checked every 50 ms)."""
        from PySide6.QtCore import QEventLoop, QTimer

        deadline = time.monotonic() + timeout_s
        while not ready():
            if time.monotonic() > deadline:
                raise SystemExit(f"panel_screenshots: timed out waiting for {what}")
            loop = QEventLoop()
            QTimer.singleShot(50, loop.quit)
            loop.exec()

    def settle(self, seconds: float = 0.6) -> None:
        end = time.monotonic() + seconds
        self.wait(lambda: time.monotonic() > end, "a repaint")

    def idle(self) -> None:
        """No explanation, curve or tool run in flight."""
        w = self.window
        self.wait(lambda: not w.explainer.running and not w.tasks.running
                  and not w.explainer.curve_pending, "the studio to be idle")

    def shoot(self, name: str) -> Path:
        self.idle()
        self.settle()
        path = self.out / f"{name}.png"
        if self.app.platformName() == "xcb" and shutil.which("import"):
            subprocess.run(["import", "-window", "root", str(path)], check=True)
        else:
            self.window.grab().save(str(path))
        print(f"wrote {path}")
        return path

    def panel(self, title: str):
        w = self.window
        panel = next(p for p in w.panels if p.title == title)
        w.panel_tabs.setCurrentIndex(w.panels.index(panel))
        return panel

    def load(self, model: str) -> None:
        w = self.window
        w.models.choose(model)
        self.wait(lambda: w.state.model is not None and w.state.model.id == model,
                  f"model {model}")
        self.idle()


def classify(d: Driver, suffix: str = "") -> None:
    w = d.window
    d.wait(lambda: w.last_result is not None, "the first explanation")
    d.panel("Classify")
    d.shoot("panel-classify" + suffix)


def assist(d: Driver) -> None:
    panel = d.panel("Assist")
    panel.start()
    d.wait(lambda: panel.result is not None or not panel.running, "assist")
    if panel.hint_list.count():
        panel.hint_list.setCurrentRow(0)
    d.shoot("panel-assist")


def attack(d: Driver) -> None:
    panel = d.panel("Attack")
    panel.start()
    d.wait(lambda: panel.result is not None or not panel.running, "attack")
    d.shoot("panel-attack")


def retrieve(d: Driver, gallery: Path) -> None:
    w = d.window
    d.load("default-embed")
    panel = d.panel("Retrieve")
    panel.open(gallery)
    d.wait(lambda: panel.found_sketch is w.document.sketch, "the gallery search")
    panel.results.setCurrentRow(0)       # as a click does: the match is explained
    d.wait(lambda: w.last_result is not None and w.last_result[1].objective == "cosine",
           "the match's explanation")
    d.shoot("panel-retrieve")


def generate(d: Driver) -> None:
    import numpy as np

    w = d.window
    d.load("default-generate")
    panel = d.panel("Generate")
    d.wait(lambda: panel.output is not None, "the generator's output")
    added = panel.output.added_ink()
    ys, xs = np.nonzero(added > 0.5)
    if len(xs):      # click the middle of what it filled, as a user would
        k = len(xs) // 2
        panel.view.clicked.emit(float(xs[k]) + 0.5, float(ys[k]) + 0.5)
    else:
        panel.explain_whole()
    d.wait(lambda: w.last_result is not None
           and w.last_result[1].objective == "region-mean", "the region's explanation")
    d.shoot("panel-generate")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SHOTS))
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--drawing", default=str(ROOT / "resources" / "demo" / "house.json"))
    parser.add_argument("--no-dark", action="store_true", help="skip the dark-theme run")
    args = parser.parse_args(argv)
    wanted = [s for s in args.only.split(",") if s]
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args.out.mkdir(parents=True, exist_ok=True)
    dark = os.environ.get("SKETCHSTUDIO_THEME") == "dark"
    with tempfile.TemporaryDirectory(prefix="panel-shots-") as tmp:
        base = Path(tmp)
        private_folders(base)
        d = Driver(args.out)
        d.window.start(model="default", open_path=args.drawing)
        d.wait(lambda: d.window.state.model is not None, "the default classifier")
        if dark:
            classify(d, "-dark")
            wanted = []
        for name in wanted:
            if name == "retrieve":
                retrieve(d, gallery_folder(base))
            elif name == "generate":
                generate(d)
            else:
                {"classify": classify, "assist": assist, "attack": attack}[name](d)
            if name in ("retrieve", "generate"):
                d.load("default")          # back to the classifier for what follows
        d.window.shutdown()
    if not dark and not args.no_dark and "classify" in wanted:
        env = dict(os.environ, SKETCHSTUDIO_THEME="dark")
        return subprocess.run([sys.executable, __file__, "--out", str(args.out),
                               "--drawing", args.drawing], env=env).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
