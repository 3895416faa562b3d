"""Running a question set: ask every question of an :class:`Answerer` and score it."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from qa.evaluation.questions import GoldQuestion, QuestionSet, load_questions, write_squad_corpus
from qa.evaluation.report import EvalReport
from qa.evaluation.scoring import RETRIEVAL_DEPTH, score_row
from qa.types import Answer, Passage

PRIME_CHUNK = 128  # questions encoded per batch; well under the index's 512-entry query cache

# Indirection so tests can drive latency with a scripted clock.
_clock = time.perf_counter

Progress = Callable[[int, int], None]


class Answerer(Protocol):
    """What :func:`evaluate` asks: an :class:`qa.index.Index`, or a test's scripted stand-in."""

    def retrieve(self, question: str, k: int = 5) -> list[Passage]:
        """The ``k`` best passages for ``question``, best first."""
        ...

    def answer(
        self,
        question: str,
        history: list[dict] | None = None,
        *,
        k: int = 5,
        passages: Sequence[Passage] | None = None,
    ) -> Answer:
        """An answer to ``question`` from ``passages`` (retrieved here when ``None``)."""
        ...


@runtime_checkable
class QueryBatcher(Protocol):
    """An answerer that can encode many questions in one batch ahead of answering them."""

    def embed_queries(self, texts: Sequence[str]) -> Any:
        """Encode ``texts`` in one batch and cache them for the questions that follow."""
        ...


def _ask(
    index: Answerer, q: GoldQuestion, k: int, depth: int
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
        answer = index.answer(q.question, k=k, passages=retrieved[:k])
    latency_ms = (_clock() - t0) * 1000.0
    return answer, retrieved, latency_ms


# --- the entry point --------------------------------------------------------------------------


def evaluate(
    questions: str | os.PathLike | Sequence[dict] | dict | QuestionSet,
    index: Answerer | None = None,
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
        rows = []
        shares: dict[int, float] = {}
        for i, q in enumerate(items):
            if batch_queries and i % PRIME_CHUNK == 0:
                shares = _prime_queries(index, items[i : i + PRIME_CHUNK], i)
            answer, retrieved, latency_ms = _ask(index, q, k, depth)
            rows.append(score_row(q, answer, retrieved, latency_ms + shares.get(i, 0.0)))
            if progress is not None:
                progress(i + 1, len(items))
    return EvalReport.from_rows(rows, k)


def _prime_queries(index: Answerer, chunk: Sequence[GoldQuestion], offset: int) -> dict[int, float]:
    """Encode the chunk's known queries in one batch and put them in the index's query cache.

    One query at a time, a transformer on a busy 2-core machine spends most of its time in
    per-call overhead (about 30x slower than batched here), which would dominate a SQuAD run.
    Returns each question's share of the batch time in ms (by position), which is added to its
    latency so ``latency_ms`` still includes encoding the question. Conversation finals are
    not primed: their rewritten query is only known after the earlier turns are answered.
    """
    texts: list[str] = []
    owners: dict[str, list[int]] = {}
    from qa.questions import check_question

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
    if not isinstance(index, QueryBatcher):
        return {}  # an index we cannot batch for: each question encodes inside its own timing
    t0 = _clock()
    index.embed_queries(texts)
    per_text = (_clock() - t0) * 1000.0 / len(texts)
    shares: dict[int, float] = {}
    for text in texts:
        for j in owners[text]:
            shares[j] = shares.get(j, 0.0) + per_text / len(owners[text])
    return shares


def _open_index(
    qset: QuestionSet, stack: ExitStack, encoder: Any, *, show_progress: bool
) -> Answerer:
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
        from qa.index import open_index
        from qa.opening import default_paths

        return open_index(*default_paths(), encoder=encoder)
    from qa.opening import load_default_index

    return load_default_index()
