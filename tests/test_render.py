"""qa.render: the one Markdown escaper, source lines and snippets that answers, CLI and app share."""

from __future__ import annotations

from qa import ui
from qa.render import (
    answer_body,
    answer_markdown,
    declined_markdown,
    md_escape,
    md_unescape,
    snippet,
    source_label,
    source_line,
)
from qa.types import Passage


def _passage(**kw) -> Passage:
    base = dict(passage_id="p", text="Text.", doc_id="d.txt", title="A [title]", source="VOV (VOV.VN)",
                date="2024-10-10", paragraph=3, paragraph_end=3, start=0, end=5)  # fmt: skip
    return Passage(**{**base, **kw})


def test_one_escaper_escapes_the_union_of_both_old_sets():
    assert md_escape(r"\`*_{}[]()#+!|<>~$&") == r"\\\`\*\_\{\}\[\]\(\)\#\+\!\|\<\>\~\$\&"
    assert md_escape("plain, text. 'quoted' - ok") == "plain, text. 'quoted' - ok"
    assert ui.md_escape is md_escape and ui.md_unescape is md_unescape
    raw = "[1](x) **b** <i> $x$ & ~s~"
    assert md_unescape(md_escape(raw)) == raw


def test_source_lines_and_outlet_unknown():
    p = _passage()
    assert source_line(2, p) == r"[2] A \[title\] — VOV \(VOV.VN\), 2024-10-10, paragraph 3"
    assert source_label(p) == "A [title] — VOV (VOV.VN), 2024-10-10, paragraph 3"
    q = _passage(source="", date="", paragraph_end=4)
    assert source_label(q) == "A [title] — outlet unknown, date unknown, paragraphs 3-4"


def test_snippet_cuts_at_a_word():
    assert snippet("one  two\nthree", 160) == "one two three"
    assert snippet("alpha beta gamma", 12) == "alpha beta…"


def test_answer_and_declined_markdown():
    p = _passage()
    text = answer_markdown(["First *one*.", "Second."], [(1,), (1, 2)], [p, p], "_note_")
    assert text == (
        "First \\*one\\*. [1] Second. [1][2]\n\n_note_\n\n**Sources**\n"
        "[1] A \\[title\\] — VOV \\(VOV.VN\\), 2024-10-10, paragraph 3  \n"
        "[2] A \\[title\\] — VOV \\(VOV.VN\\), 2024-10-10, paragraph 3"
    )
    assert answer_body(text) == "First \\*one\\*. [1] Second. [1][2]\n\n_note_"
    assert declined_markdown("No.", [p]) == (
        "No.\n\n**Related passages** (they do not answer it):\n"
        "- A \\[title\\] — VOV \\(VOV.VN\\), 2024-10-10, paragraph 3: “Text.”"
    )
    assert declined_markdown("No.", []) == "No."
