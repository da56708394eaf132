"""Reliability, item 3: fuzz every importer (ndjson, npz, svg, native json, model card TOML).

Structured generators (hypothesis) build inputs that get past the first checks of each format,
mixed with raw and damaged bytes. Every input must either load or raise the format's one-line error
(SketchFileError / UserError); anything else — another exception, a crash, a hang — fails.

The suite runs a modest number per format; `make fuzz` runs 10,000 per format:

    SKETCHSTUDIO_FUZZ_EXAMPLES=10000 .venv/bin/python -m pytest tests/test_reliability_fuzz.py \
        -q -p no:cacheprovider --hypothesis-show-statistics

Size limits and XML attacks (billion laughs, external entities, 20 MB+ files, zip bombs) have
their own tests at the end.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import time
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Issue 19's metadata class: the raw-file builders and the round-trip check live with its tests.
from test_safety_formats_roundtrip import (
    _build,
    check_round_trip,
    drawings,
    raw_attribution,
    raw_metadata,
)

from sketchstudio.errors import UserError
from sketchstudio.models import load_card
from sketchstudio.sketch.io import SketchFileError, count_sketches, iter_sketches, load_document

pytestmark = pytest.mark.slow  # thousands of generated files

EXAMPLES = int(os.environ.get("SKETCHSTUDIO_FUZZ_EXAMPLES", "40"))
# Under the fuzz run a slow input is a failure (a hang); in the suite the shared CPU decides.
DEADLINE = 5000 if EXAMPLES >= 1000 else None
FUZZ = settings(max_examples=EXAMPLES, deadline=DEADLINE, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
COUNTS: Counter = Counter()
_FOLDER = Path(tempfile.mkdtemp(prefix="sketchstudio-fuzz-"))


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    path = os.environ.get("SKETCHSTUDIO_FUZZ_REPORT")
    if path:
        Path(path).write_text(json.dumps(dict(COUNTS), indent=1))
    print("\nfuzzed inputs per format:", dict(COUNTS))


def _file(suffix: str, data: bytes) -> Path:
    path = _FOLDER / f"input{suffix}"
    path.write_bytes(data)
    return path


def _read_all(path: Path, kind: str) -> None:
    """Every reading entry point; only the one-line file error may escape."""
    COUNTS[kind] += 1
    for read in (count_sketches, lambda p: list(iter_sketches(p)), load_document):
        try:
            read(path)
        except SketchFileError as exc:
            text = str(exc)
            assert "\n" not in text and text.startswith(str(path)), text


numbers = (st.integers(-10**6, 10**6) | st.floats(allow_nan=True, allow_infinity=True)
           | st.floats(-1e4, 1e4))
json_scalars = st.none() | st.booleans() | numbers | st.text(max_size=6)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=5), max_leaves=30)
stroke_lists = st.lists(st.lists(st.lists(numbers, max_size=6), min_size=0, max_size=4),
                        max_size=5)


def _damage(draw, data: bytes) -> bytes:
    how = draw(st.sampled_from(["as is", "as is", "truncate", "flip", "insert"]))
    if not data or how == "as is":
        return data
    at = draw(st.integers(0, len(data) - 1))
    if how == "truncate":
        return data[:at]
    if how == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    return data[:at] + draw(st.binary(max_size=8)) + data[at:]


def _json_bytes(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


# --- ndjson --------------------------------------------------------------------------------------
@st.composite
def ndjson_files(draw) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["drawing", "drawing", "json", "bytes"]))
        if kind == "drawing":
            record = {"word": draw(st.text(max_size=8)), "drawing": draw(stroke_lists)}
            record.update(draw(st.dictionaries(st.sampled_from(
                ["key_id", "countrycode", "recognized", "timestamp", "drawing"]), json_values,
                max_size=2)))
            lines.append(_json_bytes(record))
        elif kind == "json":
            lines.append(_json_bytes(draw(json_values)))
        else:
            lines.append(draw(st.binary(max_size=40)))
    return _damage(draw, b"\n".join(lines))


# --- npz (sketch-rnn stroke-3) --------------------------------------------------------------------
array_dtypes = st.sampled_from(["int16", "int64", "float32", "float64", "uint8", "bool", "U4",
                                "complex64"])


@st.composite
def arrays(draw) -> np.ndarray:
    dtype = draw(array_dtypes)
    shape = draw(st.sampled_from([(0,), (0, 3), (1, 3), (5, 3), (4, 2), (6,), (2, 2, 3), (3, 3)]))
    size = int(np.prod(shape))
    values = draw(st.lists(st.integers(-3, 300) | st.floats(-1e6, 1e6) | st.just(float("nan")),
                           min_size=size, max_size=size))
    try:
        with np.errstate(all="ignore"):
            return np.array(values, dtype=np.float64).astype(dtype).reshape(shape)
    except (ValueError, OverflowError):
        return np.zeros(shape, dtype=dtype)


@st.composite
def npz_files(draw) -> bytes:
    kind = draw(st.sampled_from(["arrays", "arrays", "arrays", "zip", "bytes"]))
    buffer = io.BytesIO()
    if kind == "arrays":
        names = draw(st.lists(st.sampled_from(
            ["train", "valid", "test", "train_lengths", "valid_lengths", "train_metadata",
             "test_lengths", "other"]), max_size=4, unique=True))
        np.savez(buffer, **{name: draw(arrays()) for name in names})
    elif kind == "zip":
        with zipfile.ZipFile(buffer, "w") as archive:
            for name in draw(st.lists(st.sampled_from(["train.npy", "a/b.npy", "x", "valid.npy"]),
                                      max_size=3, unique=True)):
                archive.writestr(name, draw(st.binary(max_size=64)))
    else:
        return draw(st.binary(max_size=200))
    return _damage(draw, buffer.getvalue())


# --- svg -----------------------------------------------------------------------------------------
path_data = st.text(alphabet="MLHVCSQTAZmlhvcsqtaz0123456789.-e ,", max_size=40)
point_lists = st.lists((st.floats(-1e6, 1e6) | st.just(float("nan"))).map(lambda v: f"{v:g}"),
                       max_size=8).map(" ".join)
transforms = st.sampled_from(["", "rotate(30)", "scale(0)", "matrix(1 2 3 4 5 6)", "translate(",
                              "skewX(90)", "scale(1e308)", "matrix(0 0 0 0 0 0)", "rotate(nan)"])


@st.composite
def svg_elements(draw, depth: int = 0) -> str:
    tag = draw(st.sampled_from(["path", "polyline", "polygon", "line", "rect", "circle",
                                "ellipse", "g", "text", "use", "defs"]))
    attributes = {"transform": draw(transforms)}
    if tag == "path":
        attributes["d"] = draw(path_data)
    elif tag in ("polyline", "polygon"):
        attributes["points"] = draw(point_lists)
    else:
        for name in draw(st.lists(st.sampled_from(["x1", "y1", "x2", "y2", "x", "y", "width",
                                                   "height", "r", "cx", "cy", "href"]),
                                  max_size=4, unique=True)):
            attributes[name] = draw(st.sampled_from(["0", "1", "-5", "1e308", "nan", "", "x"]))
    attrs = " ".join(f'{k}="{v}"' for k, v in attributes.items())
    children = ""
    if tag in ("g", "defs") and depth < 3:
        children = "".join(draw(st.lists(svg_elements(depth + 1), max_size=3)))
    return f"<{tag} {attrs}>{children}</{tag}>"


@st.composite
def svg_files(draw) -> bytes:
    prolog = draw(st.sampled_from([
        "", '<?xml version="1.0"?>', '<?xml version="1.0" encoding="latin-1"?>',
        '<?xml version="1.0" encoding="no-such-codec"?>', '<?xml version="1.0" encoding="utf-16"?>',
        '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">]>',
        '<!DOCTYPE svg SYSTEM "http://example.invalid/svg.dtd">',
        '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>']))
    root = draw(st.sampled_from(['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">',
                                 "<svg>", '<svg width="-1" height="nan">', "<html>"]))
    close = "</html>" if root == "<html>" else "</svg>"
    body = "".join(draw(st.lists(svg_elements(), max_size=5)))
    text = prolog + root + body + draw(st.sampled_from(["", "&a;", "&x;", "<!-- -->"])) + close
    return _damage(draw, text.encode("utf-8"))


# --- native json ---------------------------------------------------------------------------------
@st.composite
def native_files(draw) -> bytes:
    strokes = draw(st.lists(st.fixed_dictionaries(
        {"points": st.lists(st.lists(numbers, max_size=3), max_size=5)},
        optional={"pressure": st.lists(numbers, max_size=5),
                  "time": st.lists(numbers, max_size=5), "extra": json_values}), max_size=4)
        | json_values)
    document = {"format": draw(st.sampled_from(["sketchstudio", "other", 1])),
                "version": draw(st.sampled_from([1, 1, 2, 0, "1", None])), "strokes": strokes}
    document.update(draw(st.dictionaries(st.sampled_from(
        ["metadata", "model", "attribution", "format", "version"]), json_values, max_size=3)))
    value = draw(st.sampled_from([document, document, document, None])) or draw(json_values)
    return _damage(draw, _json_bytes(value))


# --- issue 19: <use> amplification, long attributes, npz headers, metadata no writer can write ----
@st.composite
def svg_use_graphs(draw) -> bytes:
    """Elements with ids that <use> each other: fan-outs, chains, cycles, missing targets, and the
    attributes svgelements parses slowly (long or malformed colours, transforms, lengths, CSS)."""
    ids = [f"e{i}" for i in range(draw(st.integers(1, 8)))]
    slow = st.sampled_from(["rgb(" + "1" * 3000, "1" + " " * 3000 + "x", "scale(1) " * 200,
                            "rotate(" + "9" * 900 + ")", "1" * 50, "translate(1,2)", "none",
                            "url(" + "(" * 2000])
    parts = []
    for ident in ids:
        uses = "".join(
            f'<use {draw(st.sampled_from(["href", "xlink:href"]))}='
            f'"#{draw(st.sampled_from(ids + ["nothing"]))}"'
            + (f' x="{draw(st.integers(-5, 5))}"' if draw(st.booleans()) else "") + "/>"
            for _ in range(draw(st.integers(0, 12))))
        attribute = draw(st.sampled_from(["fill", "stroke", "transform", "x", "style",
                                          "stroke-width", "viewBox", "class"]))
        value = draw(slow).replace('"', "'")
        if attribute == "style":
            value = f"{draw(st.sampled_from(['fill', 'transform', 'display', 'x']))}:{value}"
        shape = draw(st.sampled_from(['<path d="M0 0 L1 1"/>', '<rect width="1" height="1"/>',
                                      '<path d="M0 0' + " C 0 1e6 1 -1e6 1 0" * 20 + '"/>', ""]))
        parts.append(f'<g id="{ident}" {attribute}="{value}">{shape}{uses}</g>')
    sheet = draw(st.sampled_from(["", "<style>.a{display:none}</style>",
                                  "<style>" + "/*" * 2000 + "</style>",
                                  "<style>* {transform: scale(1)} " + "a" * 5000 + "</style>"]))
    wrap = draw(st.integers(0, 3))
    body = sheet + "<g>" * wrap + "".join(parts) + "</g>" * wrap
    return _damage(draw, ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink='
                          '"http://www.w3.org/1999/xlink">' + body + "</svg>").encode())


def _npy_header(shape, descr: str) -> bytes:
    header = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {shape!r}, }}".encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


huge_dims = st.integers(-2, 3) | st.sampled_from([2 ** 31, 2 ** 32, 2 ** 33, 2 ** 62, 2 ** 63 - 1,
                                                  2 ** 64, 10 ** 15, 3 * 2 ** 61])


@st.composite
def npz_headers(draw) -> bytes:
    """.npy members whose headers declare huge, negative or wrapping shapes, and lengths arrays
    whose counts overflow when summed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in draw(st.lists(st.sampled_from(["train", "train_lengths", "train_metadata"]),
                                  min_size=1, max_size=3, unique=True)):
            shape = tuple(draw(st.lists(huge_dims, max_size=3)))
            descr = draw(st.sampled_from(["<i2", "<i8", "<u8", "<f8", "<U0", "<U4", "|V0", "|b1"]))
            count = 1
            for n in shape:
                count *= n
            if 0 <= count <= 64 and draw(st.booleans()):
                dtype = np.dtype(descr)
                values = draw(st.lists(st.integers(0, 2 ** 64 - 1) | st.just(2 ** 62),
                                       min_size=count, max_size=count))
                with np.errstate(all="ignore"):
                    data = np.array(values, dtype=np.uint64).astype(dtype).tobytes() \
                        if dtype.kind in "iuf" else b"\0" * (count * dtype.itemsize)
            else:
                data = draw(st.binary(max_size=32))
            archive.writestr(name + ".npy", _npy_header(shape, descr) + data)
    return buffer.getvalue()


