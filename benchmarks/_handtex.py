"""What the benchmarks on handtex share: a model nobody here wrote, run on real Omniglot strokes.

The test helpers (tests/handtex_support.py) go on the path; `omniglot` reads the drawings of the
shared zip, `drawing` turns one into a Sketch the way every handtex figure here does, and
`handtex_model` loads handtex's CNN through a card in a temporary folder.

Needs the test-only handtex wheel (`make test` installs it) and ../shared/data.
"""
from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from handtex_support import build_handtex_card, omniglot_members, parse_omniglot  # noqa: E402

from sketchstudio.models import load_model  # noqa: E402
from sketchstudio.shared_data import shared_data_dir  # noqa: E402
from sketchstudio.sketch import Sketch, simplify  # noqa: E402

OMNIGLOT = "omniglot/strokes_background_small1.zip"


def omniglot(alphabet: str | None = None) -> list[tuple[str, str]]:
    """(member name, stroke text) of every drawing in the shared zip (of one alphabet)."""
    return omniglot_members(shared_data_dir() / OMNIGLOT, alphabet)


def drawing(text: str) -> Sketch:
    """One Omniglot drawing, simplified to half a unit (their pen traces are dense)."""
    return simplify(parse_omniglot(text), 0.5)


@contextmanager
def handtex_model() -> Iterator[Any]:
    """handtex's CNN through its card (written to a temporary folder), on the CPU."""
    with tempfile.TemporaryDirectory() as folder:
        yield load_model(build_handtex_card(Path(folder) / "handtex"), device="cpu")
