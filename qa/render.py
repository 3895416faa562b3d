"""Rendering answers and sources as text: the one place the CLI, the app and the answers share.

Markdown escaping, the source line ``title — outlet, date, paragraph``, the "outlet unknown"
fallback and snippets all live here, once. A leaf module above ``qa.types``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from qa.types import Passage, date_label

if TYPE_CHECKING:  # the structure's types, for hints only: this module stays a leaf
    from qa.structure import Agreement, Entity, Event

# Every character that can start Markdown, HTML or LaTeX in the chat: brackets (links and
# citations), emphasis, code, headings, tables, HTML, strikethrough, and the rest the app
# escaped ( ( ) + ! $ & ). The answers once escaped only a subset and the app the whole set;
# one set now, their union, so nothing that was escaped before stops being escaped.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~$&])")
_MD_UNESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+!|<>~$&])")

OUTLET_UNKNOWN = "outlet unknown"
SOURCES_HEADING = "**Sources**"
RELATED_HEADING = "**Related passages** (they do not answer it):"
SNIPPET_CHARS = 160  # a related passage's preview in a declined answer: about two lines
RELATED_SHOWN = 3  # related passages listed under a declined answer
# A quoted sentence is cut beyond this (with "…" and SHORTENED_NOTE). The longest sentence of
# the seed articles is about 400 characters; a quote is meant to be read in the chat at once.
MAX_QUOTE_CHARS = 500
SHORTENED_NOTE = "(A long quoted sentence is shortened here; open its passage for the full text.)"


# Characters a terminal acts on instead of showing: C0/C1 controls (ESC starts ``ESC[2J`` and
# ``ESC]0;title BEL``; 0x9b is a one-byte CSI), DEL, the line/paragraph separators and the
# bidirectional overrides that reorder what is shown. Each prints as a visible ``\uXXXX``.
_TERMINAL_UNSAFE = [
    *(c for c in range(0x20) if chr(c) not in "\n\t"),
    *range(0x7F, 0xA0),
    0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A),
]  # fmt: skip
_TERMINAL_TABLE = {c: f"\\u{c:04x}" for c in _TERMINAL_UNSAFE}
_ONE_LINE_TABLE = {**_TERMINAL_TABLE, ord("\n"): "\\n"}


def terminal_safe(text: str, *, one_line: bool = False) -> str:
    """``text`` with every character a terminal would act on written as ``\\uXXXX``.

    Document text and file names reach the CLI's output; raw escape sequences could clear the
    screen or retitle the window. With ``one_line`` newlines are escaped too (a file name
    with a newline, or an error message, stays on its line). JSON text stays valid JSON.
    """
    return text.translate(_ONE_LINE_TABLE if one_line else _TERMINAL_TABLE)


def echo(text: str = "", *, err: bool = False, one_line: bool = False) -> None:
    """Print ``text`` through :func:`terminal_safe` (to stderr with ``err``): the CLI's one
    print path."""
    print(terminal_safe(text, one_line=one_line), file=sys.stderr if err else sys.stdout)


def md_escape(text: str) -> str:
    """``text`` as literal Markdown: no links, emphasis, HTML or LaTeX can come out of it."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_unescape(text: str) -> str:
    """Undo :func:`md_escape` to recover what was typed."""
    return _MD_UNESCAPE.sub(r"\1", text)


