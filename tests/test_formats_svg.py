"""SVG import of files as drawing programs write them, and refusal of hostile or broken ones."""
from __future__ import annotations

import numpy as np
import pytest

from sketchstudio.sketch import Sketch, Stroke
from sketchstudio.sketch.io import SketchFileError, load_sketch, save_sketch

INKSCAPE = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<svg xmlns="http://www.w3.org/2000/svg"
   xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
   xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
   width="210mm" height="297mm" viewBox="0 0 210 297" version="1.1">
  <sodipodi:namedview id="base" inkscape:zoom="0.35"/>
  <defs><path id="hidden-template" d="M 0 0 L 99 99"/></defs>
  <g inkscape:label="Layer 1" inkscape:groupmode="layer" transform="translate(10,20)">
    <path style="fill:none;stroke:#000000;stroke-width:0.26" d="m 0,0 h 10 v 10"/>
    <path d="M 0 0 C 0 10 10 10 10 0" id="curve"/>
    <path d="M 50 50 L 60 50 M 70 70 L 80 80" id="two-subpaths"/>
    <path d="M 5 5 L 6 6" style="display:none"/>
  </g>
  <use href="#curve" transform="translate(100 0)"/>
</svg>
"""

ILLUSTRATOR = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg version="1.1" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     x="0px" y="0px" viewBox="0 0 200 100" xml:space="preserve">
<g>
  <polyline fill="none" stroke="#000000" points="10,10 20,20 30,10"/>
  <polygon fill="none" stroke="#000000" points="0,0 10,0 10,10"/>
  <line fill="none" stroke="#000000" x1="0" y1="50" x2="100" y2="50" transform="scale(2)"/>
  <rect x="0" y="0" width="10" height="5"/>
  <circle cx="50" cy="50" r="10"/>
</g>
</svg>
"""

KRITA = """<?xml version="1.0" standalone="no"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:krita="http://krita.org/namespaces/svg/krita"
    width="307.2pt" height="230.4pt" viewBox="0 0 307.2 230.4">
<defs/>
<path id="p0" transform="matrix(0 1 -1 0 100 0)" fill="none" stroke="#000000"
    d="M0 0L10 0Q15 5 20 0"/>
</svg>
"""


def _write(tmp_path, text: str, name: str = "in.svg"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_inkscape_document(tmp_path):
    sketch = load_sketch(_write(tmp_path, INKSCAPE))
    # h/v path, curve, two subpaths (two strokes), the <use> copy; not <defs> nor display:none.
    assert len(sketch) == 5
    assert sketch[0].points.tolist() == [[10, 20], [20, 20], [20, 30]]   # layer transform applied
    curve = sketch[1].points
    assert len(curve) > 8   # the Bezier is flattened
    assert curve[0].tolist() == [10, 20] and np.allclose(curve[-1], [20, 20])
    assert curve[:, 1].max() == pytest.approx(27.5, abs=0.1)   # within 1e-3 of the drawing size
    assert [s.points.tolist() for s in sketch[2:4]] == [[[60, 70], [70, 70]], [[80, 90], [90, 100]]]
    # <use> draws the referenced path with its own transform, not its original layer's.
    np.testing.assert_allclose(sketch[4].points, sketch[1].points - [10, 20] + [100, 0])


def test_illustrator_document_with_doctype(tmp_path):
    sketch = load_sketch(_write(tmp_path, ILLUSTRATOR))
    assert len(sketch) == 5
    assert sketch[0].points.tolist() == [[10, 10], [20, 20], [30, 10]]
    assert sketch[1].points.tolist() == [[0, 0], [10, 0], [10, 10], [0, 0]]   # polygon closes
    assert sketch[2].points.tolist() == [[0, 100], [200, 100]]
    assert len(sketch[3]) == 5 and len(sketch[4]) > 16
    assert np.allclose(np.hypot(*(sketch[4].points - [50, 50]).T), 10, atol=0.02)


def test_krita_document_uses_user_units_and_matrix(tmp_path):
    sketch = load_sketch(_write(tmp_path, KRITA))
    assert len(sketch) == 1
    # pt sizes and the viewBox are ignored: coordinates are the file's user units.
    assert sketch[0].points[:2].tolist() == [[100, 0], [100, 10]]
    assert np.allclose(sketch[0].points[-1], [100, 20])


def test_dots_and_channels_survive_export(tmp_path):
    sketch = Sketch((Stroke([[1, 1]], pressure=[0.5]), Stroke([[0, 0], [2, 2]], time=[0, 16])),
                    {"word": "dot", "n": [1, 2]})
    save_sketch(tmp_path / "s.svg", sketch)
    assert load_sketch(tmp_path / "s.svg") == sketch


def test_stale_channels_are_dropped_not_trusted(tmp_path):
    path = _write(tmp_path, '<svg xmlns="http://www.w3.org/2000/svg">'
                            '<path d="M 0 0 L 1 1 L 2 2" data-time="0 5"/></svg>')
    assert load_sketch(path)[0].time is None


def test_empty_svg_is_an_empty_sketch(tmp_path):
    assert len(load_sketch(_write(tmp_path, '<svg xmlns="http://www.w3.org/2000/svg"/>'))) == 0


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE svg [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<svg xmlns="http://www.w3.org/2000/svg"><title>&lol3;</title></svg>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg"><title>&xxe;</title></svg>
"""


@pytest.mark.parametrize("text, message", [
    (BILLION_LAUGHS, "in.svg:3: refused: the file declares XML entities"),
    (XXE, "in.svg:2: refused"),
    ('<svg xmlns="http://www.w3.org/2000/svg">\n<path d="M 0 0 L 10"/></svg>',
     "in.svg:2: <path> has malformed or truncated path data"),
    ('<svg xmlns="http://www.w3.org/2000/svg">\n\n<path id="a" d="M 0 0 L 1 1 xyz"/></svg>',
     """in.svg:3: <path> id="a" has malformed or truncated path data: unexpected 'xyz'"""),
    ('<svg xmlns="http://www.w3.org/2000/svg"><path d="L 1 1"/></svg>', "start with a moveto"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><polyline points="1 2 3"/></svg>',
     "malformed or truncated points"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><line x1="abc" x2="1"/></svg>', "malformed x1='abc'"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><g transform="rotate(45"><path d="M0 0 L1 1"/></g>'
     "</svg>", "malformed transform='rotate(45'"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><path d="M 0 0 L 1e400 0"/></svg>',
     "<path>: stroke points contain NaN or infinity"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><metadata id="sketchstudio-metadata">{"a":</metadata>'
     "</svg>", "<metadata>: invalid JSON"),
    ('<html><body/></html>', "not an SVG document (the root element is <html>)"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><path d="M 0 0 L 1 1"/>',
     "in.svg:1: not well-formed XML"),
])
def test_refused_with_one_clear_line(tmp_path, text, message):
    with pytest.raises(SketchFileError) as info:
        load_sketch(_write(tmp_path, text))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_size_limit(tmp_path):
    path = tmp_path / "big.svg"
    path.write_bytes(b"<svg>" + b" " * (21 * 1024 * 1024) + b"</svg>")
    with pytest.raises(SketchFileError, match="larger than the 20 MB limit"):
        load_sketch(path)
