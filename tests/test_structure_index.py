"""The structure in the index (issue 12, phase 2): the build artifact, the API and its filters,
the CLI, and the dispatch between structured and sentence answers. Fake encoder, tmp paths."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import pytest

import qa
from qa.errors import IndexCorruptError, QAError
from qa.fileio import file_sha256
from qa.structure import STRUCTURE_FILE, Structure
from qa.structure_query import StructureQueryError, read_structure
from qa.structured_answer import route
from qa.types import Passage

from .cli_inprocess import run_cli

DATA = Path(__file__).resolve().parent / "data"


def _version(index) -> Path:
    return index.path / index.manifest["version"]


def _when(events) -> list[tuple[str, str]]:
    return [(e.date, e.kind) for e in events]


# --- the build artifact ------------------------------------------------------------------------


def test_the_build_writes_a_checksummed_structure(fake_index):
    path = _version(fake_index) / STRUCTURE_FILE
    entry = fake_index.manifest["files"][STRUCTURE_FILE]
    assert entry == {"sha256": file_sha256(path), "bytes": path.stat().st_size}
    s = fake_index.structure
    assert Structure.from_json(path.read_text(encoding="utf-8")) == s
    assert (len(s.events), len(s.agreements)) == (17, 8)
    # Compact: each cited sentence is stored once (schema 1 stored one copy per use, 159 KB).
    d = json.loads(path.read_text(encoding="utf-8"))
    rows = [tuple(r) for r in d["citations"]]
    assert len(rows) == len(set(rows))
    assert entry["bytes"] < 60_000


def test_the_build_summary_counts_what_was_extracted(fake_index):
    assert fake_index.summary.structure == {"events": 17, "entities": 31, "agreements": 8}
    assert "structure: 17 events, 31 people, organisations and places, 8 agreements" in (
        fake_index.summary.lines()
    )
    assert fake_index.manifest["summary"]["structure"]["events"] == 17


def test_a_damaged_structure_fails_its_checksum(fake_index, fake_encoder):
    path = _version(fake_index) / STRUCTURE_FILE
    path.write_text(path.read_text(encoding="utf-8")[:-40], encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"structure\.json fails its checksum.*qa index"):
        qa.load_index(fake_index.path, encoder=fake_encoder)


def test_an_unreadable_structure_names_the_fix(fake_index, tmp_path):
    (tmp_path / STRUCTURE_FILE).write_text('{"version": 2, "events": [', encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"structure\.json could not be read.*`qa index"):
        read_structure(tmp_path, fake_index.documents, tmp_path)
    (tmp_path / STRUCTURE_FILE).write_text(fake_index.structure.to_json(), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="cites documents the index does not hold"):
        read_structure(tmp_path, fake_index.documents[:1], tmp_path)


def test_a_version_built_before_extraction_still_loads(fake_index, fake_encoder, caplog):
    """An older version has no structure.json: its structure is extracted from its documents."""
    folder = _version(fake_index)
    (folder / STRUCTURE_FILE).unlink()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del manifest["files"][STRUCTURE_FILE]
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    current = fake_index.path / "CURRENT"
    pointer = json.loads(current.read_text(encoding="utf-8"))
    pointer["manifest_sha256"] = file_sha256(folder / "manifest.json")
    current.write_text(json.dumps(pointer), encoding="utf-8")
    old = qa.load_index(fake_index.path, encoder=fake_encoder)
    with caplog.at_level(logging.WARNING, logger="qa"):
        assert old.structure == fake_index.structure
    assert "has no structure.json" in caplog.text and "qa index --index" in caplog.text


def test_an_extraction_error_fails_the_build_and_keeps_the_current_version(
    fake_index, fake_encoder, corpus_copy, monkeypatch
):
    import qa.build as build

    def broken(docs, ner):
        raise RuntimeError("extraction broke")

    monkeypatch.setattr(build, "extract_cached", broken)
    before = (fake_index.path / "CURRENT").read_text(encoding="utf-8")
    with pytest.raises(RuntimeError, match="extraction broke"):
        qa.build_index(corpus_copy, fake_index.path, encoder=fake_encoder, force=True)
    assert (fake_index.path / "CURRENT").read_text(encoding="utf-8") == before


# --- the API -----------------------------------------------------------------------------------


def test_timeline_is_ordered_by_date_and_filters(fake_index):
    all_events = fake_index.timeline()
    dated = [e.date for e in all_events if e.date]
    assert dated == sorted(dated) and all_events[-1].date == ""
    assert _when(fake_index.timeline(date_from="2023", person="luong tam quang")) == [
        ("2024-10-10", "phone call"),
        ("2025-03-04", "reception"),
    ]
    assert _when(fake_index.timeline("2023-09", "2023-09")) == [("2023-09-16", "talks")] + [
        ("2023-09-16", "visit")
    ] * 3 + [("2023-09-16", "working session")]
    assert _when(fake_index.timeline(kind="phone call")) == [
        ("2024-04-15", "phone call"),
        ("2024-10-10", "phone call"),
    ]
    assert _when(fake_index.timeline(agreement="extradition")) == [("2023-09-16", "talks")]
    assert fake_index.timeline(kind="Calls") == fake_index.timeline(kind="phone call")
    assert fake_index.timeline(kind="receptions") == fake_index.timeline(kind="reception")
    # A datetime.date is read as its ISO form.
    assert fake_index.timeline(date_from=date(2025, 1, 1)) == fake_index.timeline("2025")
    assert _when(fake_index.timeline(organisation="Home Office")) == [
        ("2022-08-16", "reception"),
        ("2023-09-16", "talks"),
        ("2025-03-04", "dialogue"),
        ("2025-03-04", "reception"),
    ]
    # A misspelt name, and a surname alone, find the person; a stranger finds nothing.
    assert _when(fake_index.timeline(person="Yvete Cooper")) == [("2024-10-10", "phone call")]
    assert _when(fake_index.timeline(person="Jenrick")) == [("2023-09-16", "talks")]
    assert fake_index.timeline(person="Boris Johnson") == []


def test_an_event_carries_its_date_kind_place_participants_and_passages(fake_index):
    (call,) = fake_index.timeline("2024-04-15", "2024-04-15")
    assert (call.date, call.date_inferred, call.kind, call.place) == (
        "2024-04-15",
        False,
        "phone call",
        "Hanoi",
    )
    assert [(p.name, p.role, p.side) for p in call.participants] == [
        ("To Lam", "Minister of Public Security", "VN"),
        ("James Cleverly", "British Minister of Home Affairs", "UK"),
    ]
    first = call.citations[0]
    assert isinstance(first, Passage)
    assert (first.doc_id, first.paragraph, first.paragraph_label) == (
        "000_fb84059b2aa56672.txt",
        1,
        "paragraph 1",
    )
    assert first.text.startswith("On the afternoon of April 15, 2024, in Hanoi, General To Lam")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"date_from": "2024-13"}, "date_from '2024-13' is not a date. Fix: write it as YYYY"),
        ({"date_to": "yesterday"}, "date_to 'yesterday' is not a date"),
        ({"date_from": "2025", "date_to": "2023"}, "date_from '2025' is after date_to '2023'"),
        ({"kind": "summit"}, "Unknown event kind 'summit'. Fix: use one of meeting, phone call"),
        ({"person": "  "}, "person is empty"),
    ],
)
def test_bad_timeline_arguments_are_refused_at_the_door(fake_index, kwargs, message):
    with pytest.raises(StructureQueryError) as err:
        fake_index.timeline(**kwargs)
    assert message in str(err.value)
    assert isinstance(err.value, QAError) and isinstance(err.value, ValueError)


def test_the_facade_checks_arguments_before_opening_the_default_index(monkeypatch):
    def no_index(**_):
        raise AssertionError("the default index was opened")

    monkeypatch.setattr(qa, "load_default_index", no_index)
    with pytest.raises(ValueError, match="2023-02-30"):
        qa.timeline(date_to="2023-02-30")
    with pytest.raises(ValueError, match="Unknown side 'france'"):
        qa.entities(side="france")


def test_the_facade_verbs_use_the_default_index(fake_index, monkeypatch):
    monkeypatch.setattr(qa, "load_default_index", lambda **_: fake_index)
    assert {"timeline", "entities", "agreements"} <= set(qa.__all__)
    assert _when(qa.timeline(kind="phone call", date_from="2024-10")) == [
        ("2024-10-10", "phone call")
    ]
    assert [e.name for e in qa.entities(kind="place", side="VN")] == ["Hanoi", "Vietnam"]
    assert len(qa.agreements()) == 8


def test_entities_filter_by_kind_and_side(fake_index):
    assert [e.name for e in fake_index.entities(kind="person", side="British")] == [
        "Baroness Goldie",
        "James Cleverly",
        "Matthew Rycroft",
        "Rob Jones",
        "Robert Jenrick",
        "Simon Ridley",
        "Yvette Cooper",
    ]
    orgs = fake_index.entities(kind="organisation", side="uk")
    assert [e.name for e in orgs][:3] == ["Metropolitan Police", "National Crime Agency",
                                          "UK Border Agency"]  # fmt: skip
    quang = next(e for e in fake_index.entities("person") if e.name == "Lương Tam Quang")
    assert "Luong Tam Quang" in quang.variants
    assert all(isinstance(c, Passage) for c in quang.mentions)
    with pytest.raises(StructureQueryError, match="Unknown entity kind 'ship'"):
        fake_index.entities(kind="ship")


def test_agreements_in_the_order_they_first_come_up(fake_index):
    found = fake_index.agreements()
    assert [a.name for a in found][:4] == [
        "Memorandum of Understanding on Human Trafficking Prevention",
        "training courses",
        "agreement on the extradition of criminals",
        "agreement on the sharing of criminal records",
    ]
    extradition = found[2]
    ((event_id, status, by),) = [(x.event_id, x.status, x.by) for x in extradition.events]
    assert (status, by) == ("proposed", "Le Quoc Hung")
    assert fake_index.structure.event(event_id).kind == "talks"
    assert all(isinstance(c, Passage) for c in extradition.citations)


# --- the CLI -----------------------------------------------------------------------------------


def test_cli_timeline_lists_events_with_citations(fake_index):
    r = run_cli("timeline", "--index", str(fake_index.path), "--from", "2024", "--to", "2024")
    assert r.returncode == 0, r.stderr
    blocks = r.stdout.strip().split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [
        "2024-04-15  phone call  at Hanoi",
        "2024-10-10 (inferred)  phone call",
    ]
    assert "  - To Lam (Minister of Public Security, VN)" in blocks[0]
    assert "  * agreement" not in blocks[0]
    assert "— VNS (Viet Nam News), 2024-10-10 (inferred), paragraph 1" in blocks[1]
    assert "(+10 more citations; --json lists all)" in blocks[0]


def test_cli_timeline_json_and_filters(fake_index):
    r = run_cli("timeline", "--index", str(fake_index.path), "--person", "Hung", "--org", "NCA",
                "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [(e["date"], e["kind"], e["place"]) for e in rows] == [
        ("2023-09-16", "visit", "National Crime Agency")
    ]
    assert rows[0]["citations"][0]["source"] and rows[0]["citations"][0]["paragraph"] >= 1


def test_cli_timeline_refuses_a_bad_date_in_one_line(tmp_path):
    r = run_cli("timeline", "--index", str(tmp_path / "none"), "--from", "15/04/2024")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "error: date_from '15/04/2024' is not a date. Fix: write it as YYYY, YYYY-MM or "
        "YYYY-MM-DD, for example 2023-09 or 2024-04-15."
    ]


def test_cli_entities_and_agreements(fake_index):
    r = run_cli("entities", "--index", str(fake_index.path), "--kind", "person", "--side", "UK")
    assert r.returncode == 0, r.stderr
    heads = [b.splitlines()[0] for b in r.stdout.strip().split("\n\n")]
    assert heads[:2] == ["Baroness Goldie  [person, UK]  1 mention(s)",
                         "James Cleverly  [person, UK]  1 mention(s)"]  # fmt: skip
    r = run_cli("entities", "--index", str(fake_index.path), "--json", "--kind", "place")
    assert [e["name"] for e in json.loads(r.stdout)] == [
        "Europe", "Hanoi", "London", "United Kingdom", "Vietnam",
    ]  # fmt: skip
    r = run_cli("agreements", "--index", str(fake_index.path))
    assert r.returncode == 0, r.stderr
    block = r.stdout.split("\n\n")[2]
    assert block.splitlines()[:2] == [
        "agreement on the extradition of criminals  [extradition agreement]",
        "  - 2023-09-16 (inferred) talks: proposed (by Le Quoc Hung)",
    ]
    r = run_cli("agreements", "--index", str(fake_index.path), "--json")
    assert len(json.loads(r.stdout)) == 8


# --- answers: which path -------------------------------------------------------------------------


def test_a_timeline_question_takes_the_structure_path(fake_index):
    ans = fake_index.answer("List the meetings in chronological order")
    assert (ans.path, ans.route, ans.answerable) == ("structure", "timeline", True)
    lines = ans.text.splitlines()
    assert lines[0] == "**Events in date order \\(17\\)**"
    bullets = [x for x in lines if x.startswith("- **")]
    assert len(bullets) == len(fake_index.timeline()) == len(ans.sentences)
    assert bullets[12].startswith("- **2024-04-15**: Phone call, with To Lam")
    # Every [n] in the rows is a numbered source, and every source is cited.
    assert "**Sources**" in ans.text
    cited = {n for nums in ans.supports for n in nums}
    assert cited == set(range(1, len(ans.citations) + 1))
    assert ans.text.count("\n[") == len(ans.citations)
    assert ans.to_dict()["path"] == "structure"


def test_cli_ask_says_which_path_answered(fake_index):
    r = run_cli("ask", "which UK officials are mentioned?", "--index", str(fake_index.path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:2] == [
        "(answered from the extracted structure: people)",
        "**UK people named in the articles \\(7\\)**",
    ]
    r = run_cli("ask", "which UK officials are mentioned?", "--index", str(fake_index.path),
                "--json")  # fmt: skip
    assert (json.loads(r.stdout)["path"], json.loads(r.stdout)["route"]) == ("structure", "people")


def test_passages_retrieved_ahead_do_not_change_the_path(fake_index):
    """qa.evaluation hands the retrieved passages in; the routed question still takes the
    structure path, so `qa eval` measures what users get."""
    q = "what happened in september 2023?"
    ahead = fake_index.retrieve(q, k=5)
    assert fake_index.answer(q, passages=ahead).path == "structure"


def test_a_fact_question_takes_the_sentence_path(fake_index):
    ans = fake_index.answer("When was the phone call between To Lam and James Cleverly?")
    assert (ans.path, ans.route) == ("sentences", "")


def test_a_routed_question_the_structure_cannot_answer_falls_back(fake_index):
    q = "What happened in January 2019?"
    assert route(q) == "period"
    assert fake_index.answer(q).path == "sentences"


def test_filters_apply_to_structured_rows(fake_index):
    doc = "000_fb84059b2aa56672.txt"  # the 2024-04-15 phone call
    ans = fake_index.answer("List the meetings in chronological order", doc_ids=[doc])
    assert ans.path == "structure"
    assert {c.doc_id for c in ans.citations} == {doc}
    ans = fake_index.answer("List the meetings", date_from="2025-01-01")
    assert [s[:10] for s in ans.sentences] == ["2025-03-04"] * 2


def test_a_pronoun_follow_up_is_not_routed():
    assert route("Who did he talk to?") is None
    assert route("Who did To Lam talk to?") == "counterparts"


@pytest.mark.parametrize("name", ["dev.jsonl", "test.jsonl"])
def test_the_team_question_sets_are_not_routed(name):
    """The structure path must leave dev and test exactly as they were."""
    routed = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            turns = [row["question"]] + [
                t if isinstance(t, str) else t.get("content", "") for t in row.get("history", [])
            ]
            routed += [q for q in turns if q and route(q)]
    assert routed == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what changed between 2023 and 2024", "change"),
        ("When did the meetings happen?", "timeline"),
        ("Which organisations from vietnam are mentioned", "organisations"),
        ("which officials from the uk side are mentioned", "people"),
        ("Which UK official did To Lam speak with?", None),  # one fact, not a list
        ("What did the UK side propose?", None),
    ],
)
def test_routes_of_phrasings_users_type(question, expected):
    assert route(question) == expected


def test_an_organisation_list_has_no_date_labels(fake_index):
    ans = fake_index.answer("Which organisations from vietnam are mentioned")
    assert (ans.path, ans.route) == ("structure", "organisations")
    bullets = [x for x in ans.text.splitlines() if x.startswith("- ")]
    assert bullets[0].startswith("- Border Guard Academy \\(VN\\) — “")
    assert not any("date not stated" in b for b in bullets)
