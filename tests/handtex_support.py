"""handtex's pre-trained CNN behind a model card, and Omniglot's online strokes as sketches.

Shared by tests/test_external_handtex.py and benchmarks/faithfulness_handtex.py. handtex (PyPI,
GPL-3.0) is a test-only dependency: `pip install --no-deps handtex==1.0.5 safetensors`. Where the
card's numbers come from is told in test_external_handtex.py's docstring.
"""
from __future__ import annotations

import zipfile
from importlib import resources
from pathlib import Path

from model_zoo import card_dict, save_torchscript, write_card

from sketchstudio.sketch import Sketch

HANDTEX_INPUT = {"size": 64, "channels": 1, "ink": "dark-on-light", "sigma": 0.15, "width": 0.7,
                 "fit": "center", "margin": 0.05, "mean": [0.5], "std": [0.5]}


def handtex_labels() -> list[str]:
    text = resources.files("handtex.data.model").joinpath("encodings.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def build_handtex_card(folder: Path) -> Path:
    """handtex's CNN scripted to TorchScript, with a card, in `folder`; returns the card path."""
    from handtex.detector.model import CNN
    from safetensors.torch import load_file

    labels = handtex_labels()
    weights = resources.files("handtex.data.model").joinpath("handtex.safetensors")
    with resources.as_file(weights) as path:
        state = load_file(str(path))
    cnn = CNN(num_classes=len(labels), image_size=64)
    cnn.load_state_dict(state)
    folder.mkdir(parents=True, exist_ok=True)
    save_torchscript(cnn, folder / "model.pt")
    return write_card(folder, card_dict(
        name="handtex LaTeX symbols", labels=labels, input=HANDTEX_INPUT,
        description="handtex 1.0.5 CNN (GPL-3.0), 1,775 handwritten LaTeX symbols"))


def parse_omniglot(text: str) -> Sketch:
    """Omniglot strokes: "START", then "x,y,t" rows, "BREAK" after every stroke; y points up."""
    strokes, current = [], []
    for line in text.splitlines():
        line = line.strip()
        if line in ("START", "BREAK"):
            if current:
                strokes.append(current)
            current = []
        elif line:
            x, y, _t = line.split(",")
            current.append((float(x), -float(y)))
    if current:
        strokes.append(current)
    return Sketch.from_arrays(strokes)


def omniglot_members(archive: Path, alphabet: str | None = None) -> list[tuple[str, str]]:
    """(member name, stroke text) of every drawing in the zip, optionally of one alphabet."""
    with zipfile.ZipFile(archive) as z:
        return [(name, z.read(name).decode("utf-8")) for name in sorted(z.namelist())
                if name.endswith(".txt") and len(name.split("/")) == 4
                and (alphabet is None or name.split("/")[1] == alphabet)]
