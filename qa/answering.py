"""Extractive answers: quoted sentences, numbered citations, honest refusals, follow-ups.

No text is generated. The answer is one to three sentences quoted from retrieved passages,
each followed by the citations of the passages that say it. Sentence vectors come from the
index (computed at build time), so answering costs one query encoding plus arithmetic.
"""

from __future__ import annotations

import functools
import math
import os
import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from qa.chunking import passage_sentences
from qa.constraints import (
    NAME_VARIANTS,
    Constraint,
    closest_match_message,
    conflicting_events,
    extract_constraints,
    indirect,
    name_met,
    unmet,
)
from qa.errors import QAError
from qa.lexical import fold, tokenize, words
from qa.lists import (
    enumeration,  # noqa: F401 - re-exported: the list helpers lived here before qa.lists
    is_list_question,
    item_key,
    list_head,
    list_items,
    list_kind,
    listed_side,
    rank_list_sentences,
)
from qa.phrases import (
    KIND_LABELS,
    ShortAnswer,
    answer_kind,
    describe_person,
    lenient_short,
    sentence_entities,
    short_answer,
    who_is_name,
)
from qa.questions import MAX_QUESTION_CHARS, check_question
from qa.render import answer_markdown, closest_markdown, declined_markdown, md_unescape
from qa.roles import SIDE_WORDS, asked_role, asked_side
from qa.text import entities
from qa.types import Answer, Item, Passage, Short

if TYPE_CHECKING:
    from qa.index import Index

_T = TypeVar("_T")

DECLINE_TEXT = "The articles do not answer this question."

# --- question analysis -----------------------------------------------------------------------

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
# A year is any of 1000-2099, with its decade form ("1848", "the 1990s"), as qa.phrases
# types them: with 19xx/20xx only, general text's "in 1848" sentences counted as holding no
# date, marked the question "type_mismatch" and lost the typed lead (SQuAD train excerpt:
# containment 0.776 -> 0.781, answerable declined 327 -> 303; news sets unchanged).
_DATE_RE = re.compile(
    rf"\b(?:{_MONTHS})\b(?:\s+\d{{1,2}}(?:\s*-\s*\d{{1,2}})?)?(?:,?\s+\d{{4}})?|\b(?:1[0-9]|20)\d{{2}}s?\b"
    r"|\b\d{1,2}/\d{1,2}/\d{4}\b|\b(?:morning|afternoon|evening) of\b",
    re.IGNORECASE,
)
# A count: a cardinal number, looked for once dates are taken out ("September 16-21" and
# "2023" say when, not how many) and not an ordinal ("the third dialogue").
_COUNT_RE = re.compile(
    r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"twenty|thirty|forty|fifty|hundred|dozens?|hundreds?|thousands?|millions?|several)\b",
    re.IGNORECASE,
)
# An amount of money: a currency sign or word next to the number.
_AMOUNT_RE = re.compile(
    r"[£$€]\s?\d|\b\d[\d,.]{0,30}\s*(?:(?:million|billion|m|bn)\s*)?(?:pounds?|dollars?|euros?|USD|"
    r"GBP|VND|dong)\b|\b(?:USD|GBP|VND)\s?\d",
    re.IGNORECASE,
)
# Kinds whose answer must hold a specific value (a date, a count, an amount of money).
_TYPED_KINDS = ("when", "how_many", "amount")
_PERSON_RE = re.compile(
    r"\b(?:Minister|Secretary|General|Gen\.|Deputy|Director|President|Prime|Chairman|Ambassador|"
    r"Permanent|Lieutenant|Lt\.|Baroness|Officer|Mr|Ms|Mrs|Dr)\b|\b[A-Z][a-z]+\s+[A-Z][a-z]+\b"
)
_PLACE_RE = re.compile(
    r"\b(?:in|at|to|from)\s+(?:the\s+)?[A-Z][\w'’-]+|\b(?:Hanoi|London|Ha Noi|Vietnam|UK|"
    r"United Kingdom|Britain|Europe)\b"
)
_WH = [
    ("amount", re.compile(r"\bhow much (?:money|funding|aid|did|was|were|has|have|will)\b|\bbudget\b|\bhow much\b.*\b(?:cost|fund|pledge|spend|spent|pay|paid|worth)", re.I)),
    ("how_many", re.compile(r"\bhow (?:many|much|often|long)\b|\bnumber of\b|\bwhat number\b", re.I)),
    ("when", re.compile(r"\bwhen\b|\bwhat (?:date|day|year|month|time)\b|\bwhich (?:date|day|year|month)\b|\bdate\b", re.I)),
    ("who", re.compile(r"\bwho(?:m|se)?\b|\bwhich (?:[\w'’-]+\s+){0,2}?(?:minister|ministers|official|officials|person|people|secretary|leader|leaders|officer|ambassador|general)\b|\bwhat is the name\b|\bname of\b", re.I)),
    ("where", re.compile(r"\bwhere\b|\bwhich (?:city|country|place)\b|\bin what (?:city|country|place)\b", re.I)),
]  # fmt: skip
# A pronoun that points at a person ("he", "his", ...): in a follow-up it is resolved to
# the conversation's person, in a sentence to the last person named before it.
_PERSON_PRONOUN = re.compile(r"\b(?:he|she|him|his|her|hers)\b", re.I)
_PRONOUN = re.compile(
    r"\b(?:he|she|him|his|her|hers|they|them|their|it|its|this|that|these|those|there)\b", re.I
)
_QUESTION_WORDS = {
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "does", "do",
    "is", "are", "was", "were", "the", "a", "an", "and", "or", "of", "in", "on", "at", "to",
    "for", "with", "about", "tell", "me", "please", "say", "said", "articles", "article",
}  # fmt: skip


# A clause that opens with a question word (optionally after "and" or a preposition).
_OPENS_WH = re.compile(
    r"^\s*(?:(?:and|but|so|then)\s+)?(?:(?:in|on|at|to|for|from|with|by|of|during|under)\s+)?"
    r"(?:what|which|who|whom|whose|when|where|why|how)\b",
    re.I,
)


def question_type(question: str) -> str:
    """``when``, ``who``, ``where``, ``how_many``, ``amount`` or ``""`` (no expected type).

    The type comes from the question proper: in "When working with the police, what did he
    ask?" or "Besides X, which fields ...?" that is the last clause opening with a question
    word, and within it the earliest cue wins ("Who did he meet when he visited?" is "who").
    """
    main = question
    clauses = question.split(",")
    for clause in reversed(clauses[1:]):
        if _OPENS_WH.match(clause):
            main = clause
            break
    best: tuple[int, str] | None = None
    for kind, pattern in _WH:
        m = pattern.search(main)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), kind)
    return best[1] if best else ""


def _type_match(kind: str, sentence: str) -> float:
    if not kind:
        return 0.5
    pattern = {
        "when": _DATE_RE,
        "how_many": _COUNT_RE,
        "amount": _AMOUNT_RE,
        "who": _PERSON_RE,
        "where": _PLACE_RE,
    }[kind]
    if kind == "how_many":
        sentence = _DATE_RE.sub(" ", sentence)
    return 1.0 if pattern.search(sentence) else 0.0


# --- follow-ups ------------------------------------------------------------------------------


def _is_follow_up(question: str) -> bool:
    q = question.strip()
    if _PRONOUN.search(q):
        return True
    if re.match(r"^(?:and|what about|how about|also|then)\b", q, re.I):
        return True
    return len(words(q)) <= 3


_EVENT_PRONOUN = re.compile(r"^\W*(?:and\s+)?(?:when|where|why|how)\b.*\b(?:that|it|this)\b", re.I)


def _turn_start(history: Sequence[dict], n: int) -> int:
    """The index in ``history`` of the ``n``-th (0-based) user message."""
    seen = -1
    for i, m in enumerate(history):
        if m.get("role") == "user":
            seen += 1
            if seen == n:
                return i
    return len(history)


def _bold(text: str) -> str:
    """The short answer an earlier reply led with (``**James Cleverly** [1]``), or ``""``."""
    m = re.match(r"\s*\*\*(.+?)\*\*", text or "")
    return md_unescape(m.group(1)) if m else ""


def conversation_person(users: Sequence[str], bots: Sequence[str], follow_up: str = "") -> str:
    """The person a conversation is about, for "he"/"she" in a follow-up.

    The subject of its first who-question: "Who is Hoang Xuan Chien?" is about Chien, "Who
    led the delegation?" about the person the answer named. Without a who-question, the
    person named most often in the questions and the answers' lead sentences.
    """
    # The latest who-question that names its own subject: a conversation that moves on to
    # another person ("who is simon ridley", ..., "Who did Le Quoc Hung meet?") is about the
    # new one; a who-question with a pronoun ("who was his guest?") still follows the earlier.
    for i in reversed(range(len(users))):
        u = users[i]
        if question_type(u) != "who" or _PRONOUN.search(u):
            continue
        m = re.match(r"\s*who\s+(?:is|was)\s+(?!the\b|a\b|an\b)([\w'’. -]+?)\s*\??\s*$", u, re.I)
        if m and len(m.group(1).split()) >= 2:
            return m.group(1).strip()
        # "Who did Le Quoc Hung meet?" then "Who did he hold talks with?": the same question
        # again, so "he" is its subject again, not the host the answer named.
        subject = _who_did_subject(u) if _PRONOUN_WHO_DID.match(follow_up) else ""
        if subject:
            return subject
        reply = bots[i] if i < len(bots) and isinstance(bots[i], str) else ""
        answered = _bold(reply)
        if answered and not _is_person(answered):
            answered = ""  # a list's heading ("Who Le Quoc Hung met ..."), not a name
        if not answered:
            # An answer without a short one: the first person its lead sentence adds.
            asked = [fold(e) for e in entities(u)]
            fresh = [
                e for e in entities(reply.split("\n", 1)[0])
                if _is_person(e) and not any(a in fold(e) or fold(e) in a for a in asked)
            ]  # fmt: skip
            answered = fresh[0] if fresh else ""
        if answered:
            return answered
        break
    counts: dict[str, int] = {}
    first: dict[str, str] = {}
    texts = list(users) + [b.split("\n", 1)[0] for b in bots if isinstance(b, str)]
    for t in texts:
        for e in entities(t):
            e = _POSSESSIVE.sub("", e)  # "Rob Jones's job": the person is Rob Jones
            if not _is_person(e):
                continue
            key = fold(e)
            counts[key] = counts.get(key, 0) + 1
            first.setdefault(key, e)
    if not counts:
        return ""
    return first[max(counts, key=lambda k: counts[k])]


