"""Explaining a match, and refining a query by dropping the strokes that argue against it.

Two refinements:
- `refine_query` (what the studio's Refine and `eval retrieval` use): not told which result is
  right. The query's top results are searched, their mean embedding is the *consensus* (what they
  agree the drawing is), the cosine similarity to it is attributed to the strokes, and strokes
  whose attribution argues clearly against the consensus are dropped; then the gallery is searched
  again. `DEFAULT_DESIGN` holds the measured choice (docs/retrieval.md).
- `refine_match`: towards one result the user picked (drop the strokes with negative attribution
  to that result) and how its rank moved.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import UserError
from ...progress import CancelledFn, ProgressFn, TaskState
from ...sketch import Sketch
from .embedding import check_embed_model, embed_sketch, embed_sketches
from .gallery import item_key
from .objective import consensus_objective, objective_for
from .results import Gallery, Match
from .search import rank_of, search, similarities


def explain_match(sketch: Sketch, model: Any, gallery: Gallery, row: int, method: str = "sla",
                  steps: int | None = None, progress: ProgressFn = None,
                  cancelled: CancelledFn = None, state: TaskState | None = None) -> Any:
    """Attribution of the cosine similarity between the sketch and gallery row `row`."""
    from ...explain import explain

    check_embed_model(model)
    if state is None:
        state = TaskState.from_callables(progress, cancelled)
    return explain(sketch, model, method=method, steps=steps, objective=objective_for(gallery, row),
                   state=state)


@dataclass(frozen=True)
class Refined:
    sketch: Sketch
    kept: tuple[int, ...]         # stroke indices of the original that remain, in order
    dropped: tuple[int, ...]      # stroke indices removed
    note: str = ""


def _values(sketch: Sketch, attribution: Any) -> np.ndarray:
    values = np.asarray(getattr(attribution, "strokes", attribution), dtype=np.float64).reshape(-1)
    if len(values) != len(sketch):
        raise UserError(f"the attribution has {len(values)} values but the sketch has "
                        f"{len(sketch)} strokes")
    return values


def _drop(sketch: Sketch, dropped: tuple[int, ...]) -> Refined:
    gone = set(dropped)
    kept = tuple(i for i in range(len(sketch)) if i not in gone)
    return Refined(sketch.remove_strokes(dropped), kept, dropped)


def refine(sketch: Sketch, attribution: Any) -> Refined:
    """The sketch without the strokes whose attribution is negative (they lower the similarity).

    A new sketch: the caller records it as an undoable edit. If every stroke is negative the sketch
    is returned unchanged (an empty query retrieves nothing), with a note saying so.
    """
    values = _values(sketch, attribution)
    dropped = tuple(int(i) for i in np.flatnonzero(values < 0))
    if len(dropped) == len(sketch) and len(sketch):
        return Refined(sketch, tuple(range(len(sketch))), (),
                       "every stroke lowers the similarity: nothing was dropped")
    return _drop(sketch, dropped)


@dataclass(frozen=True)
class RefineDesign:
    """How `refine_query` decides, without being told the answer (measured in docs/retrieval.md).

    target: "categories": every category among the top `candidates` results is a hypothesis
      (its gallery centroid is the target); "consensus": one hypothesis, the mean of the top
      `consensus` results. Galleries without categories fall back to "consensus".
    method/steps: the attribution method; threshold: a stroke is dropped when its attribution is
      below -threshold x the sum of the absolute attributions (small negatives are noise on a clean
      drawing); max_fraction: never drop more than this share of the strokes.
    check: keep a refinement only if the new top `agree` results agree more on one category than
      before (a drawing whose results already agree is left alone: clean queries cost nothing).
    """

    target: str = "categories"
    candidates: int = 10
    max_hypotheses: int = 6
    consensus: int = 5
    method: str = "occlusion"
    steps: int | None = None
    threshold: float = 0.2
    max_fraction: float = 0.5
    check: bool = True
    agree: int = 5

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "candidates": self.candidates,
                "max_hypotheses": self.max_hypotheses, "consensus": self.consensus,
                "method": self.method, "steps": self.steps, "threshold": self.threshold,
                "max_fraction": self.max_fraction, "check": self.check, "agree": self.agree}


DEFAULT_DESIGN = RefineDesign()

# The alternatives measured against the default (`eval retrieval --compare`, docs/retrieval.md).
ALTERNATIVE_DESIGNS: dict[str, RefineDesign] = {
    "categories_unchecked": RefineDesign(check=False),
    "consensus_top5": RefineDesign(target="consensus", consensus=5, threshold=0.1, check=False),
    "top1_negative": RefineDesign(target="consensus", consensus=1, method="sla", steps=16,
                                  threshold=0.0, check=False),
}


def strokes_against(values: np.ndarray, design: RefineDesign = DEFAULT_DESIGN) -> tuple[int, ...]:
    """Indices of the strokes to drop: clearly negative, and few enough (else none)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    scale = float(np.abs(values).sum())
    if not len(values) or scale <= 0:
        return ()
    against = np.flatnonzero(values < -design.threshold * scale)
    if len(against) > int(design.max_fraction * len(values)):
        return ()
    return tuple(int(i) for i in against)


