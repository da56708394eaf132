"""Retrieval with an embedding model (card `task = "embed"`): galleries, search, explanation,
refinement.

- `gallery`: reading a gallery (folder of sketch files, one many-drawing file, or a folder of
  images for a two-tower model) and opening it (`open_gallery`, a long task taking a `TaskState`);
- `cache`: the on-disk cache of gallery embeddings (.npy + JSON manifest, never pickled);
- `embedding`: sketches and images to unit-length embeddings, in batches;
- `search`: cosine ranking, `retrieve`, `rank_of`;
- `objective`: the attributed score, cosine similarity to one gallery item or to a consensus;
- `refine`: explaining a match, and refinement (`refine_query`: drop the strokes that argue
  against what the top results agree on; `refine_match`: towards one picked result);
- `stray`: stray strokes added to queries, to measure refinement;
- `thumbnails`: small pictures of gallery items.
"""
from typing import TYPE_CHECKING

from ..._lazy import lazy_dir, lazy_getattr, names_over_submodules
from .cache import CACHE_VERSION, cache_dir, forget_file_hashes, model_digest
from .results import Gallery, GalleryItem, Match, Skipped
from .stray import add_stray_strokes
from .thumbnails import THUMB, thumbnail

# The modules that compute with torch are imported on first use (`_LAZY`), so the studio's window
# can name these types before torch is loaded.
if TYPE_CHECKING:
    from ...render import render_batch  # where it used to live; render owns it now
    from .embedding import (
        BATCH_SIZE,
        IMAGE_BATCH_SIZE,
        check_embed_model,
        embed_images,
        embed_sketch,
        embed_sketches,
        image_input,
    )
    from .gallery import (
        IMAGE_SUFFIXES,
        SKETCH_SUFFIXES,
        GalleryFile,
        gallery_files,
        item_key,
        open_gallery,
        read_drawings,
    )
    from .objective import CosineSimilarity, consensus_objective, objective_for
    from .refine import (
        ALTERNATIVE_DESIGNS,
        DEFAULT_DESIGN,
        Refined,
        RefineDesign,
        Refinement,
        agreement,
        explain_match,
        refine,
        refine_match,
        refine_query,
        strokes_against,
    )
    from .search import rank_of, retrieve, search, similarities

__all__ = [
    "ALTERNATIVE_DESIGNS", "BATCH_SIZE", "CACHE_VERSION", "DEFAULT_DESIGN", "IMAGE_BATCH_SIZE",
    "IMAGE_SUFFIXES", "SKETCH_SUFFIXES", "THUMB", "CosineSimilarity", "Gallery", "GalleryFile",
    "GalleryItem", "Match", "RefineDesign", "Refined", "Refinement", "Skipped", "add_stray_strokes",
    "agreement", "cache_dir", "check_embed_model", "consensus_objective", "embed_images",
    "embed_sketch", "embed_sketches", "explain_match", "forget_file_hashes", "gallery_files",
    "image_input", "item_key", "model_digest", "objective_for", "open_gallery", "rank_of",
    "read_drawings", "refine", "refine_match", "refine_query", "render_batch", "retrieve", "search",
    "similarities", "strokes_against", "thumbnail",
]

_LAZY = {
    "render_batch": "...render",
    **dict.fromkeys(("BATCH_SIZE", "IMAGE_BATCH_SIZE", "check_embed_model", "embed_images",
                     "embed_sketch", "embed_sketches", "image_input"), ".embedding"),
    **dict.fromkeys(("IMAGE_SUFFIXES", "SKETCH_SUFFIXES", "GalleryFile", "gallery_files",
                     "item_key", "open_gallery", "read_drawings"), ".gallery"),
    **dict.fromkeys(("CosineSimilarity", "consensus_objective", "objective_for"), ".objective"),
    **dict.fromkeys(("ALTERNATIVE_DESIGNS", "DEFAULT_DESIGN", "Refined", "RefineDesign",
                     "Refinement", "agreement", "explain_match", "refine", "refine_match",
                     "refine_query", "strokes_against"), ".refine"),
    **dict.fromkeys(("rank_of", "retrieve", "search", "similarities"), ".search"),
}
__getattr__ = lazy_getattr(__name__, _LAZY)
__dir__ = lazy_dir(globals(), _LAZY)
# `refine` and `search` name both a module and its function: the package offers the functions.
names_over_submodules(__name__, ("refine", "search"))
