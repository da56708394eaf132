"""`eval tools`' external figures on a model nobody here wrote, judged by that model's own pipeline.

handtex's CNN (through its card) is attacked and assisted by SketchStudio on real Omniglot Greek
letters; every edit is then judged by handtex's *own* rasteriser (tests/external_pipelines.py).
A letter's "true" class is handtex's own top-1 when that is one of the symbols handtex counts as
the letter (tests/test_external_handtex.py): the drawings it gets wrong have no class to defend.

    .venv/bin/python benchmarks/tools_handtex.py --every 8 --json

Needs what benchmarks/_handtex.py needs.
"""
from __future__ import annotations

import argparse
import json
import sys

from _handtex import drawing, handtex_model, omniglot

from sketchstudio.commands.eval_tools import external_eval, external_targets


def main() -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=8, help="every Nth Greek drawing (of 480)")
    parser.add_argument("--draws", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    # The test helpers (_handtex put tests/ on the path); the letter -> handtex symbols mapping is
    # the one the handtex test module established.
    from external_pipelines import handtex_probabilities
    from handtex_support import handtex_labels
    from test_external_handtex import GREEK, _accepted

    known = _accepted(handtex_labels())
    letters = []
    for name, text in omniglot("Greek")[::args.every]:
        letter = GREEK[int(name.split("/")[2].removeprefix("character")) - 1]
        if letter in known:
            letters.append((drawing(text), letter))
    with handtex_model() as model:
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
