"""Offline, extractive question answering over news articles, with citations.

The public API is a few verbs::

    import qa
    qa.retrieve("Who did Le Quoc Hung meet?", k=5)   # -> list[Passage]
    qa.answer("When was the phone call?")             # -> Answer
    index = qa.build_index("corpus", "embeddings")    # -> Index
    index = qa.load_index("embeddings")
    report = qa.evaluate("tests/data/dev.jsonl")      # -> EvalReport
    qa.timeline(date_from="2023", person="To Lam")   # -> list[Event], by date
    qa.entities(kind="person", side="UK")             # -> list[Entity]
    qa.agreements()                                   # -> list[Agreement]

``timeline``, ``entities`` and ``agreements`` read the structure the build extracted (events,
people and organisations, agreements; ``qa.structure``); their citations are ``Passage``s.

``retrieve`` and ``answer`` use the default index: ``$QA_CORPUS`` (default ``corpus/``) built
into ``$QA_INDEX`` (default ``embeddings/``) on first use and rebuilt when the corpus changes.
Importing ``qa`` loads no model, no torch and no gradio.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from qa.errors import CorpusError, IndexCorruptError, IndexLockedError, QAError, QuestionSetError
from qa.opening import load_default_index
from qa.paths import default_paths
from qa.types import Answer, DocMeta, Document, Passage

if TYPE_CHECKING:
    from qa.evaluation import EvalReport
    from qa.index import Index
    from qa.structure import Agreement, Entity, Event

__all__ = [
    "Answer",
    "CorpusError",
    "DocMeta",
    "Document",
    "IndexCorruptError",
    "IndexLockedError",
    "Passage",
    "QAError",
    "QuestionSetError",
    "agreements",
    "answer",
    "build_index",
    "default_paths",
    "entities",
    "evaluate",
    "load_default_index",
    "load_index",
    "retrieve",
    "timeline",
]

__version__ = "0.1.0"


def build_index(
    corpus_dir: str | os.PathLike, index_dir: str | os.PathLike, **kwargs: Any
) -> Index:
    """Build the index of ``corpus_dir`` into ``index_dir`` (atomically) and return it.

    Keyword options: ``model`` (name or path), ``backend`` (``onnx-int8``, the default;
    ``onnx``; ``torch``), ``show_progress``. See ``qa.index.build_index`` for the rest.
    """
    from qa.index import build_index as _build

    return _build(corpus_dir, index_dir, **kwargs)


def load_index(index_dir: str | os.PathLike, **kwargs: Any) -> Index:
    """Load the index in ``index_dir`` after checking it against its manifest."""
    from qa.index import load_index as _load

    return _load(index_dir, **kwargs)


def retrieve(question: str, k: int = 5) -> list[Passage]:
    """The ``k`` best passages for ``question`` from the default index, best first.

    Raises ``ValueError`` for an empty question or a ``k`` that is not a whole number of at
    least 1, and ``QAError`` for fixable problems.
    """
    from qa.questions import check_k, check_question

    check_question(question)  # reject bad input before any index is built
    check_k(k)
    return load_default_index().retrieve(question, k)


def answer(question: str, history: list[dict] | None = None) -> Answer:
    """A short quoted answer with numbered citations, from the default index.

    ``history`` is Gradio's messages format: ``[{"role": "user", "content": "..."}, ...]``.
    """
    from qa.questions import check_history, check_question

    check_question(question)  # reject bad input before any index is built
    check_history(history)
    return load_default_index().answer(question, history)


def evaluate(questions: Any, index: Index | None = None, k: int = 5, **kwargs: Any) -> EvalReport:
    """Run a question set (path to JSONL / SQuAD JSON, or a list of dicts) and report metrics."""
    from qa.evaluation import evaluate as _evaluate

    return _evaluate(questions, index=index, k=k, **kwargs)


def timeline(*args: Any, **filters: Any) -> list[Event]:
    """Events (meetings, calls, visits, receptions, dialogues, talks) ordered by date.

    The filters, positionally or by name, are ``date_from``, ``date_to``, ``person``,
    ``organisation``, ``agreement`` and ``kind`` (``qa.structure_query.TimelineFilter``). Dates are ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (an event overlapping the range is kept);
    names match with or without diacritics, by surname or variant. Every filter given must hold.
    Raises a ``QAError`` (also a ``ValueError``) naming a bad argument and the fix.
    """
    from qa.structure_query import check_timeline_args

    # Check the arguments before the default index is opened (or built).
    check_timeline_args(*args, **filters)
    return load_default_index().timeline(*args, **filters)


def entities(kind: str | None = None, side: str | None = None) -> list[Entity]:
    """People, organisations and places with their variants, dated roles and mentions.

    ``kind`` is ``person``, ``org`` or ``place``; ``side`` is ``VN`` or ``UK``.
    """
    from qa.structure_query import check_entity_args

    check_entity_args(kind, side)
    return load_default_index().entities(kind, side)


def agreements() -> list[Agreement]:
    """Memoranda, joint statements and declarations, agreements and training programmes, each
    with what happened to it (signed, proposed, reaffirmed, implemented) at each event."""
    return load_default_index().agreements()
