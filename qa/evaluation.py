"""Evaluating retrieval and answers against a question set.

A question set is a JSONL file (one question per line), a SQuAD 1.1/2.0 JSON file (detected
from its content), or a list of dicts with the JSONL fields:

``question`` (required), ``answers`` (acceptable answer strings), ``evidence`` (strings one of
which a relevant passage contains), ``sources`` (relevant doc ids), ``answerable`` (default
true), ``id``, ``kind`` (a free label for per-kind breakdowns) and ``history`` (earlier user
questions of the same conversation).

Definitions (the pure metric functions are in :mod:`qa.metrics`):

- A retrieved passage is *relevant* if it contains one of the ``evidence`` strings (after NFC,
  typographic-quote folding, casefolding and whitespace collapsing); without evidence, if its
  ``doc_id`` is one of the ``sources``. Evidence wins when both are given.
- Retrieval is scored on ``index.retrieve(query, k=max(10, k))``: ``query`` is the raw question
  for a single-turn question and ``answer.query`` (the follow-up rewritten with the history) for
  a conversation, because that is what the answerer actually searched.
- Retrieval metrics cover answerable questions with gold evidence or sources; answer metrics
  cover answerable questions with gold answers. A declined answer scores 0 on them.
- ``answer_containment``: a SQuAD-normalised gold answer occurs, on whole-token boundaries, in
  the normalised answer body. The body is the quoted sentences joined (``answer.sentences``), or
  the answer text without ``[n]`` citation markers when the answer has no sentences; the body
  leaves out any source list so a document title cannot count as an answer.
- ``exact_match`` / ``answer_f1``: the max over gold answers and over candidates, where the
  candidates are each quoted sentence and the whole body. An extractive answer quotes whole
  sentences, so exact match is expected to be low; F1 and containment are the useful signals.
- ``citation_precision``: per answered answerable question with gold and citations, the share of
  citations that are relevant passages; averaged over those questions.
- ``citation_hit``: per answerable question with gold, whether at least one citation is a
  relevant passage (the evidence is one click away); a declined answer scores 0.
- ``refusal_precision``: of declined questions, the share that were unanswerable;
  ``refusal_recall``: of unanswerable questions, the share declined; ``false_refusal_rate``: of
  answerable questions, the share declined. A question is declined when
  ``answer.answerable`` is false.
- ``latency_ms``: wall time of the final turn's retrieval plus answer. By default questions are
  encoded in batches up front (see :func:`evaluate`) and each row gets its share of that time
  added back; ``batch_queries=False`` (``qa eval --unbatched``) times each question alone.

A metric with no eligible question is ``None`` (undefined), never 0.
"""

from __future__ import annotations

import csv
import difflib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa import metrics as qm
from qa.errors import QuestionSetError
from qa.types import Answer, Passage

if TYPE_CHECKING:
    from qa.index import Index

RETRIEVAL_DEPTH = 10  # ranks beyond this are "not found"
PRIME_CHUNK = 128  # questions encoded per batch; well under the index's 512-entry query cache
HIT_KS = (1, 3, 5, 10)
FIELDS = ("question", "answers", "evidence", "sources", "answerable", "id", "kind", "history")

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

Progress = Callable[[int, int], None]


# --- the question set -------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldQuestion:
    """One question of a question set, validated."""

    question: str
    answers: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    answerable: bool = True
    id: str | None = None
    kind: str | None = None
    history: tuple[str, ...] = ()
    where: str = ""  # "questions.jsonl line 7", for messages

    @property
    def has_gold(self) -> bool:
        """Whether relevance of a passage can be judged for this question."""
        return bool(self.evidence or self.sources)


