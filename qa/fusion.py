"""Combining ranked signals (dense passage, dense best sentence, BM25) into one ranking.

Two methods, chosen by ``FusionSettings.method``:
- ``rrf``: reciprocal-rank fusion, ``sum(w / (k + rank))``; ignores score magnitudes.
- ``weighted``: a weighted sum of scores made comparable per query (cosines as they are,
  BM25 divided by the query's best BM25 score). It keeps how *much* better the top lexical
  match is, which rank fusion throws away; the benchmark in the README compares both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class FusionSettings:
    """Weights of each signal and the fusion method. Recorded in the manifest."""

    method: str = "weighted"
    w_dense: float = 0.35
    w_sentence: float = 0.35
    w_lexical: float = 0.30
    w_document: float = 0.15  # the passage's whole document: its centroid vector and BM25
    rrf_k: int = 60
    candidates: int = 100  # per signal, before fusion

    def to_dict(self) -> dict:
        """JSON-ready settings."""
        return asdict(self)


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based ranks (ties broken by position), same shape as ``scores``."""
    order = np.argsort(-scores, kind="stable")
    r = np.empty(len(scores), dtype=np.int64)
    r[order] = np.arange(1, len(scores) + 1)
    return r


def fuse(
    dense: np.ndarray,
    sentence: np.ndarray,
    lexical: np.ndarray,
    settings: FusionSettings,
    document: np.ndarray | None = None,
) -> np.ndarray:
    """Fused score per candidate; all inputs are aligned arrays over the same candidates.

    ``document`` scores the passage's whole article (in [0, 1]); questions often name context
    ("the September visit") found in another paragraph of the article than the answer.
    """
    if document is None or settings.w_document == 0:
        document = np.zeros_like(dense)
    if settings.method == "rrf":
        k = settings.rrf_k
        out = settings.w_dense / (k + ranks(dense))
        out = out + settings.w_sentence / (k + ranks(sentence))
        # A passage with no query term at all gets no lexical vote.
        lex = np.where(lexical > 0, settings.w_lexical / (k + ranks(lexical)), 0.0)
        doc = settings.w_document / (k + ranks(document)) if settings.w_document else 0.0
        return (out + lex + doc).astype(np.float32)
    top = float(lexical.max()) if len(lexical) else 0.0
    lex_norm = lexical / top if top > 0 else np.zeros_like(lexical)
    out = settings.w_dense * dense + settings.w_sentence * sentence + settings.w_lexical * lex_norm
    out = out + settings.w_document * document
    return out.astype(np.float32)