def agreement(matches: list[Match]) -> int:
    """How many of these results share the most common category (0 without categories)."""
    words = [m.word for m in matches if m.word]
    return max((words.count(w) for w in set(words)), default=0)


@dataclass(frozen=True)
class Refinement:
    refined: Refined
    attribution: Any
    row: int | None                 # the result whose rank is followed (None: none picked)
    rank_before: int | None
    rank_after: int | None
    similarity_before: float | None
    similarity_after: float | None
    top_after: list[Match]
    top_before: list[Match] = field(default_factory=list)
    consensus: tuple[int, ...] = ()  # rows whose mean was the target (refine_query)
    reading: str = ""                # the hypothesis it chose: a category, or "the top k results"

    def to_json(self) -> dict[str, Any]:
        def r6(x: float | None) -> float | None:
            return None if x is None else round(x, 6)
        d: dict[str, Any] = {
            "row": self.row, "dropped": list(self.refined.dropped),
            "kept": list(self.refined.kept), "rank_before": self.rank_before,
            "rank_after": self.rank_after, "similarity_before": r6(self.similarity_before),
            "similarity_after": r6(self.similarity_after), "note": self.refined.note}
        if self.consensus:
            d["reading"] = self.reading
            d["consensus_rows"] = list(self.consensus)
        return d

    def describe(self) -> str:
        """How the ranks moved, in one line a person reads."""
        parts = []
        if self.row is not None and self.rank_before is not None:
            parts.append(f"the picked result went from rank {self.rank_before} to "
                         f"{self.rank_after}")
        if self.top_before and self.top_after:
            before = [m.row for m in self.top_before]
            after = [m.row for m in self.top_after]
            new = sum(1 for r in after if r not in before)
            first = self.top_after[0]
            was = before.index(first.row) + 1 if first.row in before else None
            parts.append(f"{new} of the top {len(after)} are new; the top result is "
                         + ("unchanged" if was == 1 else
                            f"now {first.word or first.source}"
                            + (f" (was #{was})" if was else " (was not in the top)")))
        return "; ".join(parts)


def refine_match(sketch: Sketch, model: Any, gallery: Gallery, row: int, method: str = "sla",
                 steps: int | None = None, top: int = 10, exclude_self: bool = True,
                 attribution: Any = None, progress: ProgressFn = None,
                 cancelled: CancelledFn = None, state: TaskState | None = None) -> Refinement:
    """Explain the similarity to `row`, drop the strokes against it, and re-rank."""
    if state is None:
        state = TaskState.from_callables(progress, cancelled)
    if attribution is None:
        attribution = explain_match(sketch, model, gallery, row, method, steps, state=state)
    key = item_key(sketch) if exclude_self else None
    before = embed_sketch(sketch, model)
    refined = refine(sketch, attribution)
    after = before if not refined.dropped else embed_sketch(refined.sketch, model)
    return Refinement(refined, attribution, row, rank_of(row, before, gallery, key),
                      rank_of(row, after, gallery, key),
                      float(similarities(before, gallery)[row]),
                      float(similarities(after, gallery)[row]),
                      search(after, gallery, top, exclude_key=key),
                      search(before, gallery, top, exclude_key=key))


def _hypotheses(gallery: Gallery, top: list[Match], own: list[int], design: RefineDesign
                ) -> list[tuple[str, tuple[int, ...]]]:
    """(name, gallery rows) of every reading of the drawing that the refinement tries."""
    words = [m.word for m in top[:design.candidates]]
    if design.target == "categories" and all(words):
        skip = set(own)
        out = []
        for word in dict.fromkeys(w for w in words if w):
            rows = tuple(r for r in gallery.rows_of_word(word) if r not in skip)
            if rows:
                out.append((str(word), rows))
        return out[:design.max_hypotheses]
    rows = tuple(m.row for m in top[:design.consensus])
    return [(f"the top {len(rows)} results", rows)]