@dataclass(frozen=True)
class QuestionSet:
    """Validated questions plus, for a SQuAD file, the parsed file (its paragraphs are the
    corpus to index)."""

    questions: tuple[GoldQuestion, ...]
    name: str = ""
    squad: dict[str, Any] | None = field(default=None, compare=False)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _str_list(value: Any, name: str, where: str) -> tuple[str, ...]:
    # A lone string is accepted as a one-item list: it is what people write by hand.
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        got = _type_name(value)
        if isinstance(value, list):
            bad = next(v for v in value if not isinstance(v, str))
            got = f"a list holding {_type_name(bad)} {bad!r}"
        raise QuestionSetError(
            f"{where}: field '{name}' must be a list of strings, got {got}. "
            f'Fix: write it as ["first", "second"].'
        )
    return tuple(value)


def parse_question(obj: Any, where: str) -> GoldQuestion:
    """Validate one question dict; ``where`` (``"file.jsonl line 7"``) prefixes any error."""
    if not isinstance(obj, dict):
        raise QuestionSetError(
            f"{where}: must be a JSON object, got {_type_name(obj)}. "
            'Fix: write one object per line, e.g. {"question": "...", "answers": ["..."]}.'
        )
    for key in obj:
        if key not in FIELDS:
            near = difflib.get_close_matches(str(key), FIELDS, n=1, cutoff=0.75)
            if near:
                raise QuestionSetError(
                    f"{where}: unknown field '{key}'. Fix: rename it to '{near[0]}'."
                )
    if "question" not in obj:
        raise QuestionSetError(
            f'{where}: field \'question\' is missing. Fix: add "question": "...".'
        )
    question = obj["question"]
    if not isinstance(question, str) or not question.strip():
        got = "an empty string" if isinstance(question, str) else _type_name(question)
        raise QuestionSetError(
            f"{where}: field 'question' must be a non-empty string, got {got}. "
            "Fix: write the question text."
        )
    answers = _str_list(obj.get("answers", []), "answers", where)
    evidence = _str_list(obj.get("evidence", []), "evidence", where)
    sources = tuple(
        s.strip().replace("\\", "/").removeprefix("./")
        for s in _str_list(obj.get("sources", []), "sources", where)
    )
    history = _str_list(obj.get("history", []), "history", where)
    for turn in history:
        if not turn.strip():
            raise QuestionSetError(
                f"{where}: field 'history' holds an empty question. Fix: remove it."
            )
    answerable = obj.get("answerable", True)
    if not isinstance(answerable, bool):
        raise QuestionSetError(
            f"{where}: field 'answerable' must be true or false, got {_type_name(answerable)}. "
            "Fix: write true or false without quotes."
        )
    if not answerable and answers:
        raise QuestionSetError(
            f"{where}: field 'answers' is given but 'answerable' is false. "
            "Fix: remove the answers or set answerable to true."
        )
    qid = obj.get("id")
    if qid is not None and (isinstance(qid, bool) or not isinstance(qid, (str, int))):
        raise QuestionSetError(
            f"{where}: field 'id' must be a string or an integer, got {_type_name(qid)}. "
            'Fix: write a unique label such as "q7".'
        )
    kind = obj.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise QuestionSetError(
            f"{where}: field 'kind' must be a string, got {_type_name(kind)}. "
            'Fix: write a label such as "date" or "multi-hop".'
        )
    return GoldQuestion(
        question=question.strip(),
        answers=answers,
        evidence=evidence,
        sources=sources,
        answerable=answerable,
        id=None if qid is None else str(qid),
        kind=kind or None,
        history=tuple(t.strip() for t in history),
        where=where,
    )


def _check_ids(questions: Sequence[GoldQuestion]) -> None:
    # Comparisons between runs match questions by id; a repeated id would pair the wrong ones.
    seen: dict[str, str] = {}
    for q in questions:
        if q.id is None:
            continue
        if q.id in seen:
            raise QuestionSetError(
                f"{q.where}: field 'id' repeats {q.id!r} (first used at {seen[q.id]}). "
                "Fix: give every question its own id."
            )
        seen[q.id] = q.where


def _is_squad(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("data"), list)
        and all(isinstance(a, dict) and "paragraphs" in a for a in data["data"])
    )


