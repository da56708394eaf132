"""Renders packaging/sketchstudio.svg to the PNG the build ships (packaging/sketchstudio.png).

Run after editing the SVG:  QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icon.py
"""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
SIZE = 256


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (fonts, etc.)
    renderer = QSvgRenderer(str(HERE / "sketchstudio.svg"))
    if not renderer.isValid():
        print("make_icon: sketchstudio.svg is not a valid SVG", file=sys.stderr)
        return 1
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    out = HERE / "sketchstudio.png"
    if not image.save(str(out), "PNG"):
        print(f"make_icon: cannot write {out}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
