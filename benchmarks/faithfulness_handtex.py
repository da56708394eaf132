"""`eval faithfulness` on a model nobody here wrote: handtex's CNN on real Omniglot strokes.

The same evaluation as `sketchstudio eval faithfulness` (deletion/insertion AUC, completeness,
sign agreement with exact occlusion on strong strokes, model-parameter randomisation, time), on
drawings of all five alphabets in the shared Omniglot zip, picked with a fixed seed.

    .venv/bin/python benchmarks/faithfulness_handtex.py --limit 200 --json

Needs the test-only handtex wheel (`make test` installs it) and ../shared/data.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from handtex_support import build_handtex_card, omniglot_members, parse_omniglot  # noqa: E402

from sketchstudio.commands.eval_faithfulness import evaluate  # noqa: E402
from sketchstudio.explain import METHODS  # noqa: E402
from sketchstudio.models import load_model  # noqa: E402
from sketchstudio.shared_data import shared_data_dir  # noqa: E402
from sketchstudio.sketch import simplify  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    members = omniglot_members(shared_data_dir() / "omniglot" / "strokes_background_small1.zip")
    random.Random(0).shuffle(members)
    sketches = [simplify(parse_omniglot(text), 0.5) for _, text in members[:args.limit]]
    with tempfile.TemporaryDirectory() as folder:
        model = load_model(build_handtex_card(Path(folder) / "handtex"), device="cpu")
        summary = evaluate(model, sketches, args.methods)
    if args.json:
        print(json.dumps({"model": "handtex", "sketches": len(sketches), "methods": summary}))
        return 0
    for name, entry in summary.items():
        print(name, {k: v for k, v in entry.items() if k != "ran"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
