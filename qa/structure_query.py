"""Reading an index's structure and querying it: the timeline, the entities, the agreements.

``read_structure`` loads ``structure.json`` from a version folder (already checksummed by the
store) and checks it against the index's documents; a version built before extraction existed
has no such file, and its structure is extracted from the stored documents instead.
``timeline``/``entities``/``agreements`` filter a :class:`~qa.structure.Structure` after checking
their arguments at the door (:class:`StructureQueryError`, a ``QAError`` and a ``ValueError``).

Names match the way users type them: diacritics and case ignored, a surname alone, a variant
("Minister To Lam", "NCA"), or a near miss ("Yvete Cooper").
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from qa.errors import IndexCorruptError, QAError
from qa.lexical import fold
from qa.structure import (
    KINDS,
    SCHEMA_VERSION,
    STRUCTURE_FILE,
    Agreement,
    Entity,
    Event,
    Structure,
    extract,
)
from qa.types import Document

log = logging.getLogger("qa")

ENTITY_KINDS = ("person", "org", "place")
SIDES = ("VN", "UK")
# How the sides may be typed: the codes, the countries, their adjectives.
_SIDE_ALIASES = {
    "vn": "VN", "vietnam": "VN", "viet nam": "VN", "vietnamese": "VN",
    "uk": "UK", "united kingdom": "UK", "britain": "UK", "british": "UK", "gb": "UK",
}  # fmt: skip
_KIND_ALIASES = {
    "organisation": "org", "organization": "org", "organisations": "org", "organizations": "org",
    "orgs": "org", "people": "person", "persons": "person", "places": "place",
}  # fmt: skip
# Event kinds as typed: plurals, and a call by any name.
_EVENT_ALIASES = {
    **{f"{k}s": k for k in KINDS if not k.endswith("s")},
    "call": "phone call", "calls": "phone call", "telephone call": "phone call",
    "telephone calls": "phone call", "talk": "talks",
}  # fmt: skip
# A near miss of a name counts from this similarity (difflib ratio) on: "yvete cooper" and
# "yvette cooper" are 0.96, "jenrik" and "jenrick" 0.92, while different surnames of the
# corpus ("cooper"/"cleverly") stay below 0.6.
NAME_CUTOFF = 0.85
_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


class StructureQueryError(QAError, ValueError):
    """A bad argument to ``timeline``/``entities``/``agreements`` (names the value and the fix)."""


# --- reading ---------------------------------------------------------------------------------


def read_structure(folder: Path, documents: Sequence[Document], index_path: Path) -> Structure:
    """The structure of the version in ``folder``; raises ``IndexCorruptError`` if unreadable."""
    fix = f"Fix: rebuild it with `qa index --index {index_path}`."
    path = folder / STRUCTURE_FILE
    if not path.exists():
        log.warning(
            "index %s has no %s (built before extraction existed); extracting it from the "
            "stored documents. Rebuild with `qa index --index %s` to store it.",
            index_path, STRUCTURE_FILE, index_path,
        )  # fmt: skip
        return extract(documents)
    try:
        structure = Structure.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(
            f"Index {str(index_path)!r}: {STRUCTURE_FILE} could not be read ({exc}). {fix}"
        ) from exc
    known = {d.doc_id for d in documents}
    cited = {c.doc_id for e in structure.events for c in e.citations}
    cited |= {c.doc_id for e in structure.entities for c in e.mentions}
    cited |= {c.doc_id for a in structure.agreements for c in a.citations}
    unknown = sorted(cited - known)
    if unknown:
        raise IndexCorruptError(
            f"Index {str(index_path)!r}: {STRUCTURE_FILE} cites documents the index does not "
            f"hold ({', '.join(unknown[:3])}). {fix}"
        )
    if structure.version != SCHEMA_VERSION:  # from_dict refuses others; kept for clarity
        raise IndexCorruptError(f"Index {str(index_path)!r}: unknown structure schema. {fix}")
    return structure


# --- argument checks ---------------------------------------------------------------------------


def date_bounds(value: str | None, name: str) -> tuple[str, str] | None:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as the first and last day it covers (ISO)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    m = _PARTIAL_DATE.fullmatch(text)
    ok = m is not None
    if m:
        year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
        try:
            first = date(year, month, day)
        except ValueError:
            ok = False
    if not ok:
        raise StructureQueryError(
            f"{name} {value!r} is not a date. Fix: write it as YYYY, YYYY-MM or YYYY-MM-DD, "
            "for example 2023-09 or 2024-04-15."
        )
    if m[3]:
        return text, text
    if m[2]:
        last = date(year + (month == 12), month % 12 + 1, 1).toordinal() - 1
        return first.isoformat(), date.fromordinal(last).isoformat()
    return f"{year:04d}-01-01", f"{year:04d}-12-31"


def _choice(value: str | None, name: str, allowed: Sequence[str], aliases: dict) -> str | None:
    if value is None or value == "":
        return None
    key = " ".join(str(value).lower().split())
    if key in aliases:
        return aliases[key]
    for a in allowed:
        if key == a.lower():
            return a
    raise StructureQueryError(f"Unknown {name} {value!r}. Fix: use one of {', '.join(allowed)}.")


def _text_arg(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise StructureQueryError(f"{name} must be text, got {type(value).__name__}.")
    text = " ".join(value.split())
    if not text:
        raise StructureQueryError(f"{name} is empty. Fix: give a name, or leave it out.")
    return text


# --- matching names ----------------------------------------------------------------------------


def _key(text: str) -> str:
    return " ".join(re.findall(r"[\w-]+", fold(text).replace("’", "'")))


def matching_entities(structure: Structure, name: str, kinds: Sequence[str]) -> list[Entity]:
    """The entities of ``kinds`` that ``name`` refers to: exact, by whole words, or near miss."""
    pool = [e for e in structure.entities if e.kind in kinds]
    want = _key(name)
    keys = {e.id: {_key(v) for v in (e.name, *e.variants)} for e in pool}
    exact = [e for e in pool if want in keys[e.id]]
    if exact:
        return exact
    words = set(want.split())
    partial = [e for e in pool if any(words <= set(k.split()) for k in keys[e.id])]
    if partial:
        return partial
    near = {k: e for e in pool for k in keys[e.id]}
    return [near[k] for k in difflib.get_close_matches(want, list(near), n=3, cutoff=NAME_CUTOFF)]


def matching_agreements(structure: Structure, name: str) -> list[Agreement]:
    """The agreements ``name`` refers to: its id, or every word of it in a name or variant."""
    want = _key(name)
    words = set(want.split())
    out = []
    for a in structure.agreements:
        names = [_key(v) for v in (a.name, a.kind, *a.variants)]
        if name == a.id or any(words <= set(n.split()) for n in names):
            out.append(a)
    return out


# --- queries -----------------------------------------------------------------------------------


def _event_bounds(e: Event) -> tuple[str, str] | None:
    if not e.date:
        return None
    lo, hi = date_bounds(e.date, "event date") or ("", "")
    if e.end_date:
        hi = (date_bounds(e.end_date, "event end date") or (lo, hi))[1]
    return lo, hi


@dataclass(frozen=True)
class TimelineFilter:
    """The filters of a timeline query, as the caller gave them; the one place they are named.

    ``qa.timeline``, ``Index.timeline`` and :func:`timeline` take these fields, positionally or
    by name, and check them once, through :meth:`checked`.
    """

    date_from: str | None = None
    date_to: str | None = None
    person: str | None = None
    organisation: str | None = None
    agreement: str | None = None
    kind: str | None = None

    def checked(
        self,
    ) -> tuple[tuple[str, str] | None, tuple[str, str] | None, str | None, str | None,
               str | None, str | None]:  # fmt: skip
        """The filters checked and normalised: ``(from bounds, to bounds, person, organisation,
        agreement, kind)``; raises ``StructureQueryError`` naming a bad one."""
        lo = date_bounds(self.date_from, "date_from")
        hi = date_bounds(self.date_to, "date_to")
        if lo and hi and lo[0] > hi[1]:
            raise StructureQueryError(
                f"date_from {self.date_from!r} is after date_to {self.date_to!r}. Fix: swap them."
            )
        return (
            lo, hi, _text_arg(self.person, "person"),
            _text_arg(self.organisation, "organisation"), _text_arg(self.agreement, "agreement"),
            _choice(self.kind, "event kind", KINDS, _EVENT_ALIASES),
        )  # fmt: skip


def check_timeline_args(
    *args: Any, **filters: Any
) -> tuple[tuple[str, str] | None, tuple[str, str] | None, str | None, str | None, str | None,
           str | None]:  # fmt: skip
    """:func:`timeline`'s arguments (the fields of :class:`TimelineFilter`) checked and
    normalised: ``(from bounds, to bounds, person, organisation, agreement, kind)``; raises
    ``StructureQueryError`` naming a bad one."""
    return TimelineFilter(*args, **filters).checked()


def check_entity_args(
    kind: str | None = None, side: str | None = None
) -> tuple[str | None, str | None]:
    """:func:`entities`' arguments normalised (``organisation`` -> ``org``, ``british`` -> ``UK``)."""
    return (
        _choice(kind, "entity kind", ENTITY_KINDS, _KIND_ALIASES),
        _choice(side, "side", SIDES, _SIDE_ALIASES),
    )