# --- every reader, one test -------------------------------------------------------------------
# (what COUNTS calls it, the file's suffix, the generator of its contents)
FILE_KINDS = [("ndjson", ".ndjson", ndjson_files), ("npz", ".npz", npz_files),
              ("svg", ".svg", svg_files), ("json", ".json", native_files),
              ("svg-use", ".svg", svg_use_graphs), ("npz-header", ".npz", npz_headers)]


@pytest.mark.parametrize(("kind", "suffix", "files"), FILE_KINDS, ids=[k for k, _, _ in FILE_KINDS])
@FUZZ
@given(data=st.data())
def test_fuzz_reader(kind, suffix, files, data):
    _read_all(_file(suffix, data.draw(files())), kind)


@FUZZ
@given(suffix=st.sampled_from([".ndjson", ".npz", ".svg", ".json"]), data=st.data())
def test_fuzz_metadata_no_writer_can_write(suffix, data):
    """Files whose metadata holds lone surrogates, 1e999, 4,400-digit integers or deep nesting:
    each is refused in one line, or written to every format and read back (item 4)."""
    COUNTS["metadata"] += 1
    path = _FOLDER / f"metadata{suffix}"
    path.write_bytes(_build(suffix, data.draw(drawings()), data.draw(raw_metadata),
                            data.draw(raw_attribution)))
    check_round_trip(path, _FOLDER)


