"""List questions: "Which MoUs ...", "what agencies ...", "list the crimes ...".

A list answer collects every item the retrieved sentences give, across sentences and
articles, deduplicated. Three steps live here, below ``qa.answering`` and above the leaf
modules: what the question lists (:func:`list_head`), which sentences give such items
(:func:`rank_list_sentences`), and the items of one sentence (:func:`list_items`, from the
typed phrases for named things, else from the sentence's enumeration).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Protocol

from qa.lexical import fold, tokenize
from qa.phrases import KIND_LABELS, named_in, sentence_entities
from qa.roles import SIDE_WORDS

# "Which MoUs ...", "what topics ...", "list ...", "name every ...": the answer is a list.
# The cue opens the question ("list", "name") or is a determiner of the listed noun.
_LIST_CUE = re.compile(r"^\s*(?:list|name|give|show)\b|\b(?:which|what|all|every|each)\b", re.I)
_CUE_FILLER = {"were", "are", "the", "all", "every", "each", "of", "me"}
CUE_WINDOW = 3  # the listed noun comes within this many words after its cue ("which two UK MoUs")
MAX_CUE_WORDS = 9  # ... counting only lower-case words, within this many words in all
_IRREGULAR_PLURALS = {"memoranda", "people", "criteria", "media"}
_NOT_PLURAL = {
    "was", "is", "has", "does", "this", "his", "its", "us", "across", "as", "thus", "plus",
    "bus", "news", "status", "process", "focus", "campus", "yes", "uk's", "series",
    # verbs in the third person that follow "what" ("What happens ...", "What helps ...")
    "happens", "means", "says", "makes", "remains", "seems", "goes", "comes", "gets", "takes",
    "helps", "needs", "matters", "causes",
}  # fmt: skip
_AUX = {
    "do", "does", "did", "is", "was", "has", "have", "had", "will", "would", "can", "could",
}  # fmt: skip
_WORD_RE = re.compile(r"[\w'’-]+")


def _plural(word: str) -> bool:
    w = word.lower()
    if w in _IRREGULAR_PLURALS:
        return True
    return (
        len(w) >= 4 and w.endswith("s") and not w.endswith(("ss", "'s", "’s"))
        and w not in _NOT_PLURAL
    )  # fmt: skip


def listed_noun(question: str) -> str:
    """The plural noun a list question counts ("crimes" in "list the crimes ..."), or ""."""
    for m in _LIST_CUE.finditer(question):
        cue = m.group(0).strip().lower()
        words = _WORD_RE.findall(question[m.end() :])[:MAX_CUE_WORDS]
        noun = (
            _after_determiner(words) if cue in ("all", "every", "each")
            else _after_question_word(words) if cue in ("which", "what")
            else _after_imperative(words)
        )  # fmt: skip
        if noun:
            return noun
    # A keyword query that opens with a plural noun lists them: "cities where vietnam uk
    # meetings held or planned", "mous signed by the border guard".
    words = _WORD_RE.findall(question)
    keyword = bool(words) and "?" not in question and not _QUESTION_OPENING.match(question)
    if keyword and _plural(words[0]) and words[0].islower() and words[0] not in _ONE_THING:
        return words[0]
    return ""


# Plural nouns that name one thing or an event, not a list of things ("talks between ...").
_ONE_THING = {"talks", "relations", "ties", "negotiations", "affairs", "discussions", "thanks"}
_QUESTION_OPENING = re.compile(
    r"^\s*(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|"
    r"could|has|have|had|will|would|should)\b",
    re.I,
)


def _after_determiner(words: list[str]) -> str:
    """ "all the crimes", "every agency's ...": the plural right after the determiner."""
    words = words[1:] if words and words[0].lower() == "the" else words
    return words[0] if words and _plural(words[0]) else ""


def _after_question_word(words: list[str]) -> str:
    """ "which MoUs", "what were the focus areas": the first plural before any verb.

    "which of his sisters" picks one of several; after an auxiliary ("what does mps stand
    for") or a possessive ("what are Vietnam's guards writing") the noun is the subject.
    """
    if not words or words[0].lower() in _AUX or words[0].lower() == "of":
        return ""
    while words and words[0].lower() in _CUE_FILLER:
        words = words[1:]
    for w in _window(words):
        if w.lower() in _AUX or w.lower() in ("are", "were") or w.lower().endswith(("'s", "’s")):
            return ""
        if _plural(w):
            return w
    return ""


def _window(words: list[str]) -> list[str]:
    """The words in which a cue's noun is looked for: ``CUE_WINDOW`` lower-case ones, the
    capitalised modifiers between them not counted ("which senior UK Home Office civil
    servants")."""
    out: list[str] = []
    lower = 0
    for w in words:
        out.append(w)
        lower += not w[:1].isupper()
        if lower == CUE_WINDOW:
            break
    return out


def _after_imperative(words: list[str]) -> str:
    """ "list the crimes ...", "name every UK Home Office figure ...": after "every" or
    "each" the noun may be singular, past its capitalised modifiers."""
    each = False
    while words and words[0].lower() in _CUE_FILLER:
        each = each or words[0].lower() in ("every", "each")
        words = words[1:]
    if each:
        return next((w for w in words[: CUE_WINDOW + 1] if w.islower()), "")
    return next((w for w in _window(words) if _plural(w)), "")


# Nouns that name the same kind of listed thing in news of diplomacy and law enforcement:
# a sentence naming any of a group's words is on a list of any other ("which documents" is
# answered by "the memoranda of understanding ..."). General English, not this corpus's.
HEAD_GROUPS: tuple[frozenset[str], ...] = tuple(
    frozenset(tokenize(" ".join(g)))
    for g in (
        ("memorandum", "memoranda", "mou", "mous", "agreement", "document", "declaration",
         "statement", "treaty", "accord", "deal", "pact"),
        ("agency", "body", "organisation", "organization", "institution", "unit", "ministry",
         "department", "office", "police", "authority", "force", "embassy"),
        ("topic", "area", "field", "issue", "subject", "content", "matter", "sector", "theme"),
        ("crime", "offence", "offense", "fraud", "laundering", "cybercrime"),
        ("official", "minister", "leader", "figure", "secretary", "people",
         "person", "delegation", "servant"),
        ("measure", "step", "action", "activity", "programme", "program", "project",
         "initiative", "campaign"),
        ("training", "course", "workshop", "seminar", "session"),
    )
)  # fmt: skip


# "During what years ...", "what dates ...": a span of time, asked by a when-question.
_TIME_NOUNS = {
    "years",
    "months",
    "days",
    "dates",
    "times",
    "decades",
    "centuries",
    "weeks",
    "hours",
}


def is_list_question(question: str) -> bool:
    """Whether the question asks for several items ("Which MoUs ...", "list ...")."""
    noun = listed_noun(question)
    return bool(noun) and noun.lower() not in _TIME_NOUNS


def listed_side(question: str) -> str:
    """``VN`` or ``UK`` when a nationality stands right before the listed noun ("Which
    Vietnamese ministries ...", "name every UK Home Office figure"), else ``""``."""
    noun = listed_noun(question)
    if not noun:
        return ""
    words = _WORD_RE.findall(question)
    at = next((i for i, w in enumerate(words) if w == noun), -1)
    for w in words[max(0, at - 3) : max(0, at)]:
        if w.lower() in SIDE_WORDS:
            return SIDE_WORDS[w.lower()]
    return ""


# What each group of listed nouns names, as ``qa.phrases.answer_kind`` calls it: a list of
# officials is a list of people ("name every UK Home Office figure").
_GROUP_KINDS = {"official": "who", "agency": "org", "memorandum": "agreement"}


def list_kind(question: str, asked: str) -> str:
    """The kind of a list's items: ``asked`` (the question's kind) if it has one, else the
    kind its listed noun's group names ("figures": people), else "" (descriptions)."""
    if asked:
        return asked
    head = list_head(question)
    for word, kind in _GROUP_KINDS.items():
        if tokenize(word)[0] in head:
            return kind
    return ""


@lru_cache(maxsize=1024)
def list_head(question: str) -> frozenset[str]:
    """The terms (BM25 stems) of what a list question lists, with their group's synonyms.

    "list the crimes the two sides agreed to fight" lists crimes (and frauds, laundering);
    empty when the question is no list question.
    """
    noun = frozenset(tokenize(listed_noun(question)))
    terms = noun
    for group in HEAD_GROUPS:
        if noun & group:  # the noun's own groups only: no chain from group to group
            terms |= group
    return terms


# --- the items of one sentence ---------------------------------------------------------------

_ENUM_SPLIT = re.compile(r"\s*(?:,|;|\bas well as\b)\s*", re.I)
_ENUM_LEAD = re.compile(
    r"^(?:(?:such as|including|especially|particularly|in|on|of|into|about|for|the|and|or|"
    r"to|with|areas?|fields?|related to|cases related to)\s+)+",
    re.I,
)
_CUES = re.compile(r"\b(?:such as|including|especially|namely|like)\b|:", re.I)
# A long first part often carries the clause that introduces the list ("cooperation in
# fighting crimes using technology"): the item starts after its last preposition + verb.
_INTRO = re.compile(r"^.*\b(?:in|into|on|against|of|for|to|about)\s+(?:\w+ing\s+)?(?=\w)", re.I)
MAX_ITEM_WORDS = 10  # an enumerated item longer than this is a clause, not an item
MAX_FIRST_WORDS = 4  # a first part longer than this is trimmed to its item (see _INTRO)
MIN_BARE_PARTS = 3  # without a cue ("such as", ":") a run of this many short parts is a list


_ADJECTIVE = re.compile(r"(?:al|ic|ive|ous|ful|ary|ian|ese|ish|ing)$", re.I)  # common suffixes


def _split_last_and(parts: list[str]) -> list[str]:
    """Split "X and Y" in the last part only: a middle "financial and banking crimes" or
    "culture and education" is one item, the last "..., and money laundering" is not."""
    if not parts:
        return parts
    head, _, tail = parts[-1].rpartition(" and ")
    # "financial and banking crimes": one adjective before "and" shares the noun after it.
    shared = len(head.split()) == 1 and len(tail.split()) > 1 and _ADJECTIVE.search(head)
    if head and tail and not shared and (len(parts) > 1 or len(head.split()) <= MAX_FIRST_WORDS):
        return [*parts[:-1], head, tail]
    return parts


def _clause_items(clause: str) -> tuple[list[str], bool]:
    """The enumerated parts of one clause and whether a cue ("such as", ":") introduced them."""
    body = clause.rstrip(" .…/")
    cues = list(_CUES.finditer(body))
    if cues:
        body = body[cues[-1].end() :]
    parts = [p.strip(" ,.;…/") for p in _ENUM_SPLIT.split(body)]
    parts = [p for p in parts if p]
    # After a cue the parts are the list, long ones included; without one, the last run.
    parts = _split_last_and(parts if cues else _last_run(parts))
    parts = [_ENUM_LEAD.sub("", p).strip(" ,.;") for p in parts]
    parts = [p for p in parts if p and len(p.split()) <= MAX_ITEM_WORDS]
    return parts, bool(cues)


def _last_run(parts: list[str]) -> list[str]:
    """The last run of short parts, its first part trimmed to the item it introduces: a long
    part is a clause ("he said the MPS ... in combating crimes"), which ends any list before
    it and whose tail ("crimes") is the first item of the list after it."""
    start = 0
    for i, p in enumerate(parts):
        if len(p.split()) > MAX_ITEM_WORDS and i < len(parts) - 1:
            start = i
    return _trim_first(parts[start:])


def _trim_first(parts: list[str]) -> list[str]:
    """The first part cut to the item it introduces ("cooperation in fighting crimes using
    technology": "crimes using technology"), when it is longer than ``MAX_FIRST_WORDS``."""
    run = list(parts)
    if run and len(run[0].split()) > MAX_FIRST_WORDS:
        trimmed = _INTRO.sub("", run[0])
        run[0] = trimmed if trimmed.strip() else run[0]
    return run


def enumeration(sentence: str, head: frozenset[str] = frozenset()) -> list[str]:
    """The parts of a sentence's enumeration ("X, Y and Z"); empty if it has none.

    Each clause (split at ";") is read on its own; the one naming what the question lists
    (``head``) wins, else the one with the most parts. Without a cue ("such as", "including",
    ":") at least ``MIN_BARE_PARTS`` short parts are needed: any sentence has commas.
    """
    best: tuple[int, int, list[str]] = (0, 0, [])
    for clause in re.split(r";|\.\.\.|…", sentence):
        parts, cued = _clause_items(clause)
        if len(parts) < (2 if cued else MIN_BARE_PARTS):
            continue
        on_head = int(bool(head & set(tokenize(clause))))
        best = max(best, (on_head, len(parts), parts), key=lambda b: (b[0], b[1]))
    return best[2]


def list_items(
    query: str,
    sentence: str,
    kind: str,
    head: frozenset[str] = frozenset(),
    entities: Callable[[str], list] | None = None,
    other_side: Callable[[str], bool] | None = None,
) -> list[str]:
    """The items a sentence gives: for a list of named things, every phrase of the asked
    kind's first tier (a person, an organisation, a named agreement) that the question does
    not name; for a list of descriptions, the parts of its enumeration. ``other_side(name)``
    says whether a named thing is of the other side than the one the list asks for ("Which
    Vietnamese ministries ...": not the UK Home Office)."""
    if not kind:
        return enumeration(sentence, head)
    labels = set(KIND_LABELS.get(kind, ((),))[0])
    found = entities(sentence) if entities else sentence_entities([sentence])[0]

    def typed(e: object) -> bool:
        # An acronym the patterns leave untyped ("NCA", "Met") names an organisation.
        acronym = kind == "org" and e.label == "NAME" and e.text.isupper() and len(e.text) > 1
        return e.label in labels or acronym

    owners = _owners(query, sentence)
    return [
        e.text for e in found
        if typed(e) and not named_in(e.text, query, e.label) and item_key(e.text) not in owners
        and not (other_side is not None and other_side(e.text))
    ]  # fmt: skip


# "the delegation of the Ministry of Public Security", "the Ministry's delegation": the
# owner of a thing the question names is not one of the things it lists (the agencies a
# delegation visited are not the ministry it came from).
_OWNED = r"\b(?i:{w})\s+of\s+(?:the\s+)?((?:[A-Z][\w'’-]*\s*(?:of\s+|and\s+|for\s+)?)+)"
_OWNER = r"((?:[A-Z][\w-]*\s+(?:of\s+|and\s+|for\s+)?)*[A-Z][\w-]*)['’][sS]\s+(?i:{w})\b"
MIN_OWNED_WORD = 4  # question words shorter than this ("uk", "met") own nothing here


def _owners(query: str, sentence: str) -> set[str]:
    """Item keys of the names that own a thing the question names, in this sentence."""
    out: set[str] = set()
    for w in {w for w in re.findall(r"[a-z]+", fold(query)) if len(w) >= MIN_OWNED_WORD}:
        for rx in (_OWNED, _OWNER):
            for m in re.finditer(rx.format(w=re.escape(w)), sentence):
                out.add(item_key(m.group(1).strip()))
    return out


def item_key(text: str) -> str:
    """The key items are deduplicated on: folded, spaces collapsed, no leading article."""
    return re.sub(r"^(?:the|a|an)\s+", "", " ".join(fold(text).split()))


# --- which sentences give the list ------------------------------------------------------------


class Scored(Protocol):
    """What the ranking needs of a candidate sentence (``qa.answering.Candidate``)."""

    sentence: str
    score: float
    semantic: float


# A sentence naming what the question lists ("crimes", or a synonym) is on the list's topic:
# its score counts this much more. Set by hand on hard-dev's list questions and the probes in
# tests/test_lists.py; any bonus from 0.1 to 0.3 orders them the same.
HEAD_BONUS = 0.2
# ... and more when its items themselves name it ("financial crimes", "money laundering" on a
# list of crimes): the enumeration is the list asked for, not another one in the same sentence.
ITEM_HEAD_BONUS = 0.2
# Further sentences join while they score at least this share of the lead (items from other
# articles included: a list collects across articles, issue 11 item 4).
LIST_JOIN_RATIO = 0.6
SELF_NAMING_SHARE = 0.5  # a lead whose items name the listed thing this often ...
JOIN_NAMING_SHARE = 0.3  # ... takes others whose items name it at least this often (set by hand)
MIN_LIST_SEMANTIC = 0.25  # below this cosine a sentence is off the question, whatever it lists


def rank_list_sentences(
    query: str,
    cands: Sequence[Scored],
    items: Callable[[str], list[str]],
    limit: int,
) -> list[Scored]:
    """The sentences of a list answer, best first: each gives items and adds a new one.

    ``items`` gives a sentence's items (:func:`list_items` bound to the question). The
    lead is the best sentence giving items, with ``HEAD_BONUS`` for naming the listed thing;
    others join at ``LIST_JOIN_RATIO`` of its score.
    """
    head = list_head(query)
    found = {id(c): items(c.sentence) for c in cands}  # each sentence's items, read once
    # A sentence whose items name the listed thing ("Memorandum of Understanding on ...") is
    # on the question however far its wording is from a keyword query's.
    on_topic = [
        c for c in cands
        if c.semantic >= MIN_LIST_SEMANTIC
        or any(head & set(tokenize(t)) for t in found[id(c)])
    ]  # fmt: skip
    if not on_topic:
        return []

    def naming(c: Scored) -> float:
        given = found[id(c)]
        return sum(1 for t in given if head & set(tokenize(t))) / max(len(given), 1)

    def score(c: Scored) -> float:
        on_head = bool(head & set(tokenize(c.sentence)))
        return c.score + HEAD_BONUS * on_head + ITEM_HEAD_BONUS * naming(c)

    # The best-scoring sentence may give its items in a way no enumeration reads ("played
    # the flute and violin"): it stays in the running; the bonuses go to listing sentences.
    best = max(on_topic, key=lambda c: c.score)
    ranked = sorted(
        ((score(c), c) for c in on_topic if c is best or found[id(c)]), key=lambda sc: -sc[0]
    )
    floor = LIST_JOIN_RATIO * ranked[0][0]
    out: list[Scored] = [ranked[0][1]]
    seen = {item_key(t) for t in found[id(out[0])]}
    # When the lead's items name the listed thing themselves ("financial crimes", "money
    # laundering" for crimes), a sentence joins only if its items do too: "combating crimes,
    # migration, border control management" is a list of something else.
    self_naming = naming(out[0]) >= SELF_NAMING_SHARE
    for s, c in ranked[1:]:
        if s < floor or len(out) == limit:
            break
        if self_naming and naming(c) < JOIN_NAMING_SHARE:
            continue
        new = {item_key(t) for t in found[id(c)]} - seen
        if new:
            out.append(c)
            seen |= new
    return out
