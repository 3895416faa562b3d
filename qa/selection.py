"""Learned sentence selection: which candidate sentence answers the question.

Answering scores every sentence of the retrieved passages. This module turns each candidate
into a row of features (its own similarity and term overlap with the question, and how it
compares with the best sentence of its passage and of the whole pool) and scores the rows with
a frozen model shipped as JSON, ``qa/models/selection.json``: boosted trees (evaluated here
with numpy) or a linear model, fitted by ``bench/fit_selection.py`` on the SQuAD 2.0 train
excerpt plus ``tests/data/dev.jsonl``.

It is a leaf: it takes plain candidates (anything with ``passage``, ``sentence``, ``semantic``,
``overlap`` and ``type_match`` attributes), the passages and an IDF table, and needs neither
the index nor scikit-learn or LightGBM at query time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.errors import QAError
from qa.lexical import tokenize

MODEL_FORMAT = "qa-selection/1"
DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "selection.json"
# The usual BM25 constants (bm25s and Lucene defaults), applied to one sentence as a document.
BM25_K1 = 1.2
BM25_B = 0.75

FEATURES = (
    "cos",  # question / sentence cosine (stored sentence vectors)
    "overlap",  # answering's IDF overlap, with half credit for terms elsewhere in the passage
    "sent_overlap",  # IDF-weighted share of question terms in the sentence itself
    "bm25",  # BM25 of the sentence against the question, over the question's total IDF
    "bigram",  # share of the question's term bigrams found in the sentence
    "type_match",  # the sentence holds the kind of thing asked for (0.5: no kind asked)
    "passage_rank",  # 1 / (1 + retrieval rank of its passage)
    "passage_score",  # the passage's fused score over the best passage's
    "position",  # 1 / (1 + index of the sentence in its passage)
    "log_len",  # log(1 + terms in the sentence)
    "cos_gap_passage",  # cos minus the best cos in its passage (0 for the best)
    "cos_gap_all",  # cos minus the best cos of all candidates
    "bm25_gap_passage",
    "bm25_gap_all",
    "overlap_gap_passage",  # on sent_overlap
    "overlap_gap_all",
    "cos_rank_passage",  # 1 / (1 + rank of cos within its passage)
    "bm25_rank_passage",
    "neighbour_overlap",  # best sent_overlap of the sentence before or after (context)
)


class CandidateLike(Protocol):
    """What a candidate sentence must carry (``qa.answering.Candidate`` does)."""

    passage: int
    sentence: str
    semantic: float
    overlap: float
    type_match: float


def _bigrams(terms: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(terms, terms[1:]))


@lru_cache(maxsize=16_384)
def _terms(sentence: str) -> tuple[str, ...]:
    # The same corpus sentences come back query after query; stemming them once saves most
    # of the feature time.
    return tuple(tokenize(sentence))


def _group_max(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Each row's value minus the largest value of its (contiguous) group."""
    return values - np.repeat(np.maximum.reduceat(values, starts), sizes)


def _group_rank_inv(
    values: np.ndarray, group: np.ndarray, starts: np.ndarray, sizes: np.ndarray
) -> np.ndarray:
    """1 / (1 + rank within the group), rank 0 for the largest (ties: earlier row first)."""
    order = np.lexsort((np.arange(len(values)), -values, group))
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(len(values)) - np.repeat(starts, sizes)
    return 1.0 / (1.0 + ranks)


