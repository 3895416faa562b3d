"""Rendering answers and sources as text: the one place the CLI, the app and the answers share.

Markdown escaping, the source line ``title — outlet, date, paragraph``, the "outlet unknown"
fallback and snippets all live here, once. A leaf module above ``qa.types``.
"""

from __future__ import annotations

import re
import sys
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
) -> str:
    """An answer as Markdown: quoted sentences with their ``[n]``, a note, then the Sources."""
    quotes = [bounded_quote(s) for s in sentences]
    lines = [
        " ".join(
            f"{md_escape(q)} " + "".join(f"[{n}]" for n in nums)
            for q, nums in zip(quotes, supports)
        )
    ]
    if any(q != s for q, s in zip(quotes, sentences)):
        lines += ["", SHORTENED_NOTE]
    if note:
        lines += ["", note]
    lines += ["", SOURCES_HEADING]
    lines.extend(f"{source_line(n, p)}  " for n, p in enumerate(citations, 1))
    return "\n".join(lines).rstrip()


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
