"""Small line icons drawn with QPainter (no image files to ship or theme).

Line work is drawn in one colour, the theme's (style.icon_colour): dark grey vanishes on dark tool
bars, so the window sets the colour and makes its icons again when the theme changes.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

ACCENT = QColor(178, 24, 43)
_line = QColor(52, 56, 66)      # the light theme's; set_line_colour follows the theme


def set_line_colour(colour: str | QColor) -> None:
    """The colour of the line work of icons made from now on."""
    global _line
    _line = QColor(colour)


def _pen(colour: QColor | None = None, width: float = 1.8) -> QPen:
    return QPen(colour if colour is not None else _line, width, Qt.PenStyle.SolidLine,
                Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)


def _pen_icon(p: QPainter) -> None:
    p.setPen(_pen())
    body = QPolygonF([QPointF(17, 3), QPointF(21, 7), QPointF(8, 20), QPointF(3, 21),
                      QPointF(4, 16)])
    p.drawPolygon(body)
    p.drawLine(QPointF(14.5, 5.5), QPointF(18.5, 9.5))


def _eraser_icon(p: QPainter) -> None:
    p.setPen(_pen())
    p.save()
    p.translate(12, 12)
    p.rotate(-40)
    p.drawRoundedRect(QRectF(-8, -5, 16, 10), 2, 2)
    p.drawLine(QPointF(-2, -5), QPointF(-2, 5))
    p.restore()
    p.drawLine(QPointF(9, 21), QPointF(21, 21))


def _select_icon(p: QPainter) -> None:
    p.setPen(_pen())
    arrow = QPolygonF([QPointF(5, 3), QPointF(5, 19), QPointF(9.5, 15), QPointF(12.5, 21.5),
                       QPointF(15, 20.5), QPointF(12, 14), QPointF(18, 14)])
    p.drawPolygon(arrow)


def _pan_icon(p: QPainter) -> None:
    p.setPen(_pen())
    p.drawLine(QPointF(12, 3), QPointF(12, 21))
    p.drawLine(QPointF(3, 12), QPointF(21, 12))
    for tip, a, b in (((12, 3), (9.5, 5.5), (14.5, 5.5)), ((12, 21), (9.5, 18.5), (14.5, 18.5)),
                      ((3, 12), (5.5, 9.5), (5.5, 14.5)), ((21, 12), (18.5, 9.5), (18.5, 14.5))):
        p.drawPolyline(QPolygonF([QPointF(*a), QPointF(*tip), QPointF(*b)]))


def _undo_icon(p: QPainter, mirror: bool = False) -> None:
    if mirror:
        p.translate(24, 0)
        p.scale(-1, 1)
    p.setPen(_pen())
    path = QPainterPath(QPointF(6, 10))
    path.cubicTo(QPointF(10, 5), QPointF(20, 6), QPointF(20, 14))
    path.cubicTo(QPointF(20, 18), QPointF(17, 20), QPointF(13, 20))
    p.drawPath(path)
    p.drawPolyline(QPolygonF([QPointF(5, 4), QPointF(6, 10), QPointF(12, 10.5)]))


def _fit_icon(p: QPainter) -> None:
    p.setPen(_pen())
    for x, y, dx, dy in ((4, 4, 1, 1), (20, 4, -1, 1), (4, 20, 1, -1), (20, 20, -1, -1)):
        p.drawPolyline(QPolygonF([QPointF(x + 5 * dx, y), QPointF(x, y), QPointF(x, y + 5 * dy)]))
    p.drawRect(QRectF(9, 9, 6, 6))


def _heat_icon(p: QPainter) -> None:
    colours = [QColor(33, 102, 172), QColor(170, 170, 170), QColor(178, 24, 43)]
    for k, c in enumerate(colours):
        p.setPen(_pen(c, 3.2))
        p.drawLine(QPointF(5 + 6 * k, 19), QPointF(7 + 6 * k, 5))


def _explain_icon(p: QPainter) -> None:
    p.setPen(_pen())
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(QRectF(4, 4, 11, 11))
    p.drawLine(QPointF(13.5, 13.5), QPointF(20, 20))
    p.setPen(_pen(ACCENT, 2.2))
    p.drawLine(QPointF(7, 11), QPointF(9.5, 7.5))


def _stop_icon(p: QPainter) -> None:
    p.setPen(_pen(ACCENT))
    p.drawLine(QPointF(7, 7), QPointF(17, 17))
    p.drawLine(QPointF(17, 7), QPointF(7, 17))


def _clear_icon(p: QPainter) -> None:
    p.setPen(_pen())
    p.drawRect(QRectF(6, 7, 12, 14))
    p.drawLine(QPointF(4, 7), QPointF(20, 7))
    p.drawLine(QPointF(10, 4), QPointF(14, 4))
    p.drawLine(QPointF(10, 10), QPointF(10, 18))
    p.drawLine(QPointF(14, 10), QPointF(14, 18))


_PAINTERS = {
    "pen": _pen_icon, "eraser": _eraser_icon, "select": _select_icon, "pan": _pan_icon,
    "undo": _undo_icon, "redo": lambda p: _undo_icon(p, True), "fit": _fit_icon,
    "heat": _heat_icon, "explain": _explain_icon, "stop": _stop_icon, "clear": _clear_icon,
}


def icon(name: str) -> QIcon:
    painter_fn = _PAINTERS.get(name)
    if painter_fn is None:
        return QIcon()
    result = QIcon()
    for scale in (1, 2):
        pixmap = QPixmap(24 * scale, 24 * scale)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter_fn(p)
        p.end()
        result.addPixmap(pixmap)
    return result