def outlet(source: str) -> str:
    """The outlet's name, or ``outlet unknown``."""
    return source or OUTLET_UNKNOWN


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters plus "…"."""
    flat = " ".join(text.split())
    return flat[:limit].rsplit(" ", 1)[0] + "…" if len(flat) > limit else flat


def source_label(p: Passage, escape: Callable[[str], str] = str) -> str:
    """``title — outlet, date (inferred), paragraph p``; ``escape`` is applied to the free text."""
    return f"{escape(p.title)} — {escape(outlet(p.source))}, {p.date_label}, {p.paragraph_label}"


def source_line(n: int, p: Passage) -> str:
    """``[n] title — outlet, date (inferred), paragraph p`` for the Sources list (Markdown)."""
    return f"[{n}] {source_label(p, md_escape)}"


def bounded_quote(sentence: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """``sentence`` if it has at most ``limit`` characters, else cut at the last clause mark
    (, ; : or a dash) in the second half of the allowance, or else at the last space, with "…".
    """
    if len(sentence) <= limit:
        return sentence
    window = sentence[:limit]
    at = max(window.rfind(mark) for mark in (", ", "; ", ": ", " – ", " — "))
    if at < limit // 2:
        at = window.rfind(" ")
    return (window[:at] if at > 0 else window).rstrip(" ,;:–—") + " …"


def answer_markdown(
    sentences: Sequence[str],
    supports: Sequence[Sequence[int]],
    citations: Sequence[Passage],
    note: str = "",
    *,
    short: tuple[str, int] | None = None,
    items: Sequence[tuple[str, int]] = (),
) -> str:
    """An answer as Markdown: the short answer in bold or the list's items (each with its
    ``[n]``), then the quoted sentences as evidence with their ``[n]``, a note, the Sources."""
    quotes = [bounded_quote(s) for s in sentences]
    lines: list[str] = []
    if items:
        lines += [f"- {md_escape(t)} [{n}]" for t, n in items] + [""]
    elif short:
        lines += [f"**{md_escape(short[0])}** [{short[1]}]", ""]
    lines.append(
        " ".join(
            f"{md_escape(q)} " + "".join(f"[{n}]" for n in nums)
            for q, nums in zip(quotes, supports)
        )
    )
    if any(q != s for q, s in zip(quotes, sentences)):
        lines += ["", SHORTENED_NOTE]
    if note:
        lines += ["", note]
    lines += ["", SOURCES_HEADING]
    lines.extend(f"{source_line(n, p)}  " for n, p in enumerate(citations, 1))
    return "\n".join(lines).rstrip()


def closest_markdown(note: str, sentence: str, passage: Passage) -> str:
    """A "closest match" as Markdown: what no article says, the nearest sentence quoted as
    ``[1]``, and its source."""
    escaped = re.sub(r"\\\[(\d+)\\\]", r"[\1]", md_escape(note))  # keep the citation a link
    return "\n".join(
        [escaped, "", f"“{md_escape(sentence)}” [1]", "", SOURCES_HEADING,
         f"{source_line(1, passage)}  "]
    )  # fmt: skip


def declined_markdown(decline_text: str, passages: Sequence[Passage]) -> str:
    """A declined answer as Markdown: the refusal, then the closest passages with snippets."""
    lines = [decline_text]
    if passages:
        lines += ["", RELATED_HEADING]
        for p in passages[:RELATED_SHOWN]:
            lines.append(f"- {source_label(p, md_escape)}: “{md_escape(snippet(p.text))}”")
    return "\n".join(lines)


def answer_body(text: str) -> str:
    """An answer's Markdown without its Sources list (for one-line previews of stored rows)."""
    return text.split("\n\n" + SOURCES_HEADING, 1)[0]


def numbered_citations(
    groups: Sequence[Sequence[Passage]],
) -> tuple[list[Passage], list[tuple[int, ...]]]:
    """Number the passages of each group once, in first-seen order: ``(citations, numbers)``.

    ``numbers[i]`` are group ``i``'s ``[n]`` (1-based), so a sentence cited by two rows is one
    source, as in a sentence answer.
    """
    citations: list[Passage] = []
    seen: dict[tuple[str, int, int], int] = {}
    numbers: list[tuple[int, ...]] = []
    for group in groups:
        nums = []
        for p in group:
            key = (p.doc_id, p.start, p.end)
            if key not in seen:
                citations.append(p)
                seen[key] = len(citations)
            nums.append(seen[key])
        numbers.append(tuple(nums))
    return citations, numbers


def structured_markdown(
    heading: str,
    rows: Sequence[tuple[str, str, Sequence[Passage]]],
    citations: Sequence[Passage],
    numbers: Sequence[Sequence[int]],
) -> str:
    """A structured answer as Markdown: the heading, one dated bullet per row with its quoted
    evidence and ``[n]``, then the Sources list (the same shape as a sentence answer's).

    ``rows`` are ``(date label, text, cited passages)``; ``numbers`` from
    :func:`numbered_citations`.
    """
    lines = [f"**{md_escape(heading)}**", ""]
    for (label, text, cited), nums in zip(rows, numbers):
        quotes = " ".join(f"“{md_escape(p.text)}” [{n}]" for p, n in zip(cited, nums))
        head = f"**{md_escape(label)}**: " if label else ""  # an undated name needs no label
        lines.append(f"- {head}{md_escape(text)}" + (f" — {quotes}" if quotes else ""))
    lines += ["", SOURCES_HEADING]
    lines.extend(f"{source_line(n, p)}  " for n, p in enumerate(citations, 1))
    return "\n".join(lines).rstrip()


