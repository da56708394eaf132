"""`sketchstudio assist FILE --target LABEL`: point moves, strokes against, where ink would help."""
from __future__ import annotations

import json

from ..errors import UserError
from ._tools_common import add_common, check_common, load, save


def add_parser(subparsers) -> None:
    from ..tasks.assist import DEFAULT_BUDGET, DEFAULT_STEPS

    p = subparsers.add_parser("assist", help="hints that raise a target class, as a vector edit")
    add_common(p, DEFAULT_BUDGET)
    p.add_argument("--target", required=True, help="the class to raise (label or index)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                   help=f"ascent steps for the point moves (default {DEFAULT_STEPS})")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..explain.objectives import resolve_target
    from ..tasks.assist import assist
    from ..tasks.scoring import probabilities

    check_common(args)
    if not 0 <= args.steps <= 10_000:
        raise UserError(f"--steps must be in 0..10000, got {args.steps}")
    sketch, model = load(args)
    if model.task != "classify":
        raise UserError(f"assist needs a classifier; {model.id!r} is a {model.task!r} model")
    from ..tasks.displacement import check_editable

    check_editable(sketch)
    probs = probabilities(sketch, model)
    target = resolve_target(args.target, model.labels, int(probs.argmax()))
    if target == int(probs.argmax()):
        raise UserError(f"the sketch is already classified as {model.labels[target]!r} "
                        f"(p={probs[target]:.2f}): no edit made")
    result = assist(sketch, model, target=target, budget=args.budget, steps=args.steps)
    save(args, result.edited)
    if args.json:
        print(json.dumps({"file": str(args.file), "index": args.index, "model": model.id,
                          "out": args.out, **result.to_json()}))
        return 0
    m = result.measure()
    print(f"target {result.target!r}: {result.before:.3f} -> {result.after:.3f} "
          f"(predicted now: {result.predicted!r}); moves up to {m['max_displacement']:.3f} "
          f"(mean {m['mean_displacement']:.3f}) of the sketch's side")
    for hint in result.hints:
        if hint.kind == "move":
            print(f"  stroke {hint.stroke:3d}  move     alone: {hint.values['after']:.3f} "
                  f"({hint.values['gain']:+.3f})")
        else:
            print(f"  stroke {hint.stroke:3d}  against  SLA {hint.values['sla']:+.4f}")
    peaks = result.ink_help_peaks(3)
    if peaks:
        print("  ink would help near: " + ", ".join(f"({p['x']:.0f}, {p['y']:.0f})" for p in peaks))
    for note in result.notes:
        print(f"  note: {note}")
    if args.out:
        print(f"  edited sketch written to {args.out}")
    return 0