# --- model cards (TOML) ---------------------------------------------------------------------------
toml_scalars = (st.booleans() | st.integers(-10**9, 10**9) | st.floats(allow_nan=True)
                | st.text(max_size=10))
toml_values = st.recursive(toml_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(min_size=1, max_size=6), inner, max_size=4),
                           max_leaves=20)


@st.composite
def card_files(draw) -> bytes:
    card = {"name": "Fuzzed", "task": "classify", "file": "model.pt", "labels": ["a", "b"],
            "input": {"size": 28, "channels": 1, "ink": "light-on-dark", "fit": "center"}}
    for key in draw(st.lists(st.sampled_from(["name", "task", "file", "labels", "description",
                                              "input", "gallery_file", "gallery_input", "other"]),
                             max_size=4)):
        if draw(st.booleans()):
            card.pop(key, None)
        else:
            card[key] = draw(toml_values | st.sampled_from(
                ["../model.pt", "/etc/passwd", "C:\\x.pt", "", "model.pt", "embed", "generate"]))
    section = card.get("input")
    if isinstance(section, dict):
        for key in draw(st.lists(st.sampled_from(["size", "channels", "ink", "fit", "sigma",
                                                  "width", "margin", "canvas", "mean", "std"]),
                                 max_size=4)):
            section[key] = draw(toml_values | st.sampled_from([0, -1, 10**9, "dark-on-light",
                                                               "canvas", [0.5, 0.5]]))
    try:
        text = tomli_w.dumps(card).encode()
    except (TypeError, ValueError):
        text = draw(st.binary(max_size=100))
    return _damage(draw, text)