@dataclass(frozen=True)
class StrokeValues:
    """Per-stroke attribution computed here (occlusion: similarity lost without each stroke)."""

    strokes: np.ndarray
    method: str = "occlusion"


def _left_out_embeddings(sketch: Sketch, model: Any, state: TaskState) -> np.ndarray:
    """(N, D) unit embeddings of the sketch without each one of its N strokes."""
    variants = [sketch.remove_strokes([k]) for k in range(len(sketch))]
    rows, ok = embed_sketches(variants, model, state=state.child(0.0, 0.5))
    rows[~ok] = 0.0     # nothing left (a one-stroke drawing): similarity 0 without the stroke
    return rows


def refine_query(sketch: Sketch, model: Any, gallery: Gallery, *,
                 design: RefineDesign = DEFAULT_DESIGN, top: int = 10, exclude_self: bool = True,
                 row: int | None = None, state: TaskState | None = None) -> Refinement:
    """Drop the strokes that argue against the best reading of the drawing, and search again.

    Not told which result is right: every category among the top results is a hypothesis; for
    each, the similarity to its gallery centroid is attributed to the strokes and the strokes
    clearly against it are dropped; the hypothesis the refined drawing fits best wins, and it is
    kept only if its results agree more than before (`RefineDesign`). `row` (optional) is a
    result whose rank movement is reported (the studio's pick); it does not steer anything.
    """
    from ...explain import explain

    check_embed_model(model)
    if not len(sketch):
        raise UserError("the drawing has no strokes: nothing to refine")
    if row is not None and not 0 <= row < len(gallery):
        raise UserError(f"gallery row {row} is out of range 0..{len(gallery) - 1}")
    state = TaskState.coerce(state)
    key = item_key(sketch) if exclude_self else None
    own = gallery.rows_of_key(key) if key is not None else []
    before = embed_sketch(sketch, model)
    wanted = max(top, design.candidates, design.consensus, design.agree)
    top_before = search(before, gallery, wanted, exclude_key=key)
    hypotheses = _hypotheses(gallery, top_before, own, design)
    best: tuple[float, tuple[int, ...], Any, tuple[int, ...], np.ndarray, str] | None = None
    # Occlusion of a cosine to a fixed vector needs the same N leave-one-out embeddings for every
    # hypothesis: computed once (batched), each hypothesis is then one product.
    left_out = _left_out_embeddings(sketch, model, state) if design.method == "occlusion" else None
    for n, (name, rows) in enumerate(hypotheses):
        objective = consensus_objective(gallery, rows)
        target = objective.vector.numpy() / max(float(np.linalg.norm(objective.vector)), 1e-12)
        if left_out is not None:
            attribution: Any = StrokeValues(float(before @ target) - left_out @ target)
        else:
            attribution = explain(sketch, model, method=design.method, steps=design.steps,
                                  objective=objective,
                                  state=state.child(n / len(hypotheses),
                                                    (n + 1) / len(hypotheses)))
        dropped = strokes_against(attribution.strokes, design)
        embedding = before if not dropped else embed_sketch(sketch.remove_strokes(dropped), model)
        fit = float(embedding @ target)
        if best is None or fit > best[0]:
            best = (fit, dropped, attribution, rows, embedding, name)
    assert best is not None     # a non-empty gallery gives at least one hypothesis
    _, dropped, attribution, consensus, after, reading = best
    note = "" if dropped else "no stroke argues clearly against any reading of the drawing"
    if dropped and design.check:
        if agreement(search(after, gallery, design.agree, exclude_key=key)) <= agreement(
                top_before[:design.agree]):
            dropped, after = (), before
            note = "dropping the strokes against the best reading did not make the results agree"
    refined = _drop(sketch, dropped) if dropped else Refined(
        sketch, tuple(range(len(sketch))), (), note)
    follow: dict[str, Any] = {"rank_before": None, "rank_after": None,
                              "similarity_before": None, "similarity_after": None}
    if row is not None:
        follow = {"rank_before": rank_of(row, before, gallery, key),
                  "rank_after": rank_of(row, after, gallery, key),
                  "similarity_before": float(similarities(before, gallery)[row]),
                  "similarity_after": float(similarities(after, gallery)[row])}
    state.set_progress(1.0)
    return Refinement(refined, attribution, row,
                      top_after=search(after, gallery, top, exclude_key=key),
                      top_before=top_before[:top], consensus=consensus, reading=reading,
                      **follow)
