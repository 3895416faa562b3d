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
# A sentence ends at . ! ? (or …), optionally followed by closing quotes/brackets, then space.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+)")


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
            word = re.search(r"([\w.]+)$", text[start : m.start()])
            w = word.group(1).casefold() if word else ""
            if w in _ABBREV or (len(w) == 1 and w.isalpha()):
                continue
        out.append((start, end, text[start:end]))
        start = nxt
    tail = text[start:].rstrip()
    if tail.strip():
        lead = len(tail) - len(tail.lstrip())
        out.append((start + lead, start + len(tail), tail.lstrip()))
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