@pytest.fixture(scope="module")
def card_folder() -> Path:
    folder = _FOLDER / "card"
    folder.mkdir(exist_ok=True)
    (folder / "model.pt").write_bytes(b"not really a model")
    return folder


def _load_or_refuse(card_folder: Path, data: bytes, kind: str):
    """The card in `data`, or None where it is refused, in one line naming the file."""
    COUNTS[kind] += 1
    path = card_folder / "card.toml"
    path.write_bytes(data)
    try:
        return load_card(path)
    except UserError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path)), str(exc)
        return None


@FUZZ
@given(data=card_files())
def test_fuzz_model_cards(card_folder, data):
    _load_or_refuse(card_folder, data, "card")


# Issue 19: values tomllib accepts but nothing after it can use (integers of over 4,300 digits,
# 5,000-digit hex, nesting thousands deep), dates, nan and control characters. A card either loads
# and then shows as strict JSON and as escaped text, or is refused in one line.
hostile_toml_values = st.sampled_from([
    "9" * 4301, "-" + "1" * 5000, "0x" + "f" * 5000, "0o" + "7" * 3000, "9223372036854775808",
    "[" * 2000 + "]" * 2000, "[" * 33 + "]" * 33, "{a = " * 400 + "1" + "}" * 400,
    "nan", "-inf", "[nan, inf]", "1979-05-27T07:32:00-08:00", "1979-05-27", "07:32:00",
    '"\\u001b[2J\\u202e\\u0000\\u009b\\u2028"', '"\\ud7ff"', "'\x1b'"])


@st.composite
def hostile_card_files(draw) -> bytes:
    key = draw(st.sampled_from(["extra", "name", "description", "labels", "file", "size"]))
    value = draw(hostile_toml_values)
    base = {"name": "Fuzzed", "task": "classify", "file": "model.pt", "labels": ["a", "b"]}
    lines = [f"{k} = {json.dumps(v)}" for k, v in base.items() if k != key]
    lines.append(f"{key} = {value}" if key != "size" else "")
    section = ["[input]", "channels = 1", 'ink = "light-on-dark"', 'fit = "center"',
               f"size = {value}" if key == "size" else "size = 28"]
    return _damage(draw, "\n".join(lines + section).encode())


