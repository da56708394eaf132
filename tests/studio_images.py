"""Pictures in the studio's tests: a canvas to draw on, and pyqtgraph's reference-image check.

A rendered QImage is compared with a stored PNG in tests/reference/ pixel by pixel: a pixel differs
when any channel is off by more than `tolerance` levels (antialiasing and font hinting move a few
levels), and at most `max_fraction` of the pixels may differ. On a failure the actual image and an
amplified difference image are written to the test's tmp_path and named in the message.

To write the references anew (after a deliberate change of look), run the tests with
SKETCHSTUDIO_UPDATE_REFERENCES=1, then LOOK at every PNG that changed before committing it.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from sketchstudio.studio.canvas import SketchCanvas
from sketchstudio.studio.document import StudioDocument

REFERENCES = Path(__file__).resolve().parent / "reference"
UPDATE_ENV = "SKETCHSTUDIO_UPDATE_REFERENCES"


def open_canvas(qtbot, width: int = 600, height: int = 600) -> SketchCanvas:
    """A shown, fitted canvas on a new document, cleaned up with the test."""
    document = StudioDocument()
    canvas = SketchCanvas(document)
    qtbot.addWidget(canvas)
    canvas.resize(width, height)
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.fit()
    return canvas


def pen_canvas(qtbot, width: int = 600, height: int = 600) -> Iterator[SketchCanvas]:
    """For a fixture (`yield from pen_canvas(qtbot)`): an open canvas with the pen in hand, its
    tool and document released after the test."""
    from sketchstudio.studio.tools import PenTool

    view = open_canvas(qtbot, width, height)
    view.set_tool(PenTool(view))
    yield view
    view.set_tool(None)
    view.document.deleteLater()


def rgb_array(image: QImage) -> np.ndarray:
    """(H, W, 3) int16 pixels (int16: differences may be negative)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    row = image.bytesPerLine()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=row * image.height())
    return data.reshape(image.height(), row)[:, :image.width() * 3].reshape(
        image.height(), image.width(), 3).astype(np.int16)


def array_image(pixels: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(np.clip(pixels, 0, 255).astype(np.uint8))
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def differing_fraction(got: np.ndarray, want: np.ndarray, tolerance: int) -> float:
    return float((np.abs(got - want).max(axis=2) > tolerance).mean())


def assert_image_approved(image: QImage, name: str, out_dir: Path, tolerance: int = 32,
                          max_fraction: float = 0.005) -> None:
    """`image` matches tests/reference/`name`.png (see the module docstring)."""
    path = REFERENCES / f"{name}.png"
    if os.environ.get(UPDATE_ENV) == "1":
        image.save(str(path), "PNG")
    assert path.is_file(), f"no reference image {path} (run with {UPDATE_ENV}=1 and look at it)"
    got, want = rgb_array(image), rgb_array(QImage(str(path)))
    actual = Path(out_dir) / f"{name}.actual.png"
    if got.shape != want.shape:
        image.save(str(actual), "PNG")
        raise AssertionError(f"{name}: the image is {got.shape[1]}x{got.shape[0]}, the reference "
                             f"{want.shape[1]}x{want.shape[0]}; actual image: {actual}")
    differs = differing_fraction(got, want, tolerance)
    if differs > max_fraction:
        image.save(str(actual), "PNG")
        diff = Path(out_dir) / f"{name}.diff.png"
        # Amplified, so that a few levels of difference show; unchanged pixels are black.
        array_image(np.abs(got - want) * 4).save(str(diff), "PNG")
        raise AssertionError(
            f"{differs:.2%} of the pixels differ from {path.name} by more than {tolerance} levels "
            f"(at most {max_fraction:.2%} may); actual image: {actual}, difference: {diff}")
