"""`sketchstudio models ...`: list, add, remove, show and check models in the store."""
from __future__ import annotations

import argparse
import json
from typing import Any


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

    a = actions.add_parser("remove", help="remove one of your models from the store")
    a.add_argument("id", metavar="ID")

    a = actions.add_parser("show", help="show a model's card")
    a.add_argument("model", metavar="ID|CARD")
    a.add_argument("--json", action="store_true", help="the card as JSON")

    a = actions.add_parser("check", help="check that a model can be explained (one line per check)")
    a.add_argument("model", metavar="ID|CARD")

    a = actions.add_parser("default", help="show or set the default model")
    a.add_argument("id", metavar="ID", nargs="?")

    p.set_defaults(run=run, action=None, json=False)


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
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no models (add one with `sketchstudio models add CARD`)")
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        mark = "*" if r["default"] else " "
        where = "built-in" if r["builtin"] else "user"
        if "problem" in r:
            print(f"{mark} {r['id']:<{width}}  BROKEN: {r['problem']}")
        else:
            labels = f"{r['labels']} labels" if r["labels"] else ""
            print(f"{mark} {r['id']:<{width}}  {r['task']:<8}  {where:<8}  {r['name']}"
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
    store.remove(args.id)
    print(f"removed {args.id}")
    return 0


def _show(store, args) -> int:
    from ..models import load_card

    model_id, card_path = store.resolve(args.model)
    card = load_card(card_path)
    data = {"id": model_id, **card.to_dict(), "card": str(card.path), "model_file": str(card.file)}
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for key in ("id", "name", "task", "description", "card", "model_file"):
        if data.get(key):
            print(f"{key}: {data[key]}")
    if card.labels:
        shown = ", ".join(card.labels[:20]) + (", ..." if len(card.labels) > 20 else "")
        print(f"labels ({len(card.labels)}): {shown}")
    print("input: " + ", ".join(f"{k}={v}" for k, v in card.spec.to_dict().items()))
    return 0


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
        print(r.line())
    return 0 if all(r.ok for r in results) else 1


def _default(store, args) -> int:
    if args.id:
        store.set_default(args.id)
    default = store.default_id()
    print(default if default else "no models")
    return 0