def candidate_features(
    query: str,
    candidates: Sequence[CandidateLike],
    passage_scores: Sequence[float],
    idf: Mapping[str, float],
    default_idf: float | None = None,
) -> np.ndarray:
    """A ``(len(candidates), len(FEATURES))`` matrix, candidates in the order given.

    ``passage_scores`` are the retrieved passages' fused scores in rank order (the candidate's
    ``passage`` indexes it). Candidates must come grouped by passage, each passage's in
    sentence order, as ``score_sentences`` builds them before sorting. ``idf`` maps a term to
    its weight; a term it lacks gets ``default_idf`` (default: the largest weight, since unseen
    terms are the rarest; pass it to skip the scan).
    """
    n = len(candidates)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    if default_idf is None:
        default_idf = max(idf.values()) if idf else 1.0
    q_all = tokenize(query)
    weight = {t: idf.get(t, default_idf) for t in dict.fromkeys(q_all)}
    total = sum(weight.values()) or 1.0
    q_bigrams = _bigrams(q_all)
    sent_terms = [_terms(c.sentence) for c in candidates]
    avg_len = max(1.0, sum(len(t) for t in sent_terms) / n)
    top = passage_scores[0] if passage_scores and passage_scores[0] > 0 else 1.0
    group = np.fromiter((c.passage for c in candidates), dtype=np.int64, count=n)
    change = np.concatenate(([True], group[1:] != group[:-1]))
    starts = np.flatnonzero(change)
    if len(starts) != len(set(group.tolist())):
        raise ValueError("candidates must come grouped by passage")
    sizes = np.diff(np.append(starts, n))
    position = np.arange(n) - np.repeat(starts, sizes)
    k1, b = BM25_K1, BM25_B
    for i, (c, terms) in enumerate(zip(candidates, sent_terms)):
        tf: dict[str, int] = {}
        for t in terms:
            tf[t] = tf.get(t, 0) + 1
        norm = k1 * (1 - b + b * len(terms) / avg_len)
        bm25 = sum(w * tf[t] * (k1 + 1) / (tf[t] + norm) for t, w in weight.items() if t in tf)
        p_score = passage_scores[c.passage] if c.passage < len(passage_scores) else 0.0
        row = out[i]
        row[0] = c.semantic
        row[1] = c.overlap
        row[2] = sum(w for t, w in weight.items() if t in tf) / total
        row[3] = bm25 / total
        row[4] = len(q_bigrams & _bigrams(terms)) / len(q_bigrams) if q_bigrams else 0.0
        row[5] = c.type_match
        row[6] = 1.0 / (1.0 + c.passage)
        row[7] = p_score / top
        row[9] = math.log1p(len(terms))
    out[:, 8] = 1.0 / (1.0 + position)
    for col, gap_p, gap_a in ((0, 10, 11), (3, 12, 13), (2, 14, 15)):
        out[:, gap_a] = out[:, col] - out[:, col].max()
        out[:, gap_p] = _group_max(out[:, col], starts, sizes)
    out[:, 16] = _group_rank_inv(out[:, 0], group, starts, sizes)
    out[:, 17] = _group_rank_inv(out[:, 3], group, starts, sizes)
    own = out[:, 2]
    first = np.zeros(n, dtype=bool)
    first[starts] = True
    last = np.zeros(n, dtype=bool)
    last[starts + sizes - 1] = True
    prev = np.where(first, 0.0, np.concatenate(([0.0], own[:-1])))
    nxt = np.where(last, 0.0, np.concatenate((own[1:], [0.0])))
    out[:, 18] = np.maximum(prev, nxt)
    return out


MODEL_KINDS = ("logistic", "trees")
_TREE_FIELDS = ("feature", "threshold", "left", "right", "value", "roots")


