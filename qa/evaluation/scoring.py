"""Scoring: one row per answered question and the metrics aggregated over rows (the
definitions are in the package docstring; the pure metric functions in :mod:`qa.metrics`)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from qa import metrics as qm
from qa.evaluation.questions import GoldQuestion
from qa.types import Answer, Passage

RETRIEVAL_DEPTH = 10  # ranks beyond this are "not found"
HIT_KS = (1, 3, 5, 10)
# Metric keys in display order, grouped for the summary table.
METRIC_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "questions",
        ("n", "n_answerable", "n_unanswerable", "n_retrieval", "n_answers", "n_declined"),
    ),
    ("retrieval", ("hit@1", "hit@3", "hit@5", "hit@10", "recall@5", "mrr@10", "ndcg@10")),
    (
        "answers",
        ("answer_containment", "exact_match", "answer_f1", "citation_precision", "citation_hit"),
    ),
    ("declining", ("refusal_precision", "refusal_recall", "false_refusal_rate")),
    ("latency", ("latency_p50_ms", "latency_p95_ms")),
)
METRIC_KEYS = tuple(key for _, keys in METRIC_GROUPS for key in keys)
COUNT_KEYS = frozenset(METRIC_GROUPS[0][1])
ROW_METRICS = (
    "hit@1",
    "hit@3",
    "hit@5",
    "hit@10",
    "recall@5",
    "mrr@10",
    "ndcg@10",
    "answer_containment",
    "exact_match",
    "answer_f1",
    "citation_precision",
    "citation_hit",
)
# Metrics shown per kind in the Markdown report and the plot.
KIND_METRICS = (
    "hit@1",
    "hit@5",
    "mrr@10",
    "ndcg@10",
    "recall@5",
    "answer_containment",
    "answer_f1",
    "citation_precision",
    "citation_hit",
    "refusal_recall",
    "false_refusal_rate",
)

# Indirection so tests can drive latency with a scripted clock.
_clock = time.perf_counter

_CITATION_MARK = re.compile(r"(?<!\s)\s*\[\d+(?:\s*[,;-]\s*\d+)*\]")


def answer_body(answer: Answer) -> str:
    """The text answer metrics are computed on: the short answer and list items (which the
    sentences hold anyway), then the quoted sentences, else the answer text without citation
    markers. Empty for a declined answer."""
    if not answer.answerable:
        return ""
    if answer.sentences:
        parts = [answer.short.text] if answer.short else []
        parts += [i.text for i in answer.items]
        parts += [_CITATION_MARK.sub("", s).strip() for s in answer.sentences]
        return " ".join(parts)
    return _CITATION_MARK.sub("", answer.text).strip()


def _covered(q: GoldQuestion, passage: Passage) -> set[str]:
    if q.evidence:
        return qm.evidence_found(q.evidence, passage.text)
    if q.sources and passage.doc_id in q.sources:
        return {passage.doc_id}
    return set()


def score_row(
    q: GoldQuestion, answer: Answer, retrieved: Sequence[Passage], latency_ms: float
) -> dict[str, Any]:
    """One report row: the question, its gold, what the system did, and the row's metrics."""
    all_covered = [_covered(q, p) for p in retrieved]
    covered = all_covered[:RETRIEVAL_DEPTH]
    flags = [bool(c) for c in covered]
    declined = not answer.answerable
    row: dict[str, Any] = {
        "id": q.id,
        "kind": q.kind,
        "question": q.question,
        "history": list(q.history),
        "answerable": q.answerable,
        "gold_answers": list(q.answers),
        "evidence": list(q.evidence),
        "sources": list(q.sources),
        "answer": answer.text,
        "answer_sentences": list(answer.sentences) if not declined else [],
        "short": answer.short.text if answer.short and not declined else "",
        "items": [i.text for i in answer.items] if not declined else [],
        "missing": list(answer.missing),
        "predicted_answerable": not declined,
        "declined": declined,
        "confidence": round(float(answer.confidence), 6),
        "query": answer.query or q.question,
        "rewritten": bool(answer.rewritten),
        "citations": [{"doc_id": p.doc_id, "paragraph": p.paragraph} for p in answer.citations],
        "retrieved": [
            {
                "doc_id": p.doc_id,
                "paragraph": p.paragraph,
                "score": round(float(p.score), 6),
                "relevant": bool(c) if q.has_gold else None,
            }
            for p, c in zip(retrieved, all_covered)
        ],
    }
    judged = q.answerable and q.has_gold
    rel = flags if judged else None
    gold_items = q.evidence or q.sources
    row["rank"] = qm.first_relevant_rank(rel, RETRIEVAL_DEPTH)
    for k in HIT_KS:
        hit = qm.hit_at_k(rel, k)
        row[f"hit@{k}"] = None if hit is None else bool(hit)
    row["recall@5"] = qm.recall_at_k(covered, gold_items, 5) if judged else None
    row["mrr@10"] = qm.mrr_at_k(rel, RETRIEVAL_DEPTH)
    row["ndcg@10"] = qm.ndcg_at_k(rel, len(set(gold_items)), RETRIEVAL_DEPTH)

    scored = q.answerable and bool(q.answers)
    body = answer_body(answer)
    candidates = [] if declined else [_CITATION_MARK.sub("", s).strip() for s in answer.sentences]
    if answer.short and not declined:
        candidates.insert(0, answer.short.text)  # exact match and F1 credit the short answer
    if body:
        candidates.append(body)
    row["answer_containment"] = qm.best_containment(body, q.answers) if scored else None
    row["exact_match"] = qm.best_exact_match(candidates, q.answers) if scored else None
    row["answer_f1"] = qm.best_f1(candidates, q.answers) if scored else None
    if judged and not declined and answer.citations:
        good = sum(1 for p in answer.citations if _covered(q, p))
        row["citation_precision"] = good / len(answer.citations)
    else:
        row["citation_precision"] = None
    if judged:
        row["citation_hit"] = not declined and any(_covered(q, p) for p in answer.citations)
    else:
        row["citation_hit"] = None
    row["latency_ms"] = round(latency_ms, 3)
    return row


