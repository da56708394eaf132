"""The README's Python API: `from sketchstudio import explain, render` and
`sketchstudio.explain(...)` work whether or not the sub-packages of the same names were imported
first."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import model_zoo
import pytest

CHECK = r"""
import sys
import numpy as np
card = sys.argv[1]
if sys.argv[2] == "subpackages-first":
    import sketchstudio.explain.faithfulness, sketchstudio.render.raster  # noqa: E401
import sketchstudio
from sketchstudio import Sketch, explain, load_model, render
from sketchstudio.explain.api import explain as engine_explain

sk = Sketch.from_arrays([[[10, 10], [200, 40]], [[50, 200], [60, 60], [180, 120]]])
model = load_model(card, device="cpu")
by_path = explain(sk, card, method="sla-grad")
by_attribute = sketchstudio.explain(sk, model, method="sla-grad")
engine = engine_explain(sk, model, method="sla-grad")
assert np.allclose(by_path.strokes, engine.strokes)
assert np.allclose(by_attribute.strokes, engine.strokes)
image = render(sk, model.spec, "cpu")
assert np.allclose(sketchstudio.render(sk, model.spec, "cpu").numpy(), image.numpy())
print("ok", tuple(image.shape))
"""


@pytest.fixture(scope="module")
def card(tmp_path_factory) -> Path:
    return model_zoo.make_model(tmp_path_factory.mktemp("api-model"))


@pytest.mark.slow
@pytest.mark.parametrize("order", ["api-first", "subpackages-first"])
def test_readme_api_works_in_either_import_order(card, tmp_path, order):
    env = dict(os.environ, SKETCHSTUDIO_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, "-c", CHECK, str(card), order], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok (1, ")


def test_engine_packages_do_not_import_the_public_facade():
    code = ("import sys, sketchstudio.explain, sketchstudio.render, sketchstudio.models\n"
            "print('sketchstudio.api' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, check=True)
    assert result.stdout.strip() == "False"