def _squad_title(title: Any, article: int) -> str:
    # SQuAD titles are Wikipedia page names ("Sky_(United_Kingdom)"); show them as words.
    if not isinstance(title, str) or not title.strip():
        return f"article {article}"
    return title.replace("_", " ").strip()


def squad_doc_id(article: int, paragraph: int) -> str:
    """The doc id a SQuAD paragraph gets in the temporary corpus."""
    return f"{article}-{paragraph}.txt"


def squad_questions(data: dict[str, Any], name: str = "SQuAD file") -> list[GoldQuestion]:
    """Questions of a SQuAD 1.1/2.0 dict: golds are the answer texts, ``is_impossible`` makes
    a question unanswerable, the source is the question's paragraph, the kind its article
    title."""
    out: list[GoldQuestion] = []
    for ai, article in enumerate(data["data"]):
        title = article.get("title")
        title = _squad_title(title, ai)
        paragraphs = article.get("paragraphs")
        if not isinstance(paragraphs, list):
            raise QuestionSetError(
                f"{name} data[{ai}]: field 'paragraphs' must be a list, got "
                f"{_type_name(paragraphs)}. Fix: use the SQuAD layout."
            )
        for pi, para in enumerate(paragraphs):
            where = f"{name} data[{ai}].paragraphs[{pi}]"
            if not isinstance(para, dict) or not isinstance(para.get("context"), str):
                raise QuestionSetError(
                    f"{where}: field 'context' must be a string. Fix: use the SQuAD layout."
                )
            qas = para.get("qas", [])
            if not isinstance(qas, list):
                raise QuestionSetError(
                    f"{where}: field 'qas' must be a list, got {_type_name(qas)}. "
                    "Fix: use the SQuAD layout."
                )
            for qi, qa_ in enumerate(qas):
                qwhere = f"{where}.qas[{qi}]"
                if not isinstance(qa_, dict):
                    raise QuestionSetError(
                        f"{qwhere}: must be an object, got {_type_name(qa_)}. "
                        "Fix: use the SQuAD layout."
                    )
                answers = qa_.get("answers", [])
                if not isinstance(answers, list) or not all(
                    isinstance(a, dict) and isinstance(a.get("text"), str) for a in answers
                ):
                    raise QuestionSetError(
                        f"{qwhere}: field 'answers' must be a list of "
                        '{"text": ..., "answer_start": ...} objects. Fix: use the SQuAD layout.'
                    )
                impossible = bool(qa_.get("is_impossible", False))
                golds = list(dict.fromkeys(a["text"] for a in answers if a["text"].strip()))
                obj = {
                    "question": qa_.get("question"),
                    "answers": [] if impossible else golds,
                    "sources": [squad_doc_id(ai, pi)],
                    "answerable": not impossible,
                    "kind": title,
                }
                if qa_.get("id") is not None:
                    obj["id"] = qa_["id"]
                out.append(parse_question(obj, qwhere))
    return out