@FUZZ
@given(data=hostile_card_files())
def test_fuzz_model_cards_hostile_values(card_folder, data):
    from sketchstudio.commands.models import _strict_json
    from sketchstudio.textsafe import printable

    card = _load_or_refuse(card_folder, data, "card-hostile")
    if card is None:
        return
    json.loads(_strict_json(card.to_dict()))          # strict JSON, never NaN or a repr
    for text in (card.name, card.description, *card.labels):
        shown = printable(text)    # nothing left that a terminal would act on
        assert not any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in shown)
        assert "\u202e" not in shown


# Card names the system refuses or that lead nowhere: too long (a part over 255 bytes, or the whole
# path over 4,096), NUL, control characters, links that loop or dangle, a FIFO. One line each.
card_names = st.lists(st.sampled_from(["card.toml", "loop", "dangling", "fifo.toml", "..", ".",
                                       "x" * 255, "y" * 300, "a\0b", "\x1b[2J", "\udcff", ""]),
                      min_size=1, max_size=20).map("/".join)


@FUZZ
@given(name=card_names)
def test_fuzz_model_card_names(card_folder, name):
    COUNTS["card-name"] += 1
    for link, target in (("loop", "loop"), ("dangling", "nowhere")):
        if not os.path.lexists(card_folder / link):
            os.symlink(target, card_folder / link)
    if hasattr(os, "mkfifo") and not os.path.lexists(card_folder / "fifo.toml"):
        os.mkfifo(card_folder / "fifo.toml")
    (card_folder / "card.toml").write_text(
        'name = "x"\ntask = "classify"\nfile = "model.pt"\nlabels = ["a"]\n[input]\n'
        'size = 28\nchannels = 1\nink = "light-on-dark"\nfit = "center"\n')
    try:
        load_card(card_folder / name)     # never blocks on the FIFO, never raises anything else
    except UserError as exc:
        assert "\n" not in str(exc), str(exc)


# --- attacks and size limits ---------------------------------------------------------------------
def _refused_quickly(path: Path, words: tuple[str, ...], seconds: float = 10.0) -> str:
    started = time.perf_counter()
    with pytest.raises(SketchFileError) as info:
        load_document(path)
    assert time.perf_counter() - started < seconds
    assert any(w in str(info.value) for w in words), str(info.value)
    return str(info.value)


def test_an_unknown_xml_encoding_is_a_clear_error(tmp_path):
    # found by `make fuzz` (the 7,257th SVG): LookupError escaped the SVG reader
    path = tmp_path / "codec.svg"
    path.write_bytes(b'<?xml version="1.0" encoding="matin-1"?><svg xmlns="http://www.w3.org/'
                     b'2000/svg" viewBox="0 0 10 10"></svg>')
    _refused_quickly(path, ("unknown encoding",))


def test_billion_laughs_and_external_entities_are_refused(tmp_path):
    laughs = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    bomb = tmp_path / "bomb.svg"
    bomb.write_text(f'<?xml version="1.0"?><!DOCTYPE svg [{"".join(laughs)}]>'
                    '<svg xmlns="http://www.w3.org/2000/svg"><text>&lol9;</text></svg>')
    _refused_quickly(bomb, ("entit", "DTD", "declar"))
    external = tmp_path / "external.svg"
    external.write_text('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM '
                        '"file:///etc/passwd">]><svg><text>&x;</text></svg>')
    _refused_quickly(external, ("entit", "DTD", "declar"))


@pytest.mark.parametrize("suffix", [".svg", ".json"])
def test_files_over_the_size_limit_are_refused_without_reading_them_whole(tmp_path, suffix):
    path = tmp_path / f"huge{suffix}"
    with open(path, "wb") as f:
        f.write(b" " * (21 * 1024 * 1024))
    _refused_quickly(path, ("limit",))


def test_an_ndjson_line_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "huge.ndjson"
    with open(path, "wb") as f:
        f.write(b'{"word": "cat", "drawing": [[' + b"1," * (11 * 1024 * 1024) + b"1]]}\n")
    _refused_quickly(path, ("limit",))


def test_an_npz_zip_bomb_is_refused_before_unpacking(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("train.npy", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(600):     # 600 MB of zeros: about 0.6 MB on disk
                member.write(chunk)
    assert path.stat().st_size < 5 * 1024 * 1024
    _refused_quickly(path, ("limit",), seconds=30)


def test_a_huge_model_card_is_refused(tmp_path):
    path = tmp_path / "card.toml"
    path.write_bytes(b'name = "x"\n' + b"# padding\n" * (2 * 1024 * 1024))
    with pytest.raises(UserError) as info:
        load_card(path)
    assert "limit" in str(info.value)