# --- aggregation ------------------------------------------------------------------------------


def _as_float(value: Any) -> float | None:
    if value is None:
        return None
    return float(value)


def aggregate(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Metrics over report rows (see the module docstring for each definition)."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    declined = [r for r in rows if r["declined"]]
    out: dict[str, Any] = {
        "n": len(rows),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "n_retrieval": sum(1 for r in rows if r.get("hit@1") is not None),
        "n_answers": sum(1 for r in rows if r.get("answer_containment") is not None),
        "n_declined": len(declined),
    }
    for key in ROW_METRICS:
        out[key] = qm.mean(_as_float(r.get(key)) for r in rows)
    n_declined_unanswerable = sum(1 for r in unanswerable if r["declined"])
    out["refusal_precision"] = qm.ratio(n_declined_unanswerable, len(declined))
    out["refusal_recall"] = qm.ratio(n_declined_unanswerable, len(unanswerable))
    out["false_refusal_rate"] = qm.ratio(len(declined) - n_declined_unanswerable, len(answerable))
    latencies = [float(r["latency_ms"]) for r in rows if r.get("latency_ms") is not None]
    out["latency_p50_ms"] = qm.percentile(latencies, 50)
    out["latency_p95_ms"] = qm.percentile(latencies, 95)
    return {key: out[key] for key in METRIC_KEYS}


def aggregate_by_kind(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """:func:`aggregate` per ``kind`` label; rows without a kind are left out."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("kind") is not None:
            groups.setdefault(str(r["kind"]), []).append(r)
    return {kind: aggregate(groups[kind]) for kind in sorted(groups)}


def hit_curve(rows: Sequence[dict[str, Any]], max_k: int = RETRIEVAL_DEPTH) -> list[float | None]:
    """hit@k for k = 1..max_k over the rows with judged retrieval."""
    judged = [r for r in rows if r.get("hit@1") is not None]
    if not judged:
        return [None] * max_k
    return [
        sum(1 for r in judged if r.get("rank") is not None and r["rank"] <= k) / len(judged)
        for k in range(1, max_k + 1)
    ]


def failures(row: dict[str, Any]) -> list[str]:
    """Why a row counts as a failure (empty if it passed)."""
    out = []
    if row["answerable"] and row["declined"]:
        out.append("declined an answerable question")
    if not row["answerable"] and not row["declined"]:
        out.append("answered an unanswerable question")
    if row.get("hit@5") is False:
        rank = row.get("rank")
        out.append(f"first relevant passage at rank {rank}" if rank else "no relevant passage")
    if row.get("answer_containment") == 0 and not row["declined"]:
        out.append("gold answer not in the answer")
    return out