def timeline(structure: Structure, *args: Any, **filters: Any) -> list[Event]:
    """Events ordered by date (undated last), filtered by the fields of :class:`TimelineFilter`
    (positionally or by name); every filter given must hold.

    A date range keeps events that overlap it ("2023-09" keeps an event of 2023-09-16 and one
    dated only "2023"); undated events are left out of any date range. A name nobody in the
    structure bears matches no event (an empty list, not an error).
    """
    lo, hi, person, organisation, agreement, kind = check_timeline_args(*args, **filters)
    events = list(structure.events)
    if lo or hi:
        events = [e for e in events if _in_range(e, lo[0] if lo else "", hi[1] if hi else "")]
    if kind:
        events = [e for e in events if e.kind == kind]
    if person:
        people = matching_entities(structure, person, ("person",))
        events = [e for e in events if _has_participant(e, people)]
    if organisation:
        orgs = matching_entities(structure, organisation, ("org",))
        events = [e for e in events if _involves_org(e, orgs)]
    if agreement:
        ids = {x.event_id for a in matching_agreements(structure, agreement) for x in a.events}
        events = [e for e in events if e.id in ids]
    return sorted(events, key=lambda e: (not e.date, e.date, e.end_date, e.kind, e.id))


def _in_range(e: Event, lo: str, hi: str) -> bool:
    bounds = _event_bounds(e)
    if bounds is None:
        return False
    return (not lo or bounds[1] >= lo) and (not hi or bounds[0] <= hi)


