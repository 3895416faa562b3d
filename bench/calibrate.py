"""Fit the answer-confidence weights (qa.answering.CAL) on a development question set.

Usage: python bench/calibrate.py [tests/data/dev.jsonl] [--check tests/data/test.jsonl]

Runs every question (conversations with their history) through the real pipeline, collects
the confidence features of its best sentence, and fits an L2-regularised logistic regression
of "answerable" on them (scikit-learn; in the test extra). Prints the weights to paste into qa/answering.py, and the decline
counts the fitted model gives on each set.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from fitting import fit_args

from qa.answering import (
    CAL,
    features,
    question_type,
    rewrite_query,
    salient_missing,
    score_sentences,
)
from qa.index import check_question, load_index

NAMES = [n for n in CAL if n != "bias"]


def collect(index, path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    X, y, ids = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        history: list[dict] = []
        for turn in row.get("history", []):
            history.append({"role": "user", "content": turn})
            history.append({"role": "assistant", "content": index.answer(turn, history[:-1]).text})
        q = check_question(row["question"])
        query, _ = rewrite_query(q, history or None, index)
        passages = index.retrieve(query, k=5)
        cands = score_sentences(index, query, index.embed_query(query), passages)
        missing, _, proper = salient_missing(q, index)
        f = features(cands[0] if cands else None, passages, missing, proper, question_type(query))
        X.append([f.get(n, 0.0) for n in NAMES])
        y.append(1.0 if row.get("answerable", True) else 0.0)
        ids.append(row.get("id", q))
    return np.asarray(X), np.asarray(y), ids


# The L2 strength the weights in qa/answering.py were fitted with: 0.002 on the class-balanced
# mean log loss (each class weighs 0.5 in total), i.e. C = 1 / 0.002 in scikit-learn's terms.
L2 = 0.002


def fit(X: np.ndarray, y: np.ndarray, l2: float = L2) -> np.ndarray:
    """``[bias, *weights]`` of an L2-regularised logistic regression of ``y`` on ``X``."""
    from sklearn.linear_model import LogisticRegression

    # Unanswerable questions are few: weight classes equally so they are not ignored.
    cw = np.where(y == 1, 0.5 / max(1, y.sum()), 0.5 / max(1, (1 - y).sum()))
    model = LogisticRegression(C=1.0 / l2, solver="lbfgs", max_iter=10000, tol=1e-10)
    model.fit(X, y, sample_weight=cw)
    return np.r_[model.intercept_, model.coef_[0]]


def report(name: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, ids: list[str]) -> None:
    z = w[0] + X @ w[1:]
    p = 1 / (1 + np.exp(-z))
    declined = p < 0.5
    print(
        f"{name}: answerable declined {int((declined & (y == 1)).sum())}/{int(y.sum())}, "
        f"unanswerable declined {int((declined & (y == 0)).sum())}/{int((1 - y).sum())}"
    )
    for i in np.flatnonzero(declined != (y == 0)):
        print(f"   wrong: {ids[i]} p={p[i]:.2f}")


def main() -> None:
    args = fit_args("Fit the answer-confidence weights (qa.answering.CAL).")
    index = load_index(args.index)
    X, y, ids = collect(index, Path(args.dev))
    w = fit(X, y)
    print("CAL = {")
    print(f'    "bias": {w[0]:.3f},')
    for n, v in zip(NAMES, w[1:]):
        print(f'    "{n}": {v:.3f},')
    print("}")
    report("dev (current CAL)", X, y, np.array([CAL["bias"]] + [CAL[n] for n in NAMES]), ids)
    report("dev (fitted)", X, y, w, ids)
    if args.check:
        Xc, yc, idc = collect(index, Path(args.check))
        report("check (fitted)", Xc, yc, w, idc)


if __name__ == "__main__":
    main()
