"""The role a who-question asks for, and whether a person in a sentence holds it.

"Who is the Commissioner of the Metropolitan Police?" is not answered by whichever person a
sentence about the Met names: the person must be stated to hold the role. A role is asked by
its head noun ("who is the NCA's operations *chief*", "which UK home *secretary*") or by a
verb that states it ("who *signed* ...", "who *co-chaired* ..."). A person holds it when a
word of the head's group stands next to them: in the title before the name ("National
Assembly Chairman Vuong Dinh Hue") or the appositive after it ("Rob Jones, Director General
for Operations"), or, when the sentence gives them no title, next to another mention of them
in the article. Groups treat head-noun synonyms generally: an "operations chief" is met by a
"Director General for Operations", a "number two civil servant" by a "Second Permanent
Secretary"; modifiers ("operations", "number two") are left to the other checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from qa.lexical import fold

# Head nouns of offices in news and encyclopaedic text, each with the words that state it.
# Leadership nouns are one group (a "chief" may be written "head", "director", "chairman");
# a UK "secretary" of state is a minister and the reverse; a civil servant is titled
# "secretary" or "under-secretary". Generic person nouns ("official", "officer", "person")
# ask for no particular role and are not listed.
_LEADER = ("chief", "head", "director", "leader", "chairman", "chairwoman", "chair",
           "president", "commander", "boss")  # fmt: skip
# ... and the verbs that state them: "operas directed by Gaspare Spontini" names a director
# (SQuAD train), "the delegation led by its Deputy Minister" a leader.
_LEADS = (*_LEADER, "led", "headed", "directed", "chaired", "commanded")
_MINISTER = ("minister", "secretary")
ROLE_HEADS: dict[str, tuple[str, ...]] = {
    **{w: _LEADS for w in _LEADER},
    "commissioner": ("commissioner",),
    "minister": _MINISTER,
    # a head of government is no other minister ("Which Vietnamese prime minister ...?")
    "prime minister": ("prime minister", "premier"),
    "secretary": (*_MINISTER, "under-secretary"),
    "under-secretary": ("secretary", "under-secretary"),
    "civil servant": ("civil servant", "secretary", "under-secretary"),
    "ambassador": ("ambassador", "envoy"),
    "envoy": ("ambassador", "envoy"),
    "spokesperson": ("spokesperson", "spokesman", "spokeswoman"),
    "spokesman": ("spokesperson", "spokesman", "spokeswoman"),
    "spokeswoman": ("spokesperson", "spokesman", "spokeswoman"),
    "general": ("general",),
    # offices of other fields: asked for, they must be stated ("the current manager of ...")
    **{w: (w,) for w in ("manager", "coach", "captain", "mayor", "governor", "king", "queen")},
}
# Verbs that state a role: the person must stand next to the verb (or its noun).
ROLE_VERBS: dict[str, tuple[str, ...]] = {
    "signed": ("signed", "signing", "signatory", "signatories"),
    "co-chaired": ("co-chaired", "co-chairing", "co-chair", "co-chairs", "co-chairman"),
    "chaired": ("chaired", "chairing", "chair", "chairman", "chairwoman", "co-chaired",
                "co-chairing"),
    # "Who led the delegation?": "a delegation ... led by its Deputy Minister ... Le Quoc Hung"
    "led": ("led", "leads", "leading", "leader", "headed", "heads", "head"),
    "headed": ("led", "leads", "leading", "leader", "headed", "heads", "head"),
}  # fmt: skip
# Words between a role verb and the person who did it: "Ridley signed" (0), "The Yarlung
# rulers of Tibet also signed" (4, SQuAD train). Set by hand; "Deputy Minister Chien
# congratulated his guest on successfully co-chairing" (5 words) is the guest's act.
VERB_WINDOW = 4
# Words of a title before a name or of an appositive after it that are read as the
# person's role ("Minister of State (Minister for Immigration) at the Home Office Robert
# Jenrick": 8). Set by hand on the corpus's titles.
ROLE_WINDOW = 8

_HEAD_RE = "|".join(
    sorted((re.escape(h).replace(r"\ ", r"\s+") for h in ROLE_HEADS), key=len, reverse=True)
)
# "who is the NCA's operations chief", "who was Vietnam's parliament chief",
# "which UK home secretary", "what is the name of the commissioner"
_ASKED_NOUN = re.compile(
    r"\b(?:who(?:'s|’s)?(?:\s+(?:is|was|are|were|has\s+been|had\s+been|will\s+be))?"
    r"|(?:which|what|name\s+of)(?:\s+(?:is|was))?)\s+"
    r"(?:(?:the|a|an)\s+)?(?:[\w'’-]+\s+){0,4}?"
    rf"(?P<head>{_HEAD_RE})s?\b",
    re.I,
)
# "who signed ...", "which Vietnamese official co-chaired ...", "what minister led ..."
_ASKED_VERB = re.compile(
    r"\b(?:who|(?:which|what)\s+(?:[\w'’-]+\s+){1,3}?)\s*(?P<verb>"
    + "|".join(re.escape(v) for v in ROLE_VERBS)
    + r")\b",
    re.I,
)
# A clause break: punctuation, but not the dot of an abbreviated title ("Sen. Lieut. Gen.
# Lương Tam Quang": the title is his).
_TITLE_ABBREVIATIONS = (
    "Sen|Lieut|Lt|Gen|Col|Maj|Capt|Cpt|Sgt|Adm|Cmdr|Brig|Dr|Mr|Mrs|Ms|Prof|Rev|Gov|Rep|Hon|St"
)
_CLAUSE_END = re.compile(r"[,;:!?]|(?<![A-Za-z])(?!(?:" + _TITLE_ABBREVIATIONS + r")\.)\w*\.")
_WORD = re.compile(r"[\w'’-]+", re.UNICODE)


@dataclass(frozen=True)
class AskedRole:
    """A role a question asks for: ``text`` as the question says it, ``words`` the words
    that state it in a text, ``verb`` whether it is asked by a verb (then the person must
    stand within ``VERB_WINDOW`` words of one of ``words``)."""

    text: str
    words: tuple[str, ...]
    verb: bool = False


def asked_role(question: str) -> AskedRole | None:
    """The role a who/which-question asks for, or ``None`` ("Who hosted Ridley?": none)."""
    m = _ASKED_VERB.search(question)
    if m:
        verb = m.group("verb").lower()
        # "one who signed": the closest-match note reads "names no one who signed"
        return AskedRole(f"one who {m.group('verb')}", ROLE_VERBS[verb], verb=True)
    m = _ASKED_NOUN.search(question)
    if m is None:
        return None
    head = " ".join(m.group("head").lower().split())
    return AskedRole(question[m.start("head") : m.end("head")], ROLE_HEADS[head])


def _has_word(words: tuple[str, ...], text: str) -> bool:
    folded = fold(text)
    return any(re.search(rf"\b{re.escape(w)}s?\b", folded) for w in words)


def role_context(sentence: str, start: int, end: int, others: tuple[int, ...] = ()) -> str:
    """The words of ``sentence[start:end]``'s title and appositive: up to ``ROLE_WINDOW``
    words before it back to a clause break or another name (``others``: their end offsets),
    and after it, when a comma or parenthesis opens an appositive, up to the next break."""
    floor = max([0, *(o for o in others if o <= start)])
    before = sentence[floor:start]
    breaks = list(_CLAUSE_END.finditer(before))
    if breaks:
        before = before[breaks[-1].end() :]
    before = " ".join(_WORD.findall(before)[-ROLE_WINDOW:])
    after = ""
    rest = sentence[end:]
    if re.match(r"\s*[,(]", rest):
        body = re.split(r"[,;:.!?)](?=\s|$)", rest.lstrip()[1:], maxsplit=1)[0]
        after = " ".join(_WORD.findall(body)[:ROLE_WINDOW])
    return f"{before} {after}".strip()


def _mentions(name: str, text: str) -> list[tuple[int, int]]:
    """Where the last word of a name occurs in ``text`` (folded; "Jones" for "Rob Jones")."""
    words = _WORD.findall(fold(name))
    if not words:
        return []
    folded = fold(text)
    return [(m.start(), m.end()) for m in re.finditer(rf"\b{re.escape(words[-1])}\b", folded)]


def holds_org(
    variants: tuple[str, ...],
    sentence: str,
    start: int,
    end: int,
    others: tuple[int, ...] = (),
    article: str = "",
) -> bool:
    """Whether the person ``sentence[start:end]`` is stated to be of the organisation whose
    folded names are ``variants``: in the title or appositive here ("Rob Jones, Director
    General for Operations at the NCA") or at another mention in ``article``."""

    def says(context: str) -> bool:
        folded = " ".join(_WORD.findall(fold(context)))
        return any(re.search(rf"\b{re.escape(v)}\b", folded) for v in variants)

    return _stated(says, sentence, start, end, others, article)


def _stated(
    says: Callable[[str], bool],
    sentence: str,
    start: int,
    end: int,
    others: tuple[int, ...],
    article: str,
) -> bool:
    """Whether the title or appositive of ``sentence[start:end]`` ``says`` it, here or at
    another mention of the phrase in ``article``."""
    if says(role_context(sentence, start, end, others)):
        return True
    # offsets are in the folded article, so its own contexts are read
    folded = fold(article)
    return any(says(role_context(folded, s, e)) for s, e in _mentions(sentence[start:end], article))


def holds_role(
    role: AskedRole,
    sentence: str,
    start: int,
    end: int,
    others: tuple[int, ...] = (),
    article: str = "",
) -> bool:
    """Whether the phrase ``sentence[start:end]`` is stated to hold ``role``.

    A verb role is held by a phrase within ``VERB_WINDOW`` words of the verb. A noun role is
    held when the title or appositive of the phrase, here or at another mention of it in
    ``article``, has a word of the role: one person holds several ("General To Lam, Minister
    of Public Security"; "Minister To Lam said").
    """
    if role.verb:
        return _near_verb(role, sentence, start, end)
    return _stated(lambda c: _has_word(role.words, c), sentence, start, end, others, article)


# A role verb used as an adjective states no one's act: "to implement signed agreements",
# "the signed MoU".
_ADJECTIVAL = re.compile(r"\b(?:the|a|an|all|these|those|its|their|his|her|to\s+\w+)\s+$", re.I)


def _verb_spans(role: AskedRole, sentence: str) -> list[tuple[int, int]]:
    """Where the role's words occur in ``sentence`` as a verb or noun, not as an adjective."""
    pattern = rf"\b(?:{'|'.join(map(re.escape, role.words))})\b"
    return [
        (m.start(), m.end())
        for m in re.finditer(pattern, sentence, re.I)
        if not _ADJECTIVAL.search(sentence[: m.start()])
    ]


def _near_verb(role: AskedRole, sentence: str, start: int, end: int) -> bool:
    for vs, ve in _verb_spans(role, sentence):
        between = sentence[end:vs] if vs >= end else sentence[ve:start]
        if vs < end and not re.match(r"\s*by\b", sentence[ve:], re.I):
            # after the verb a name is its object ("signed in November, 2018, the Border
            # Guard Command ..."); only "signed by X" / "led by X" names who did it
            continue
        # a title between verb and name ("led by its Deputy Minister Lieutenant General Le
        # Quoc Hung") is part of the name: only lower-case words count
        if sum(1 for w in _WORD.findall(between) if not w[:1].isupper()) <= VERB_WINDOW:
            return True
    return False


# A group named by a common noun right before a role verb: "the two defence ministries
# co-chaired". Sides and parties are excluded: "both sides signed" restates the question's
# own participants and names neither.
_GROUP_SUBJECT = re.compile(
    r"\b(?:the|both|all|two|three|four|its|their)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:ministries|agencies|governments|countries|delegations|ministers|leaders|"
    r"departments|forces|nations|organi[sz]ations|officials)\s*$",
    re.I,
)


def verb_subject(role: AskedRole, sentence: str) -> tuple[int, int] | None:
    """The span of a group noun phrase that is the subject of the role verb, or ``None``."""
    if not role.verb:
        return None
    for m in re.finditer(rf"\b(?:{'|'.join(map(re.escape, role.words))})\b", sentence, re.I):
        found = _GROUP_SUBJECT.search(sentence[: m.start()])
        if found:
            return found.start(), found.end() - (len(found.group(0)) - len(found.group(0).rstrip()))
    return None


# The side a who-question's person must be on: a nationality right before the asked noun
# ("Which Vietnamese deputy minister ...", "Who was Britain's home secretary ..."), not one
# that modifies something else ("Who did the Vietnamese delegation meet?" asks a Briton).
SIDE_WORDS = {
    "vietnamese": "VN", "vietnam": "VN", "vietnam's": "VN", "vietnam’s": "VN", "hanoi": "VN",
    "hanoi's": "VN", "hanoi’s": "VN", "british": "UK", "uk": "UK", "uk's": "UK", "uk’s": "UK",
    "britain": "UK", "britain's": "UK", "britain’s": "UK", "english": "UK", "london": "UK",
}  # fmt: skip
"""Words that name a side of the corpus's cooperation (``VN`` or ``UK``), lower case."""
_PERSON_HEADS = (
    r"minister|officials?|officers?|secretary|ambassador|general|director|leader|chief|"
    r"head|commissioner|civil servant|under-secretary|envoy|spokes\w+|deputy|counterpart|"
    r"legislator|lawmaker|premier|prime minister|president|chairman"
)
_ASKED_SIDE = re.compile(
    r"(?:\b(?:which|what)|^\s*who\s+(?:is|was|are|were)(?:\s+the)?)\s+"
    r"(?P<side>vietnamese|vietnam['’]s|hanoi['’]s|british|uk['’]?s?|britain['’]s|english)\s+"
    r"(?:[\w-]+\s+){0,3}?(?:" + _PERSON_HEADS + r")\b",
    re.I,
)


def asked_side(question: str) -> str:
    """``VN`` or ``UK`` when the question asks for a person of that side, else ``""``."""
    m = _ASKED_SIDE.search(question)
    return SIDE_WORDS.get(m.group("side").lower(), "") if m else ""
