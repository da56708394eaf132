"""`sketchstudio models ...`: list, add, remove, show and check models in the store."""
from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
from typing import Any

from ..textsafe import printable


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("models", help="list, add, remove, show and check models",
                              description="Manage the model store (built-in and your own models).")
    actions = p.add_subparsers(dest="action", metavar="ACTION")

    a = actions.add_parser("list", help="list the models in the store")
    a.add_argument("--json", action="store_true", help="machine-readable output")

    a = actions.add_parser("add", help="check a model card, copy it and its model into the store")
    a.add_argument("card", metavar="CARD", help="a card .toml, or a folder with card.toml")
    a.add_argument("--no-check", action="store_true", help="copy without running the checks")
    a.add_argument("--default", action="store_true", help="also make it the default model")
    _add_time_limit(a)

    a = actions.add_parser("remove", help="remove one of your models from the store")
    a.add_argument("id", metavar="ID")

    a = actions.add_parser("show", help="show a model's card")
    a.add_argument("model", metavar="ID|CARD")
    a.add_argument("--json", action="store_true", help="the card as JSON")

    a = actions.add_parser("check", help="check that a model can be explained (one line per check)")
    a.add_argument("model", metavar="ID|CARD")
    _add_time_limit(a)

    a = actions.add_parser("default", help="show or set the default model")
    a.add_argument("id", metavar="ID", nargs="?")

    p.set_defaults(run=run, action=None, json=False)


def _add_time_limit(parser: Any) -> None:
    # The checks run an untrusted model: bounded in time (cli.py runs them where they can be
    # stopped), so that `models check` is a safe way to vet a model that loops forever.
    from ..stoppable import CHECK_TIME_LIMIT_S, time_limit_type

    parser.add_argument("--time-limit", type=time_limit_type, default=CHECK_TIME_LIMIT_S,
                        metavar="SECONDS", help=f"stop the checks with one error line after "
                        f"this many seconds (default {CHECK_TIME_LIMIT_S:g}; 0: no limit)")


def run(args: argparse.Namespace) -> int:
    from ..models import ModelStore

    store = ModelStore()
    action = args.action or "list"
    return {"list": _list, "add": _add, "remove": _remove, "show": _show, "check": _check,
            "default": _default}[action](store, args)


def _list(store, args) -> int:
    default = store.default_id()
    rows = []
    for entry in store.entries():
        row: dict[str, Any] = {"id": entry.id, "builtin": entry.builtin,
                               "default": entry.id == default, "card": str(entry.card_path)}
        try:
            card = entry.card()
            row.update(name=card.name, task=card.task, labels=len(card.labels))
        except Exception as exc:  # a damaged card is listed with its problem, not fatal
            row.update(name=None, task=None, labels=None, problem=str(exc))
        rows.append(row)
    if args.json:
        print(_strict_json(rows))
        return 0
    if not rows:
        print("no models (add one with `sketchstudio models add CARD`)")
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        mark = "*" if r["default"] else " "
        where = "built-in" if r["builtin"] else "user"
        if "problem" in r:
            print(f"{mark} {r['id']:<{width}}  BROKEN: {printable(r['problem'])}")
        else:
            labels = f"{r['labels']} labels" if r["labels"] else ""
            print(f"{mark} {r['id']:<{width}}  {r['task']:<8}  {where:<8}  {printable(r['name'])}"
                  + (f"  ({labels})" if labels else ""))
    return 0


def _add(store, args) -> int:
    from ..models import choose_device

    device = choose_device(args.device)  # a bad --device is a usage error, not a failed check
    model_id = store.add(args.card, check=not args.no_check, device=device)
    if args.default:
        store.set_default(model_id)
    print(model_id)
    return 0


def _remove(store, args) -> int:
    note = store.remove(args.id)
    print(f"removed {printable(args.id)}" + (f" ({printable(note)})" if note else ""))
    return 0


def _show(store, args) -> int:
    from ..models import load_card

    model_id, card_path = store.resolve(args.model)
    card = load_card(card_path)
    data = {"id": model_id, **card.to_dict(), "card": str(card.path), "model_file": str(card.file)}
    if args.json:
        notes: list[str] = []
        print(_strict_json(data, notes))
        for note in notes:   # stdout stays pure JSON; what was changed is said on stderr
            print(f"sketchstudio models: note: {printable(note)}", file=sys.stderr)
        return 0
    for key in ("id", "name", "task", "description", "card", "model_file"):
        if data.get(key):
            print(f"{key}: {printable(data[key])}")
    if card.labels:
        shown = ", ".join(card.labels[:20]) + (", ..." if len(card.labels) > 20 else "")
        print(f"labels ({len(card.labels)}): {printable(shown)}")
    print("input: " + ", ".join(f"{k}={v}" for k, v in card.spec.to_dict().items()))
    return 0


def _json_ready(value: Any, where: str, notes: list[str]) -> Any:
    """Card values as strict JSON: TOML dates and times become ISO 8601 strings (the form TOML
    writes them in); nan and inf, which JSON cannot hold, become null with a note. A card is at
    most 32 levels deep (card.MAX_CARD_NESTING), so this recursion is bounded."""
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        notes.append(f"{where} = {value} is not a JSON number; shown as null")
        return None
    if isinstance(value, dict):
        return {k: _json_ready(v, f"{where}.{k}" if where else k, notes) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v, f"{where}[{i}]", notes) for i, v in enumerate(value)]
    return value


def _strict_json(value: Any, notes: list[str] | None = None) -> str:
    """Valid JSON or an exception, never `NaN` or a repr: allow_nan=False after _json_ready."""
    return json.dumps(_json_ready(value, "", [] if notes is None else notes), indent=2,
                      allow_nan=False)


def _check(store, args) -> int:
    from ..models import choose_device, load_card, run_checks

    device = choose_device(args.device)
    model_id, card_path = store.resolve(args.model)
    try:
        target = load_card(card_path)
    except Exception:
        target = card_path  # run_checks reports the card problem as its first (failed) line
    results = run_checks(target, device=device)
    for r in results:
        print(printable(r.line()))   # details quote the card and the model's own messages
    return 0 if all(r.ok for r in results) else 1


def _default(store, args) -> int:
    if args.id:
        store.set_default(args.id)
    default = store.default_id()
    print(printable(default) if default else "no models")
    return 0
