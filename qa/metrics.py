"""Pure evaluation metrics: ranking, SQuAD answer matching, evidence matching, percentiles.

Ranking metrics take the retrieved list as relevance flags in rank order (rank 1 first), so ties
in retrieval scores are resolved by the order the retriever returned; nothing here re-sorts.
``None`` for the flags (or an empty gold set) means "this question has no gold": the result is
``None`` so callers can leave the question out of averages instead of counting it as a miss.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Sequence

import numpy as np

# Typographic variants that corpora and hand-written gold strings disagree on most often.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
_SPACE = re.compile(r"\s+")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)


# --- ranking ----------------------------------------------------------------------------------


def first_relevant_rank(relevant: Sequence[bool] | None, k: int = 10) -> int | None:
    """The 1-based rank of the first relevant item within the top ``k``, else ``None``."""
    if relevant is None:
        return None
    for i, rel in enumerate(relevant[:k]):
        if rel:
            return i + 1
    return None


def hit_at_k(relevant: Sequence[bool] | None, k: int) -> float | None:
    """1.0 if any of the top ``k`` items is relevant, else 0.0; ``None`` without gold."""
    if relevant is None:
        return None
    return 1.0 if any(relevant[:k]) else 0.0


def mrr_at_k(relevant: Sequence[bool] | None, k: int = 10) -> float | None:
    """Reciprocal rank of the first relevant item in the top ``k`` (0.0 if none); ``None``
    without gold."""
    if relevant is None:
        return None
    rank = first_relevant_rank(relevant, k)
    return 0.0 if rank is None else 1.0 / rank


def recall_at_k(
    covered: Sequence[Collection[Hashable]], gold: Collection[Hashable], k: int
) -> float | None:
    """Share of the gold items covered by the top ``k`` results.

    ``covered[i]`` is the set of gold items result ``i`` satisfies (the evidence strings it
    contains, or its document id when gold is given as source documents). Returns ``None`` when
    ``gold`` is empty.
    """
    gold_set = set(gold)
    if not gold_set:
        return None
    found: set[Hashable] = set()
    for items in covered[:k]:
        found.update(items)
    return len(found & gold_set) / len(gold_set)


def dcg(relevant: Sequence[bool], k: int) -> float:
    """Discounted cumulative gain with binary gains: sum of ``1/log2(rank+1)`` over hits."""
    return sum(1.0 / math.log2(i + 2) for i, rel in enumerate(relevant[:k]) if rel)


def ndcg_at_k(relevant: Sequence[bool] | None, n_relevant: int, k: int = 10) -> float | None:
    """Normalised DCG with binary relevance; ``None`` without gold (``relevant`` is ``None`` or
    ``n_relevant`` is 0).

    The ideal ranking puts ``min(n_relevant, k)`` relevant items first. The full set of relevant
    passages in an index is unknown (a source document or a quoted evidence string can span
    several overlapping passages), so ``n_relevant`` is raised to the number of relevant items
    actually seen in the top ``k``; this keeps the score in [0, 1] and a perfect ranking at 1.
    """
    if relevant is None or n_relevant <= 0:
        return None
    ideal_n = min(max(n_relevant, sum(1 for r in relevant[:k] if r)), k)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(ideal_n))
    return dcg(relevant, k) / ideal


# The short names used in the issue tracker.
mrr = mrr_at_k
ndcg = ndcg_at_k


# --- evidence matching ------------------------------------------------------------------------


def normalize_evidence(text: str) -> str:
    """Normalise text for evidence matching: NFC, typographic quotes/dashes folded to ASCII,
    casefolded, whitespace collapsed to single spaces and stripped."""
    text = unicodedata.normalize("NFC", text).translate(_TYPOGRAPHY).casefold()
    return _SPACE.sub(" ", text).strip()


def evidence_found(evidence: Iterable[str], text: str) -> set[str]:
    """The evidence strings (as given) whose normalised form occurs in the normalised ``text``.

    Evidence that normalises to the empty string never matches: it would make every passage
    relevant.
    """
    hay = normalize_evidence(text)
    found = set()
    for ev in evidence:
        needle = normalize_evidence(ev)
        if needle and needle in hay:
            found.add(ev)
    return found


# --- answers (SQuAD conventions) --------------------------------------------------------------


def squad_normalize(text: str) -> str:
    """The official SQuAD answer normalisation: lowercase, drop punctuation, drop the articles
    a/an/the, collapse whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    """1.0 if the SQuAD-normalised strings are equal, else 0.0."""
    return 1.0 if squad_normalize(prediction) == squad_normalize(gold) else 0.0


def f1(prediction: str, gold: str) -> float:
    """SQuAD token F1 between a prediction and one gold answer.

    As in the official SQuAD 2.0 script, if either side normalises to no tokens the score is 1.0
    when both are empty and 0.0 otherwise.
    """
    pred_tokens = squad_normalize(prediction).split()
    gold_tokens = squad_normalize(gold).split()
    if not pred_tokens or not gold_tokens:
        return 1.0 if pred_tokens == gold_tokens else 0.0
    common = Counter(pred_tokens) & Counter(gold_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(pred_tokens)
    recall = overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def containment(prediction: str, gold: str) -> float:
    """1.0 if the SQuAD-normalised gold occurs in the normalised prediction on whole-token
    boundaries, else 0.0.

    Token boundaries stop a short gold such as ``"1"`` from matching inside ``"1990"``. A gold
    that normalises to nothing (e.g. just ``"the"``) never matches.
    """
    needle = squad_normalize(gold)
    if not needle:
        return 0.0
    return 1.0 if f" {needle} " in f" {squad_normalize(prediction)} " else 0.0


def best_exact_match(candidates: Sequence[str], golds: Sequence[str]) -> float | None:
    """Max exact match over every (candidate, gold) pair; ``None`` without golds, 0.0 when there
    is no candidate (e.g. a declined answer)."""
    if not golds:
        return None
    return max((exact_match(c, g) for c in candidates for g in golds), default=0.0)


def best_f1(candidates: Sequence[str], golds: Sequence[str]) -> float | None:
    """Max token F1 over every (candidate, gold) pair; ``None`` without golds, 0.0 when there
    is no candidate."""
    if not golds:
        return None
    return max((f1(c, g) for c in candidates for g in golds), default=0.0)


def best_containment(prediction: str, golds: Sequence[str]) -> float | None:
    """1.0 if any gold is contained in the prediction; ``None`` without golds."""
    if not golds:
        return None
    return max(containment(prediction, g) for g in golds)


# --- aggregation ------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation between closest ranks
    (numpy's default ``method="linear"``); ``None`` for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be in [0, 100], got {q}")
    if len(values) == 0:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q, method="linear"))


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the non-``None`` values; ``None`` if there are none (undefined, not zero)."""
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


def ratio(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator``, or ``None`` when the denominator is 0."""
    return numerator / denominator if denominator else None
