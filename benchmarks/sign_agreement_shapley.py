"""Is any complete attribution as sign-true as leave-one-out? Exact Shapley values vs `sla`.

For drawings of at most 10 strokes, computes exact Shapley values over strokes (2^N renders, the
target's logit) and compares, with `sla` (32 midpoint steps), how often each gives strokes that
clearly matter (|leave-one-out| > 0.5 logit) the sign of their leave-one-out effect. Both add up to
score(full) - score(blank); the README's "Live colouring" quotes this run.

    .venv/bin/python benchmarks/sign_agreement_shapley.py --model default --limit 120
    .venv/bin/python benchmarks/sign_agreement_shapley.py --model handtex --limit 200
"""
from __future__ import annotations

import argparse
import itertools
import math
import random
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sketchstudio.explain import Problem, explain  # noqa: E402
from sketchstudio.explain.faithfulness import sign_agreement  # noqa: E402
from sketchstudio.models import load_model  # noqa: E402
from sketchstudio.shared_data import shared_data_dir  # noqa: E402

MAX_STROKES = 10


def shapley(sketch, model, target: int) -> np.ndarray:
    problem = Problem(sketch, model.spec, model, objective=lambda out: out[:, target],
                      device=model.device)
    ink = problem.geometry()
    n = len(sketch)
    subsets = list(itertools.product([0.0, 1.0], repeat=n))
    with torch.no_grad():
        scores = torch.cat([problem.score_images(ink.composite(torch.tensor(subsets[i:i + 64])))
                            for i in range(0, len(subsets), 64)]).double().numpy()
    value = dict(zip(subsets, scores, strict=True))
    out = np.zeros(n)
    for subset in subsets:
        size = int(sum(subset))
        for k in range(n):
            if subset[k] == 0.0:
                weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                joined = subset[:k] + (1.0,) + subset[k + 1:]
                out[k] += weight * (value[joined] - value[subset])
    return out


def drawings(model_name: str, limit: int, folder: Path):
    if model_name == "handtex":
        from handtex_support import build_handtex_card, omniglot_members, parse_omniglot

        from sketchstudio.sketch import simplify

        model = load_model(build_handtex_card(folder / "handtex"), device="cpu")
        members = omniglot_members(shared_data_dir() / "omniglot" / "strokes_background_small1.zip")
        random.Random(0).shuffle(members)
        return model, [simplify(parse_omniglot(text), 0.5) for _, text in members[:limit]]
    from sketchstudio.commands.eval_faithfulness import pick_drawings

    model = load_model(model_name, device="cpu")
    return model, pick_drawings(shared_data_dir() / "quickdraw" / "simplified", model.labels, limit)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="a store id, a card, or handtex")
    parser.add_argument("--limit", type=int, default=120)
    args = parser.parse_args()
    counts = {"shapley": [0, 0], "sla": [0, 0]}
    with tempfile.TemporaryDirectory() as folder:
        model, sketches = drawings(args.model, args.limit, Path(folder))
        used = 0
        for sketch in sketches:
            if not 1 <= len(sketch) <= MAX_STROKES:
                continue
            used += 1
            reference = explain(sketch, model, method="occlusion")
            target = reference.target_index
            sla = explain(sketch, model, method="sla", target=target)
            for name, values in (("shapley", shapley(sketch, model, target)),
                                 ("sla", sla.strokes)):
                agree, strong = sign_agreement(values, reference.strokes)
                counts[name][0] += agree
                counts[name][1] += strong
    print(f"{args.model}: {used} drawings of 1..{MAX_STROKES} strokes")
    for name, (agree, strong) in counts.items():
        print(f"  {name:<8} sign agreement with leave-one-out: {agree}/{strong} = "
              f"{agree / max(strong, 1):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
