"""Which path answers a question: the extracted structure, or quoted sentences.

Questions about order, change, periods, lists of people or organisations, and agreements across
meetings (``qa.structured_answer.route``) are answered from the structure the build extracted:
a dated list, each row with its quoted evidence and citation. Every other question, and every
routed question the structure has nothing for, goes to ``qa.answering`` unchanged. The chosen
path is recorded in ``Answer.path`` (and the route in ``Answer.route``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from qa.questions import check_question
from qa.render import numbered_citations, structured_markdown
from qa.structured_answer import Row, StructuredAnswer, route, structured_answer
from qa.types import Answer

if TYPE_CHECKING:
    from qa.index import Index

# A structured answer has no calibrated score: its rows are what the extraction found, each
# with the sentence that states it. It is reported as sure as the sentence path's confident
# answers (qa.answering.THRESHOLD is 0.40), so confidence-ranked reports keep it with them.
STRUCTURE_CONFIDENCE = 0.9
PATHS = ("sentences", "structure")
LISTING_ROUTES = ("people", "organisations", "agreements", "recurring_agreements")


def answer(
    index: Index, question: str, history: list[dict] | None = None, **options: Any
) -> Answer:
    """Answer ``question`` from the structure when it asks for one, else from sentences.

    ``options`` are ``qa.answering.answer``'s; ``doc_ids`` and ``date_from``/``date_to`` also
    filter the structured rows. ``passages`` (retrieved ahead, as an evaluation does) feed only
    the sentence path: a structured answer rests on the whole corpus's structure.
    """
    from qa.answering import answer as sentence_answer

    q = check_question(question)
    if route(q) is not None:
        found = structured_answer(q, index.structure)
        rows = _filtered(found.rows, options.get("doc_ids"), options.get("date_from"),
                         options.get("date_to"))  # fmt: skip
        if rows:
            return structure_answer(question, found, rows)
    return sentence_answer(index, question, history, **options)


def _filtered(
    rows: tuple[Row, ...],
    doc_ids: Iterable[str] | None,
    date_from: str | None,
    date_to: str | None,
) -> list[Row]:
    wanted = set(doc_ids) if doc_ids is not None else None
    out = []
    for row in rows:
        cites = tuple(c for c in row.citations if wanted is None or c.doc_id in wanted)
        if not cites:
            continue
        # ISO prefixes compare as strings: "2023-09" falls inside 2023-09-01..2023-09-30.
        if (date_from or date_to) and not row.date:
            continue
        if date_from and row.date < date_from[: len(row.date)]:
            continue
        if date_to and row.date > date_to[: len(row.date)]:
            continue
        out.append(Row(row.date, row.date_inferred, row.text, cites, row.event_id))
    return out


def structure_answer(question: str, found: StructuredAnswer, rows: list[Row]) -> Answer:
    """The rows of a structured answer as an ``Answer`` (``path="structure"``)."""
    citations, numbers = numbered_citations([r.citations for r in rows])
    # The count answers "how many ..." and tells a reader the list is complete as extracted.
    heading = f"{found.heading} ({len(rows)})"
    # Lists of names or agreements are not events: an undated row there needs no date label.
    listing = found.route in LISTING_ROUTES
    labels = [r.date_label if r.date or not listing else "" for r in rows]
    text = structured_markdown(
        heading, [(lab, r.text, r.citations) for lab, r in zip(labels, rows)], citations, numbers
    )
    return Answer(
        question=question,
        text=text,
        citations=tuple(citations),
        passages=tuple(citations),
        answerable=True,
        confidence=STRUCTURE_CONFIDENCE,
        query=question,
        sentences=tuple(f"{lab}: {r.text}" if lab else r.text for lab, r in zip(labels, rows)),
        supports=tuple(numbers),
        path="structure",
        route=found.route,
    )
