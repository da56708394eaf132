"""`sketchstudio eval retrieval --gallery PATH`: category-level retrieval quality, with and without
attribution-guided refinement.

Queries: by default the held-out drawings of the default classifier (5 per category, never trained
on) from the Quick, Draw! data folder; or any sketch file / folder (--queries) whose drawings have a
`word`. Each query is searched against the gallery without its own drawing (same key_id, else same
points). A gallery item is relevant when its word equals the query's.

Metrics: mAP (mean over queries of average precision over the full ranking), acc@1 (the top result
is relevant), acc@10 (some top-10 result is relevant), P@10 (relevant share of the top 10).

Refinement (what the studio's "refine" does): explain the similarity to one result with `--method`,
drop the strokes with negative attribution, search again. Two ways to pick the result:
  auto    the top-1 result (no labels used: pseudo-relevance feedback);
  picked  the best-ranked relevant result in the top 10, as a user would click it (uses the label,
          as the user's eye does; queries without one stay as they are).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import UserError

K = 10


def add_parser(sub) -> None:
    p = sub.add_parser("retrieval", help="category-level mAP, acc@1, acc@10 of an embedding model, "
                                         "with and without refinement")
    p.add_argument("--gallery", required=True, help="gallery: folder of sketch files or .ndjson file")
    p.add_argument("--queries", help="query sketch file or folder (default: the held-out drawings "
                                     "of the default classifier's categories)")
    p.add_argument("--model", default="default-embed", help="embedding model (default: default-embed)")
    p.add_argument("--data", help="Quick, Draw! data folder for the default queries")
    p.add_argument("--method", default="sla", help="attribution method for refinement (default sla)")
    p.add_argument("--steps", type=int, default=16, help="integration steps (default 16)")
    p.add_argument("--no-refine", action="store_true", help="skip the refinement runs")
    p.add_argument("--limit", type=int, help="use only the first N queries")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def _queries(args):
    from ..tasks.retrieve import _File, _gallery_files, _read_sketch_file
    from ..training.data import DEFAULT_CATEGORIES, heldout_sketches, resolve_data_dir

    if args.queries is None:
        folder = resolve_data_dir(args.data)
        held = heldout_sketches(folder, DEFAULT_CATEGORIES)
        return [s for c in DEFAULT_CATEGORIES for s in held[c]], "held-out drawings of the default classifier (5 per category, 40 categories)"
    kind, files = _gallery_files(Path(args.queries).expanduser().absolute(), None)
    sketches = []
    for f in files:
        items, _ = _read_sketch_file(_File(f.path, f.rel))
        sketches.extend(s.with_metadata(word=it.word) for it, s in items if it.word)
    if not sketches:
        raise UserError(f"{args.queries}: no query drawings with a word (category) to evaluate")
    return sketches, str(args.queries)


def _metrics(sims: np.ndarray, relevant: np.ndarray, valid: np.ndarray) -> dict[str, float]:
    """One query: sims (N,), relevant (N,) bool, valid (N,) bool (False: excluded from ranking)."""
    s = np.where(valid, sims, -np.inf)
    order = np.argsort(-s, kind="stable")[: int(valid.sum())]
    rel = relevant[order]
    top = rel[:K]
    hits = np.flatnonzero(rel)
    ap = float(np.mean((np.arange(len(hits)) + 1) / (hits + 1))) if len(hits) else float("nan")
    return {"ap": ap, "acc1": float(rel[0]), "acc10": float(top.any()), "p10": float(top.mean())}


def run(args) -> int:
    from ..models import load_model
    from ..tasks.retrieve import (embed_sketches, explain_match, item_key, open_gallery, refine,
                                  check_embed_model)

    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, got {args.limit}")
    started = time.perf_counter()
    model = load_model(args.model, device=args.device)
    check_embed_model(model)
    gallery = open_gallery(args.gallery, model)
    queries, query_source = _queries(args)
    if args.limit:
        queries = queries[: args.limit]
    words = np.array([it.word or "" for it in gallery.items], dtype=object)
    keys = {k: i for i, k in enumerate(it.key for it in gallery.items)}

    base, ok = embed_sketches(queries, model)
    variants = {"baseline": [], "refined_auto": [], "refined_picked": []}
    dropped = {"refined_auto": [], "refined_picked": []}
    skipped_queries = 0
    for qi, sketch in enumerate(queries):
        if not ok[qi] or not len(sketch):
            skipped_queries += 1
            continue
        valid = np.ones(len(gallery), bool)
        own = keys.get(item_key(sketch))
        if own is not None:
            valid[own] = False
        relevant = words == sketch.word
        if not (relevant & valid).any():
            skipped_queries += 1
            continue
        sims = gallery.embeddings @ base[qi]
        variants["baseline"].append(_metrics(sims, relevant, valid))
        if args.no_refine:
            continue
        ranked = np.argsort(-np.where(valid, sims, -np.inf), kind="stable")[:K]
        picks = {"refined_auto": int(ranked[0])}
        rel_top = [int(r) for r in ranked if relevant[r]]
        picks["refined_picked"] = rel_top[0] if rel_top else None
        for name, row in picks.items():
            if row is None:
                variants[name].append(variants["baseline"][-1])
                dropped[name].append(0)
                continue
            attribution = explain_match(sketch, model, gallery, row, args.method, args.steps)
            refined = refine(sketch, attribution)
            dropped[name].append(len(refined.dropped))
            if not refined.dropped:
                variants[name].append(variants["baseline"][-1])
                continue
            e, eok = embed_sketches([refined.sketch], model)
            variants[name].append(_metrics(gallery.embeddings @ e[0], relevant, valid)
                                  if eok[0] else variants["baseline"][-1])
        if not args.json and sys.stderr.isatty():
            print(f"\r{qi + 1}/{len(queries)} queries", end="", file=sys.stderr, flush=True)

    def summary(rows):
        if not rows:
            return None
        return {"mAP": round(float(np.nanmean([r["ap"] for r in rows])), 4),
                "acc@1": round(float(np.mean([r["acc1"] for r in rows])), 4),
                "acc@10": round(float(np.mean([r["acc10"] for r in rows])), 4),
                "P@10": round(float(np.mean([r["p10"] for r in rows])), 4)}

    result = {
        "model": model.id, "gallery": str(gallery.path), "gallery_items": len(gallery),
        "gallery_skipped": gallery.skipped_count, "queries": query_source,
        "evaluated_queries": len(variants["baseline"]), "skipped_queries": skipped_queries,
        "relevance": "same word (category); the query's own drawing is excluded",
        "baseline": summary(variants["baseline"]),
    }
    if not args.no_refine:
        result["refinement"] = {"method": args.method, "steps": args.steps}
        for name in ("refined_auto", "refined_picked"):
            s = summary(variants[name])
            d = dropped[name]
            result[name] = {**(s or {}),
                            "delta": {k: round(s[k] - result["baseline"][k], 4) for k in s} if s else None,
                            "queries_changed": int(sum(1 for x in d if x)),
                            "mean_strokes_dropped": round(float(np.mean(d)), 3) if d else 0.0}
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"model {result['model']}, gallery {result['gallery']} ({result['gallery_items']} items), "
          f"{result['evaluated_queries']} queries ({query_source})")
    for name in ("baseline", "refined_auto", "refined_picked"):
        s = result.get(name)
        if s:
            print(f"  {name:<15} mAP {s['mAP']:.4f}  acc@1 {s['acc@1']:.4f}  "
                  f"acc@10 {s['acc@10']:.4f}  P@10 {s['P@10']:.4f}")
    return 0
