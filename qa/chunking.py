"""Paragraph-aware chunking that never cuts a sentence.

Short paragraphs merge with their neighbours; long ones split into windows of whole sentences.
Each passage carries its source and the character spans of the paragraphs it covers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from qa.text import split_sentences
from qa.types import Document, Passage, content_hash


@dataclass(frozen=True)
class ChunkSettings:
    """How paragraphs become passages. Recorded in the manifest; a change means a rebuild."""

    min_chars: int = 200  # a paragraph shorter than this merges with its neighbour
    max_chars: int = 900  # a passage longer than this splits into sentence windows
    window_chars: int = 600  # target size of a sentence window

    def to_dict(self) -> dict:
        """JSON-ready settings."""
        return asdict(self)


def _make_passage(doc: Document, units: list[tuple[int, int, int, str]]) -> Passage:
    """Build a passage from ``(paragraph_no, start, end, text)`` units of one document."""
    # Units from one paragraph join with a space (they are its consecutive sentences);
    # units from different paragraphs join with a blank line.
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    last_para = None
    for para, s, e, t in units:
        if last_para == para and spans and spans[-1][1] <= s:
            parts[-1] = parts[-1] + " " + t
            spans[-1] = (spans[-1][0], e)
        else:
            parts.append(t)
            spans.append((s, e))
        last_para = para
    text = "\n\n".join(parts)
    first, last = units[0][0], units[-1][0]
    return Passage(
        passage_id=content_hash(doc.doc_id, str(spans[0][0]), text),
        text=text,
        doc_id=doc.doc_id,
        title=doc.meta.title,
        source=doc.meta.source,
        date=doc.meta.date,
        date_inferred=doc.meta.date_inferred,
        paragraph=first,
        paragraph_end=last,
        start=spans[0][0],
        end=spans[-1][1],
        spans=tuple(spans),
    )


def chunk_document(doc: Document, settings: ChunkSettings = ChunkSettings()) -> list[Passage]:
    """Cut one cleaned document into passages."""
    # First, long paragraphs become windows of whole sentences.
    pieces: list[list[tuple[int, int, int, str]]] = []
    for para in doc.paragraphs:
        if len(para.text) <= settings.max_chars:
            pieces.append([(para.number, para.start, para.end, para.text)])
            continue
        window: list[tuple[int, int, int, str]] = []
        size = 0
        for s, e, sent in split_sentences(para.text):
            if window and size + len(sent) > settings.window_chars:
                pieces.append(window)
                window, size = [], 0
            # Offsets into the original file: paragraph start + offset inside the paragraph.
            # Exact when the file is already NFC, which cleaning checks for the seeds.
            window.append((para.number, para.start + s, para.start + e, sent))
            size += len(sent) + 1
        if window:
            pieces.append(window)

    # Then short pieces merge forward (or, for the last one, backward) within the document.
    merged: list[list[tuple[int, int, int, str]]] = []
    for piece in pieces:
        size = sum(len(u[3]) for u in piece)
        if merged:
            prev = merged[-1]
            prev_size = sum(len(u[3]) for u in prev)
            if (prev_size < settings.min_chars or size < settings.min_chars) and (
                prev_size + size <= settings.max_chars
            ):
                merged[-1] = prev + piece
                continue
        merged.append(piece)
    return [_make_passage(doc, units) for units in merged]


def passage_sentences(passage: Passage) -> list[tuple[int, int, str]]:
    """The sentences of a passage as ``(start, end, text)`` with offsets into ``passage.text``."""
    out: list[tuple[int, int, str]] = []
    offset = 0
    for part in passage.text.split("\n\n"):
        for s, e, sent in split_sentences(part):
            out.append((offset + s, offset + e, sent))
        offset += len(part) + 2
    return out
