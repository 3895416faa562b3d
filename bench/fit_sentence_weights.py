"""Fit the sentence-scoring weights (qa.answering.SENTENCE_WEIGHTS) on a development set.

Usage: python bench/fit_sentence_weights.py [tests/data/dev.jsonl] [--check tests/data/test.jsonl]
       [--index embeddings]

For every answerable question (conversations with their history), the pipeline retrieves and
scores the candidate sentences; a sentence holding a gold answer is a target. The weights of
(similarity, overlap, answer type, passage rank) are fitted by a listwise softmax (the
probability mass on the target sentences), with an L2 pull toward the current weights so a
small set cannot push them far. Prints the weights and top-1 / top-3 sentence accuracy for the
current and the fitted weights on both sets.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from fitting import fit_args

import qa.answering as answering
from qa.index import load_index
from qa.lexical import fold


def norm(s: str) -> str:
    return " ".join(fold(s).split())


def collect(index, path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per question: the candidates' feature rows and whether each holds a gold answer."""
    groups = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if not row.get("answerable", True) or not row.get("answers"):
            continue
        history: list[dict] = []
        for turn in row.get("history", []):
            prev = index.answer(turn, history=history or None)
            history += [
                {"role": "user", "content": turn},
                {"role": "assistant", "content": prev.text},
            ]
        query, _ = answering.rewrite_query(row["question"], history or None, index)
        passages = index.retrieve(query, k=5)
        cands = answering.score_sentences(index, query, index.embed_query(query), passages)
        top = passages[0].score if passages and passages[0].score > 0 else 1.0
        feats = np.array(
            [[c.semantic, c.overlap, c.type_match, passages[c.passage].score / top] for c in cands]
        )
        y = np.array([any(norm(g) in norm(c.sentence) for g in row["answers"]) for c in cands])
        if y.any():
            groups.append((feats, y.astype(float)))
    return groups


def accuracy(groups, w: np.ndarray, k: int) -> float:
    """Share of questions with a target sentence among the top ``k`` by score."""
    return float(np.mean([y[np.argsort(-(feats @ w))[:k]].max() for feats, y in groups]))


def fit(
    groups, w0: np.ndarray, temp: float = 5.0, l2: float = 0.1, steps: int = 3000
) -> np.ndarray:
    """Listwise softmax fit; returns weights normalised to sum to 1."""
    w = w0.copy()
    for _ in range(steps):
        grad = np.zeros_like(w)
        for feats, y in groups:
            s = temp * (feats @ w)
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += temp * (feats.T @ (p - y / y.sum()))
        w -= 0.05 * (grad / len(groups) + l2 * (w - w0))
    return w / w.sum()


def main() -> None:
    args = fit_args("Fit the sentence-scoring weights (qa.answering.SENTENCE_WEIGHTS).")
    index = load_index(args.index)
    dev, check = collect(index, Path(args.dev)), collect(index, Path(args.check))
    w0 = np.array(answering.SENTENCE_WEIGHTS, dtype=float)
    w = fit(dev, w0)
    print(f"{len(dev)} dev / {len(check)} check questions with a target sentence")
    for name, weights in (("current", w0), ("fitted", w)):
        print(
            f"{name:8s} {np.round(weights, 3)}  top-1 dev {accuracy(dev, weights, 1):.3f} "
            f"check {accuracy(check, weights, 1):.3f}  top-3 dev {accuracy(dev, weights, 3):.3f} "
            f"check {accuracy(check, weights, 3):.3f}"
        )  # fmt: skip


if __name__ == "__main__":
    main()
