"""Attributions as files (explain/export.py) and heat pictures as SVG (explain/heatimage.py), with
`sketchstudio convert --heat`: the routines the studio's Export and the command line share."""
from __future__ import annotations

import csv
import json
from xml.etree import ElementTree

import numpy as np
import pytest

from sketchstudio.cli import main
from sketchstudio.errors import UserError
from sketchstudio.explain import Attribution
from sketchstudio.explain.colormap import heat_rgb
from sketchstudio.explain.export import (
    attribution_record,
    load_attribution,
    save_attributions,
)
from sketchstudio.explain.heatimage import heat_svg
from sketchstudio.sketch import Sketch
from sketchstudio.sketch.io import save_sketch

SVG = "{http://www.w3.org/2000/svg}"


def house() -> Sketch:
    return Sketch.from_arrays([[[60, 200], [62, 130], [190, 122]], [[55, 125], [126, 58]],
                               [[160, 150]]]).with_metadata(word="house")


def result(segments: bool = False) -> Attribution:
    return Attribution("psla" if segments else "sla", np.array([0.6, -0.3, 0.05]), 1.5, 0.2,
                       target="house", target_index=2, prediction=[("house", 0.91)],
                       model="m", elapsed_ms=3.25, params={"steps": 8},
                       segments=([np.array([0.6, 0.2]), np.array([-0.3]), np.array([])]
                                 if segments else None))


def test_the_record_is_file_index_then_the_attribution_fields():
    record = attribution_record(result(), "cat.ndjson", 7)
    assert list(record) == ["file", "index", *result().to_json()]
    assert record["file"] == "cat.ndjson" and record["index"] == 7


@pytest.mark.parametrize("segments", [False, True])
def test_a_record_reads_back_as_the_same_attribution(tmp_path, segments):
    original = result(segments)
    save_attributions(tmp_path / "a.json", attribution_record(original, "h.svg", 0))
    back = load_attribution(tmp_path / "a.json")
    assert back.method == original.method and back.target == "house"
    assert back.strokes.tolist() == original.strokes.tolist()
    assert back.prediction == [("house", 0.91)]
    if segments:
        assert [s.tolist() for s in back.segments] == [s.tolist() for s in original.segments]
    # What the SVG shows is the same from the original and from the file.
    assert heat_svg(house(), back) == heat_svg(house(), original)


def test_json_lines_of_explain_all_pick_the_drawing(tmp_path):
    path = tmp_path / "all.jsonl.json"
    records = [attribution_record(result(), "c.ndjson", i) for i in range(3)]
    records[2]["target"] = "third"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert load_attribution(path, 2).target == "third"
    assert load_attribution(path, 9).target == "house"          # no such index: the first


