"""What an ``Index`` needs from the engine that holds its passages: the store seam.

Two implementations:
- :class:`EmbeddedStore` (the default): FAISS for the dense side, bm25s for BM25, both read
  from the index folder. Nothing leaves the process.
- ``qa.milvus_store.MilvusStore``: one Milvus collection (a Milvus Lite file, a standalone
  server or a cluster) holding the vectors, the BM25 sparse field and the filter fields.

A store answers with *row numbers* (the passage's position in ``passages.jsonl``) and raw
scores: cosines for the dense side, BM25 (bm25s's Lucene form) for the lexical side. Fusion,
the sentence and document signals, answering and evaluation stay in the client, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from qa.lexical import LexicalIndex
from qa.types import Passage

# HNSW's search breadth when the index does not say: 256 holds recall@10 at 0.97 at 1M
# synthetic vectors where faiss's default of 16 gives 0.74 (bench/results-scale.txt).
HNSW_EF_SEARCH = 256


@dataclass(frozen=True)
class SearchFilter:
    """Which passages a search may return: some documents and/or an ISO date range.

    ``mask`` (one bool per row) is what the embedded store uses; a remote store turns the
    fields into its own filter expression instead.
    """

    doc_ids: tuple[str, ...] | None = None
    date_from: str | None = None
    date_to: str | None = None
    mask: np.ndarray | None = field(default=None, compare=False, repr=False)


@runtime_checkable
class SearchStore(Protocol):
    """Dense and lexical search over passage rows, with filters, and passages by row."""

    kind: str  # "embedded" or "milvus"; recorded in the manifest

    def dense_search(
        self, qvec: np.ndarray, n: int, flt: SearchFilter | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` nearest rows by inner product: ``(rows int64, scores float32)``, best first."""
        ...

    def lexical_search(
        self, query: str, n: int, flt: SearchFilter | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` best BM25 rows with a positive score: ``(rows, scores)``, best first."""
        ...

    def lexical_scores(self, query: str, rows: np.ndarray) -> np.ndarray:
        """BM25 scores of ``rows`` (0 where a row holds no query term, or is not known)."""
        ...

    def passages(self, rows: Sequence[int]) -> list[Passage]:
        """The passages at ``rows``, in that order."""
        ...


class EmbeddedStore:
    """FAISS + bm25s in this process: the default store, and the reference for the others."""

    kind = "embedded"

    def __init__(self, dense: Any, lexical: LexicalIndex, passages: Sequence[Passage]) -> None:
        self.dense = dense
        self.lexical = lexical
        self._passages = passages
        self._hnsw = _is_hnsw(dense)

    def dense_search(
        self, qvec: np.ndarray, n: int, flt: SearchFilter | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """FAISS search, the filter applied inside it (an ID selector), so ``n`` still come back."""
        import faiss

        sel = None
        if flt is not None and flt.mask is not None:
            ids = np.flatnonzero(flt.mask).astype(np.int64)
            if len(ids) == 0:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            sel = faiss.IDSelectorBatch(ids)
            n = min(n, len(ids))
        if self._hnsw:
            params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, n))
            if sel is not None:
                params.sel = sel
        else:
            params = faiss.SearchParameters(sel=sel) if sel is not None else None
        sims, idx = self.dense.search(np.asarray(qvec, np.float32)[None, :], n, params=params)
        keep = idx[0] >= 0
        return idx[0][keep].astype(np.int64), sims[0][keep].astype(np.float32)

    def lexical_search(
        self, query: str, n: int, flt: SearchFilter | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """bm25s postings of the query terms only; no N-long score array is ranked."""
        return self.lexical.top(query, n, flt.mask if flt is not None else None)

    def lexical_scores(self, query: str, rows: np.ndarray) -> np.ndarray:
        """Scores of ``rows``, by binary search in the query terms' postings."""
        return self.lexical.scores_at(query, rows)

    def passages(self, rows: Sequence[int]) -> list[Passage]:
        """Passages from the loaded list."""
        return [self._passages[int(r)] for r in rows]


def _is_hnsw(index: Any) -> bool:
    import faiss

    try:
        return faiss.downcast_index(index).__class__.__name__.startswith("IndexHNSW")
    except Exception:  # noqa: BLE001 - an index type downcast does not know is not HNSW
        return False
