"""Opening an index the way the ``qa`` command and the app both do, and the default index.

Light at import time (the index module loads inside the functions), so the CLI, the app and
the evaluation package share one opener and one list of encoder backends without importing the
``qa`` facade.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from qa.model_files import BACKENDS  # re-exported: the choices of --backend
from qa.paths import default_paths

if TYPE_CHECKING:
    from qa.index import Index

__all__ = ["BACKENDS", "default_paths", "load_default_index", "open_for", "resolve_paths"]

_default: Index | None = None
_default_lock = threading.Lock()


def resolve_paths(corpus: str | None, index: str | None) -> tuple[Path, Path]:
    """The corpus and index folders from ``--corpus``/``--index`` (either may be unset).

    A corpus given alone keeps its index in ``embeddings/`` beside it.
    """
    corpus_dir, index_dir = default_paths()
    if corpus:
        corpus_dir = Path(corpus)
        if not index:
            index_dir = Path(os.path.realpath(corpus_dir)).parent / "embeddings"
    if index:
        index_dir = Path(index)
    return corpus_dir, index_dir


def open_for(
    corpus: str | None,
    index: str | None,
    *,
    model: str | None = None,
    backend: str | None = None,
    show_progress: bool = True,
) -> Index:
    """The index for ``--corpus``/``--index``: built or rebuilt from the corpus when one is
    known; an explicit index alone is loaded and checked, never rebuilt from a guessed corpus."""
    from qa.index import load_index, open_index

    corpus_dir, index_dir = resolve_paths(corpus, index)
    kwargs = {"model": model, "backend": backend}
    if corpus or not index:
        return open_index(corpus_dir, index_dir, show_progress=show_progress, **kwargs)
    return load_index(index_dir, check_stale=True, **kwargs)


def load_default_index(*, reload: bool = False) -> Index:
    """The default index, built or rebuilt if needed, shared by every call in this process."""
    global _default
    with _default_lock:
        if _default is None or reload:
            from qa.index import open_index

            _default = open_index(*default_paths())
        return _default
