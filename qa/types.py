"""The units that flow through the system: a document, a paragraph, a passage, an answer.

All are frozen. Derive new values with ``dataclasses.replace``; never mutate.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from qa.text import split_sentences


def content_hash(*parts: str, length: int = 16) -> str:
    """A stable id: the first ``length`` hex digits of the SHA-256 of the parts."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:length]


def date_label(date: str, inferred: bool) -> str:
    """A date as users should see it: ``2024-10-10``, ``2024-10-10 (inferred)`` or ``date unknown``."""
    if not date:
        return "date unknown"
    return f"{date} (inferred)" if inferred else date


@dataclass(frozen=True)
class DocMeta:
    """What is known about a document's source. ``date`` is ISO ``YYYY-MM-DD`` or ``""``."""

    title: str = ""
    source: str = ""
    date: str = ""
    date_inferred: bool = False
    date_note: str = ""
    title_inferred: bool = False

    @property
    def date_label(self) -> str:
        """The date as users should see it: ``2024-10-10 (inferred)`` where it is inferred."""
        return date_label(self.date, self.date_inferred)


@dataclass(frozen=True)
class Paragraph:
    """One cleaned paragraph of a document, numbered as citations refer to it (1-based)."""

    number: int
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Dropped:
    """A piece of the original file that cleaning removed, and why."""

    reason: str  # "image", "caption", "byline", "dateline", "duplicate", "near-duplicate", "title"
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """A cleaned document: its kept paragraphs, what was dropped, and its source."""

    doc_id: str  # path relative to the corpus folder, with "/" separators
    meta: DocMeta
    paragraphs: tuple[Paragraph, ...]
    dropped: tuple[Dropped, ...] = ()
    file_hash: str = ""

    @property
    def title(self) -> str:
        """The document's title (from metadata, or inferred from its text)."""
        return self.meta.title

    @property
    def lead(self) -> str:
        """The first sentence of the first paragraph, for one-line summaries."""
        if not self.paragraphs:
            return ""
        sentences = split_sentences(self.paragraphs[0].text)
        return sentences[0][2] if sentences else self.paragraphs[0].text


@dataclass(frozen=True)
class Passage:
    """A retrievable chunk of a document, with its source and (after search) its score.

    ``text`` reads as in the document. ``spans`` are character offsets into the original
    decoded file, one per paragraph the passage covers; ``start``/``end`` bound them all.
    """

    passage_id: str
    text: str
    doc_id: str
    title: str
    source: str
    date: str
    paragraph: int
    paragraph_end: int
    start: int
    end: int
    spans: tuple[tuple[int, int], ...] = ()
    date_inferred: bool = False
    score: float = 0.0
    scores: dict[str, float] = field(default_factory=dict, compare=False, hash=False)

    @property
    def date_label(self) -> str:
        """The date as users should see it, marked ``(inferred)`` where it is inferred."""
        return date_label(self.date, self.date_inferred)

    @property
    def paragraph_label(self) -> str:
        """``paragraph 3`` or ``paragraphs 3-4``."""
        if self.paragraph_end > self.paragraph:
            return f"paragraphs {self.paragraph}-{self.paragraph_end}"
        return f"paragraph {self.paragraph}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (spans as lists)."""
        d = asdict(self)
        d["spans"] = [list(s) for s in self.spans]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Passage:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d["spans"] = tuple(tuple(s) for s in d.get("spans", ()))
        d["scores"] = dict(d.get("scores", {}))
        return cls(**d)


@dataclass(frozen=True)
class Short:
    """The phrase that answers (the person, date, place, count, named agreement).

    ``text == citations[citation - 1].text[start:end]``: the span is in the cited passage.
    ``kind`` is what the question asks for (``who``, ``when``, ``where``, ``how_many``,
    ``amount``, ``org``, ``agreement``); ``label`` the entity's type.
    """

    text: str
    start: int
    end: int
    citation: int
    kind: str = ""
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Item:
    """One item of a list answer, with the citation of the passage that gives it."""

    text: str
    citation: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """An extractive answer. Citation ``[n]`` is ``citations[n-1]``.

    ``short`` is the answering phrase of a who/when/where/how-many/which question (``None``
    when the question asks for no such thing); ``items`` the entries of a list answer;
    ``missing`` the parts of the question no article mentions (a "closest match" answer,
    which is not ``answerable``).
    """

    question: str
    text: str
    citations: tuple[Passage, ...]
    passages: tuple[Passage, ...]
    answerable: bool
    confidence: float
    query: str = ""  # the query actually searched (the rewritten follow-up, if any)
    rewritten: bool = False
    sentences: tuple[str, ...] = ()  # the quoted sentences, in answer order
    supports: tuple[tuple[int, ...], ...] = ()  # per sentence, the 1-based citation numbers
    short: Short | None = None
    items: tuple[Item, ...] = ()
    missing: tuple[str, ...] = ()
    # Which path answered: "sentences" (quoted from retrieved passages, qa.answering) or
    # "structure" (rows of the extracted timeline, people or agreements, qa.routing).
    path: str = "sentences"
    route: str = ""  # the structure route ("timeline", "people", ...) when path is "structure"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "question": self.question,
            "query": self.query,
            "rewritten": self.rewritten,
            "path": self.path,
            "route": self.route,
            "text": self.text,
            "answerable": self.answerable,
            "confidence": self.confidence,
            "sentences": list(self.sentences),
            "supports": [list(s) for s in self.supports],
            "short": self.short.to_dict() if self.short else None,
            "items": [i.to_dict() for i in self.items],
            "missing": list(self.missing),
            "citations": [p.to_dict() for p in self.citations],
            "passages": [p.to_dict() for p in self.passages],
        }