def write_squad_corpus(data: dict[str, Any], corpus_dir: Path) -> int:
    """Write each SQuAD paragraph as ``<article>-<paragraph>.txt`` plus a ``metadata.json``
    carrying the article title. Returns the number of paragraphs written."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    version = str(data.get("version") or "").strip()
    files: dict[str, dict[str, Any]] = {}
    for ai, article in enumerate(data["data"]):
        title = article.get("title")
        title = _squad_title(title, ai)
        for pi, para in enumerate(article["paragraphs"]):
            doc_id = squad_doc_id(ai, pi)
            (corpus_dir / doc_id).write_text(para["context"], encoding="utf-8")
            files[doc_id] = {
                "title": title,
                "source": f"SQuAD {version}".strip(),
            }
    (corpus_dir / "metadata.json").write_text(
        json.dumps({"files": files}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return len(files)


def load_questions(
    questions: str | os.PathLike | Sequence[dict] | dict | QuestionSet,
) -> QuestionSet:
    """Read and validate a question set: a path to JSONL or SQuAD JSON, a list of question
    dicts, or a SQuAD dict. Raises :class:`QuestionSetError` naming the line and the field."""
    if isinstance(questions, QuestionSet):
        return questions
    if isinstance(questions, dict):
        if not _is_squad(questions):
            raise QuestionSetError(
                "The question set is a dict but not SQuAD JSON (no 'data' list of articles). "
                "Fix: pass a list of question dicts, or a path to a .jsonl file."
            )
        return QuestionSet(tuple(squad_questions(questions)), "SQuAD", squad=questions)
    if isinstance(questions, (str, os.PathLike)):
        return _load_path(Path(questions))
    if isinstance(questions, Iterable):
        items = list(questions)
        qs = [parse_question(obj, f"question {i}") for i, obj in enumerate(items, 1)]
        if not qs:
            raise QuestionSetError("The question list is empty. Fix: pass at least one question.")
        _check_ids(qs)
        return QuestionSet(tuple(qs), "questions")
    raise QuestionSetError(
        f"Cannot read questions from {_type_name(questions)}. "
        "Fix: pass a path to a .jsonl or SQuAD .json file, or a list of dicts."
    )


def _load_path(path: Path) -> QuestionSet:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise QuestionSetError(
            f"Question file {str(path)!r} does not exist. Fix: check the path."
        ) from None
    except IsADirectoryError:
        raise QuestionSetError(
            f"Question file {str(path)!r} is a folder. Fix: pass a .jsonl or .json file."
        ) from None
    except UnicodeDecodeError as exc:
        raise QuestionSetError(
            f"Question file {str(path)!r} is not UTF-8 ({exc.reason} at byte {exc.start}). "
            "Fix: save it as UTF-8."
        ) from None
    if not text.strip():
        raise QuestionSetError(
            f"{name} is empty. Fix: write one JSON object per line, e.g. "
            '{"question": "...", "answers": ["..."]}.'
        )
    # A whole-file JSON value is SQuAD (or a JSON list of questions); anything else is JSONL.
    whole: Any = None
    try:
        whole = json.loads(text)
    except ValueError:
        pass
    if _is_squad(whole):
        return QuestionSet(tuple(squad_questions(whole, name)), name, squad=whole)
    if isinstance(whole, list):
        qs = [parse_question(obj, f"{name} item {i}") for i, obj in enumerate(whole, 1)]
        if not qs:
            raise QuestionSetError(f"{name} holds an empty list. Fix: add questions to it.")
        _check_ids(qs)
        return QuestionSet(tuple(qs), name)
    qs = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{name} line {lineno}"
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise QuestionSetError(
                f"{where}: invalid JSON ({exc}). Fix: write one complete JSON object per line."
            ) from None
        qs.append(parse_question(obj, where))
    _check_ids(qs)
    return QuestionSet(tuple(qs), name)


# --- running one question ---------------------------------------------------------------------


def _answer_accepts_passages(index: Any) -> bool:
    import inspect

    try:
        return "passages" in inspect.signature(index.answer).parameters
    except (TypeError, ValueError):
        return False


def answer_body(answer: Answer) -> str:
    """The text answer metrics are computed on: the quoted sentences, else the answer text
    without citation markers. Empty for a declined answer."""
    if not answer.answerable:
        return ""
    if answer.sentences:
        return " ".join(_CITATION_MARK.sub("", s).strip() for s in answer.sentences)
    return _CITATION_MARK.sub("", answer.text).strip()


def _covered(q: GoldQuestion, passage: Passage) -> set[str]:
    if q.evidence:
        return qm.evidence_found(q.evidence, passage.text)
    if q.sources and passage.doc_id in q.sources:
        return {passage.doc_id}
    return set()


def _ask(
    index: Index, q: GoldQuestion, k: int, depth: int, pass_passages: bool
) -> tuple[Answer, list[Passage], float]:
    history: list[dict[str, str]] = []
    for turn in q.history:
        earlier = index.answer(turn, history=list(history) or None, k=k)
        history.append({"role": "user", "content": turn})
        history.append({"role": "assistant", "content": earlier.text})
    t0 = _clock()
    if history:
        answer = index.answer(q.question, history=history, k=k)
        retrieved = index.retrieve(answer.query or q.question, k=depth)
    else:
        retrieved = index.retrieve(q.question, k=depth)
        if pass_passages:
            answer = index.answer(q.question, k=k, passages=retrieved[:k])
        else:
            answer = index.answer(q.question, k=k)
    latency_ms = (_clock() - t0) * 1000.0
    return answer, retrieved, latency_ms


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


# --- the report -------------------------------------------------------------------------------


def format_value(key: str, value: Any) -> str:
    """A metric value as shown in tables: counts as integers, latencies in ms, rates to 3
    places, undefined as ``n/a``."""
    if value is None:
        return "n/a"
    if key in COUNT_KEYS:
        return str(int(value))
    if key.endswith("_ms"):
        return f"{float(value):.1f}"
    return f"{float(value):.3f}"


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _md_cell(value: Any, limit: int = 0) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def _short_answer(row: dict[str, Any]) -> str:
    # The quoted sentences read better in a table than the full text with its source list.
    sentences = row.get("answer_sentences") or []
    return " ".join(sentences) if sentences else str(row.get("answer", ""))


def _md_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return lines


CSV_COLUMNS = (
    "id",
    "kind",
    "question",
    "history",
    "answerable",
    "gold_answers",
    "evidence",
    "sources",
    "answer",
    "answer_sentences",
    "predicted_answerable",
    "declined",
    "confidence",
    "query",
    "rewritten",
    "citations",
    "retrieved",
    "rank",
    *ROW_METRICS,
    "latency_ms",
)


def _csv_value(key: str, value: Any) -> Any:
    if value is None:
        return ""
    if key == "citations":
        return " | ".join(f"{c['doc_id']}#{c['paragraph']}" for c in value)
    if key == "retrieved":
        return " | ".join(
            f"{'*' if p.get('relevant') else ''}{p['doc_id']}#{p['paragraph']} ({p['score']:.4f})"
            for p in value
        )
    if isinstance(value, list):
        return " | ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


@dataclass(frozen=True)
class EvalReport:
    """The result of :func:`evaluate`: overall metrics, metrics per kind, one row per question."""

    metrics: dict[str, Any]
    by_kind: dict[str, dict[str, Any]]
    rows: list[dict[str, Any]]
    k: int = 5

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, Any]], k: int = 5) -> EvalReport:
        """A report whose metrics are aggregated from ``rows``."""
        rows = list(rows)
        return cls(aggregate(rows), aggregate_by_kind(rows), rows, k)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalReport:
        """Inverse of :meth:`to_dict` (what :meth:`to_json` writes)."""
        return cls(dict(data["metrics"]), dict(data.get("by_kind", {})), list(data["questions"]))

    @classmethod
    def load(cls, path: str | os.PathLike) -> EvalReport:
        """Read a report written by :meth:`to_json`."""
        return cls.from_dict(read_report(path))

    def to_dict(self) -> dict[str, Any]:
        """``{"metrics": ..., "by_kind": ..., "questions": [...rows]}``."""
        return {"metrics": self.metrics, "by_kind": self.by_kind, "questions": self.rows}

    def to_json(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as indented UTF-8 JSON."""
        Path(path).write_text(
            json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )

    def to_csv(self, path: str | os.PathLike) -> None:
        """One row per question; lists are joined with `` | ``, relevant passages marked ``*``."""
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            for row in self.rows:
                writer.writerow([_csv_value(c, row.get(c)) for c in CSV_COLUMNS])

    def summary_table(self) -> str:
        """The overall metrics as an aligned plain-text table for the terminal."""
        rows = [
            (key, format_value(key, self.metrics.get(key)))
            for _, keys in METRIC_GROUPS
            for key in keys
            if key in self.metrics
        ]
        extra = [
            (key, format_value(key, value))
            for key, value in self.metrics.items()
            if key not in METRIC_KEYS
        ]
        return _text_table(("metric", "value"), rows + extra)

    def markdown(self) -> str:
        """The Markdown report: summary, per-kind table, then the questions, failures first."""
        lines = ["# Evaluation report", ""]
        lines.append(f"{len(self.rows)} questions; answers from the top {self.k} passages.")
        lines += ["", "## Summary", ""]
        lines += _md_table(
            ("metric", "value"),
            ((key, format_value(key, self.metrics.get(key))) for key in METRIC_KEYS),
        )
        if self.by_kind:
            lines += ["", "## By kind", ""]
            keys = ("n", *KIND_METRICS)
            lines += _md_table(
                ("kind", *keys),
                (
                    (kind, *(format_value(key, m.get(key)) for key in keys))
                    for kind, m in self.by_kind.items()
                ),
            )
        failed = [(r, failures(r)) for r in self.rows]
        ordered = [x for x in failed if x[1]] + [x for x in failed if not x[1]]
        n_failed = sum(1 for _, f in failed if f)
        lines += ["", f"## Questions ({n_failed} failing, listed first)", ""]
        lines += _md_table(
            ("status", "id", "kind", "question", "rank", "answer", "why"),
            (
                (
                    "FAIL" if why else "ok",
                    r.get("id") or "",
                    r.get("kind") or "",
                    _md_cell(r["question"], 120),
                    r.get("rank") if r.get("rank") is not None else "",
                    "(declined)" if r["declined"] else _md_cell(_short_answer(r), 160),
                    "; ".join(why),
                )
                for r, why in ordered
            ),
        )
        return "\n".join(lines) + "\n"

    def to_markdown(self, path: str | os.PathLike) -> None:
        """Write :meth:`markdown` to ``path``."""
        Path(path).write_text(self.markdown(), encoding="utf-8")


