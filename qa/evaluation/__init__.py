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

The package runs one way: :mod:`~qa.evaluation.questions` (loading question sets) ->
:mod:`~qa.evaluation.scoring` (rows and metrics) -> :mod:`~qa.evaluation.charts` (the plot) ->
:mod:`~qa.evaluation.report` (:class:`EvalReport`, its writers, compare) ->
:mod:`~qa.evaluation.run` (:func:`evaluate` over an :class:`Answerer`).
"""

from qa.evaluation.questions import (
    FIELDS,
    GoldQuestion,
    QuestionSet,
    load_questions,
    parse_question,
    squad_doc_id,
    squad_questions,
    write_squad_corpus,
)
from qa.evaluation.report import (
    CSV_COLUMNS,
    EvalReport,
    compare,
    format_value,
    plot,
    read_report,
)
from qa.evaluation.run import PRIME_CHUNK, Answerer, Progress, QueryBatcher, evaluate
from qa.evaluation.scoring import (
    COUNT_KEYS,
    HIT_KS,
    KIND_METRICS,
    METRIC_GROUPS,
    METRIC_KEYS,
    RETRIEVAL_DEPTH,
    ROW_METRICS,
    aggregate,
    aggregate_by_kind,
    answer_body,
    failures,
    hit_curve,
    score_row,
)

__all__ = [
    "COUNT_KEYS",
    "CSV_COLUMNS",
    "FIELDS",
    "HIT_KS",
    "KIND_METRICS",
    "METRIC_GROUPS",
    "METRIC_KEYS",
    "PRIME_CHUNK",
    "RETRIEVAL_DEPTH",
    "ROW_METRICS",
    "Answerer",
    "EvalReport",
    "GoldQuestion",
    "Progress",
    "QueryBatcher",
    "QuestionSet",
    "aggregate",
    "aggregate_by_kind",
    "answer_body",
    "compare",
    "evaluate",
    "failures",
    "format_value",
    "hit_curve",
    "load_questions",
    "parse_question",
    "plot",
    "read_report",
    "score_row",
    "squad_doc_id",
    "squad_questions",
    "write_squad_corpus",
]
