"""Answers from the extracted structure: timelines, periods, people, organisations, agreements.

``route(question)`` decides whether a question asks for structure (an order or timeline, what
happened in a period, a list of people or organisations, agreements across meetings, change over
time, who someone met) and returns the route's name, or ``None`` for every other question, which
then takes the ordinary extractive path. It is deliberately conservative: it needs a plural list
word ("officials", "agreements"), an order or change word, or a period, so "Which UK official did
To Lam speak with?" stays a fact question.

``structured_answer(question, structure)`` gives the rows: a date, a line of text built from the
extracted fields, and the quoted sentences it rests on as ``Passage`` citations. No rows means the
structure holds nothing for the question; the caller should decline or fall back.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from qa.lexical import fold
from qa.structure import Agreement, Citation, Entity, Event, Structure
from qa.types import Passage

ROUTES = (
    "timeline", "period", "people", "organisations", "agreements", "recurring_agreements",
    "change", "counterparts",
)  # fmt: skip
MAX_CITATIONS_PER_ROW = 2  # the sentence that states the row, and one more at most

_MONTH_NAMES = [m.lower() for m in calendar.month_name if m]
_MONTH = "(?:" + "|".join(_MONTH_NAMES) + ")"
_YEAR = r"(?:19|20)\d\d"
_EVENT_NOUNS = r"(?:meetings?|events?|visits?|phone calls?|calls?|talks|dialogues?|receptions?|conferences?|encounters?|contacts?)"
_KIND_WORDS = {
    "phone call": r"\b(?:phone|telephone) (?:calls?|talks)\b|\bcalls\b",
    "visit": r"\bvisits\b",
    "dialogue": r"\bdialogues\b",
    "reception": r"\breceptions\b",
    "talks": r"\btalks\b",
    "conference": r"\bconferences\b",
}

# After a list noun, only words that keep the question a plain listing ("are mentioned", "appear
# in the articles", "have been proposed but not signed"); anything else makes it a fact question.
_LISTING_TAIL = (
    r"(?: (?:are|were|is|have|has|been|get|got|mentioned|named|involved|appear\w*|featured|quoted|"
    r"cited|listed|proposed|signed|reaffirmed|agreed|discussed|implemented|but|not|yet|so|far|in|"
    r"the|these|all|articles?|reports?|documents|news|corpus|across|overall|by|both|sides?|there|"
    r"from|vietnam|vietnamese|uk|british|britain|"
    r"of|them|us|me|please|mention|mentions|name|names))*\s*[?.!]*$"
)
# "name every UK Home Office figure ...": after "every"/"each" the listed noun is singular.
_EVERY_HEAD = r"^(?:list|name|show|show me|give me)(?: all| the)* (?:every|each)(?: [\w'-]+){0,3}? "
_LIST_HEAD = r"^(?:which|what|list|name|show|show me|give me|who are|who were)(?: all| the| of the| me)*(?: [\w'-]+){0,3}? "

_ROUTE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rx))
    for name, rx in (
        # "Who did To Lam talk to?": a name (not "the delegation"), at most a short tail.
        (
            "counterparts",
            r"^who (?:did|has|have|had) (?P<who>(?!(?:the|a|an|his|her|their|he|she|they|it|we|you|i|this|that|these|those) )[\w'-]+(?: [\w'-]+){0,3}?) (?:talk|speak|spoke|meet|met|call|phone|hold talks|held talks|receive|host)\w*(?: (?:to|with))?(?: [\w'-]+){0,3}\s*\??$",
        ),
        (
            "recurring_agreements",
            r"\b(?:agreements?|memorand\w*|mous?|documents?|pledges?|commitments?)\b.*\b(?:every|each|all (?:the )?(?:meetings|events|talks)|recurr?\w*|repeated\w*|again and again|most often|keeps? coming|come up|comes up|more than once)\b",
        ),
        (
            "change",
            rf"\bhow (?:has|have|did|was|were|is)\b.{{0,80}}\b(?:chang\w*|evolv\w*|develop\w*|progress\w*|grow\w*|deepen\w*|shift\w*)\b|\b(?:over time|over the years|trend)\b|\bfrom {_YEAR} (?:to|until|till) {_YEAR}\b|\bwhat (?:has |have )?changed\b|\bbetween {_YEAR} and {_YEAR}\b",
        ),
        (
            "period",
            rf"\bwhat (?:happened|took place|went on|was (?:agreed|discussed|signed)|events?|meetings?)\b.{{0,20}}\b(?:in|during|on|between)\s+(?:{_MONTH}(?:\s+{_YEAR})?|{_YEAR})\s*\??$|\b{_EVENT_NOUNS} (?:in|during)\s+(?:{_MONTH}\s+{_YEAR}|{_YEAR})\s*\??$",
        ),
        (
            "timeline",
            rf"\b(?:chronolog\w*|timeline|time line|in (?:date |time |what )?order(?! to)|sequence of)\b|\b(?:list|show|give me|enumerate)\b.{{0,25}}\b{_EVENT_NOUNS}\b|^(?:what|which) (?:meetings|events|visits|phone calls|talks|dialogues|receptions|conferences) (?:have|were|are|did|took|has)\b|\ball (?:the )?(?:meetings|events|visits)\b|\bhow many (?:meetings|events|visits|phone calls|calls|dialogues)\b|^when did the (?:meetings|events|visits|talks|phone calls|calls|dialogues) (?:take place|happen|occur)\b",
        ),
        (
            "people",
            _LIST_HEAD
            + r"(?:officials|people|persons|ministers|leaders|participants|delegates|politicians|figures|officers)"
            + _LISTING_TAIL
            + "|"
            + _EVERY_HEAD
            + r"(?:official|person|minister|leader|participant|delegate|politician|figure|officer)"
            + _LISTING_TAIL
            + r"|\bwho'?s who\b",
        ),
        (
            "organisations",
            _LIST_HEAD
            + r"(?:organi[sz]ations|agencies|ministries|institutions|bodies|departments)"
            + _LISTING_TAIL,
        ),
        (
            "agreements",
            _LIST_HEAD
            + r"(?:agreements|memoranda|mous|documents|pledges|treaties|joint statements|declarations|commitments)"
            + _LISTING_TAIL,
        ),
    )
)


@dataclass(frozen=True)
class Row:
    """One line of a structured answer: when, what, and the sentences that say so."""

    date: str
    date_inferred: bool
    text: str
    citations: tuple[Passage, ...]
    event_id: str = ""

    @property
    def date_label(self) -> str:
        """The date as users should see it, marked where it is inferred."""
        if not self.date:
            return "date not stated"
        return f"{self.date} (inferred)" if self.date_inferred else self.date


@dataclass(frozen=True)
class StructuredAnswer:
    """The rows for a structure question, with the route that produced them."""

    question: str
    route: str
    heading: str
    rows: tuple[Row, ...]


def _norm(question: str) -> str:
    return " ".join(fold(question).replace("’", "'").split())


def route(question: str) -> str | None:
    """The structure route for ``question``, or ``None`` when it is an ordinary question."""
    q = _norm(question)
    if not q:
        return None
    for name, rx in _ROUTE_RULES:
        if rx.search(q):
            return name
    return None


def structured_answer(question: str, structure: Structure) -> StructuredAnswer:
    """Rows answering a structure question (empty when the structure has nothing for it)."""
    name = route(question) or "timeline"
    q = _norm(question)
    build = {
        "timeline": _timeline,
        "period": _period,
        "people": _people,
        "organisations": _organisations,
        "agreements": _agreements,
        "recurring_agreements": _recurring,
        "change": _change,
        "counterparts": _counterparts,
    }[name]
    heading, rows = build(q, structure)
    return StructuredAnswer(question, name, heading, tuple(rows))


# --- helpers ---------------------------------------------------------------------------------


def _cites(cites: tuple[Citation, ...], prefer: str = "") -> tuple[Passage, ...]:
    ordered = sorted(cites, key=lambda c: (c.text != prefer, c.doc_id, c.start))
    return tuple(c.passage() for c in ordered[:MAX_CITATIONS_PER_ROW])


def _who(e: Event) -> str:
    parts = []
    for p in e.participants:
        extra = ", ".join(x for x in (p.role, p.side) if x)
        parts.append(f"{p.name} ({extra})" if extra else p.name)
    return "; ".join(parts)


def _event_text(e: Event, with_agreements: bool = False) -> str:
    head = e.kind.capitalize() + (f" — {e.name}" if e.name else "")
    bits = [head]
    who = _who(e)
    if who:
        bits.append(f"with {who}" if e.kind != "dialogue" else f"between {who}")
    if e.place:
        bits.append(f"in/at {e.place}")
    text = ", ".join(bits)
    if e.end_date:
        text += f" (until {e.end_date})"
    if e.planned:
        text += " (planned)"
    if with_agreements and e.agreements:
        text += ". Agreements: " + "; ".join(
            f"{a.name} ({a.status}{', by ' + a.by if a.by else ''})" for a in e.agreements
        )
    return text


def _event_row(e: Event, with_agreements: bool = False) -> Row:
    return Row(
        e.date,
        e.date_inferred,
        _event_text(e, with_agreements),
        _cites(e.citations, e.summary),
        e.id,
    )


def _years(q: str) -> tuple[int, int] | None:
    ys = [int(y) for y in re.findall(rf"\b({_YEAR})\b", q)]
    if not ys:
        return None
    if re.search(rf"\b(?:since|after|from) {ys[0]}\b", q) and len(ys) == 1:
        return ys[0], 9999
    if re.search(rf"\b(?:before|until) {ys[0]}\b", q) and len(ys) == 1:
        return 0, ys[0]
    return min(ys), max(ys)


def _in_years(e: Event, span: tuple[int, int] | None) -> bool:
    return span is None or (bool(e.date) and span[0] <= int(e.date[:4]) <= span[1])


def _person_filter(q: str, structure: Structure) -> Entity | None:
    for ent in structure.entities:
        if ent.kind != "person":
            continue
        for v in sorted({ent.name, *ent.variants}, key=len, reverse=True):
            if len(v.split()) >= 2 and re.search(rf"\b{re.escape(_norm(v))}\b", q):
                return ent
    return None


def _kind_filter(q: str) -> set[str]:
    return {k for k, rx in _KIND_WORDS.items() if re.search(rx, q)}


def _side_filter(q: str) -> str:
    uk = re.search(r"\b(?:uk|british|britain|english|united kingdom)\b", q)
    vn = re.search(r"\b(?:vietnam|vietnamese|viet nam)\b", q)
    if uk and not vn:
        return "UK"
    if vn and not uk:
        return "VN"
    return ""


def _held(events: tuple[Event, ...]) -> list[Event]:
    return [e for e in events if not e.planned]


# --- routes ----------------------------------------------------------------------------------


def _timeline(q: str, s: Structure) -> tuple[str, list[Row]]:
    kinds = _kind_filter(q)
    person = _person_filter(q, s)
    span = _years(q)
    rows = [
        _event_row(e)
        for e in s.events
        if (not kinds or e.kind in kinds)
        and (person is None or any(p.entity_id == person.id for p in e.participants))
        and _in_years(e, span)
    ]
    return "Events in date order", rows


def _period(q: str, s: Structure) -> tuple[str, list[Row]]:
    m = re.search(rf"\b({_MONTH})(?:\s+({_YEAR}))?\b", q)
    y = re.search(rf"\b({_YEAR})\b", q)
    if m:
        month = _MONTH_NAMES.index(m.group(1)) + 1
        year = m.group(2) or (y.group(1) if y else "")
        prefix = f"{year}-{month:02d}" if year else f"-{month:02d}"
        label = f"{m.group(1).capitalize()} {year}".strip()
    elif y:
        prefix, label = y.group(1), y.group(1)
    else:
        return "What happened", []

    def hit(e: Event) -> bool:
        if not e.date:
            return False
        if prefix.startswith("-"):
            return e.date[4:7] == prefix or (bool(e.end_date) and e.end_date[4:7] == prefix)
        lo, hi = e.date, e.end_date or e.date
        return (
            lo.startswith(prefix)
            or hi.startswith(prefix)
            or lo[: len(prefix)] <= prefix <= hi[: len(prefix)]
        )

    return f"What happened in {label}", [_event_row(e, True) for e in s.events if hit(e)]


def _people(q: str, s: Structure) -> tuple[str, list[Row]]:
    side = _side_filter(q)
    rows = []
    for e in s.entities:
        if e.kind != "person" or (side and e.side != side):
            continue
        roles = list(dict.fromkeys(r for r, _ in e.roles))
        first = min((d for _, d in e.roles if d), default="")
        text = (
            e.name
            + (f" — {', '.join(roles)}" if roles else "")
            + (f" ({e.side})" if e.side else "")
        )
        rows.append(Row(first, False, text, _cites(e.mentions)))
    rows.sort(key=lambda r: (r.date == "", r.date, r.text))
    who = {"UK": "UK people", "VN": "Vietnamese people"}.get(side, "People")
    return f"{who} named in the articles", rows


def _organisations(q: str, s: Structure) -> tuple[str, list[Row]]:
    side = _side_filter(q)
    rows = [
        Row("", False, e.name + (f" ({e.side})" if e.side else ""), _cites(e.mentions))
        for e in s.entities
        if e.kind == "org" and (not side or e.side == side)
    ]
    return "Organisations named in the articles", rows


def _agreement_text(a: Agreement, s: Structure) -> str:
    parts = []
    for x in a.events:
        e = s.event(x.event_id)
        where = f"{e.kind} on {e.date or 'an unstated date'}" if e else "an unstated occasion"
        parts.append(
            f"{x.status} at the {where}"
            + (f" (proposed by {x.by})" if x.by and x.status == "proposed" else "")
        )
    signed = f"; signed {a.signed}" if a.signed else ""
    return f"{a.name}{signed}: " + "; ".join(parts)


def _agreement_date(a: Agreement, s: Structure) -> tuple[str, bool]:
    dated = [e for e in (s.event(x.event_id) for x in a.events) if e and e.date]
    if not dated:
        return a.signed, False
    first = min(dated, key=lambda e: e.date)
    return first.date, first.date_inferred


def _agreements(q: str, s: Structure) -> tuple[str, list[Row]]:
    rows = []
    for a in s.agreements:
        date, inferred = _agreement_date(a, s)
        rows.append(
            Row(
                date,
                inferred,
                _agreement_text(a, s),
                _cites(tuple(c for x in a.events for c in x.citations[:1])),
            )
        )
    rows.sort(key=lambda r: (r.date == "", r.date, r.text))
    return "Agreements and what happened to them", rows


def _recurring(q: str, s: Structure) -> tuple[str, list[Row]]:
    meetings = [e for e in _held(s.events) if e.agreements]
    n = len(meetings)
    rows = []
    for a in sorted(s.agreements, key=lambda a: (-len(a.events), a.name)):
        k = len({x.event_id for x in a.events if x.event_id})
        if k < 2:
            continue
        date, inferred = _agreement_date(a, s)
        text = (
            f"{a.name} — comes up at {k} of the {n} events that touch an agreement. "
            + _agreement_text(a, s)
        )
        rows.append(
            Row(date, inferred, text, _cites(tuple(c for x in a.events for c in x.citations[:1])))
        )
    return "Agreements that come up at more than one event", rows


def _change(q: str, s: Structure) -> tuple[str, list[Row]]:
    span = _years(q)
    rows = [_event_row(e, True) for e in _held(s.events) if e.date and _in_years(e, span)]
    return "How the cooperation developed, event by event", rows


def _counterparts(q: str, s: Structure) -> tuple[str, list[Row]]:
    m = _ROUTE_RULES[0][1].search(q)
    who = m.group("who") if m else ""
    person = s.entity(who) or _person_filter(q, s)
    if person is None:
        return f"Who {who} met", []
    rows = []
    for e in s.events:
        if not any(p.entity_id == person.id for p in e.participants):
            continue
        others = [p for p in e.participants if p.entity_id != person.id]
        if not others:
            continue
        text = f"{e.kind.capitalize()}: " + "; ".join(
            p.name + (f" ({p.role}, {p.side})" if p.role else f" ({p.side})" if p.side else "")
            for p in others
        )
        rows.append(Row(e.date, e.date_inferred, text, _cites(e.citations, e.summary), e.id))
    return f"Who {person.name} met or spoke with", rows