_POSSESSIVE = re.compile(r"['’]s?$")
_PRONOUN_WHO_DID = re.compile(
    r"^\s*(?:and\s+)?who(?:m)?\s+(?:did|does|do|has|had|will|would|could|can)\s+(?:he|she)\b",
    re.I,
)
_WHO_DID = re.compile(r"^\s*who(?:m)?\s+(?:did|does|do|has|had|will|would|could|can)\s+(.+)$", re.I)


def _who_did_subject(question: str) -> str:
    """The person a "Who did X meet?" question follows: X, when it reads as a person."""
    m = _WHO_DID.match(question)
    if not m:
        return ""
    names = [e for e in entities(m.group(1)) if _is_person(e)]
    return names[0] if names and m.group(1).startswith(names[0]) else ""


# A capitalised run that reads as a person's name (not "Home Office" or "National Crime Agency").
_PERSON_LIKE = re.compile(
    r"^(?:(?:Mr|Ms|Mrs|Dr|General|Lt|Gen|Minister|Deputy|Secretary)\.?\s+)*[A-ZĐ][a-zà-ỹ]+"
    r"(?:\s+[A-ZĐ][a-zà-ỹ]+){1,3}$"
)
_NOT_PERSON = re.compile(
    r"\b(?:Office|Ministry|Agency|Police|Command|Government|Kingdom|Nations|Embassy|Dialogue|"
    r"Security|Affairs|Department|Union|Force|Crime|Council|Assembly|Conference)\b"
    r"|\b(?:Secretary|Minister|Director|Chairman|President|Ambassador)$"
)


_CONTEXT = re.compile(r"\(([^()]*)\)\s*$")


def _per_index(build: Callable[[Index], _T]) -> Callable[[Index], _T]:
    """``build(index)`` computed once per index (an index never changes; the cached value
    goes when the index does)."""
    cache: weakref.WeakKeyDictionary[Any, _T] = weakref.WeakKeyDictionary()

    @functools.wraps(build)
    def get(index: Index) -> _T:
        if index not in cache:
            cache[index] = build(index)
        return cache[index]

    return get


def _name_key(text: str) -> str:
    """A name folded to its words ("Sen. Lieut. Gen. Lương" -> "sen lieut gen luong")."""
    return " ".join(words(fold(text)))


@_per_index
def _entity_sides(index: Index) -> dict[str, str]:
    """The side of each person and organisation the index's structure knows, by folded name
    and variant."""
    return {
        _name_key(v): e.side
        for kind in ("person", "org")
        for e in index.entities(kind) if e.side
        for v in (e.name, *e.variants)
    }  # fmt: skip


# A one-word variant of a person's name (a surname) shorter than this is too likely an
# ordinary word typed in lower case ("lam", "hue", "hung" in "hung parliament").
MIN_LOWER_SURNAME = 5


@_per_index
def _people(index: Index) -> frozenset[str]:
    """The folded names (two words or more) and surnames of the people the index's
    structure knows."""
    return frozenset(
        key
        for e in index.entities("person")
        if len(e.name.split()) >= 2
        for v in (e.name, *e.variants)
        for key in [_name_key(v)]
        # a one-word variant only as the full name's surname ("cleverly" of "James
        # Cleverly"): extraction's stray one-word "people" ("Media") are no names
        if " " in key or key == fold(e.name.split()[-1])
    )


def _typed_lowercase(
    question: str, people: frozenset[str], found: Sequence[Constraint]
) -> tuple[Constraint, ...]:
    """The corpus's people a question typed all in lower case names ("to lam cleverly call
    which mous"), as name constraints: case gives no names there, the corpus's own names
    still do. A one-word name must be ``MIN_LOWER_SURNAME`` letters long."""
    if question != question.lower():
        return ()  # a question typed with capitals gives its names by case
    out: list[Constraint] = []
    have = {c.value for c in found if c.kind == "name"}
    lowered = _name_key(question)
    for name in sorted(people, key=len, reverse=True):
        if (" " not in name and len(name) < MIN_LOWER_SURNAME) or any(name in h for h in have):
            continue
        m = re.search(rf"\b{re.escape(name)}\b", lowered)
        if m is None:
            continue
        have.add(name)
        out.append(Constraint("name", name, name))
    return tuple(out)


# What a question asks someone to have done, and the words that report it. "What did they
# agree at COP26?" is not answered by a paragraph that says they attended COP26 and reports
# no agreement. Checked in the sentence's own paragraph, which often opens with "the two
# ministers agreed on ... such as:" and gives the items in the sentences after.
PREDICATES: dict[str, tuple[str, ...]] = {
    "agree": (
        "agree", "agreed", "agreeing", "agreement", "pledge", "pledged", "commit", "committed",
        "commitment", "consensus", "concur", "decided", "reaffirm", "reaffirmed", "vowed",
        "promise", "promised", "sign", "signed", "deal", "contract", "accept", "accepted",
    ),
    "discuss": (
        "discuss", "discussed", "discussing", "discussion", "talks", "exchanged views",
        "exchanged", "raised", "addressed", "spoke", "told", "focus", "focused",
    ),
    # when-questions about a change: the date must be the change's, not an event's that
    # mentions its result ("When did they upgrade their ties?" / "a strategic partnership
    # established in 2010"). Not "become" or "launch": on the SQuAD train excerpt their
    # answers are said another way too often ("the market leader by 2004", "released").
    "upgrade": ("upgrad", "elevat", "lift", "rais", "promot"),
    "sign": ("sign",),
}  # fmt: skip
_ASKED_CHANGE = re.compile(
    r"\bwhen\s+(?:did|was|were|has|have|had|will)\s+"
    r"((?:(?!\b(?:who|that|which)\b)[^?\s]+\s+){0,8}?)"
    r"(upgrade[sd]?|signed|sign)\b",
    re.I,
)
_CHANGE_KEY = {
    "upgrade": "upgrade", "upgraded": "upgrade", "upgrades": "upgrade", "signed": "sign",
    "sign": "sign",
}  # fmt: skip
# "What did/have X agree/discuss", the act the main clause asks, not one in a relative clause
# ("What happened to some who refuse to agree ...").
_ASKED_PREDICATE = re.compile(
    r"\b(?:what|which)\b[^?]*?\b(?:did|do|does|have|has|had)\s+"
    r"((?:(?!\b(?:who|that|which)\b)[^?\s]+\s+){1,8}?)(agree|discuss)\b",
    re.I,
)


def asked_predicates(question: str) -> tuple[Constraint, ...]:
    """The act a "what did X agree/discuss ...?" or "when did X upgrade/sign ...?" question
    asks about, as a constraint (see ``PREDICATES``)."""
    m = _ASKED_PREDICATE.search(question)
    if m:
        return (Constraint("event", m.group(2), m.group(2).lower()),)
    m = _ASKED_CHANGE.search(question)
    if m:
        verb = " ".join(m.group(2).lower().split())
        return (Constraint("event", m.group(2), _CHANGE_KEY[verb]),)
    return ()


def _said(predicate: str, text: str) -> bool:
    folded = fold(text)
    return any(re.search(rf"\b{re.escape(w)}", folded) for w in PREDICATES[predicate])


@_per_index
def _org_names(index: Index) -> dict[str, tuple[str, ...]]:
    """Each folded name or variant of the structure's organisations, with all of its names."""
    table: dict[str, tuple[str, ...]] = {}
    for e in index.entities("org"):
        names = tuple(dict.fromkeys(_name_key(v) for v in (e.name, *e.variants)))
        table.update({n: names for n in names if n})
    return table


_ORG_PERSON = (
    r"officials?|officers?|ministers?|chief|secretary|director|head|commissioner|"
    r"civil servants?|counterparts?|figures?|representatives?|spokes\w+|leaders?"
)