def read_report(source: str | os.PathLike | dict[str, Any] | EvalReport) -> dict[str, Any]:
    """A report as the dict :meth:`EvalReport.to_json` writes, from a path, dict or report."""
    if isinstance(source, EvalReport):
        return source.to_dict()
    if isinstance(source, dict):
        data = source
    else:
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise QuestionSetError(
                f"Report {str(source)!r} does not exist. Fix: pass a file written by --json."
            ) from None
        except ValueError as exc:
            raise QuestionSetError(
                f"Report {str(source)!r} is not valid JSON ({exc}). "
                "Fix: pass a file written by --json."
            ) from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise QuestionSetError(
            "The old report has no 'metrics' object. Fix: pass a file written by `qa eval --json`."
        )
    data.setdefault("questions", [])
    return data


# --- comparing and plotting -------------------------------------------------------------------


def _row_key(row: dict[str, Any]) -> tuple[str, ...]:
    if row.get("id") is not None:
        return ("id", str(row["id"]))
    return ("question", row.get("question", ""), *row.get("history", []))


def _label(row: dict[str, Any], width: int = 90) -> str:
    text = " ".join(str(row.get("question", "")).split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return f"[{row['id']}] {text}" if row.get("id") is not None else text


def _flips(
    old_rows: dict[tuple[str, ...], dict[str, Any]],
    new_rows: Sequence[dict[str, Any]],
    key: str,
) -> tuple[list[str], list[str]]:
    lost, gained = [], []
    for row in new_rows:
        before = old_rows.get(_row_key(row))
        if before is None:
            continue
        a, b = before.get(key), row.get(key)
        if a is None or b is None or bool(a) == bool(b):
            continue
        (lost if a else gained).append(_label(row))
    return lost, gained


def compare(
    old: str | os.PathLike | dict[str, Any] | EvalReport,
    new: str | os.PathLike | dict[str, Any] | EvalReport,
) -> str:
    """Old and new metrics side by side with deltas, then the questions (matched by id, else
    by question text and history) whose hit@5 or answer containment flipped."""
    old_d, new_d = read_report(old), read_report(new)
    om, nm = old_d["metrics"], new_d["metrics"]
    keys = [k for k in METRIC_KEYS if k in om or k in nm]
    keys += [k for k in nm if k not in keys] + [k for k in om if k not in keys and k not in nm]
    table = []
    for key in keys:
        a, b = om.get(key), nm.get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            delta = b - a
            if key in COUNT_KEYS:
                d = f"{int(delta):+d}"
            elif key.endswith("_ms"):
                d = f"{delta:+.1f}"
            else:
                d = f"{delta:+.3f}"
        else:
            d = "n/a"
        table.append((key, format_value(key, a), format_value(key, b), d))
    out = [_text_table(("metric", "old", "new", "delta"), table)]

    old_rows = {_row_key(r): r for r in old_d["questions"]}
    new_rows = new_d["questions"]
    new_keys = {_row_key(r) for r in new_rows}
    for key, title in (("hit@5", "hit@5"), ("answer_containment", "answer containment")):
        lost, gained = _flips(old_rows, new_rows, key)
        out.append("")
        out.append(f"{title} flips: {len(lost)} hit -> miss, {len(gained)} miss -> hit")
        out += [f"  hit -> miss  {label}" for label in lost]
        out += [f"  miss -> hit  {label}" for label in gained]
    only_old = sum(1 for k in old_rows if k not in new_keys)
    only_new = sum(1 for k in new_keys if k not in old_rows)
    if only_old or only_new:
        out.append("")
        out.append(f"unmatched questions: {only_old} only in old, {only_new} only in new")
    return "\n".join(out)


def plot(report: EvalReport | dict[str, Any] | str | os.PathLike, path: str | os.PathLike) -> None:
    """Save a PNG: hit@k against k (1..10), overall and per kind, and each metric by kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = read_report(report)
    rows = data["questions"]
    by_kind = data.get("by_kind") or {}
    ks = list(range(1, RETRIEVAL_DEPTH + 1))
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.5))
    try:
        curve = hit_curve(rows)
        if curve[0] is not None:
            left.plot(ks, curve, marker="o", linewidth=2.5, color="black", label="all")
        kinds = sorted({str(r["kind"]) for r in rows if r.get("kind") is not None})
        for kind in kinds:
            kcurve = hit_curve([r for r in rows if r.get("kind") == kind])
            if kcurve[0] is not None:
                left.plot(ks, kcurve, marker=".", linewidth=1, alpha=0.7, label=kind)
        left.set(xlabel="k", ylabel="hit@k", title="Retrieval hit@k", ylim=(0, 1.02), xticks=ks)
        left.grid(alpha=0.3)
        if left.get_legend_handles_labels()[0]:
            left.legend(fontsize=8)

        groups = by_kind or {"all": data["metrics"]}
        names = list(groups)
        width = 0.8 / max(1, len(names))
        xs = range(len(KIND_METRICS))
        for i, name in enumerate(names):
            vals = [groups[name].get(key) for key in KIND_METRICS]
            right.bar(
                [x + i * width for x in xs],
                [v if v is not None else 0.0 for v in vals],
                width=width,
                label=name,
            )
        right.set_xticks([x + width * (len(names) - 1) / 2 for x in xs])
        right.set_xticklabels(KIND_METRICS, rotation=35, ha="right", fontsize=8)
        right.set(ylim=(0, 1.02), title="Metrics by kind (n/a drawn as 0)")
        right.grid(axis="y", alpha=0.3)
        right.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


# --- the entry point --------------------------------------------------------------------------


def evaluate(
    questions: str | os.PathLike | Sequence[dict] | dict | QuestionSet,
    index: Index | None = None,
    k: int = 5,
    *,
    progress: Progress | None = None,
    limit: int | None = None,
    encoder: Any = None,
    batch_queries: bool = True,
) -> EvalReport:
    """Answer every question of a question set and score retrieval, answers and declining.

    ``questions`` is a path (JSONL, or SQuAD 1.1/2.0 JSON detected from its content), a list of
    question dicts, a SQuAD dict, or a :class:`QuestionSet` from :func:`load_questions`.
    Without ``index``, a SQuAD set is answered from a temporary
    index over its paragraphs (removed afterwards) and any other set from the default index.
    ``progress(done, total)`` is called after each question. ``limit`` keeps the first questions
    only (a SQuAD index still covers every paragraph). ``encoder`` is used only when an index is
    built or loaded here. ``batch_queries`` encodes questions in batches ahead of answering
    (much faster; each row's latency then includes its share of the batch); pass ``False`` to
    time every question fully on its own, as an interactive user would see it. See the module
    docstring for the metric definitions.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    qset = load_questions(questions)
    items = list(qset.questions if limit is None else qset.questions[: max(0, limit)])
    depth = max(RETRIEVAL_DEPTH, k)
    with ExitStack() as stack:
        if index is None:
            index = _open_index(qset, stack, encoder, show_progress=progress is not None)
        pass_passages = _answer_accepts_passages(index)
        rows = []
        shares: dict[int, float] = {}
        for i, q in enumerate(items):
            if batch_queries and i % PRIME_CHUNK == 0:
                shares = _prime_queries(index, items[i : i + PRIME_CHUNK], i)
            answer, retrieved, latency_ms = _ask(index, q, k, depth, pass_passages)
            rows.append(score_row(q, answer, retrieved, latency_ms + shares.get(i, 0.0)))
            if progress is not None:
                progress(i + 1, len(items))
    return EvalReport.from_rows(rows, k)


def _prime_queries(index: Any, chunk: Sequence[GoldQuestion], offset: int) -> dict[int, float]:
    """Encode the chunk's known queries in one batch and put them in the index's query cache.

    One query at a time, a transformer on a busy 2-core machine spends most of its time in
    per-call overhead (about 30x slower than batched here), which would dominate a SQuAD run.
    Returns each question's share of the batch time in ms (by position), which is added to its
    latency so ``latency_ms`` still includes encoding the question. Conversation finals are
    not primed: their rewritten query is only known after the earlier turns are answered.
    """
    texts: list[str] = []
    owners: dict[str, list[int]] = {}
    try:
        from qa.index import check_question
    except ImportError:  # pragma: no cover - an index without the core module
        return {}
    for j, q in enumerate(chunk, offset):
        for text in q.history[:1] if q.history else (q.question,):
            try:
                key = check_question(text)
            except ValueError:
                continue
            if key not in owners:
                texts.append(key)
            owners.setdefault(key, []).append(j)
    if not texts:
        return {}
    embed = getattr(index, "embed_queries", None)
    if not callable(embed):
        return {}  # an index we cannot batch for: each question encodes inside its own timing
    t0 = _clock()
    embed(texts)
    per_text = (_clock() - t0) * 1000.0 / len(texts)
    shares: dict[int, float] = {}
    for text in texts:
        for j in owners[text]:
            shares[j] = shares.get(j, 0.0) + per_text / len(owners[text])
    return shares


def _open_index(qset: QuestionSet, stack: ExitStack, encoder: Any, *, show_progress: bool) -> Any:
    if qset.squad is not None:
        from qa.index import build_index

        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qa-eval-")))
        write_squad_corpus(qset.squad, tmp / "corpus")
        if encoder is None:
            from qa.index import default_index_encoder

            encoder = default_index_encoder()
        return build_index(
            tmp / "corpus", tmp / "index", encoder=encoder, show_progress=show_progress
        )
    if encoder is not None:
        from qa import default_paths
        from qa.index import open_index

        return open_index(*default_paths(), encoder=encoder)
    from qa import load_default_index

    return load_default_index()
