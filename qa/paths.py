"""Where the default corpus and index are. A leaf module (the facade and the index use it)."""

from __future__ import annotations

import os
from pathlib import Path


def default_paths() -> tuple[Path, Path]:
    """``(corpus_dir, index_dir)`` of the default index.

    ``$QA_CORPUS``/``$QA_INDEX`` if set; else ``corpus/`` and ``embeddings/`` in the current
    folder, falling back to the ones beside this package in a source checkout.
    """
    corpus = os.environ.get("QA_CORPUS")
    index = os.environ.get("QA_INDEX")
    if corpus is None:
        here = Path("corpus")
        repo = Path(__file__).resolve().parent.parent
        corpus = str(here if here.is_dir() or not (repo / "corpus").is_dir() else repo / "corpus")
    if index is None:
        index = str(Path(os.path.realpath(corpus)).parent / "embeddings")
    return Path(corpus), Path(index)