def asked_org(question: str, orgs: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The names of the organisation a who-question's person must be of: one of ``orgs``
    right before the asked noun ("which Met police officer", "the NCA's operations chief",
    "Which Home Office official"), else ``()``."""
    folded = _name_key(question)
    for name in sorted(orgs, key=len, reverse=True):
        if re.search(
            rf"\b(?:which|what|the)\s+{re.escape(name)}(?:\s+s)?\s+(?:\w+\s+){{0,2}}?"
            rf"(?:{_ORG_PERSON})\b",
            folded,
        ):
            return orgs[name]
    return ()


def _side_of(sides: dict[str, str], name: str) -> str:
    """The side of what ``name`` names: a known name or variant ("Jenrick", "MPS"), else the
    one side of the known names it contains ("Deputy Minister Le Quoc Hung"), else ``""``."""
    key = _name_key(name)
    if key in sides:
        return sides[key]
    toks = set(key.split())
    found = {side for known, side in sides.items() if known and set(known.split()) <= toks}
    if len(found) == 1:
        return found.pop()
    # a name that opens with its country says its side ("Vietnamese Embassy", "UK Government")
    return SIDE_WORDS.get(key.split()[0], "") if key and not found else ""


def _other_side(sides: dict[str, str], side: str) -> Callable[[str], bool] | None:
    """A test for names of the other side than ``side`` (``None`` when no side is asked)."""
    if not side:
        return None
    return lambda name: _side_of(sides, name) not in ("", side)


def _pronoun_person(question: str, query: str) -> tuple[Constraint, ...]:
    """The person a follow-up's "he"/"she" stands for, as a name the answer must meet: "and
    which official did he meet?" after "what is Rob Jones's job?" is about Rob Jones's
    meeting, not any meeting the articles report."""
    m = _CONTEXT.search(query) if query != question else None
    if m is None or not _PERSON_PRONOUN.search(question):
        return ()
    people = [n.strip() for n in m.group(1).split(";") if _is_person(n.strip())]
    if len(people) != 1:
        return ()
    return (Constraint("name", people[0], _name_key(people[0])),)


def _is_person(name: str) -> bool:
    """Whether a capitalised run reads as a person's name (two or more words, no office)."""
    return (
        len(name.split()) >= 2
        and _PERSON_LIKE.search(name) is not None
        and _NOT_PERSON.search(name) is None
    )


def rewrite_query(
    question: str, history: Sequence[dict] | None, index: Index
) -> tuple[str, set[str]]:
    """Resolve a follow-up against the conversation.

    Returns ``(query, doc_ids)``: the query with the previous turn's names added where the
    question leans on a pronoun or ellipsis, and the documents the previous answer cited.
    """
    if not history:
        return question, set()
    users = [m.get("content", "") for m in history if m.get("role") == "user"]
    bots = [m.get("content", "") for m in history if m.get("role") == "assistant"]
    users = [u for u in users if isinstance(u, str) and u.strip()]
    if not users or not _is_follow_up(question):
        return question, set()
    cited: set[str] = set()
    if bots and isinstance(bots[-1], str):
        last = bots[-1]
        for doc in index.documents:
            if doc.meta.title and doc.meta.title in last:
                cited.add(doc.doc_id)
    own = {fold(e) for e in entities(question)}
    # "he/she/his/her" points at a person: a multi-word name, not "UK" or "September".
    personal = bool(_PERSON_PRONOUN.search(question))
    if personal:
        person = conversation_person(users, bots, question)
        if person and not name_met(person, question):
            return f"{question} ({person})", cited
    if _EVENT_PRONOUN.search(question) and len(users) >= 1:
        # "When did that happen?": "that" is what the previous question asked about, read
        # with its own follow-up resolved.
        earlier, _ = rewrite_query(
            users[-1], history[: _turn_start(history, len(users) - 1)], index
        )
        topic = " ".join(w for w in earlier.replace("(", " ").replace(")", " ").split()
                         if fold(w).strip("?.,;") not in _QUESTION_WORDS)  # fmt: skip
        # ... and what its answer named: "Which deputy minister went to the NCA?" then "When
        # was that trip?" asks about Le Quoc Hung's trip.
        shown = _bold(bots[-1]) if bots and isinstance(bots[-1], str) else ""
        if shown and fold(shown) not in fold(topic):
            topic = f"{topic} {shown}".strip()
        if topic:
            return f"{question} ({topic})", cited

    def names(text: str) -> list[str]:
        # An earlier turn's month or year ("April") would contradict a new one ("October").
        found = [e for e in entities(text) if fold(e) not in own and not _DATE_RE.fullmatch(e)]
        if personal:
            found = [e for e in found if len(e.split()) >= 2]
        return list(dict.fromkeys(found))

    context: list[str] = []
    # After "Who ...?", a pronoun means the person the answer named, not the question's names;
    # except after "Who is X?", where it means X.
    identity = re.match(r"\s*who\s+(?:is|was)\s+[A-ZĐ]", users[-1], re.I) is not None
    asked_who = question_type(users[-1]) == "who" and personal and not identity
    if not asked_who:
        for turn in reversed(users[-2:]):
            context = names(turn)
            if context:
                break
    if not context and bots and isinstance(bots[-1], str):
        # The previous question named no one ("Who led the delegation?"): the previous
        # answer's first quoted sentence did. After "Who did Luong Tam Quang receive?" the
        # person meant is the one the answer added, not the one the question already named.
        asked = [fold(e) for e in entities(users[-1])] if asked_who else []
        found = names(bots[-1].split("\n", 1)[0])
        fresh = [e for e in found if not any(a in fold(e) or fold(e) in a for a in asked)]
        context = (fresh or found)[:2]
    if not context:
        return question, cited
    return f"{question} ({'; '.join(context)})", cited


# --- scoring sentences -----------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, with its scores."""

    passage: int  # position in the retrieved list
    sentence: str
    start: int  # offset of the sentence in its passage's text
    vector_row: int
    semantic: float
    overlap: float
    type_match: float
    score: float


def salient_missing(question: str, index: Index) -> tuple[float, list[str], bool]:
    """How much of the question's content the corpus lacks entirely.

    Returns ``(missing_share, missing_terms, proper_noun_missing)``: a name like "France" or
    "Lammy" that no passage contains is strong evidence the articles cannot answer.
    """
    # A lone letter is a contraction's or possessive's ("what's", "Britain's"), not content.
    content = [w for w in words(question) if w not in _QUESTION_WORDS and len(w) > 1]
    terms = [t for t in tokenize(" ".join(content))]
    if not terms:
        return 0.0, [], False
    # An outlet ("according to the VOV report") is known from the articles' sources; a name
    # another of whose variants the articles use ("Britain" for "UK") is not missing; nor is
    # the word a keyword query names its wanted kind by ("... which dates", "how long").
    sources = _source_terms(index) | _variant_terms(index) | _KIND_WORDS
    missing = [t for t in terms if not index.lexical.known(t) and t not in sources]
    shouting = question.upper() == question
    unknown = []
    if not shouting:
        for ent in entities(_uncapitalise_opening(question)):
            ent_terms = tokenize(ent)
            if ent_terms and any(
                not index.lexical.near_known(t) and t not in sources for t in ent_terms
            ):
                unknown.append(ent)
    # "Britain" is not in the articles but "United Kingdom" is: a name whose near-synonym the
    # corpus names (cosine >= SYNONYM_COSINE) is not missing. "France" or "Lammy" stay missing.
    proper_missing = bool(unknown) and not all(_has_synonym(index, unknown))
    return len(missing) / len(terms), missing, proper_missing


@_per_index
def _source_terms(index: Index) -> frozenset[str]:
    """The terms of the articles' outlets ("VOV", "VNA"): named by questions, not by text."""
    return frozenset(t for d in index.documents for t in tokenize(d.meta.source))


# Words that say what kind of answer a question wants, not what it is about (BM25 terms).
_KIND_WORDS = frozenset(
    tokenize("date dates day year month time long venue location place name number many much")
)


@_per_index
def _variant_terms(index: Index) -> frozenset[str]:
    """The one-word name variants whose group the corpus knows ("britain" when it says "uk")."""
    out: set[str] = set()
    for group in NAME_VARIANTS:
        terms = [tokenize(v) for v in group]
        if any(t and all(index.lexical.known(x) for x in t) for t in terms):
            out.update(x for t in terms if len(t) == 1 for x in t)
    return frozenset(out)


def _uncapitalise_opening(question: str) -> str:
    """Lower-case a lone capitalised opening word: "Besides politics, ..." is not a name.

    A question's first word is capitalised whatever it is; taken alone ("Besides", "Apart",
    "According") it is far more often an ordinary word than a name. A capitalised run
    ("Simon Ridley met ...") is kept.
    """
    m = re.match(r"(\s*)([A-Z][a-z]+)(?=[\s,]+(?:[a-z]|$))", question)
    if not m:
        return question
    return question[: m.start(2)] + m.group(2).lower() + question[m.end(2) :]


SYNONYM_COSINE = 0.8  # Britain->United Kingdom 0.87; France->Europe 0.71; Lammy->any < 0.3


def _has_synonym(index: Index, names: list[str]) -> list[bool]:
    corpus_names, vecs = index.corpus_names
    if not corpus_names:
        return [False] * len(names)
    sims = index.encoder.encode(names) @ vecs.T
    return [bool(row.max() >= SYNONYM_COSINE) for row in sims]


# Weights of (similarity, term overlap, answer type, passage rank) in a sentence's score,
# fitted by bench/fit_sentence_weights.py on tests/data/dev.jsonl (a listwise softmax over each
# question's candidate sentences, the ones holding the gold answer as targets). The earlier
# hand-set (0.45, 0.30, 0.10, 0.15) let short generic sentences win on similarity alone.
SENTENCE_WEIGHTS = (0.20, 0.55, 0.12, 0.13)


CONTEXT_WEIGHT = 0.5  # set by hand: the carried-over names count half, as passage context does


def score_sentences(
    index: Index,
    query: str,
    qvec: np.ndarray,
    passages: Sequence[Passage],
    selection: str | None = None,
) -> list[Candidate]:
    """Score every sentence of ``passages`` against the query (best first).

    Term overlap is IDF-weighted. Question terms found in the sentence's passage but not in
    the sentence itself earn half credit: a question often names its context ("To Lam") in
    words the answering sentence leaves out. (Weighting by pool-local IDF was tried and lost
    on both development sets.)
    """
    idf = index.idf
    default_idf = max(idf.values()) if idf else 1.0
    q_terms = list(dict.fromkeys(tokenize(query)))
    kind = question_type(query)
    rows = index.row_by_id
    top_score = passages[0].score if passages else 1.0
    pool: list[tuple[int, int, str, float, int, set[str]]] = []
    for pi, p in enumerate(passages):
        row = rows.get(p.passage_id)
        sents = passage_sentences(p)
        if row is not None:
            s0 = int(index.sentence_offsets[row])
            vecs = index.sentence_vectors[s0 : s0 + len(sents)]
            vrows = list(range(s0, s0 + len(sents)))
        else:  # a passage from elsewhere (not in this index): encode its sentences
            vecs = index.encoder.encode([s for _, _, s in sents])
            vrows = [-1] * len(sents)
        sims = vecs @ qvec if len(sents) else np.zeros(0)
        for (start, _, sent), sim, vr in zip(sents, sims, vrows):
            pool.append((pi, start, sent, float(sim), vr, set(tokenize(sent))))
    weight = {t: idf.get(t, default_idf) for t in q_terms}
    # A follow-up's carried-over context ("... (Le Quoc Hung)") supports the question's own
    # words but must not outweigh them: its terms count CONTEXT_WEIGHT.
    own_terms = set(tokenize(query.split(" (", 1)[0])) if query.endswith(")") else set(q_terms)
    weight = {t: w if t in own_terms else CONTEXT_WEIGHT * w for t, w in weight.items()}
    total = sum(weight.values()) or 1.0
    passage_terms = [set(tokenize(p.text)) for p in passages]
    out: list[Candidate] = []
    for pi, start, sent, sim, vr, toks in pool:
        p = passages[pi]
        context = passage_terms[pi] | _antecedent_terms(index, p, start, sent)
        hit = sum(w for t, w in weight.items() if t in toks)
        ctx = sum(w for t, w in weight.items() if t not in toks and t in context)
        ov = (hit + 0.5 * ctx) / total
        tm = _type_match(kind, sent)
        prior = p.score / top_score if top_score > 0 else 0.0
        w_sim, w_ov, w_tm, w_prior = SENTENCE_WEIGHTS
        score = w_sim * sim + w_ov * ov + w_tm * tm + w_prior * prior
        out.append(Candidate(pi, sent, start, vr, sim, ov, tm, score))
    out = _learned_selection(out, query, passages, idf, default_idf, selection)
    out.sort(key=lambda c: -c.score)
    return out


# "On this occasion, he urged the UK Home Office ...": a sentence that speaks of a person
# only by a pronoun is about the last person named before it, in its passage or, when the
# passage opens with it, in the paragraph before (news paragraphs continue a quote). That
# person's name counts as the sentence's context, as the passage's other words do.
def _antecedent_terms(index: Index, p: Passage, start: int, sentence: str) -> set[str]:
    """The terms of the person a pronoun in ``sentence`` refers to (empty if none)."""
    if not _PERSON_PRONOUN.search(sentence) or _persons(sentence):
        return set()
    persons = _persons(p.text[:start]) or _persons(_previous_paragraph(index, p))
    return set(tokenize(persons[-1])) if persons else set()


def _persons(text: str) -> list[str]:
    return [e.text for e in _entities(text) if e.label == "PERSON"] if text.strip() else []


def _previous_paragraph(index: Index, p: Passage) -> str:
    """The text of the paragraph before ``p`` in its document ("" for the first one, or for
    a passage that is not in the index)."""
    try:
        doc = index.document(p.doc_id)
    except QAError:
        return ""
    return next((par.text for par in doc.paragraphs if par.number == p.paragraph - 1), "")


# --- learned sentence selection (qa/selection.py) ---------------------------------------------
# ``selection`` (or ``$QA_SELECTION``): "model" (default) lets the learned model choose the lead
# sentence, which gets the best weighted score (plus a hair), while the weighted scores still
# decide which other sentences join it (EXTRA_RATIO); "weights" keeps the hand-set weights
# above; "model-only" replaces every score by the model's (its scale is not the weights', so
# the ratios downstream behave differently). The model (LightGBM LambdaRank over relative
# features, bench/fit_selection.py) is fitted on the SQuAD 2.0 train excerpt and dev.jsonl
# (issue 11, item 5). Default since it measured better end to end on hard-dev (gold 72 -> 73
# of 82, cited 75 -> 76, answerable declined 5 -> 4, lists 11 -> 12 of 12) and dev (gold
# 54 -> 55 of 57, cited 52 -> 53; one off-topic question more answered, 14 -> 13 of 15
# declined). CAL was fitted on the weights' signals; a refit on the model's (bench/
# fit_confidence.py with QA_SELECTION=model) declined more answerable questions on hard-dev
# (6 of 82 against 4) and was not kept.
SELECTION_MODES = ("weights", "model", "model-only")
DEFAULT_SELECTION = "model"


def _learned_selection(
    cands: list[Candidate],
    query: str,
    passages: Sequence[Passage],
    idf: dict[str, float],
    default_idf: float,
    selection: str | None,
) -> list[Candidate]:
    import os

    mode = selection or os.environ.get("QA_SELECTION") or DEFAULT_SELECTION
    if mode not in SELECTION_MODES:
        from qa.errors import QAError

        raise QAError(
            f"Unknown sentence selection {mode!r}. Fix: use one of {', '.join(SELECTION_MODES)}."
        )
    if mode == "weights" or not cands:
        return cands
    from dataclasses import replace

    from qa.selection import select_scores

    scores = select_scores(query, cands, [p.score for p in passages], idf, default_idf=default_idf)
    if mode == "model-only":
        return [replace(c, score=float(s)) for c, s in zip(cands, scores)]
    lead = int(np.argmax(scores))
    top = max(c.score for c in cands)
    out = list(cands)
    out[lead] = replace(cands[lead], score=top + 1e-9)
    return out


# --- composing -------------------------------------------------------------------------------


def _sentence_vector(index: Index, c: Candidate) -> np.ndarray:
    if c.vector_row >= 0:
        return np.asarray(index.sentence_vectors[c.vector_row])
    return index.encoder.encode([c.sentence])[0]


def features(
    best: Candidate | None,
    passages: Sequence[Passage],
    missing: float,
    proper_missing: bool,
    kind: str,
) -> dict[str, float]:
    """The signals confidence rests on (besides the top score): see ``CAL``."""
    if best is None or not passages:
        return {}
    top = passages[0].scores
    # "When"/"how many" questions need a date/number; a best sentence without one means the
    # articles talk about the topic but do not hold the asked-for fact.
    strict = kind in _TYPED_KINDS
    return {
        "semantic": best.semantic,
        "overlap": best.overlap,
        "dense": top.get("dense", 0.0),
        "missing": missing,
        "proper_missing": float(proper_missing),
        "type_mismatch": float(strict and best.type_match < 1.0),
    }


# Off the articles' topic: most of the question's content words occur nowhere in the corpus
# and no sentence is close ("best pho restaurants in hanoi", "the weather forecast for Hanoi
# tomorrow"). Set on dev and hard-dev: every off-topic question there has more than half its
# words unknown and a best cosine under 0.45; no answerable one has both (the nearest, "Which
# school for Vietnam's frontier troops ...", has half unknown at 0.47). A follow-up is left
# to its context (its own words are few: "when did that happen?").
OFF_TOPIC_MISSING = 0.5
OFF_TOPIC_SEMANTIC = 0.45


def _off_topic(missing: float, top: Candidate | None, follow_up: bool) -> bool:
    if follow_up or top is None:
        return False
    return missing > OFF_TOPIC_MISSING and top.semantic < OFF_TOPIC_SEMANTIC


def top_question(checks: Sequence[Check]) -> str:
    """The question the checks were made for (kept on each check)."""
    return checks[0].question if checks else ""


def check_features(checks: Sequence[Check], lead: Check | None, kind: str) -> dict[str, float]:
    """The confidence signals of the checks: whether some candidate meets the whole question,
    how many constraints the best-scoring one leaves unmet, and whether it lacks a phrase of
    the kind asked for (issue 11: the signals that carry over to questions typed by users)."""
    if not checks:
        return {}
    top = checks[0]
    # An untyped question with no specific constraint "passes" whatever the sentence says:
    # only a check that tested something is evidence ("best pho restaurants in hanoi").
    tested = bool(kind) or bool(extract_constraints(top_question(checks)))
    # The best-scoring sentence's unmet parts say the question is about another event only
    # while no sentence meets it: once a later one does (``lead_later``), they are no evidence
    # against it (hard-dev: 4 -> 2 answerable declined, unanswerable declines unchanged at 22
    # of 25; SQuAD train unchanged). They still lower the confidence shown with a closest match.
    return {
        "passes": float(lead is not None and tested),
        "unmet": float(min(len(top.unmet), 3)) if lead is None else 0.0,
        "no_short": float(bool(kind) and top.short is None),
        "lead_later": float(lead is not None and lead is not top),
    }


def confidence(feats: dict[str, float]) -> float:
    """Probability-like confidence that the articles answer the question.

    A logistic model over ``features``; the weights in ``CAL`` were fitted on
    tests/data/dev.jsonl by ``bench/calibrate.py`` (answerable vs unanswerable questions).
    """
    if not feats:
        return 0.0
    z = CAL["bias"] + sum(CAL[name] * value for name, value in feats.items() if name in CAL)
    return 1.0 / (1.0 + math.exp(-z))


# Fitted by bench/fit_confidence.py (scikit-learn LogisticRegression, class-balanced, each
# source weighing the same) on the SQuAD 2.0 train excerpt (4,719 questions), tests/data/dev.jsonl
# and tests/data/hard-dev.jsonl; never on test.jsonl, hard-heldback.jsonl or the SQuAD dev
# excerpt. Re-run it after changing a signal. The checks decide first (no candidate meeting
# the whole question is declined whatever the confidence); among the rest, similarity, unmet
# constraints and a missing typed phrase of the best-scoring sentence carry the most.
# "missing" (the share of question terms no article has) is left out: its sign flips between
# SQuAD, whose unanswerable questions reuse the paragraph's words, and our sets (it fitted
# +1.4 and let off-topic questions through); "proper_missing" keeps the strong part of it.
CAL = {
    "bias": -2.031,
    "semantic": 4.283,
    "overlap": 0.013,
    "dense": 0.140,
    "proper_missing": -1.190,
    "type_mismatch": -2.667,
    "passes": 0.605,
    "unmet": -1.825,
    "no_short": -1.896,
    "lead_later": 1.587,
}
# Chosen by bench/fit_confidence.py on dev + hard-dev: the highest threshold that declines at
# most 6% of their answerable questions (with the checks): 2/57 and 5/82, declining 13/15 and
# 16/25 unanswerable (SQuAD train: 345/4,371 and 89/348).
THRESHOLD = 0.24
# When the checks pass strongly (a typed question whose lead meets every constraint and gives
# a phrase of the asked kind's first tier: a PERSON for who, a DATE for when, ...), they are
# the evidence and the confidence matters less. Chosen on the SQuAD train excerpt (all 4,719
# questions): any floor from 0 to 0.12 answered the same 7 more answerable questions (5 more
# with the gold), 0.16 and 0.2 fewer; the highest of them is kept. Dev and hard-dev unchanged
# (their unanswerable questions that reach the threshold have no first-tier typed lead).
STRONG_THRESHOLD = 0.12
# A second or third sentence joins the answer only if it scores this close to the best one
# and is itself on topic; otherwise the answer stays one sentence. On dev, 0.7 rather than
# 0.8 puts the answer in 1.7 points more answers; 0.6 adds as much again but quotes a loosely
# related third sentence in many answers (citation precision 0.49 against 0.56).
EXTRA_RATIO = 0.7
EXTRA_MIN_SEMANTIC = 0.3


# A further sentence whose vector is this close to one already chosen says the same thing
# again and is skipped; a sentence of another document this close to a chosen one says the
# same thing there and that passage is co-cited. Both set by hand with the first answering
# draft (commit ed76686): near-paraphrases of this corpus's wire copy score 0.9 and above.
REDUNDANT_COSINE = 0.85
CO_CITE_COSINE = 0.85
# A "when"/"how many"/"amount" answer leads with the best sentence holding a date or number if
# it scores at least this share of the best sentence's score; set by hand with the answering
# calibration (commit 5f2ab59).
TYPED_LEAD_RATIO = 0.75
MAX_SENTENCES = 3  # an answer quotes one to three sentences (see the module docstring)


@dataclass(frozen=True)
class Check:
    """A candidate sentence judged against the whole question.

    ``unmet`` are the question's constraints that neither the sentence nor its article meets;
    ``short`` is the phrase of the asked kind the sentence gives (offsets in the sentence),
    ``None`` when it gives none or the question asks for no kind.
    """

    candidate: Candidate
    unmet: tuple[Constraint, ...]
    short: ShortAnswer | None
    question: str = ""
    # The asked role, when the sentence's people of the asked kind are not stated to hold it:
    # named by a closest-match note, but not an unmet constraint of the confidence features
    # (the missing short answer already counts there).
    role_unmet: tuple[Constraint, ...] = ()

    def passes(self, kind: str) -> bool:
        """Every constraint met and, for a typed question, a typed phrase the question lacks."""
        return not self.unmet and (not kind or self.short is not None)


@dataclass(frozen=True)
class Selection:
    """The sentences chosen for an answer, with the candidates and scores they came from.

    ``closest`` is set when no candidate meets the whole question: the best one, shown as a
    "closest match" with ``chosen`` empty.
    """

    chosen: tuple[Candidate, ...]
    vectors: tuple[np.ndarray, ...]
    candidates: tuple[Candidate, ...]
    kind: str
    confidence: float
    answer_kind: str = ""
    checks: tuple[Check, ...] = ()
    closest: Check | None = None
    is_list: bool = False
    signals: tuple[tuple[str, float], ...] = ()  # the confidence features (see ``CAL``)


# Candidates judged against the question's constraints and kind: the ones scoring at least
# this share of the best, at most MAX_CHECKED of them. Chosen on hard-dev (tests/data), where
# the sentence that answers a constrained question often ranks second to fifth behind one
# about a similar event.
CHECK_RATIO = 0.6
# A typing miss by the news-tuned patterns is weak evidence: a broader typing is tried
# before a typed check fails (qa.phrases.lenient_short).
LENIENT = frozenset(os.environ.get("QA_LENIENT", "when,how_many,amount").split(","))
MAX_CHECKED = 12
# A list collects items across sentences: its candidates reach further down (set by hand;
# the sentences must still meet the question and add an item).
LIST_CHECK_RATIO = 0.45
MAX_LIST_SENTENCES = 5  # a list answer quotes every sentence that gives items, up to this
# A list's items are spread over more sentences than one answer's: the sentences of all its
# passages (LIST_PASSAGES) above LIST_CHECK_RATIO are judged, at most this many.
MAX_LIST_CHECKED = 40
LIST_PASSAGES = 10  # passages a list question reads: its items lie in several articles

# "when and where did ...", "who ..., and when ...": the kinds asked after the first.
_SECOND_PART = re.compile(
    r"(?:,\s*|\s+)and\s+((?:in\s+)?(?:what|which|who|whom|when|where|how)\b.*)$", re.I
)


def extra_kinds(question: str) -> list[tuple[str, str]]:
    """The later parts of a two-part question as ``(kind, part)`` (empty for one part)."""
    m = re.match(r"^\s*(when|where|who)\s+and\s+(when|where|who)\b(.*)$", question, re.I)
    if m:
        return [(answer_kind(f"{m.group(2)} {m.group(3)}"), f"{m.group(2)} {m.group(3)}")]
    m = _SECOND_PART.search(question)
    if not m:
        return []
    part = m.group(1)
    return [(answer_kind(part), part)]


def _first_part(question: str) -> str:
    """The first part of a two-part question ("Who led X, and which minister ...?": "Who led
    X"), else the question."""
    m = _SECOND_PART.search(question)
    return question[: m.start()] if m and m.start() > 0 else question


def first_kind(question: str) -> str:
    """The kind the first part of the question asks for ("When ..., and who ...?": when)."""
    m = re.match(r"^\s*(when|where|who)\s+and\s+(?:when|where|who)\b", question, re.I)
    if m:
        return answer_kind(m.group(1) + question[m.end() :])
    m = _SECOND_PART.search(question)
    if m and m.start() > 0:
        return answer_kind(question[: m.start()]) or answer_kind(question)
    return answer_kind(question)


def _articles(index: Index, passages: Sequence[Passage]) -> dict[str, str]:
    """The whole text of each retrieved passage's article: constraints are met at article
    scope (a question names the event its answer's paragraph leaves implicit)."""
    want = {p.doc_id for p in passages}
    # The title is part of the article: a paragraph of a SQuAD article "Frédéric Chopin" may
    # say only "Chopin", and a news paragraph often leaves the event to its headline.
    return {
        d.doc_id: "\n".join([d.meta.title, d.meta.source, *(par.text for par in d.paragraphs)])
        for d in index.documents
        if d.doc_id in want
    }


def check_candidates(
    question: str,
    query: str,
    cands: Sequence[Candidate],
    passages: Sequence[Passage],
    articles: dict[str, str],
    kind: str,
    encoder: Any = None,
    sides: dict[str, str] | None = None,
    people: frozenset[str] = frozenset(),
    orgs: dict[str, tuple[str, ...]] | None = None,
) -> list[Check]:
    """Judge the leading candidates (see ``CHECK_RATIO``) against the question.

    ``sides`` maps the corpus's people (folded names and variants) to their side (``VN`` or
    ``UK``, from the index's structure): a person of the other side does not answer a
    question asking for one of a side. ``people`` are the corpus's people's folded names and
    variants: typed in lower case ("to lam cleverly call"), they are names to meet too.

    ``encoder`` (the index's) lets a count answer a question that names what it counts in
    other words (see ``_fits``); without it the counted noun must be said as asked.
    """
    if not cands:
        return []
    constraints = extract_constraints(question) + _pronoun_person(question, query)
    predicates = asked_predicates(question)
    constraints += _typed_lowercase(question, people, constraints)
    # "Which Vietnamese deputy minister ...?" is not answered by a Briton
    other_side = _other_side(sides or {}, asked_side(question) if kind == "who" else "")
    # "Which Met police officer ...?" is not answered by the NCA's director
    org = asked_org(_first_part(question), orgs or {}) if kind == "who" else ()
    listing = not kind and is_list_question(question)
    described = who_is_name(question) if kind == "who" else ""
    floor = (LIST_CHECK_RATIO if listing else CHECK_RATIO) * max(c.score for c in cands)
    out: list[Check] = []
    # The candidates above the floor, in the order given: a follow-up's order puts sentences
    # with its new words first, so a low one may come before a better one without them.
    # A list's sentences that name what it lists ("MoU" for "which mous") are read however
    # they score: the question's other words ("the To Lam call") pull its lead sentence far
    # above the ones that enumerate the items.
    head = list_head(question) if listing else frozenset()
    eligible = [
        c for c in cands if c.score >= floor or (head and head & set(tokenize(c.sentence)))
    ] or list(cands[:1])
    for c in eligible[: MAX_LIST_CHECKED if listing else MAX_CHECKED]:
        p = passages[c.passage]
        context = articles.get(p.doc_id, p.text)
        missing = tuple(
            x for x in unmet(constraints, c.sentence, context, date=p.date, paragraph=p.text)
            if _decisive(x, question, context)
        )  # fmt: skip
        missing += tuple(x for x in conflicting_events(constraints, c.sentence) if x not in missing)
        missing += tuple(x for x in predicates if not _said(x.value, f"{c.sentence}\n{p.text}"))
        # The query names what the question leans on ("his guest" after "who is Chien"), so
        # a follow-up's context does not count as a new answer either.
        found = (
            short_answer(query, c.sentence, _entities(c.sentence), kind=kind, article=context,
                         other_side=other_side, org=org)
            if kind and not described
            else None
        )  # fmt: skip
        if described:
            # "Who is X?": what the sentence says X is, not another person it names
            found = describe_person(described, c.sentence, _entities(c.sentence))
        role = _role_unmet(query, c.sentence) if found is None and kind == "who" else ()
        if found is None and kind == "org":
            # An organisation the patterns cannot type ("Phoenix House") is a name.
            found = short_answer(query, c.sentence, _entities(c.sentence), kind="who")
            found = found if found is not None and found.label == "NAME" else None
        if found is not None and not _fits(question, c.sentence, found, encoder):
            found = None
        if found is None and kind in LENIENT:
            found = lenient_short(query, c.sentence, kind)
            if found is not None and not _fits(question, c.sentence, found, encoder):
                found = None
        out.append(Check(c, missing, found, question, role))
    return out


def _role_unmet(query: str, sentence: str) -> tuple[Constraint, ...]:
    """The asked role as an unmet part, when the sentence gives a person of the asked kind
    but none stated to hold the role ("Who is the Commissioner of the Met?" on a sentence
    naming only a minister): the closest-match note then names the role."""
    role = asked_role(query)
    if role is None:
        return ()
    if short_answer(query, sentence, _entities(sentence), kind="who", roles=False) is None:
        return ()
    return (Constraint("role", role.text, fold(role.text)),)


def _decisive(c: Constraint, question: str, context: str) -> bool:
    """Whether an unmet constraint rules the text out, rather than being said another way.

    An ordinal or an event is decisive only against a contrast: the text counts the same thing
    with another ordinal ("the third dialogue" for "the first dialogue") or reports another
    event of the table (a visit for "the phone call"). Without one, "her first album" may be
    "her debut album" and "buses visit" no event at all. A number right after "which"/"what"
    ("which two countries") counts the answer, not something the text must say.
    """
    from qa.constraints import EVENTS, met

    if c.kind == "ordinal":
        if not c.about:
            return False
        return any(
            met(Constraint("ordinal", str(v), str(v), c.about), context) for v in range(1, 13)
            if str(v) != c.value
        )  # fmt: skip
    if c.kind == "event":
        folded = fold(context)
        return any(
            k != c.value and k != "meeting" and any(re.search(rf"\b{re.escape(v)}", folded)
                                                    for v in vs)
            for k, vs in EVENTS.items()
        )  # fmt: skip
    if c.kind == "number":
        return re.search(_ANSWER_COUNT.format(re.escape(c.text)), question, re.I) is None
    return True


# A number in the asking phrase counts the answer's items ("which two countries", "What are
# two subjects ...", "Who were two visitors ...?", "What were the three sites ..."): the text
# lists them without saying the number. SQuAD train excerpt: 8 answerable questions declined
# on such counts; a number elsewhere ("Who shot it on 45 mm film?") stays decisive.
_ANSWER_COUNT = r"\b(?:which|what|who)\s+(?:(?:are|were)\s+)?(?:the\s+)?{}\b"


_COUNTED = re.compile(
    r"\bhow many\s+((?:[\w'’-]+\s+){0,3}?)(?:did|do|does|has|have|had|were|was|are|is|will|would|"
    r"can|could|attended|took|came|went)\b",
    re.I,
)
# Without a verb within reach ("rycroft hanoi visit how many days"), the word after "how
# many" is what is counted (read only for a vague count: "several", "both").
_COUNTED_NOUN = re.compile(r"\bhow many\s+([\w'’-]+)", re.I)
# A number after "the" refers to a group already known ("the two sides", "the three
# countries"): it answers "how many" only when it counts what the question counts.
_DEFINITE_GROUP = re.compile(r"\bthe\s+$", re.I)
_ASKS_YEAR = re.compile(r"\b(?:what|which)\s+year\b|\byear\s+did\b|^[^?]*\byear\s*$", re.I)
# "On what date ...?" asks for a day: "October" or "2024" alone does not give it.
_ASKS_DATE = re.compile(r"\b(?:what|which)\s+(?:exact\s+)?(?:date|day)\b", re.I)
_HAS_DAY = re.compile(
    r"\b(?:[0-3]?\d(?:st|nd|rd|th)?\s+[A-Z][a-z]+|[A-Z][a-z]+\.?\s+[0-3]?\d(?:st|nd|rd|th)?)\b"
    r"|\b\d{1,2}/\d{1,2}\b|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.I,
)
# Any year qa.phrases types as one (1000-2099): "In what year ...?" is answered by "1358"
# (SQuAD train excerpt: 5 such questions declined when only 1500-2099 counted).
_HAS_YEAR = re.compile(r"\b(?:1[0-9]|20)\d{2}\b")
COUNT_WINDOW = 4  # words after a number in which the noun it counts must appear
# How close (cosine of the index's encoder) the words after a number must be to a counted
# noun the sentence says nowhere. Chosen on the SQuAD train excerpt, dev and hard-dev:
# "tracks" / "musical selections from the" 0.35, "albums" / "million records together"
# 0.52, but "training courses" / "sides promote coordination and" 0.15 and "people" /
# "ministries, particularly their effective" 0.17 (hard-dev near-topic questions). 0.25
# answered 2 more SQuAD train questions than 0.3 and 2 more unanswerable ones than 0.4;
# 0.3 keeps a margin over the news near-topic pairs (SQuAD train containment +15).
COUNTED_COSINE = 0.3


def _fits(question: str, sentence: str, found: ShortAnswer, encoder: Any = None) -> bool:
    """Whether a typed phrase is the kind of value asked for, not merely of its type.

    "How many training courses ...?" is not answered by "the two sides": the number must
    count what the question counts (a word sharing a stem with it within ``COUNT_WINDOW``
    words after the number). When the sentence says the counted noun nowhere, it may say it
    another way ("How many tracks" / "20 musical selections"): then the words after the
    number must be close to it in meaning (``COUNTED_COSINE``, with ``encoder``).
    "In what year ...?" is not answered by "March 4".
    """
    if found.kind == "when" and _ASKS_YEAR.search(question):
        return _HAS_YEAR.search(found.text) is not None
    if found.kind == "when" and _ASKS_DATE.search(question):
        return _HAS_DAY.search(found.text) is not None
    if found.kind == "how_many":
        m = _COUNTED.search(question)
        if m is None and found.label == "LENIENT":
            # A vague count ("several", "both") must count the noun after "how many".
            m = _COUNTED_NOUN.search(question)
        counted = set(tokenize(m.group(1))) if m else set()
        if not counted and _DEFINITE_GROUP.search(sentence[: found.start]):
            return False  # "the two sides" names a known group; it counts nothing asked
        if not counted:
            return True
        after = " ".join(sentence[found.end :].split()[:COUNT_WINDOW])
        if counted & set(tokenize(found.text + " " + after)):
            return True
        if encoder is None or counted & set(tokenize(sentence)) or not after.strip():
            return False
        return _cosine(encoder, m.group(1).strip(), after) >= COUNTED_COSINE
    return True


@lru_cache(maxsize=4096)
def _entity_cache(sentence: str) -> tuple:
    return tuple(sentence_entities([sentence])[0])


@lru_cache(maxsize=4096)
def _phrase_vector(encoder: Any, text: str) -> np.ndarray:
    return np.asarray(encoder.encode([text])[0])


def _cosine(encoder: Any, a: str, b: str) -> float:
    """Cosine of two short phrases (the encoder's vectors are unit length); cached."""
    return float(_phrase_vector(encoder, a) @ _phrase_vector(encoder, b))


def _entities(sentence: str) -> list:
    """The sentence's typed phrases (patterns), cached: the corpus's sentences recur."""
    return list(_entity_cache(sentence))


def answer(
    index: Index,
    question: str,
    history: Sequence[dict] | None = None,
    *,
    k: int = 5,
    passages: Sequence[Passage] | None = None,
    doc_ids: Iterable[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> Answer:
    """Answer ``question`` from ``index``; see the module docstring.

    Three steps: ``select_sentences``, ``assign_citations``, then rendering (``qa.render``).
    """
    q = check_question(question)
    query, cited_docs = rewrite_query(q, history, index)
    if len(query) > MAX_QUESTION_CHARS:  # history is context: it never makes a question too long
        query, cited_docs = q, set()
    rewritten = query != q
    # a list's items lie in several articles: it reads more passages
    least = LIST_PASSAGES if is_list_question(q) else 1
    if passages is None:
        passages = index.retrieve(
            search_query(q, query),
            k=max(k, least, 5),
            doc_ids=doc_ids,
            date_from=date_from,
            date_to=date_to,
        )
        if cited_docs and rewritten:
            passages = _prefer(passages, cited_docs)
            if _EVENT_PRONOUN.search(q):
                # "When was that trip?": the event the previous answer cited, in its articles
                near = index.retrieve(search_query(q, query), k=max(k, 5), doc_ids=cited_docs)
                ids = {p.passage_id for p in near}
                passages = near + [p for p in passages if p.passage_id not in ids]
            topic = elliptical_topic(q)
            if topic:
                # "What about training?" continues in the article just cited: its passages
                # on the new topic come first.
                near = index.retrieve(topic, k=ELLIPSIS_PASSAGES, doc_ids=cited_docs)
                ids = {p.passage_id for p in near}
                passages = near + [p for p in passages if p.passage_id not in ids]
    passages = list(passages)[: max(k, least)]
    sel = select_sentences(index, q, query, passages)
    if not sel.chosen:
        if sel.closest is not None:
            return _closest(q, query, rewritten, passages, sel)
        return _declined(q, query, rewritten, passages, sel.confidence)
    citations, cite_no, supports = assign_citations(index, sel, passages)
    note = _date_note(sel.chosen[0], passages, cite_no) if sel.kind == "when" else ""
    sentences = tuple(c.sentence.strip() for c in sel.chosen)
    short = _short(sel, cite_no)
    items = _items(index, query, sel, cite_no) if sel.is_list else ()
    return Answer(
        question=q,
        text=answer_markdown(
            sentences, supports, citations, note,
            short=(short.text, short.citation) if short else None,
            items=[(i.text, i.citation) for i in items],
        ),
        citations=tuple(citations),
        passages=tuple(passages),
        answerable=True,
        confidence=round(sel.confidence, 4),
        query=query,
        rewritten=rewritten,
        sentences=sentences,
        supports=tuple(supports),
        short=short,
        items=items,
    )  # fmt: skip


def _short(sel: Selection, cite_no: dict[int, int]) -> Short | None:
    """The lead sentence's short answer, its span moved into the cited passage."""
    lead = sel.chosen[0]
    found = next((ck.short for ck in sel.checks if ck.candidate is lead), None)
    if found is None:
        return None
    start = lead.start + found.start
    return Short(
        found.text, start, start + len(found.text), cite_no[lead.passage], found.kind, found.label
    )


def _items(index: Index, query: str, sel: Selection, cite_no: dict[int, int]) -> tuple[Item, ...]:
    """Every item the chosen sentences give, deduplicated on folded text, in answer order.

    A list of named things (MoUs, agencies, people) takes the sentences' phrases of that kind
    the question does not name; a list of descriptions ("what topics") the parts of each
    sentence's enumeration.
    """
    seen: set[str] = set()
    out: list[Item] = []
    kind = sel.answer_kind
    other_side = _list_filter(index, query)
    for c in sel.chosen:
        for t in _sentence_items(query, kind, c.sentence, other_side):
            key = item_key(t)
            if key and key not in seen:
                seen.add(key)
                out.append(Item(t, cite_no[c.passage]))
    return tuple(out)


# The asked kinds whose passing sentences are ranked by their score blended with the short
# answer's window support (qa.phrases.span_support): the sentence that ties its phrase to
# the question's words leads ("held talks ... at the Home Office Robert Jenrick" before a
# sentence about the NCA whose person only the follow-up's context supports).
SUPPORT_KINDS = frozenset(k for k in os.environ.get("QA_SUPPORT_KINDS", "who").split(",") if k)
SUPPORT_BLEND = float(os.environ.get("QA_SUPPORT_BLEND", "1.0"))


def _later_parts(
    question: str, chosen: Sequence[Candidate], checks: Sequence[Check]
) -> list[Candidate]:
    """For a two-part question, a sentence for each later part the chosen ones do not answer.

    A later part is answered only by a phrase of its kind that is not the first part's answer
    ("Who led the delegation, and which minister did it hold talks with?": the leader's name
    does not answer the second part); among candidates, the part's own words decide.
    """
    lead_short = next((ck.short for ck in checks if ck.candidate is chosen[0]), None)
    taken = {fold(lead_short.text)} if lead_short is not None else set()
    out: list[Candidate] = []
    for k2, part in extra_kinds(question):
        if not k2:
            continue
        if any(_part_short(part, k2, c, taken) for c in [*chosen, *out]):
            continue
        found = [
            (ck.candidate.score * (1.0 + SUPPORT_BLEND * sa.support), i, ck.candidate)
            for i, ck in enumerate(checks)
            if ck.candidate not in chosen and ck.candidate not in out
            for sa in [_part_short(part, k2, ck.candidate, taken)] if sa is not None
        ]  # fmt: skip
        if found:
            out.append(max(found, key=lambda x: (x[0], -x[1]))[2])
    return out


def _part_short(part: str, kind: str, c: Candidate, taken: set[str]) -> ShortAnswer | None:
    """The phrase of ``kind`` that answers a later part in ``c``, unless an earlier part's."""
    found = short_answer(part, c.sentence, _entities(c.sentence), kind=kind)
    return None if found is None or fold(found.text) in taken else found


def _lead_first(
    query: str,
    kind: str,
    listing: bool,
    passing: list[Check],
    other_side: Callable[[str], bool] | None = None,
) -> tuple[list[Check], list[Candidate]]:
    """The passing checks with the lead first, and a list's sentences (empty if no list).

    A list leads with the best sentence that gives items of what it lists; a who-question
    (``SUPPORT_KINDS``) with the sentence whose phrase the question's words support best.
    """
    listed = _list_answer(query, kind, passing, other_side) if listing else []
    if listed:
        lead = listed[0]
        passing = [ck for ck in passing if ck.candidate is lead] + [
            ck for ck in passing if ck.candidate is not lead
        ]
    if kind in SUPPORT_KINDS and not listing:
        passing = sorted(passing, key=_supported_score, reverse=True)
    return passing, listed


def _supported_score(ck: Check) -> float:
    support = ck.short.support if ck.short is not None else 0.0
    return ck.candidate.score * (1.0 + SUPPORT_BLEND * support)


def select_sentences(
    index: Index, question: str, query: str, passages: Sequence[Passage]
) -> Selection:
    """Score the passages' sentences and choose the ones that answer.

    The lead is the best-scoring candidate that meets every part of the question (its
    constraints, and for a typed question a phrase of the asked kind); a second or third
    sentence joins only for a part of the question the lead does not answer (two-part
    questions, lists). ``chosen`` is empty when the confidence is under ``THRESHOLD`` or no
    candidate meets the question (then ``closest`` holds the best one).
    """
    qvec = index.embed_query(query)
    cands = score_sentences(index, query, qvec, passages)
    kind = question_type(query)
    akind = first_kind(question)
    listing = is_list_question(question)
    akind = list_kind(question, akind) if listing else akind
    missing, _, proper_missing = salient_missing(question, index)
    if kind in _TYPED_KINDS and cands:
        # Lead with the best sentence that holds a date/number, if it is nearly as good.
        floor = TYPED_LEAD_RATIO * cands[0].score
        typed = [c for c in cands if c.type_match >= 1.0 and c.score >= floor]
        if typed:
            cands = [typed[0]] + [c for c in cands if c is not typed[0]]
    cands = _prefer_new_terms(question, query, cands)
    checks = check_candidates(
        question, query, cands, passages, _articles(index, passages), "" if listing else akind,
        encoder=index.encoder, sides=_entity_sides(index), people=_people(index),
        orgs=_org_names(index),
    )  # fmt: skip
    passing = [ck for ck in checks if ck.passes("" if listing else akind)]
    other_side = _list_filter(index, query) if listing else None
    passing, listed = _lead_first(query, akind, listing, passing, other_side)
    lead = passing[0] if passing else None
    best = lead.candidate if lead else (cands[0] if cands else None)
    # Confidence that the articles are on the question rests on the best-scoring sentence
    # (as CAL was fitted); the checks above decide whether a sentence answers it.
    top = cands[0] if cands else None
    feats = features(top, passages, missing, proper_missing, kind)
    feats.update(check_features(checks, lead, akind))
    if listing and akind and top is not None:
        # A list question's sentences are checked for items, not for one short answer: it
        # lacks one when no sentence meeting the question gives an item (its best-scoring
        # sentence is often the event's opening, the items a few sentences on).
        feats["no_short"] = float(not listed)
    conf = confidence(feats)
    base = Selection(
        (), (), tuple(cands), kind, conf, akind, tuple(checks), None, listing,
        tuple(feats.items()),
    )  # fmt: skip
    if best is None or _off_topic(missing, top, query != question):
        return base
    if lead is None:
        # A closest match only for a question on the articles' topic: one naming someone no
        # article mentions ("Lammy") or far from every sentence is declined plainly.
        on_topic = (
            not proper_missing
            and cands[0].semantic >= EXTRA_MIN_SEMANTIC
            and not (checks and _names_unknown(index, checks[0].unmet))
        )
        return _replace_sel(base, closest=checks[0] if checks and on_topic else None)
    if conf < (STRONG_THRESHOLD if _strong(lead, "" if listing else akind) else THRESHOLD):
        return base
    chosen = [best]
    if listing:
        chosen = list(listed) or chosen
    elif not extra_kinds(question):
        chosen += _same_event(lead, checks, passages, akind)
    else:
        chosen += _later_parts(question, chosen, checks)
    kept, vecs = _distinct(index, chosen, MAX_LIST_SENTENCES if listing else MAX_SENTENCES)
    return _replace_sel(base, chosen=tuple(kept), vectors=tuple(vecs))


def _distinct(
    index: Index, chosen: Sequence[Candidate], limit: int
) -> tuple[list[Candidate], list[np.ndarray]]:
    """Up to ``limit`` of ``chosen``, in order, none repeating another (same folded text or
    cosine above ``REDUNDANT_COSINE``), with their vectors."""
    kept: list[Candidate] = []
    vecs: list[np.ndarray] = []
    for c in chosen:
        if len(kept) == limit:
            break
        v = _sentence_vector(index, c)
        if kept and (
            any(float(v @ w) > REDUNDANT_COSINE for w in vecs)
            or any(fold(c.sentence) == fold(x.sentence) for x in kept)
        ):
            continue
        kept.append(c)
        vecs.append(v)
    return kept, vecs


# A further sentence of the same article joins a one-part answer only if it scores this close
# to the lead (the old EXTRA_RATIO padding rule, now limited to the lead's own article and to
# sentences that meet the whole question). Each article here reports one event, so a
# sentence of another article is another event however similar (issue 11, item 3).
# Sentences in a one-part answer: up to MAX_SENTENCES of the lead's article, typed questions
# included. Measured on the SQuAD train excerpt (first 1,500 questions): two for a typed
# question gave containment 0.768 and citation hit 0.845, three 0.783 and 0.859 (hard-dev
# unchanged, dev cited 50 -> 51/57). They are the same event's sentences that meet the
# whole question, so this is not padding (issue 11, item 3: never another article's).
# The further sentences need only be among the checked candidates (CHECK_RATIO of the lead's
# score) and loosely on the question (SAME_EVENT_MIN_SEMANTIC): they are of the lead's own
# article and meet the whole question already. Measured on the SQuAD train excerpt (all
# 4,719), dev and hard-dev: ratio 0.7 -> 0.6 with semantic 0.3 -> 0.2 gave SQuAD train
# containment 0.791 -> 0.795 and hard-dev gold 70 -> 73/82, cited 73 -> 74 (0.5 is the
# same as 0.6, semantic 0.15 one SQuAD question less; dev unchanged).
SAME_EVENT_RATIO = CHECK_RATIO
SAME_EVENT_MIN_SEMANTIC = 0.2
SAME_EVENT_MAX = {True: MAX_SENTENCES, False: MAX_SENTENCES}


def _article_key(p: Passage) -> str:
    """Which article a passage belongs to: its title where it has one (the paragraphs of one
    SQuAD article are separate documents under one title), else its document."""
    return f"title:{fold(p.title)}" if p.title.strip() else f"doc:{p.doc_id}"


def _same_event(
    lead: Check, checks: Sequence[Check], passages: Sequence[Passage], kind: str
) -> list[Candidate]:
    """More sentences of the lead's article (up to ``SAME_EVENT_MAX``) that meet the question
    and score within ``SAME_EVENT_RATIO`` of the lead; never a similar sentence of another
    article."""
    c0 = lead.candidate
    article = _article_key(passages[c0.passage])
    out: list[Candidate] = []
    for ck in checks:
        if len(out) + 1 >= SAME_EVENT_MAX[bool(kind)]:
            break
        c = ck.candidate
        # The best-scoring sentence joins even without a phrase of the asked kind when it meets
        # every constraint: the typing misses general text's answers. SQuAD train, first 1,500
        # questions: containment 0.783 -> 0.800 (hard-dev cited 72 -> 73, dev 51 -> 50).
        ok = ck.passes(kind) or (ck is checks[0] and not ck.unmet)
        if c is c0 or _article_key(passages[c.passage]) != article or not ok:
            continue
        if c.score >= SAME_EVENT_RATIO * c0.score and c.semantic >= SAME_EVENT_MIN_SEMANTIC:
            out.append(c)
    return out


def _strong(lead: Check | None, kind: str) -> bool:
    """Whether a typed lead gives a phrase of its kind's first tier (not a broad typing)."""
    if lead is None or not kind or lead.short is None:
        return False
    return lead.short.label in KIND_LABELS.get(kind, ((),))[0]


def _names_unknown(index: Index, missing: Sequence[Constraint]) -> bool:
    """Whether an unmet name is in no article at all ("Australia"): the question is off the
    articles' topic, so no closest match is offered."""
    for c in missing:
        terms = tokenize(c.text) if c.kind == "name" else []
        if terms and not any(index.lexical.known(t) for t in terms):
            return True
    return False


def _sentence_items(
    query: str, kind: str, sentence: str, other_side: Callable[[str], bool] | None = None
) -> list[str]:
    """The items ``sentence`` gives for the list ``query`` asks (``qa.lists.list_items``)."""
    return list_items(query, sentence, kind, list_head(query), _entities, other_side)


def _list_filter(index: Index, query: str) -> Callable[[str], bool] | None:
    """The test for items of the other side than the list asks for ("Which British
    ministries ..."), or ``None``."""
    return _other_side(_entity_sides(index), listed_side(query))


def _list_answer(
    query: str, kind: str, passing: Sequence[Check], other_side: Callable[[str], bool] | None
) -> list[Candidate]:
    """The sentences of a list answer (``qa.lists.rank_list_sentences``), best first."""
    return rank_list_sentences(
        query,
        [ck.candidate for ck in passing],
        lambda sentence: _sentence_items(query, kind, sentence, other_side),
        MAX_LIST_SENTENCES,
    )


def _replace_sel(sel: Selection, **changes: object) -> Selection:
    return replace(sel, **changes)


# An elliptical follow-up ("What about training?") names the new topic in a word the
# previous turn lacks; a sentence holding it is preferred to one that only matches the
# context the query carries over, if it scores at least this share of the best.
NEW_TERM_RATIO = 0.5


def _prefer_new_terms(question: str, query: str, cands: list[Candidate]) -> list[Candidate]:
    if query == question or not cands:
        return cands
    new = set(tokenize(question)) - set(tokenize(" ".join(_QUESTION_WORDS)))
    if not new:
        return cands
    floor = NEW_TERM_RATIO * cands[0].score
    hits = [c for c in cands if c.score >= floor and new & set(tokenize(c.sentence))]
    return hits + [c for c in cands if c not in hits] if hits else cands


def assign_citations(
    index: Index, sel: Selection, passages: Sequence[Passage]
) -> tuple[list[Passage], dict[int, int], list[tuple[int, ...]]]:
    """Number citations in order of first use: ``(citations, number by passage, supports)``.

    Passages of other documents that say the same thing (a sentence within
    ``CO_CITE_COSINE``) are co-cited, so agreement across articles is visible.
    """
    citations: list[Passage] = []
    cite_no: dict[int, int] = {}
    supports: list[tuple[int, ...]] = []

    def cite(pi: int) -> int:
        if pi not in cite_no:
            citations.append(passages[pi])
            cite_no[pi] = len(citations)
        return cite_no[pi]

    for c, v in zip(sel.chosen, sel.vectors):
        nums = [cite(c.passage)]
        for other in sel.candidates:
            if (
                other.passage == c.passage
                or passages[other.passage].doc_id == passages[c.passage].doc_id
            ):
                continue
            if other.passage in {x for x in cite_no if cite_no[x] in nums}:
                continue
            if float(_sentence_vector(index, other) @ v) >= CO_CITE_COSINE:
                nums.append(cite(other.passage))
        supports.append(tuple(dict.fromkeys(nums)))
    return citations, cite_no, supports


def _prefer(passages: list[Passage], docs: set[str]) -> list[Passage]:
    """Stable re-order putting passages of previously cited documents first when close."""
    if not passages:
        return passages
    top = passages[0].score
    boosted = sorted(
        passages,
        key=lambda p: -(p.score + (0.05 * abs(top) if p.doc_id in docs else 0.0)),
    )
    return boosted


def _date_note(c: Candidate, passages: Sequence[Passage], cite_no: dict[int, int]) -> str:
    p = passages[c.passage]
    has_year = re.search(r"\b(?:19|20)\d{2}\b", c.sentence)
    if not p.date:
        return ""
    n = cite_no[c.passage]
    if has_year:
        return f"_Date: the article [{n}] is dated {p.date_label}._"
    return f"_Date: the sentence gives no year; the article [{n}] is dated {p.date_label}._"


ELLIPSIS_PASSAGES = 2  # passages of the cited article searched for an elliptical follow-up's topic
_ELLIPSIS = re.compile(r"^\W*(?:and\s+)?(?:what|how)\s+about\s+(.+?)(?:[,?.]|$)", re.I)


def elliptical_topic(question: str) -> str:
    """The new topic of "What about training?" / "and how about the NCA?", else ``""``."""
    m = _ELLIPSIS.match(question)
    return m.group(1).strip() if m else ""


def search_query(question: str, query: str) -> str:
    """What retrieval searches: the rewritten query (see ``rewrite_query``)."""
    return query


_KIND_NOUNS = {
    "who": "person", "org": "organisation", "when": "date", "where": "place",
    "how_many": "number", "amount": "amount", "agreement": "named agreement",
}  # fmt: skip


def _closest(
    question: str, query: str, rewritten: bool, passages: Sequence[Passage], sel: Selection
) -> Answer:
    """A "closest match": the best candidate quoted under a note naming the part of the
    question no article mentions. Not ``answerable``: it does not answer the question."""
    from qa.constraints import _part

    ck = sel.closest
    assert ck is not None
    c = ck.candidate
    p = passages[c.passage]
    unmet_parts = ck.unmet + ck.role_unmet
    if unmet_parts:
        note = closest_match_message(question, unmet_parts, c.sentence, 1, p.text)
        missing = tuple(_part(x, question) for x in unmet_parts)
    else:
        noun = _KIND_NOUNS.get(sel.answer_kind, "answer")
        note = f"No article says {indirect(question)}; the closest match names no {noun} [1]."
        missing = (noun,)
    return Answer(
        question=question,
        text=closest_markdown(note, c.sentence.strip(), p),
        citations=(p,),
        passages=tuple(passages),
        answerable=False,
        confidence=round(sel.confidence, 4),
        query=query,
        rewritten=rewritten,
        sentences=(c.sentence.strip(),),
        supports=((1,),),
        missing=missing,
    )


def _declined(
    question: str, query: str, rewritten: bool, passages: Sequence[Passage], conf: float
) -> Answer:
    return Answer(
        question=question,
        text=declined_markdown(DECLINE_TEXT, passages),
        citations=(),
        passages=tuple(passages),
        answerable=False,
        confidence=round(conf, 4),
        query=query,
        rewritten=rewritten,
    )
