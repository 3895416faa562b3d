"""Rendering answers and sources as text: the one place the CLI, the app and the answers share.

Markdown escaping, the source line ``title — outlet, date, paragraph``, the "outlet unknown"
fallback and snippets all live here, once. A leaf module above ``qa.types``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from qa.types import Passage

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
    lines: list[str] = []
    if items:
        lines += [f"- {md_escape(t)} [{n}]" for t, n in items] + [""]
    elif short:
        lines += [f"**{md_escape(short[0])}** [{short[1]}]", ""]
    lines.append(
        " ".join(
            f"{md_escape(s)} " + "".join(f"[{n}]" for n in nums)
            for s, nums in zip(sentences, supports)
        )
    )
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
