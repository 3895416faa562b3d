"""Text utilities with no dependencies: sentence splitting and capitalised-name spotting.

A leaf module: the types, chunking, answering and the index all use it, and it imports nothing
from ``qa``.
"""

from __future__ import annotations

import re

# Abbreviations whose period does not end a sentence (folded to lower case, without the dot).
_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "sen", "gen", "lt", "lieut", "col", "maj", "capt", "cpt",
    "sgt", "adm", "gov", "rep", "st", "no", "vs", "etc", "inc", "ltd", "co", "corp", "jr", "sr",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "fig",
    "e.g", "i.e", "u.s", "u.k", "approx", "dept", "est", "govt", "min", "hon", "rev", "brig",
}  # fmt: skip
# A sentence longer than this is cut into pieces (``_bounded``). The longest sentence of the
# seed articles is about 400 characters; a passage window is 600 (``ChunkSettings``), so a
# piece still fits in one passage with room for its neighbours.
MAX_SENTENCE_CHARS = 1000
_CLAUSE_MARKS = (", ", "; ", ": ", " – ", " — ")
_SHORT_TAIL = 50
# A sentence ends at . ! ? (or …), optionally followed by closing quotes/brackets, then space.
# It starts only at the first mark of a run, so "....." is scanned once, not once per dot.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]]*(?=\s)")


def split_sentences(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, sentence)`` triples covering ``text``; offsets are into ``text``.

    Splits after terminal punctuation followed by white space and an upper-case letter, digit
    or opening quote, except after known abbreviations and single initials ("Sen. Lt. Gen.").
    """
    out: list[tuple[int, int, str]] = []
    start = 0
    n = len(text)
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        nxt = end
        while nxt < n and text[nxt].isspace():
            nxt += 1
        if nxt >= n:
            break
        follower = text[nxt]
        if not (follower.isupper() or follower.isdigit() or follower in "\"'“‘(["):
            continue
        if text[m.start()] == ".":
            word = re.search(r"([\w.]{1,40})$", text[max(start, m.start() - 40) : m.start()])
            w = word.group(1).casefold() if word else ""
            if w in _ABBREV or (len(w) == 1 and w.isalpha()):
                continue
        out.extend(_bounded(start, text[start:end]))
        start = nxt
    tail = text[start:].rstrip()
    if tail.strip():
        lead = len(tail) - len(tail.lstrip())
        out.extend(_bounded(start + lead, tail.lstrip()))
    return out


def _bounded(start: int, sentence: str) -> list[tuple[int, int, str]]:
    """``sentence`` (at ``start``) as pieces of about ``MAX_SENTENCE_CHARS`` characters at most.

    A piece ends at the last clause mark (, ; : or a dash) in the allowance, else at the last
    space, else after exactly the allowance. One 19.5 MB line with no full stop was one
    "sentence": every passage, quote and ``qa ask --json`` printed all of it.
    """
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return [(start, start + len(sentence), sentence)]
    out: list[tuple[int, int, str]] = []
    pos, n = 0, len(sentence)
    while pos < n:
        if n - pos <= MAX_SENTENCE_CHARS + _SHORT_TAIL:  # no stub piece of a few characters
            cut = n
        else:
            window = sentence[pos : pos + MAX_SENTENCE_CHARS]
            at = max(window.rfind(mark) for mark in _CLAUSE_MARKS)
            if at < MAX_SENTENCE_CHARS // 2:
                at = window.rfind(" ")
            cut = pos + (at + 1 if at > 0 else MAX_SENTENCE_CHARS)
        piece = sentence[pos:cut].rstrip()
        lead = len(piece) - len(piece.lstrip())
        if piece.strip():
            out.append((start + pos + lead, start + pos + len(piece), piece.lstrip()))
        pos = cut
        while pos < n and sentence[pos].isspace():
            pos += 1
    return out


_ENTITY = re.compile(
    r"(?:[A-ZĐ][\w’'.-]*|UK|MoU|NCA)(?:\s+(?:of\s+(?:the\s+)?|for\s+|de\s+)?[A-ZĐ][\w’'.-]*)*"
)
_GENERIC_ENTITIES = {
    "what", "which", "who", "when", "where", "why", "how", "did", "does", "do", "is", "are",
    "was", "were", "the", "a", "and", "in", "on", "i", "tell", "give", "list", "name", "and what",
}  # fmt: skip


def entities(text: str) -> list[str]:
    """Capitalised names in ``text`` ("Le Quoc Hung", "Simon Ridley", "Home Office")."""
    out: list[str] = []
    for m in _ENTITY.finditer(text):
        ent = m.group(0).strip(" .,'’")
        toks = ent.split()
        while toks and toks[0].casefold() in _GENERIC_ENTITIES:
            toks = toks[1:]
        ent = " ".join(toks)
        if ent and ent.casefold() not in _GENERIC_ENTITIES and len(ent) > 1:
            out.append(ent)
    return out
