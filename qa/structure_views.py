"""What the app shows of the structure, as plain functions (no gradio): the timeline of events
(with a small plot of them), the people and organisations, and the agreements tracker.

Every piece of document text goes through :func:`qa.ui.esc`, so a name or sentence holding
markup is shown as text. Each cited sentence has an "open" button carrying ``data-cite`` (the
citation's id), ``data-doc`` and ``data-para``; the page script (``static/structure.js``) sends
the id to Python, which opens the article at that paragraph (:func:`open_citation_html`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from qa.render import outlet
from qa.structure import Agreement, Citation, Entity, Event, Structure
from qa.types import Passage, date_label
from qa.ui import date_html, document_html, esc, notice_html

SIDES = {"VN": "Vietnam", "UK": "United Kingdom"}
# What happened to an agreement at an event, in the order the tracker's legend lists them.
STATUSES = ("signed", "agreed", "proposed", "reaffirmed", "implemented", "discussed")
KIND_LABELS = {"person": "People", "org": "Organisations"}


def side_label(side: str) -> str:
    """``Vietnam`` for ``VN``, ``United Kingdom`` for ``UK``, else the side as given."""
    return SIDES.get(side, side)


def _side_html(side: str) -> str:
    if not side:
        return ""
    return f'<span class="qa-side qa-side-{esc(side)}">{esc(side_label(side))}</span>'


def _status_html(status: str) -> str:
    return f'<span class="qa-status qa-status-{esc(status)}">{esc(status)}</span>'


def open_button(p: Passage, label: str = "") -> str:
    """A button that opens the article of ``p`` at its paragraph (handled by structure.js)."""
    text = label or f"Open ¶{p.paragraph}"
    return (
        f'<button type="button" class="qa-open" data-cite="{esc(p.passage_id)}" '
        f'data-doc="{esc(p.doc_id)}" data-para="{p.paragraph}" '
        f'aria-label="Open {esc(outlet(p.source))} article at paragraph {p.paragraph}">'
        f"{esc(text)}</button>"
    )


def cite_html(p: Passage) -> str:
    """One cited sentence: the quote (as text), outlet, date, paragraph and its open button."""
    return (
        f'<li class="qa-ev-cite"><q class="qa-quote">{esc(p.text)}</q> '
        f'<span class="qa-meta">{esc(outlet(p.source))} · {date_html(p.date, p.date_inferred)}'
        f" · {esc(p.paragraph_label)} {open_button(p)}</span></li>"
    )


def event_summary(e: Event) -> str:
    """One line for an event: ``Phone call — To Lam and James Cleverly, Hanoi`` (plain text)."""
    who = " and ".join(p.name for p in e.participants[:3])
    if len(e.participants) > 3:
        who += f" and {len(e.participants) - 3} more"
    parts = [e.kind.capitalize() + (f" — {e.name}" if e.name else "")]
    tail = ", ".join(x for x in (who, e.place) if x)
    return " — ".join(parts + ([tail] if tail else [])) + (" (planned)" if e.planned else "")


def event_title(e: Event) -> str:
    """The event's name, else who took part (the kind is shown beside it): plain text."""
    who = " and ".join(p.name for p in e.participants[:3])
    if len(e.participants) > 3:
        who += f" and {len(e.participants) - 3} more"
    title = e.name or who or e.kind.capitalize()
    return title + (" (planned)" if e.planned else "")


def event_date_html(e: Event) -> str:
    """The event's date (``to`` its end date), marked ``(inferred)`` where it is inferred."""
    when = date_html(e.date, e.date_inferred)
    if e.end_date:
        when += f' <span class="qa-date-end">to {esc(e.end_date)}</span>'
    return when


