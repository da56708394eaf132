"""`sketchstudio retrieve FILE --gallery PATH`: the most similar gallery items, and why (per
stroke)."""
from __future__ import annotations

import json
import sys

from ..errors import UserError
from ._args import add_method_arguments, add_sketch_command

DEFAULT_EMBED_MODEL = "default-embed"


def add_parser(subparsers) -> None:
    p = add_sketch_command(
        subparsers, "retrieve", DEFAULT_EMBED_MODEL, run, what="the query sketch file",
        model_help="embedding model: store id or card",
        help="find the most similar drawings (or images) in a gallery",
        description="Embed the sketch with an embedding model (card task = \"embed\"), rank the "
                    "gallery by cosine similarity, and optionally explain one result per stroke. "
                    "Gallery embeddings are cached on disk: re-opening a gallery is instant.")
    p.add_argument("--gallery", required=True,
                   help="a folder of sketch files, an .ndjson file of many drawings, or (two-tower "
                        "models) a folder of images")
    p.add_argument("--top", type=int, default=10, help="how many results (default 10)")
    p.add_argument("--explain", type=int, metavar="RANK",
                   help="attribute the similarity to the result of this rank to every stroke")
    add_method_arguments(p, " for --explain")
    p.add_argument("--refine", action="store_true",
                   help="drop the strokes that argue against what the top results agree on and "
                        "search again (with --explain: also how that result's rank moved)")
    p.add_argument("--keep-self", action="store_true",
                   help="keep the query's own drawing in the results when the gallery holds it")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--json", action="store_true", help="one JSON object")


def run(args) -> int:
    from ..models import load_model
    from ..sketch.io import load_sketch
    from ..tasks.retrieve import (
        embed_sketch,
        explain_match,
        item_key,
        open_gallery,
        refine_query,
        search,
    )

    if args.top < 1:
        raise UserError(f"--top must be at least 1, got {args.top}")
    if args.explain is not None and not 1 <= args.explain <= args.top:
        raise UserError(f"--explain must be a rank between 1 and --top ({args.top}), "
                        f"got {args.explain}")
    sketch = load_sketch(args.file, index=args.index)
    if not len(sketch):
        raise UserError(f"{args.file}: drawing {args.index} has no strokes: nothing to search with")
    model = load_model(args.model, device=args.device)
    gallery = open_gallery(args.gallery, model, cache=not args.no_cache,
                           progress=_progress_printer() if not args.json else None)
    key = None if args.keep_self else item_key(sketch)
    query = embed_sketch(sketch, model)
    matches = search(query, gallery, args.top, exclude_key=key)
    record = {"file": str(args.file), "index": args.index, "model": model.id,
              **{k: v for k, v in gallery.summary().items() if k != "elapsed_ms"},
              "gallery_ms": round(gallery.elapsed_ms, 3),
              "results": [m.to_json() for m in matches]}
    explained = None
    followed = None
    if args.explain is not None:
        if args.explain > len(matches):
            raise UserError(f"--explain {args.explain}: the gallery gave only {len(matches)} "
                            "results")
        match = matches[args.explain - 1]
        followed = match.row
        explained = explain_match(sketch, model, gallery, match.row, args.method, args.steps)
        record["explain"] = {"rank": match.rank, "similarity": match.similarity,
                             **explained.to_json()}
    if args.refine:
        refinement = refine_query(sketch, model, gallery, top=args.top,
                                  exclude_self=not args.keep_self, row=followed)
        record["refine"] = {**refinement.to_json(), "moved": refinement.describe(),
                            "results": [m.to_json() for m in refinement.top_after]}
    if args.json:
        print(json.dumps(record))
        return 0
    _print_text(record, gallery)
    return 0


def _progress_printer():
    if not sys.stderr.isatty():
        return None
    last = [-1]

    def progress(fraction: float) -> None:
        percent = int(fraction * 100)
        if percent != last[0]:
            last[0] = percent
            print(f"\rembedding the gallery: {percent:3d}%", end="" if percent < 100 else "\n",
                  file=sys.stderr, flush=True)
    return progress


def _print_text(record: dict, gallery) -> None:
    from ..textsafe import printable  # words, paths and reasons come from files: no raw controls

    how = "cached" if record["cache_hit"] else f"embedded {record['embedded']}"
    print(f"gallery {record['gallery']}: {record['items']} {record['kind']} items "
          f"({how}, {record['gallery_ms']:.0f} ms)")
    if gallery.skipped_count:
        print(f"  skipped {gallery.skipped_count} unreadable item(s):")
        for s in gallery.skipped[:10]:
            print(f"    {printable(s.reason)}")
        if gallery.skipped_count > 10:
            print(f"    ... and {gallery.skipped_count - 10} more")
    for r in record["results"]:
        word = f"  {printable(r['word'])}" if "word" in r else ""
        source = printable(r["source"])
        print(f"{r['rank']:3d}  {r['similarity']:+.4f}  {source}[{r['index']}]{word}")
    if "explain" in record:
        e = record["explain"]
        print(f"rank {e['rank']} ({e['method']}): similarity {e['score_full']:.4f}, "
              f"blank {e['score_blank']:.4f}")
        for k, v in enumerate(e["strokes"]):
            side = "supports" if v > 0 else "against" if v < 0 else "neutral"
            print(f"  stroke {k:3d}  {v:+.5f}  {side}")
    if "refine" in record:
        r = record["refine"]
        print(f"refined: dropped strokes {r['dropped'] or 'none'}; {r['moved']}"
              + (f" ({r['note']})" if r["note"] else ""))
        for m in r["results"]:
            word = f"  {printable(m['word'])}" if "word" in m else ""
            print(f"{m['rank']:3d}  {m['similarity']:+.4f}  {printable(m['source'])}"
                  f"[{m['index']}]{word}")
    sys.stdout.flush()
