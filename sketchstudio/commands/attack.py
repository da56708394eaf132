"""`sketchstudio attack FILE`: a budgeted point edit that flips the classifier, verified by
re-rendering, robustly (it must hold in slightly varied renderings too)."""
from __future__ import annotations

import json
import math

from ..errors import UserError
from ._tools_common import add_common, check_common, load, save


def add_parser(subparsers) -> None:
    from ..tasks.attack import DEFAULT_BUDGET, DEFAULT_STEPS, MARGIN, MAX_STEPS

    p = subparsers.add_parser("attack", help="move points within a budget to flip the decision")
    add_common(p, DEFAULT_BUDGET)
    p.add_argument("--target", help="the class to reach (label or index; default: untargeted, "
                                    "any class but the current one)")
    p.add_argument("--strokes", type=int, help="only the K strokes with the largest |SLA| may move")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                   help=f"gradient steps per run, 1..{MAX_STEPS} (default {DEFAULT_STEPS})")
    p.add_argument("--margin", type=float, default=MARGIN,
                   help="how far past the decision boundary, in logits, the edit must push the "
                        "card's rendering and small variations of it, so that it holds in the "
                        f"model's own pipeline too (default {MARGIN:g}; 0: a bare flip)")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..tasks.attack import MAX_MARGIN, MAX_STEPS, attack

    check_common(args)
    if not 1 <= args.steps <= MAX_STEPS:
        raise UserError(f"--steps must be in 1..{MAX_STEPS}, got {args.steps}")
    if args.strokes is not None and args.strokes < 1:
        raise UserError(f"--strokes must be at least 1, got {args.strokes}")
    if not (math.isfinite(args.margin) and 0.0 <= args.margin <= MAX_MARGIN):
        raise UserError(f"--margin must be in [0, {MAX_MARGIN:g}] logits, got {args.margin}")
    sketch, model = load(args)
    result = attack(sketch, model, target=args.target, budget=args.budget, strokes=args.strokes,
                    steps=args.steps, margin=args.margin)
    save(args, result.edited)
    if args.json:
        print(json.dumps({"file": str(args.file), "index": args.index, "model": model.id,
                          "out": args.out, **result.to_json()}))
        return 0
    verdict = "SUCCESS" if result.success else "no flip"
    print(f"{verdict}: {result.original_label!r} ({result.original_prob:.3f}) -> "
          f"{result.adversarial_label!r} ({result.adversarial_prob:.3f}), re-rendered; flipped in "
          f"{result.robust_success:.0%} of {result.robust_renders} varied re-renders")
    print(f"  moves up to {result.max_displacement:.4f} (mean {result.mean_displacement:.4f}) of "
          f"the sketch's side, budget {result.budget}; {result.strokes_changed} stroke(s) changed; "
          f"{result.iterations} iterations in {result.elapsed_ms:.0f} ms")
    for note in result.notes:
        print(f"  note: {note}")
    if args.out:
        print(f"  edited sketch written to {args.out}")
    return 0