@dataclass(frozen=True)
class SelectionModel:
    """A frozen scorer over ``features``; a higher score means a likelier answering sentence.

    ``kind="logistic"``: ``arrays`` holds ``mean``, ``scale``, ``weights``, and the score is
    ``w·(x-mean)/scale + bias``. ``kind="trees"``: a boosted-tree ensemble (LightGBM's
    ``dump_model`` flattened): ``feature``, ``threshold``, ``left``, ``right``, ``value`` per
    node (``feature`` -1 marks a leaf; a row goes left when ``x[feature] <= threshold``) and
    ``roots``; the score is ``bias`` plus the sum of the leaves reached.
    """

    kind: str
    features: tuple[str, ...]
    arrays: Mapping[str, np.ndarray]
    bias: float
    info: Mapping[str, Any]

    def score(self, x: np.ndarray) -> np.ndarray:
        """Score of each row of ``x`` (columns in ``self.features`` order)."""
        a = self.arrays
        if self.kind == "logistic":
            return ((x - a["mean"]) / a["scale"]) @ a["weights"] + self.bias
        if len(x) == 0:
            return np.zeros(0)
        feat, thr, left, right, depth = self._walk
        # Every row walks every tree at once, a fixed number of steps; a leaf loops onto itself.
        idx = np.broadcast_to(a["roots"], (len(x), len(a["roots"])))
        rows = np.arange(len(x))[:, None]
        for _ in range(depth):
            idx = np.where(x[rows, feat[idx]] <= thr[idx], left[idx], right[idx])
        return a["value"][idx].sum(axis=1) + self.bias

    @cached_property
    def _walk(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """Node arrays where a leaf points at itself, and the deepest tree's depth."""
        a = self.arrays
        leaf = a["feature"] < 0
        own = np.arange(len(leaf))
        feat = np.where(leaf, 0, a["feature"])
        thr = np.where(leaf, np.inf, a["threshold"])
        left = np.where(leaf, own, a["left"])
        right = np.where(leaf, own, a["right"])
        depth = np.zeros(len(leaf), dtype=np.int64)
        for i in range(len(leaf)):  # children come after their parent
            if not leaf[i]:
                depth[a["left"][i]] = depth[a["right"][i]] = depth[i] + 1
        return feat, thr, left, right, int(depth.max())

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout :func:`load_model` reads."""
        arrays = {k: v.tolist() for k, v in self.arrays.items()}
        body: dict[str, Any] = arrays if self.kind == "logistic" else {"trees": arrays}
        return {
            "format": MODEL_FORMAT,
            "model": self.kind,
            "features": list(self.features),
            **body,
            "bias": float(self.bias),
            "info": dict(self.info),
        }


def trees_from_lightgbm(dump: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Flatten ``lightgbm.Booster.dump_model()`` into the node arrays of a ``trees`` model."""
    feat: list[int] = []
    thr: list[float] = []
    left: list[int] = []
    right: list[int] = []
    value: list[float] = []
    roots: list[int] = []

    def add(node: Mapping[str, Any]) -> int:
        i = len(feat)
        feat.append(-1)
        thr.append(0.0)
        left.append(-1)
        right.append(-1)
        value.append(0.0)
        if "leaf_value" in node and "split_feature" not in node:
            value[i] = float(node["leaf_value"])
            return i
        if node.get("decision_type", "<=") != "<=":
            raise ValueError(f"unsupported split {node.get('decision_type')!r}")
        feat[i] = int(node["split_feature"])
        thr[i] = float(node["threshold"])
        left[i] = add(node["left_child"])
        right[i] = add(node["right_child"])
        return i

    for tree in dump["tree_info"]:
        roots.append(add(tree["tree_structure"]))
    return {
        "feature": np.asarray(feat, dtype=np.int64),
        "threshold": np.asarray(thr, dtype=np.float64),
        "left": np.asarray(left, dtype=np.int64),
        "right": np.asarray(right, dtype=np.int64),
        "value": np.asarray(value, dtype=np.float64),
        "roots": np.asarray(roots, dtype=np.int64),
    }


def _bad(path: Path, why: str) -> QAError:
    return QAError(
        f"Sentence-selection model {str(path)!r} {why}. "
        "Fix: restore qa/models/selection.json from the package or refit it with "
        "`python bench/fit_selection.py`."
    )


def _numbers(path: Path, data: Mapping[str, Any], key: str, length: int | None) -> np.ndarray:
    val = data.get(key)
    if not isinstance(val, list) or (length is not None and len(val) != length) or not val:
        size = f"{length} numbers" if length is not None else "numbers"
        raise _bad(path, f"field {key!r} must be a list of {size}")
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in val):
        raise _bad(path, f"field {key!r} must hold numbers only")
    arr = np.asarray(val, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise _bad(path, f"field {key!r} holds a non-finite number")
    return arr


def _tree_arrays(path: Path, trees: Any) -> dict[str, np.ndarray]:
    if not isinstance(trees, dict):
        raise _bad(path, "field 'trees' must be an object")
    n = len(trees.get("feature") or [])
    arrays = {k: _numbers(path, trees, k, n if k != "roots" else None) for k in _TREE_FIELDS}
    ints = {k: arrays[k].astype(np.int64) for k in ("feature", "left", "right", "roots")}
    if any(not np.array_equal(ints[k], arrays[k]) for k in ints):
        raise _bad(path, "tree fields 'feature', 'left', 'right' and 'roots' must be integers")
    inner = ints["feature"] >= 0
    own = np.arange(n)
    if (
        np.any(ints["feature"] >= len(FEATURES))
        or np.any(ints["roots"] < 0)
        or np.any(ints["roots"] >= n)
        or np.any(inner & ((ints["left"] <= own) | (ints["right"] <= own)))
        or np.any(inner & ((ints["left"] >= n) | (ints["right"] >= n)))
    ):
        raise _bad(path, "has tree nodes that point outside the tree or backwards")
    return arrays | ints


def model_from_dict(data: Any, path: Path = DEFAULT_MODEL) -> SelectionModel:
    """Validate a parsed model file; raises ``QAError`` naming what is wrong."""
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise _bad(path, f"is not a {MODEL_FORMAT} file")
    kind = data.get("model")
    if kind not in MODEL_KINDS:
        raise _bad(path, f"has unknown model type {kind!r} (expected one of {MODEL_KINDS})")
    feats = data.get("features")
    if not isinstance(feats, list) or tuple(feats) != FEATURES:
        raise _bad(path, "lists features that differ from qa.selection.FEATURES")
    if kind == "logistic":
        arrays = {k: _numbers(path, data, k, len(FEATURES)) for k in ("mean", "scale", "weights")}
        if np.any(arrays["scale"] <= 0):
            raise _bad(path, "field 'scale' must be positive")
    else:
        arrays = _tree_arrays(path, data.get("trees"))
    bias = data.get("bias")
    if isinstance(bias, bool) or not isinstance(bias, int | float) or not math.isfinite(bias):
        raise _bad(path, "field 'bias' must be a finite number")
    info = data.get("info", {})
    if not isinstance(info, dict):
        raise _bad(path, "field 'info' must be an object")
    return SelectionModel(kind, FEATURES, arrays, float(bias), info)


def load_model(path: str | Path | None = None) -> SelectionModel:
    """Read a model file (default: the one shipped in the package); raises ``QAError``."""
    p = Path(path) if path is not None else DEFAULT_MODEL
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _bad(p, "is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(p, f"cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise _bad(p, f"is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return model_from_dict(data, p)


@lru_cache(maxsize=1)
def default_model() -> SelectionModel:
    """The shipped model, read once."""
    return load_model()


def select_scores(
    query: str,
    candidates: Sequence[CandidateLike],
    passage_scores: Sequence[float],
    idf: Mapping[str, float],
    model: SelectionModel | None = None,
    default_idf: float | None = None,
) -> np.ndarray:
    """The model's score of each candidate (same order; see :func:`candidate_features`)."""
    model = model or default_model()
    x = candidate_features(query, candidates, passage_scores, idf, default_idf)
    return model.score(x)
