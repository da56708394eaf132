"""`eval faithfulness` on a model nobody here wrote: handtex's CNN on real Omniglot strokes.

The same evaluation as `sketchstudio eval faithfulness` (deletion/insertion AUC, completeness,
sign agreement with exact occlusion on strong strokes, model-parameter randomisation, time), on
drawings of all five alphabets in the shared Omniglot zip, picked with a fixed seed.

    .venv/bin/python benchmarks/faithfulness_handtex.py --limit 200 --json

Needs what benchmarks/_handtex.py needs.
"""
from __future__ import annotations

import argparse
import json
import random
import sys

from _handtex import drawing, handtex_model, omniglot

from sketchstudio.commands.eval_faithfulness import evaluate
from sketchstudio.explain import METHODS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    members = omniglot()
    random.Random(0).shuffle(members)
    sketches = [drawing(text) for _, text in members[:args.limit]]
    with handtex_model() as model:
        summary = evaluate(model, sketches, args.methods)
    if args.json:
        print(json.dumps({"model": "handtex", "sketches": len(sketches), "methods": summary}))
        return 0
    for name, entry in summary.items():
        print(name, {k: v for k, v in entry.items() if k != "ran"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