def _has_participant(e: Event, people: list[Entity]) -> bool:
    ids = {p.id for p in people}
    return any(p.entity_id in ids for p in e.participants)


def _involves_org(e: Event, orgs: list[Entity]) -> bool:
    """The organisation takes part, is where the event happens, or is in a participant's role."""
    if not orgs:
        return False
    ids = {o.id for o in orgs}
    names = {_key(v) for o in orgs for v in (o.name, *o.variants) if len(v) > 2}
    if any(p.entity_id in ids for p in e.participants) or _key(e.place) in names:
        return True
    roles = [f" {_key(p.role)} " for p in e.participants if p.role]
    return any(f" {n} " in r for n in names for r in roles)


def entities(
    structure: Structure, kind: str | None = None, side: str | None = None
) -> list[Entity]:
    """People, organisations and places (``kind``: person, org, place; ``side``: VN or UK)."""
    kind, side = check_entity_args(kind, side)
    return [
        e
        for e in structure.entities
        if (kind is None or e.kind == kind) and (side is None or e.side == side)
    ]


def agreements(structure: Structure) -> list[Agreement]:
    """Every agreement, in the order of the first event it comes up at (then by name)."""
    when = {e.id: e.date or "9999" for e in structure.events}

    def first(a: Agreement) -> tuple[str, str]:
        dates = [when.get(x.event_id, "9999") for x in a.events] or [a.signed or "9999"]
        return min(dates), fold(a.name)

    return sorted(structure.agreements, key=first)