def _participants_html(e: Event) -> str:
    if not e.participants:
        return '<p class="qa-ev-none">No participants are named.</p>'
    rows = "".join(
        f"<tr><td>{esc(p.name)}</td><td>{esc(p.role)}</td><td>{_side_html(p.side)}</td></tr>"
        for p in e.participants
    )
    return (
        '<div class="qa-scroll"><table class="qa-ev-people"><thead><tr>'
        '<th scope="col">Name</th><th scope="col">Role</th><th scope="col">Side</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _deals_html(e: Event) -> str:
    if not e.agreements:
        return '<p class="qa-ev-none">No agreement is recorded for this event.</p>'
    items = "".join(
        f"<li>{_status_html(a.status)} {esc(a.name)}"
        + (f' <span class="qa-by">(by {esc(a.by)})</span>' if a.by else "")
        + "</li>"
        for a in e.agreements
    )
    return f'<ul class="qa-ev-agreements">{items}</ul>'


def event_html(e: Event) -> str:
    """One event of the timeline: a ``<details>`` whose summary is its date, kind and who, and
    which opens to its participants, what was agreed or proposed, and the cited sentences."""
    docs = len({c.doc_id for c in e.citations})
    n, k = len(e.participants), len(e.agreements)
    facts = ([f"in {e.place}"] if e.place else []) + [
        f"{n} participant{'s' if n != 1 else ''}",
        f"{k} agreement{'s' if k != 1 else ''}",
        f"{docs} article{'s' if docs != 1 else ''}",
    ]
    cites = "".join(cite_html(c) for c in e.citations)
    return (
        f'<li class="qa-ev" id="qa-ev-{esc(e.id)}" data-event="{esc(e.id)}"><details><summary>'
        f'<span class="qa-tl-date">{event_date_html(e)}</span> '
        f'<span class="qa-kind">{esc(e.kind)}</span> '
        f'<span class="qa-ev-title">{esc(event_title(e))}</span>'
        f'<span class="qa-ev-sub">{esc(" · ".join(facts))}</span>'
        f'</summary><div class="qa-ev-body">'
        f'<p class="qa-ev-h">Participants</p>{_participants_html(e)}'
        f'<p class="qa-ev-h">Agreed or proposed</p>{_deals_html(e)}'
        f'<p class="qa-ev-h">Cited sentences</p><ol class="qa-ev-cites">{cites}</ol>'
        "</div></details></li>"
    )


def events_html(events: Sequence[Event]) -> str:
    """The events as a timeline, in the order given (:func:`qa.timeline` orders by date)."""
    if not events:
        return notice_html("No events were found in these articles.")
    return f'<ol class="qa-ev-timeline">{"".join(event_html(e) for e in events)}</ol>'


# --- people and organisations -----------------------------------------------------------------


def dated_roles(e: Entity) -> list[tuple[str, list[str]]]:
    """``[(role, [dates…])]``: each role once, in first-seen order, with its sorted dates."""
    out: dict[str, set[str]] = {}
    for role, when in e.roles:
        out.setdefault(role, set())
        if when:
            out[role].add(when)
    return [(r, sorted(d)) for r, d in out.items()]


def _roles_text(e: Entity) -> str:
    return "; ".join(f"{r} ({', '.join(d)})" if d else r for r, d in dated_roles(e))


def entity_html(e: Entity) -> str:
    """One person or organisation: a ``<details>`` whose summary is the name, side, roles and
    mentions count, and which opens to the other spellings and every mention, cited."""
    others = [v for v in e.variants if v != e.name]
    n = len(e.mentions)
    roles = _roles_text(e)
    body = (
        (f'<p class="qa-ent-line"><span class="qa-ev-h">Also written</span> '
         f"{esc('; '.join(others))}</p>" if others else "")
        + (f'<p class="qa-ent-line"><span class="qa-ev-h">Roles</span> {esc(roles)}</p>'
           if roles else "")
        + '<p class="qa-ev-h">Mentions</p><ol class="qa-ev-cites">'
        + "".join(cite_html(c) for c in e.mentions)
        + "</ol>"
    )  # fmt: skip
    return (
        f'<li class="qa-ent" data-entity="{esc(e.id)}"><details><summary>'
        f'<span class="qa-ent-name">{esc(e.name)}</span> {_side_html(e.side)} '
        f'<span class="qa-ent-count">{n} mention{"s" if n != 1 else ""}</span>'
        + (f'<span class="qa-ent-roles">{esc(roles)}</span>' if roles else "")
        + f'</summary><div class="qa-ev-body">{body}</div></details></li>'
    )


def entities_html(entities: Iterable[Entity]) -> str:
    """People, then organisations (places are left out), each group most-mentioned first."""
    groups: dict[str, list[Entity]] = {k: [] for k in KIND_LABELS}
    for e in entities:
        if e.kind in groups:
            groups[e.kind].append(e)
    parts = []
    for kind, label in KIND_LABELS.items():
        items = sorted(groups[kind], key=lambda e: (-len(e.mentions), e.name.casefold()))
        if items:
            parts.append(
                f'<section class="qa-ent-group" aria-label="{esc(label)}">'
                f'<p class="qa-group-h">{esc(label)} ({len(items)})</p>'
                f'<ul class="qa-ents">{"".join(entity_html(e) for e in items)}</ul></section>'
            )
    if not parts:
        return notice_html("No people or organisations were found.")
    intro = (
        '<p class="qa-legend">People and organisations named in the articles, most mentioned '
        "first: the side they are on, their roles with dates, and the spellings the articles "
        "use. Open one to read every mention.</p>"
    )
    return f'<div class="qa-people">{intro}{"".join(parts)}</div>'


# --- the agreements tracker --------------------------------------------------------------------


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


def _column_head(e: Event) -> str:
    where = f"<br><span class='qa-th-sub'>{esc(e.place)}</span>" if e.place else ""
    return (
        f'<th scope="col"><span class="qa-th-date">{esc(date_label(e.date, e.date_inferred))}'
        f"</span><br>{esc(e.kind)}{where}</th>"
    )


def _cell_html(c: TrackerCell, a: Agreement, e: Event) -> str:
    if not c.status:
        return '<td class="qa-cell-empty"><span class="qa-sr">not mentioned</span></td>'
    by = f'<span class="qa-by">by {esc(c.by)}</span>' if c.by else ""
    if c.citation is None:
        return f'<td class="qa-cell">{_status_html(c.status)}{by}</td>'
    p = c.citation
    label = (
        f"{c.status}: {a.name}, {e.kind} {date_label(e.date, e.date_inferred)}. "
        f"Open {outlet(p.source)} at paragraph {p.paragraph}"
    )
    return (
        f'<td class="qa-cell"><button type="button" class="qa-open qa-cell-btn '
        f'qa-status-{esc(c.status)}" data-cite="{esc(p.passage_id)}" data-doc="{esc(p.doc_id)}" '
        f'data-para="{p.paragraph}" title="{esc(p.text)}" aria-label="{esc(label)}">'
        f"{esc(c.status)}</button>{by}</td>"
    )


def tracker_html(t: Tracker) -> str:
    """The tracker as a table that scrolls sideways in its own box; each filled cell is a
    button opening the sentence that says what happened (its text is the button's title)."""
    if not t.agreements:
        return notice_html("No agreements were found in these articles.")
    head = '<th scope="col" class="qa-th-agreement">Agreement</th>' + "".join(
        _column_head(e) for e in t.events
    )
    rows = []
    for a, cells in zip(t.agreements, t.cells):
        signed = f'<span class="qa-th-sub">signed {esc(a.signed)}</span>' if a.signed else ""
        tds = "".join(_cell_html(c, a, e) for c, e in zip(cells, t.events))
        rows.append(
            f'<tr><th scope="row"><span class="qa-ag-name">{esc(a.name)}</span>'
            f'<span class="qa-th-sub">{esc(a.kind)}</span>{signed}</th>{tds}</tr>'
        )
    legend = " ".join(_status_html(s) for s in STATUSES)
    return (
        f'<p class="qa-legend">Each cell says what happened to the agreement at that event; '
        f"click one to read the sentence in its article. {legend}</p>"
        '<div class="qa-scroll" tabindex="0" role="region" aria-label="Agreements tracker">'
        f'<table class="qa-tracker"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


# --- the plot -----------------------------------------------------------------------------------

PLOT_ROW = 30  # px per kind of event
PLOT_LEFT = 150  # room for the kind labels ("working session (1)" at 13 px)
PLOT_WIDTH = 760  # viewBox width; the SVG scales to its box (min-width in structure.css)


def _month_number(iso: str) -> float:
    """Months since year 0 (mid-month when the day is unknown), for the plot's x axis."""
    y, m, d = (iso.split("-") + ["", ""])[:3]
    month = int(m) if m else 7
    day = int(d) if d else 15
    return int(y) * 12 + (month - 1) + (day - 1) / 31


def events_plot_html(events: Sequence[Event]) -> str:
    """Dated events as dots on a time axis, one row per kind (most frequent first). Each dot
    is a button (``data-goto``) that opens its event in the timeline; undated ones are
    counted under the plot."""
    dated = [e for e in events if e.date]
    if not dated:
        return ""
    kinds = [k for k, _ in Counter(e.kind for e in dated).most_common()]
    counts = Counter(e.kind for e in dated)
    first = int(min(e.date[:4] for e in dated))
    last = int(max(e.date[:4] for e in dated)) + 1
    lo, hi = first * 12, last * 12
    span = PLOT_WIDTH - PLOT_LEFT - 16

    def x(iso: str) -> float:
        return PLOT_LEFT + (_month_number(iso) - lo) / (hi - lo) * span

    height = PLOT_ROW * len(kinds) + 34
    parts = []
    for year in range(first, last + 1):
        gx = PLOT_LEFT + (year * 12 - lo) / (hi - lo) * span
        parts.append(
            f'<line class="qa-plot-grid" x1="{gx:.1f}" x2="{gx:.1f}" y1="4" y2="{height - 26}"/>'
        )
        if year < last:
            parts.append(
                f'<text class="qa-plot-year" x="{gx + span / (last - first) / 2:.1f}" '
                f'y="{height - 10}" text-anchor="middle">{year}</text>'
            )
    for row, kind in enumerate(kinds):
        y = 4 + PLOT_ROW * row + PLOT_ROW / 2
        parts.append(
            f'<text class="qa-plot-kind" x="{PLOT_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{esc(kind)} ({counts[kind]})</text>"
        )
        parts.append(
            f'<line class="qa-plot-row" x1="{PLOT_LEFT}" x2="{PLOT_WIDTH - 16}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        for e in (e for e in dated if e.kind == kind):
            label = f"{date_label(e.date, e.date_inferred)}: {event_summary(e)}"
            parts.append(
                f'<circle class="qa-plot-dot{" qa-plot-inferred" if e.date_inferred else ""}" '
                f'cx="{x(e.date):.1f}" cy="{y:.1f}" r="6" data-goto="{esc(e.id)}" tabindex="0" '
                f'role="button" aria-label="{esc(label)}"><title>{esc(label)}</title></circle>'
            )
    undated = len(events) - len(dated)
    note = (
        f'<p class="qa-plot-note">{undated} undated event{"s are" if undated > 1 else " is"} '
        "listed at the end of the timeline.</p>"
        if undated
        else ""
    )
    return (
        '<figure class="qa-plot"><figcaption>Events by date and kind (hollow dots: year '
        "inferred). Select a dot to open its event below.</figcaption>"
        '<div class="qa-scroll" tabindex="0" role="region" aria-label="Plot of events by date">'
        f'<svg viewBox="0 0 {PLOT_WIDTH} {height}" role="group" '
        f'aria-label="Events by date and kind">{"".join(parts)}</svg></div>{note}</figure>'
    )


# --- all views at once, and opening a citation ----------------------------------------------------


@dataclass(frozen=True)
class StructureViews:
    """The Documents tab's structure views, and every citation they link to by id."""

    events: str
    plot: str
    people: str
    tracker: str
    citations: Mapping[str, Citation]

    @property
    def tab_html(self) -> tuple[str, str, str]:
        """The Documents tab's three views in order: events (plot first), people, agreements."""
        return self.plot + self.events, self.people, self.tracker


def citations_of(s: Structure) -> dict[str, Citation]:
    """Every citation of the structure by its id (what the views' buttons send)."""
    out: dict[str, Citation] = {}
    for e in s.events:
        out.update((c.passage_id, c) for c in e.citations)
    for n in s.entities:
        out.update((c.passage_id, c) for c in n.mentions)
    for a in s.agreements:
        out.update((c.passage_id, c) for c in a.citations)
        for x in a.events:
            out.update((c.passage_id, c) for c in x.citations)
    return out


def structure_views(index: object | None, error: str = "") -> StructureViews:
    """The views of ``index`` (an :class:`qa.index.Index`), or notices saying why there are none."""
    if index is None:
        msg = notice_html(error or "No index is loaded.", "error")
        return StructureViews(msg, "", msg, msg, {})
    events = index.timeline()  # type: ignore[attr-defined]
    return StructureViews(
        events=events_html(events),
        plot=events_plot_html(events),
        people=entities_html(index.entities()),  # type: ignore[attr-defined]
        tracker=tracker_html(tracker(index.agreements(), events)),  # type: ignore[attr-defined]
        citations=citations_of(index.structure),  # type: ignore[attr-defined]
    )


def open_citation_html(index: object | None, citations: Mapping[str, Citation], cite: str) -> str:
    """The article of citation ``cite`` opened at its paragraph, the sentence highlighted; a
    notice when the id is unknown (a stale page) or no index is loaded."""
    c = citations.get(cite or "")
    if index is None or c is None:
        return notice_html("Choose a cited sentence to open its article.")
    doc = index.document(c.doc_id)  # type: ignore[attr-defined]
    return document_html(doc, focus=c.paragraph, sentences=(c.text,))


def open_cited_html(index: object | None, cite: str, error: str = "") -> str:
    """:func:`open_citation_html` with the citations of ``index`` itself (no page state to go
    stale); ``error`` as the notice when no index is loaded yet."""
    if index is None:
        return notice_html(error or "No index is loaded.", "error")
    return open_citation_html(index, citations_of(index.structure), cite)  # type: ignore[attr-defined]