# --- the structure as text, for the CLI (``qa timeline``, ``qa entities``, ``qa agreements``) ---

QUOTE_CHARS = 200  # a cited sentence in a CLI listing: one or two terminal lines
# Citations shown per event: the sentences that name the event come first; an event can rest on
# a dozen sentences (13 for the 2024 phone call), which would bury the timeline.
EVENT_CITATIONS_SHOWN = 3


def cite_line(p: Passage, width: int = QUOTE_CHARS) -> str:
    """``“quoted sentence” — outlet, date, paragraph n`` on one line (plain text)."""
    return f"“{snippet(p.text, width)}” — {outlet(p.source)}, {p.date_label}, {p.paragraph_label}"


def event_heading(e: Event) -> str:
    """``2024-04-15  phone call  Hanoi  (name)`` with the end date and ``planned`` when known."""
    when = date_label(e.date, e.date_inferred)
    if e.end_date:
        when += f" to {e.end_date}"
    parts = [
        when,
        e.kind,
        e.name,
        f"at {e.place}" if e.place else "",
        "(planned)" if e.planned else "",
    ]
    return "  ".join(p for p in parts if p)


def events_text(events: Iterable[Event]) -> str:
    """A timeline as plain text: one block per event with participants, agreements, citations."""
    blocks = []
    for e in events:
        lines = [event_heading(e)]
        for p in e.participants:
            extra = ", ".join(x for x in (p.role, p.side) if x)
            lines.append(f"  - {p.name}" + (f" ({extra})" if extra else ""))
        for a in e.agreements:
            by = f", by {a.by}" if a.by else ""
            lines.append(f"  * {a.name}: {a.status}{by}")
        shown = e.citations[:EVENT_CITATIONS_SHOWN]
        lines.extend(f"  [{n}] {cite_line(c)}" for n, c in enumerate(shown, 1))
        if len(e.citations) > len(shown):
            lines.append(f"  (+{len(e.citations) - len(shown)} more citations; --json lists all)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) if blocks else "no events match"


def entities_text(entities: Iterable[Entity]) -> str:
    """People, organisations and places as plain text: name, side, roles, variants, a citation."""
    blocks = []
    for e in entities:
        head = (
            f"{e.name}  [{e.kind}{', ' + e.side if e.side else ''}]  {len(e.mentions)} mention(s)"
        )
        lines = [head]
        for role, when in e.roles:
            lines.append(f"  role: {role}" + (f" ({when})" if when else ""))
        others = [v for v in e.variants if v != e.name]
        if others:
            lines.append(f"  also: {'; '.join(others)}")
        if e.mentions:
            lines.append(f"  [1] {cite_line(e.mentions[0])}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) if blocks else "no entities match"


def agreements_text(agreements: Iterable[Agreement], events: Iterable[Event]) -> str:
    """Agreements as plain text: each event it came up at, what happened there, and the citation."""
    by_id = {e.id: e for e in events}
    blocks = []
    for a in agreements:
        lines = [f"{a.name}  [{a.kind}]" + (f"  signed {a.signed}" if a.signed else "")]
        for x in sorted(
            a.events, key=lambda x: by_id[x.event_id].date if x.event_id in by_id else ""
        ):
            ev = by_id.get(x.event_id)
            where = f"{date_label(ev.date, ev.date_inferred)} {ev.kind}" if ev else x.event_id
            by = f" (by {x.by})" if x.by else ""
            lines.append(f"  - {where}: {x.status}{by}")
            lines.extend(f"      {cite_line(c)}" for c in x.citations[:1])
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) if blocks else "no agreements found"


def structure_json(items: Iterable[Any]) -> list[dict[str, Any]]:
    """Events, entities or agreements as JSON-ready dicts; citations are passage dicts."""
    return [asdict(x) for x in items]
