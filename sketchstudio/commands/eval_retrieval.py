"""`sketchstudio eval retrieval --gallery PATH`: category-level retrieval quality, with stray
strokes and attribution-guided refinement.

Queries: by default the held-out drawings of the default classifier (5 per category, never trained
on) from the Quick, Draw! data folder; or every drawing with a `word` in a sketch file or folder
(--queries; any number per category). Each query is searched against the gallery without its own
drawing (same key_id, else same points). A gallery item is relevant when its word equals the
query's.

Metrics: mAP (mean over queries of average precision over the full ranking), acc@1 (the top result
is relevant), acc@10 (some top-10 result is relevant), P@10 (relevant share of the top 10).

Conditions (JSON keys):
  clean          the queries as drawn;
  stray          each query plus --stray K strokes taken from drawings of other categories
                 (seeded by --seed: the same strokes every run);
  refined        the stray queries after `refine_query` (not told the answer: drop the strokes
                 that argue against what the top results agree on, search again);
  clean_refined  the clean queries after the same refinement (what it costs when there is
                 nothing to fix).
--compare adds the same for the alternative designs that were measured (docs/retrieval.md).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError

K = 10


def add_parser(sub) -> None:
    p = sub.add_parser("retrieval", help="category-level mAP, acc@1, acc@10 of an embedding model, "
                                         "with stray strokes and refinement")
    p.add_argument("--gallery", required=True,
                   help="gallery: folder of sketch files or .ndjson file")
    p.add_argument("--queries", help="query sketch file or folder: every drawing with a word is a "
                                     "query (default: the held-out drawings of the default "
                                     "classifier's categories)")
    p.add_argument("--model", default="default-embed",
                   help="embedding model (default: default-embed)")
    p.add_argument("--data", help="Quick, Draw! data folder for the default queries")
    p.add_argument("--stray", type=int, default=0, metavar="K",
                   help="add K strokes from drawings of other categories to every query")
    p.add_argument("--seed", type=int, default=0, help="seed for the stray strokes (default 0)")
    p.add_argument("--method", help="attribution method of the refinement (default: the design's)")
    p.add_argument("--steps", type=int, help="integration steps for sla / psla")
    p.add_argument("--no-refine", action="store_true", help="skip the refinement runs")
    p.add_argument("--compare", action="store_true",
                   help="also run the alternative refinement designs, side by side")
    p.add_argument("--limit", type=int, help="use only the first N queries")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def _queries(args) -> tuple[list[Any], str]:
    from ..tasks.retrieve import gallery_files, read_drawings
    from ..training.data import DEFAULT_CATEGORIES, heldout_sketches, resolve_data_dir

    if args.queries is None:
        folder = resolve_data_dir(args.data)
        held = heldout_sketches(folder, DEFAULT_CATEGORIES)
        return ([s for c in DEFAULT_CATEGORIES for s in held[c]],
                "held-out drawings of the default classifier (5 per category, 40 categories)")
    kind, files = gallery_files(Path(args.queries).expanduser().absolute())
    sketches: list[Any] = []
    for f in files:
        items, _ = read_drawings(f)
        sketches.extend(s.with_metadata(word=it.word) for it, s in items if it.word)
    if not sketches:
        raise UserError(f"{args.queries}: no query drawings with a word (category) to evaluate")
    return sketches, str(args.queries)


def ranking_metrics(sims: np.ndarray, relevant: np.ndarray, valid: np.ndarray) -> dict[str, float]:
    """One query: sims (N,), relevant (N,) bool, valid (N,) bool (False: excluded from ranking)."""
    s = np.where(valid, sims, -np.inf)
    order = np.argsort(-s, kind="stable")[: int(valid.sum())]
    rel = relevant[order]
    top = rel[:K]
    hits = np.flatnonzero(rel)
    ap = float(np.mean((np.arange(len(hits)) + 1) / (hits + 1))) if len(hits) else float("nan")
    return {"ap": ap, "acc1": float(rel[0]), "acc10": float(top.any()), "p10": float(top.mean())}


def summary(rows: list[dict[str, float]]) -> dict[str, float] | None:
    if not rows:
        return None
    return {"map": round(float(np.nanmean([r["ap"] for r in rows])), 4),
            "acc@1": round(float(np.mean([r["acc1"] for r in rows])), 4),
            "acc@10": round(float(np.mean([r["acc10"] for r in rows])), 4),
            "P@10": round(float(np.mean([r["p10"] for r in rows])), 4)}


def _with_stray(queries, gallery, count: int, seed: int):
    """Every query with `count` strokes of drawings of other categories (seeded per query)."""
    from ..tasks.retrieve import add_stray_strokes

    words = np.array([it.word or "" for it in gallery.items], dtype=object)
    out = []
    for qi, sketch in enumerate(queries):
        rng = np.random.default_rng([seed, qi])
        others = np.flatnonzero(words != (sketch.word or ""))
        donors = [gallery.load_sketch(int(r)) for r in rng.choice(others, size=count)]
        out.append(add_stray_strokes(sketch, donors, count, rng)[0])
    return out


def _designs(args) -> dict[str, Any]:
    from dataclasses import replace

    from ..tasks.retrieve import ALTERNATIVE_DESIGNS, DEFAULT_DESIGN

    chosen = DEFAULT_DESIGN
    if args.method is not None:
        chosen = replace(chosen, method=args.method, steps=args.steps)
    designs = {"refined": chosen}
    if args.compare:
        designs.update(ALTERNATIVE_DESIGNS)
    return designs


def run(args) -> int:
    from ..models import load_model
    from ..tasks.retrieve import (
        check_embed_model,
        embed_sketches,
        item_key,
        open_gallery,
        refine_query,
    )

    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, got {args.limit}")
    if args.stray < 0:
        raise UserError(f"--stray must be 0 or more, got {args.stray}")
    started = time.perf_counter()
    model = load_model(args.model, device=args.device)
    check_embed_model(model)
    gallery = open_gallery(args.gallery, model)
    queries, query_source = _queries(args)
    if args.limit:
        queries = queries[: args.limit]
    words = np.array([it.word or "" for it in gallery.items], dtype=object)
    designs = {} if args.no_refine else _designs(args)

    # Queries that can be scored: embeddable, not empty, with a relevant item other than itself.
    scored = []
    base, ok = embed_sketches(queries, model)
    for qi, sketch in enumerate(queries):
        valid = np.ones(len(gallery), bool)
        valid[gallery.rows_of_key(item_key(sketch))] = False
        relevant = words == sketch.word
        if ok[qi] and len(sketch) and (relevant & valid).any():
            scored.append((qi, valid, relevant))
    conditions = {"clean": [queries[qi] for qi, _, _ in scored]}
    if args.stray:
        conditions["stray"] = _with_stray(conditions["clean"], gallery, args.stray, args.seed)
    rows: dict[str, list[dict[str, float]]] = {}
    dropped: dict[str, list[int]] = {}
    for cond, sketches in conditions.items():
        emb, eok = embed_sketches(sketches, model)
        rows[cond] = [ranking_metrics(gallery.embeddings @ emb[i], rel, valid)
                      for i, (_, valid, rel) in enumerate(scored)]
        for name, design in designs.items():
            # Refinement of stray queries is the point; of clean ones, what it costs.
            out = name if cond != "clean" or not args.stray else f"clean_{name}"
            if not args.stray:
                out = name
            rows[out], dropped[out] = [], []
            for i, (_, valid, rel) in enumerate(scored):
                r = refine_query(sketches[i], model, gallery, design=design)
                dropped[out].append(len(r.refined.dropped))
                e = emb[i] if not r.refined.dropped else embed_sketches([r.refined.sketch],
                                                                        model)[0][0]
                rows[out].append(ranking_metrics(gallery.embeddings @ e, rel, valid))
                if not args.json and sys.stderr.isatty():
                    print(f"\r{cond} {name}: {i + 1}/{len(scored)} queries", end="",
                          file=sys.stderr, flush=True)
    if not args.json and sys.stderr.isatty():
        print(file=sys.stderr)

    result: dict[str, Any] = {
        "model": model.id, "gallery": str(gallery.path), "gallery_items": len(gallery),
        "gallery_skipped": gallery.skipped_count, "queries": query_source,
        "evaluated_queries": len(scored), "skipped_queries": len(queries) - len(scored),
        "relevance": "same word (category); the query's own drawing is excluded",
        "stray_strokes": args.stray, "seed": args.seed,
    }
    for name, metrics in rows.items():
        result[name] = summary(metrics)
        if name in dropped:
            d = dropped[name]
            result[name]["queries_changed"] = int(sum(1 for x in d if x))
            result[name]["mean_strokes_dropped"] = round(float(np.mean(d)), 3) if d else 0.0
    if designs:
        result["refinement"] = {name: design.to_json() for name, design in designs.items()}
        if args.stray and result.get("stray"):
            clean, stray = result["clean"]["acc@1"], result["stray"]["acc@1"]
            lost = clean - stray
            for name in designs:
                got = result[name]["acc@1"] - stray
                result[name]["recovered_acc@1"] = round(got / lost, 4) if lost > 0 else None
                result[f"clean_{name}"]["cost_acc@1"] = round(
                    clean - result[f"clean_{name}"]["acc@1"], 4)
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    _print_text(result, list(rows))
    return 0


def _print_text(result: dict[str, Any], names: list[str]) -> None:
    print(f"model {result['model']}, gallery {result['gallery']} ({result['gallery_items']} "
          f"items), {result['evaluated_queries']} queries ({result['queries']})"
          + (f", {result['stray_strokes']} stray strokes each" if result["stray_strokes"] else ""))
    for name in names:
        s = result[name]
        extra = ""
        if s.get("recovered_acc@1") is not None:
            extra = f"  recovered {s['recovered_acc@1']:.0%} of the acc@1 lost"
        elif "cost_acc@1" in s:
            extra = f"  acc@1 cost {s['cost_acc@1']:+.4f}"
        print(f"  {name:<22} mAP {s['map']:.4f}  acc@1 {s['acc@1']:.4f}  "
              f"acc@10 {s['acc@10']:.4f}  P@10 {s['P@10']:.4f}{extra}")