@pytest.mark.parametrize("text, message", [
    ("[1, 2]", "expected the JSON object"),
    ('{"method": "sla", "strokes": [1, "x"]}', '"strokes" should be a list of finite numbers'),
    ('{"method": "sla", "strokes": [1], "segments": [[1], [2]]}', "one list per stroke"),
    ("not json", "not an attribution record"),
])
def test_a_bad_record_is_one_error_line(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(UserError, match=message) as caught:
        load_attribution(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_csv_has_a_row_a_stroke_numbered_from_one(tmp_path):
    save_attributions(tmp_path / "a.csv", attribution_record(result(True), "h.svg", 0))
    rows = list(csv.DictReader((tmp_path / "a.csv").open()))
    assert [r["stroke"] for r in rows] == ["1", "2", "3"]
    assert [float(r["value"]) for r in rows] == [0.6, -0.3, 0.05]
    assert rows[0]["segments"] == "0.6 0.2" and rows[2]["segments"] == ""
    assert rows[0]["predicted"] == "house" and rows[0]["file"] == "h.svg"
    with pytest.raises(UserError, match="saved as .json or .csv"):
        save_attributions(tmp_path / "a.txt", attribution_record(result()))


def test_the_svg_colours_every_stroke_by_its_value_and_has_the_legend():
    root = ElementTree.fromstring(heat_svg(house(), result()))
    lines = root.findall(f"{SVG}g/{SVG}polyline")
    assert len(lines) == 3
    expected = heat_rgb(np.array([0.6, -0.3, 0.05]), 0.6)
    assert [line.get("stroke") for line in lines] == [
        "#{:02x}{:02x}{:02x}".format(*c) for c in expected]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["SLA", "target: house", "+0.6  helps", "0", "-0.6  hurts",
                     "predicted: house", "p = 0.91"]


def test_segments_colour_each_segment():
    root = ElementTree.fromstring(heat_svg(house(), result(True)))
    colours = [line.get("stroke") for line in root.findall(f"{SVG}g/{SVG}polyline")]
    assert len(colours) == 2 + 1 + 1 and colours[0] != colours[1]   # two segments, two colours


def test_convert_heat_writes_what_the_studio_writes(tmp_path, capsys):
    save_sketch(tmp_path / "h.svg", house())
    save_attributions(tmp_path / "a.json", attribution_record(result(), tmp_path / "h.svg", 0))
    assert main(["convert", str(tmp_path / "h.svg"), str(tmp_path / "out.svg"),
                 "--heat", str(tmp_path / "a.json")]) == 0
    assert (tmp_path / "out.svg").read_text() == heat_svg(house(), result())
    assert main(["convert", str(tmp_path / "h.svg"), str(tmp_path / "out.png"),
                 "--heat", str(tmp_path / "a.json")]) == 0
    assert (tmp_path / "out.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()


def test_convert_heat_refuses_an_attribution_of_another_drawing(tmp_path, capsys):
    save_sketch(tmp_path / "h.svg", house().remove_strokes([0]))
    save_attributions(tmp_path / "a.json", attribution_record(result()))
    assert main(["convert", str(tmp_path / "h.svg"), str(tmp_path / "out.svg"),
                 "--heat", str(tmp_path / "a.json")]) == 2
    err = capsys.readouterr().err
    assert "the attribution has 3 stroke values but the drawing has 2 strokes" in err
    assert err.count("\n") == 1 and not (tmp_path / "out.svg").exists()
    assert main(["convert", str(tmp_path / "h.svg"), str(tmp_path / "out.ndjson"),
                 "--heat", str(tmp_path / "a.json")]) == 2
    assert "the output must be .png or .svg" in capsys.readouterr().err


@pytest.mark.slow
def test_an_independent_svg_renderer_draws_the_png_picture(tmp_path):
    """ImageMagick renders the SVG; its ink lies where Pillow's PNG has ink, in the same colours."""
    import shutil
    import subprocess

    from PIL import Image

    from sketchstudio.explain.heatimage import save_heat_png, save_heat_svg

    if shutil.which("convert") is None:
        pytest.skip("ImageMagick's convert is not installed")
    save_heat_png(house(), result(), tmp_path / "h.png")
    save_heat_svg(house(), result(), tmp_path / "h.svg")
    subprocess.run(["convert", str(tmp_path / "h.svg"), str(tmp_path / "r.png")], check=True,
                   timeout=60)
    png = np.asarray(Image.open(tmp_path / "h.png").convert("RGB")).astype(int)[:, :512]
    svg = np.asarray(Image.open(tmp_path / "r.png").convert("RGB")).astype(int)[:, :512]
    assert png.shape == svg.shape
    ink_png, ink_svg = png.sum(-1) < 600, svg.sum(-1) < 600
    both = ink_png & ink_svg
    assert ink_png.sum() > 2000 and both.sum() >= 0.85 * ink_png.sum()
    assert both.sum() >= 0.7 * ink_svg.sum()
    assert np.abs(png[both] - svg[both]).mean() < 30      # the same heat colours
