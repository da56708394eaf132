"""`eval tools`' external figures on a model nobody here wrote, judged by that model's own pipeline.

handtex's CNN (through its card) is attacked and assisted by SketchStudio on real Omniglot Greek
letters; every edit is then judged by handtex's *own* rasteriser (tests/external_pipelines.py).
A letter's "true" class is handtex's own top-1 when that is one of the symbols handtex counts as
the letter (tests/test_external_handtex.py): the drawings it gets wrong have no class to defend.

    .venv/bin/python benchmarks/tools_handtex.py --every 8 --json

Needs the test-only handtex wheel (`make test` installs it) and ../shared/data.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sketchstudio.commands.eval_tools import external_eval, external_targets  # noqa: E402
from sketchstudio.models import load_model  # noqa: E402
from sketchstudio.shared_data import shared_data_dir  # noqa: E402
from sketchstudio.sketch import simplify  # noqa: E402


def main() -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=8, help="every Nth Greek drawing (of 480)")
    parser.add_argument("--draws", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    # The test helpers (tests/ is on the path above); the letter -> handtex symbols mapping is
    # the one the handtex test module established.
    from external_pipelines import handtex_probabilities
    from handtex_support import build_handtex_card, handtex_labels, omniglot_members, parse_omniglot
    from test_external_handtex import GREEK, _accepted

    known = _accepted(handtex_labels())
    archive = shared_data_dir() / "omniglot" / "strokes_background_small1.zip"
    letters = []
    for name, text in omniglot_members(archive, "Greek")[::args.every]:
        letter = GREEK[int(name.split("/")[2].removeprefix("character")) - 1]
        if letter in known:
            letters.append((simplify(parse_omniglot(text), 0.5), letter))
    with tempfile.TemporaryDirectory() as folder:
        model = load_model(build_handtex_card(Path(folder) / "handtex"), device="cpu")
        judge = lambda sketches: handtex_probabilities(sketches, model)  # noqa: E731
        theirs = judge([s for s, _ in letters]).argmax(1)
        items = [(s, int(top)) for (s, letter), top in zip(letters, theirs, strict=True)
                 if int(top) in known[letter]]

        def show(what, i, n):
            print(f"\r{what}: {i}/{n}   ", end="", file=sys.stderr, flush=True)

        out = external_eval(model, items, judge, draws=args.draws, progress=show,
                            pipeline="handtex's own rasteriser (1 px PIL lines, 64 px)")
        print(file=sys.stderr)
    out["letters"] = len(letters)
    out["targets"] = external_targets(out)
    if args.json:
        print(json.dumps({"model": "handtex", **out}, indent=2))
        return 0
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
