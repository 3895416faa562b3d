"""What the app shows of the structure, as plain functions (no gradio): the timeline of events,
the people and organisations, and the agreements tracker.

Every piece of document text goes through :func:`qa.ui.esc`, so a name or sentence holding
markup is shown as text. Each cited sentence carries ``data-doc`` and ``data-para`` so the
page script can open the article at that paragraph, as the documents timeline does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qa.render import outlet
from qa.structure import Agreement, Entity, Event
from qa.types import Passage, date_label
from qa.ui import date_html, esc, notice_html


def _cite_html(p: Passage) -> str:
    return (
        f'<li class="qa-ev-cite" data-doc="{esc(p.doc_id)}" data-para="{p.paragraph}" '
        f'role="button" tabindex="0" title="Open the article at this paragraph">'
        f'“{esc(p.text)}” <span class="qa-meta">{esc(outlet(p.source))}, '
        f"{esc(p.date_label)}, {esc(p.paragraph_label)}</span></li>"
    )


def event_summary(e: Event) -> str:
    """One line for an event: ``Phone call — To Lam and James Cleverly, Hanoi`` (plain text)."""
    who = " and ".join(p.name for p in e.participants[:3])
    if len(e.participants) > 3:
        who += f" and {len(e.participants) - 3} more"
    parts = [e.kind.capitalize() + (f" — {e.name}" if e.name else "")]
    tail = ", ".join(x for x in (who, e.place) if x)
    return " — ".join(parts + ([tail] if tail else [])) + (" (planned)" if e.planned else "")


def events_html(events: Sequence[Event]) -> str:
    """The events as a timeline; each opens (``<details>``) to its participants, what was
    agreed or proposed, and the cited sentences."""
    if not events:
        return notice_html("No events were found in these articles.")
    items = []
    for e in events:
        people = "".join(
            f"<li>{esc(p.name)}"
            + (f' <span class="qa-role">{esc(p.role)}</span>' if p.role else "")
            + (f' <span class="qa-side">{esc(p.side)}</span>' if p.side else "")
            + "</li>"
            for p in e.participants
        )
        deals = "".join(
            f'<li><span class="qa-status qa-status-{esc(a.status)}">{esc(a.status)}</span> '
            f"{esc(a.name)}" + (f" (by {esc(a.by)})" if a.by else "") + "</li>"
            for a in e.agreements
        )
        body = (f'<ul class="qa-ev-people">{people}</ul>' if people else "") + (
            f'<ul class="qa-ev-agreements">{deals}</ul>' if deals else ""
        )
        cites = "".join(_cite_html(c) for c in e.citations)
        when = date_html(e.date, e.date_inferred)
        if e.end_date:
            when += f' <span class="qa-date">to {esc(e.end_date)}</span>'
        items.append(
            f'<li class="qa-ev" data-event="{esc(e.id)}"><details><summary>'
            f'<span class="qa-tl-date">{when}</span> '
            f'<span class="qa-ev-title">{esc(event_summary(e))}</span></summary>'
            f'{body}<ol class="qa-ev-cites">{cites}</ol></details></li>'
        )
    return f'<ol class="qa-ev-timeline">{"".join(items)}</ol>'


def entities_html(entities: Iterable[Entity]) -> str:
    """People and organisations as a table: name, side, dated roles, other names, mentions."""
    rows = []
    for e in entities:
        roles = "; ".join(f"{r} ({w})" if w else r for r, w in e.roles)
        others = "; ".join(v for v in e.variants if v != e.name)
        first = e.mentions[0] if e.mentions else None
        link = (
            f'<span class="qa-ev-cite" data-doc="{esc(first.doc_id)}" '
            f'data-para="{first.paragraph}" role="button" tabindex="0">{len(e.mentions)}</span>'
            if first
            else "0"
        )
        rows.append(
            f"<tr><td>{esc(e.name)}</td><td>{esc(e.kind)}</td><td>{esc(e.side)}</td>"
            f"<td>{esc(roles)}</td><td>{esc(others)}</td><td>{link}</td></tr>"
        )
    if not rows:
        return notice_html("No people or organisations were found.")
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("Name", "Kind", "Side", "Roles (date)", "Also written", "Mentions")
    )
    return f'<table class="qa-entities"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


@dataclass(frozen=True)
class TrackerCell:
    """What happened to one agreement at one event, and the sentence that says so."""

    status: str = ""  # "" when the agreement did not come up there
    by: str = ""
    citation: Passage | None = None


@dataclass(frozen=True)
class Tracker:
    """Agreements down the side, events across (by date), a cell for each pair."""

    events: tuple[Event, ...]
    agreements: tuple[Agreement, ...]
    cells: tuple[tuple[TrackerCell, ...], ...]  # cells[agreement][event]


def tracker(agreements: Sequence[Agreement], events: Sequence[Event]) -> Tracker:
    """The tracker's grid; only events at which some agreement came up get a column."""
    touched = {x.event_id for a in agreements for x in a.events}
    columns = tuple(e for e in events if e.id in touched)
    grid = []
    for a in agreements:
        at = {x.event_id: x for x in a.events}
        grid.append(
            tuple(
                TrackerCell(
                    at[e.id].status,
                    at[e.id].by,
                    at[e.id].citations[0] if at[e.id].citations else None,
                )
                if e.id in at
                else TrackerCell()
                for e in columns
            )  # fmt: skip
        )
    return Tracker(columns, tuple(agreements), tuple(grid))


def tracker_html(t: Tracker) -> str:
    """The tracker as a table; a cell links to its sentence (``data-doc``/``data-para``)."""
    if not t.agreements:
        return notice_html("No agreements were found in these articles.")
    head = '<th scope="col">Agreement</th>' + "".join(
        f'<th scope="col">{esc(date_label(e.date, e.date_inferred))}<br>{esc(e.kind)}</th>'
        for e in t.events
    )
    rows = []
    for a, cells in zip(t.agreements, t.cells):
        tds = []
        for c in cells:
            if not c.status:
                tds.append('<td class="qa-cell-empty"></td>')
                continue
            title = esc(c.citation.text) if c.citation else ""
            attrs = (
                f' data-doc="{esc(c.citation.doc_id)}" data-para="{c.citation.paragraph}" '
                f'role="button" tabindex="0"'
                if c.citation
                else ""
            )
            by = f"<br><small>by {esc(c.by)}</small>" if c.by else ""
            tds.append(
                f'<td class="qa-status qa-status-{esc(c.status)}" title="{title}"{attrs}>'
                f"{esc(c.status)}{by}</td>"
            )
        rows.append(f'<tr><th scope="row">{esc(a.name)}</th>{"".join(tds)}</tr>')
    return (
        f'<table class="qa-tracker"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
