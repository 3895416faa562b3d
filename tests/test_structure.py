"""Extraction of events, people and agreements (qa.structure) and answers from it
(qa.structured_answer). Small hand-made documents first, then a few checks on the real corpus."""

from __future__ import annotations

import json

import pytest

from qa.documents import clean, load_corpus
from qa.structure import Structure, extract, parse_dates
from qa.structured_answer import route, structured_answer
from qa.types import DocMeta, Passage
from tests.conftest import CORPUS, DATA


def _doc(doc_id: str, text: str, date: str, inferred: bool = False, source: str = "Test News"):
    return clean(
        doc_id,
        text,
        DocMeta(title=f"Title of {doc_id}", source=source, date=date, date_inferred=inferred),
    )


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "anchor", "anchor_inferred", "iso", "end", "inferred"),
    [
        (
            "On the afternoon of April 15, 2024, in Hanoi",
            "2024-05-30",
            False,
            "2024-04-15",
            "",
            False,
        ),
        ("a reception in Hanoi on March 4 for", "2025-03-04", True, "2025-03-04", "", True),
        ("a reception on August 16 for", "2022-08-16", False, "2022-08-16", "", False),
        (
            "a working visit from September 16-21 to",
            "2023-09-16",
            True,
            "2023-09-16",
            "2023-09-21",
            True,
        ),
        ("talks held last week in London", "2024-05-30", False, "2024-05-23", "", True),
        ("signed earlier this year", "2024-05-30", False, "2024", "", True),
        ("the second session this coming October", "2022-08-16", False, "2022-10", "", True),
        ("a visit in December", "2024-01-10", False, "2023-12", "", False),
        ("a visit to the UK in November, 2021", "2022-08-16", False, "2021-11", "", False),
        ("met in London on Tuesday", "2023-06-15", False, "2023-06-13", "", True),
    ],
)
def test_parse_dates_resolves_against_the_article_date(
    text, anchor, anchor_inferred, iso, end, inferred
):
    (_, _, d), *_ = parse_dates(text, anchor, anchor_inferred)
    assert (d.iso, d.end, d.inferred) == (iso, end, inferred)


def test_a_bare_month_word_is_not_a_date():
    assert parse_dates("They may meet again. March forward.", "2024-05-30") == []


# --- hand-made documents ---------------------------------------------------------------------

CALL = (
    "On March 4, Minister of Public Security Sen. Lieut. Gen. Lương Tam Quang had a phone call "
    "with UK Home Secretary Jane Doe.\n\n"
    "During the phone call, Minister Luong Tam Quang proposed that the two sides soon negotiate "
    "and sign an agreement on the transfer of sentenced persons.\n\n"
    "Quang said both sides will continue to implement the Memorandum of Understanding on "
    "migration issues.\n"
)


@pytest.fixture(scope="module")
def call_structure() -> Structure:
    return extract([_doc("call.txt", CALL, "2025-03-05", inferred=True)])


def test_one_phone_call_with_both_sides(call_structure):
    (ev,) = call_structure.events
    assert (ev.kind, ev.date, ev.date_inferred, ev.planned) == (
        "phone call",
        "2025-03-04",
        True,
        False,
    )
    got = [(p.name, p.role, p.side) for p in ev.participants]
    assert got == [
        ("Lương Tam Quang", "Minister of Public Security", "VN"),
        ("Jane Doe", "UK Home Secretary", "UK"),
    ]
    assert [c.paragraph for c in ev.citations] == [1, 2, 3]


def test_name_variants_cluster_with_and_without_diacritics(call_structure):
    quang = call_structure.entity("Luong Tam Quang")
    assert quang is not None and quang.name == "Lương Tam Quang"
    assert {
        "Luong Tam Quang",
        "Quang",
        "Sen. Lieut. Gen. Lương Tam Quang",
        "Minister Luong Tam Quang",
    } <= set(quang.variants)
    assert call_structure.entity("quang") is quang
    assert ("Sen. Lieut. Gen.", "2025-03-04") in quang.roles
    assert len(quang.mentions) == 3


def test_agreements_proposed_and_reaffirmed(call_structure):
    by_kind = {a.kind: a for a in call_structure.agreements}
    assert set(by_kind) == {"agreement", "memorandum of understanding"}
    (ev,) = call_structure.events
    transfer = by_kind["agreement"]
    assert transfer.name == "agreement on the transfer of sentenced persons"
    assert [(x.event_id, x.status, x.by) for x in transfer.events] == [
        (ev.id, "proposed", "Lương Tam Quang")
    ]
    mou = by_kind["memorandum of understanding"]
    assert mou.name == "Memorandum of Understanding on migration issues"
    assert [(x.status, x.by) for x in mou.events] == [("reaffirmed", "")]
    assert [(a.name, a.status) for a in ev.agreements] == [
        ("Memorandum of Understanding on migration issues", "reaffirmed"),
        ("agreement on the transfer of sentenced persons", "proposed"),
    ]


def test_an_event_two_articles_report_is_one_event():
    a = _doc(
        "a.txt",
        "The Ministry of Public Security and the UK Home Office co-hosted the second Vietnam-UK "
        "Migration Dialogue in London on June 3, 2024.\n\nBoth sides signed a Joint Statement.\n",
        "2024-06-04",
    )
    b = _doc(
        "b.txt",
        "Deputy Minister Nguyen Van An received British Ambassador John Smith in Hanoi on June 10, 2024.\n\n"
        "Nguyen Van An hailed the results of the second Vietnam-UK Migration Dialogue held in London.\n",
        "2024-06-11",
    )
    s = extract([a, b])
    dialogues = [e for e in s.events if e.kind == "dialogue"]
    assert len(dialogues) == 1
    (d,) = dialogues
    assert (d.date, d.place, d.name) == (
        "2024-06-03",
        "London",
        "second Vietnam-UK Migration Dialogue",
    )
    assert {c.doc_id for c in d.citations} == {"a.txt", "b.txt"}
    (rec,) = [e for e in s.events if e.kind == "reception"]
    assert [(p.name, p.side) for p in rec.participants] == [
        ("Nguyen Van An", "VN"),
        ("John Smith", "UK"),
    ]
    assert rec.place == "Hanoi"
    (js,) = [a for a in s.agreements if a.kind == "joint statement"]
    assert [(x.event_id, x.status) for x in js.events] == [(d.id, "signed")]


def test_met_on_a_weekday_and_the_meeting_refers_back():
    a = _doc(
        "m.txt",
        "British Home Secretary Suella Braverman met Vietnamese Deputy Prime Minister Tran Luu "
        "Quang in London on Tuesday.\n\nThe two sides signed a memorandum of understanding on "
        "cybersecurity cooperation.\n",
        "2023-06-15",
    )
    b = _doc(
        "r.txt",
        "Vice Minister of Public Security Nguyen Duy Ngoc received UK Ambassador to Vietnam Iain "
        "Frew in Hanoi on December 5.\n\nAt the meeting, Ngoc proposed that the two sides sign a "
        "treaty on mutual legal assistance in criminal matters.\n",
        "2023-12-06",
    )
    s = extract([a, b])
    got = [
        (e.date, e.date_inferred, e.kind, e.place, [(p.name, p.side) for p in e.participants])
        for e in s.events
    ]
    assert got == [
        (
            "2023-06-13",
            True,
            "meeting",
            "London",
            [("Suella Braverman", "UK"), ("Tran Luu Quang", "VN")],
        ),
        (
            "2023-12-05",
            False,
            "reception",
            "Hanoi",
            [("Nguyen Duy Ngoc", "VN"), ("Iain Frew", "UK")],
        ),
    ]
    assert [(a.name, a.status) for a in s.events[0].agreements] == [
        ("Memorandum of Understanding on cybersecurity cooperation", "signed")
    ]
    assert [(a.name, a.status, a.by) for a in s.events[1].agreements] == [
        ("treaty on mutual legal assistance in criminal matters", "proposed", "Nguyen Duy Ngoc")
    ]


def test_other_phrasings_hosted_last_week_director_general():
    docs = [
        _doc(
            "h1.txt",
            "Minister of Foreign Affairs Bui Thanh Son held talks with UK Foreign Secretary David "
            "Lammy in Hanoi on November 12.\n\nThe two ministers pledged to sign an agreement on "
            "the readmission of migrants soon.\n\nLammy also paid a courtesy visit to Prime "
            "Minister Pham Minh Chinh the same day.\n",
            "2024-11-13",
        ),
        _doc(
            "h2.txt",
            "Deputy Minister Nguyen Minh Vu on Friday hosted Ambassador Iain Frew.\n\nVu proposed "
            "holding the fifth Vietnam-UK Strategic Dialogue in London next March.\n",
            "2024-02-02",
        ),
        _doc(
            "h3.txt",
            "Last week, a delegation of the UK National Crime Agency led by Director General "
            "Graeme Biggar visited Hanoi.\n",
            "2024-07-20",
        ),
    ]
    s = extract(docs)
    got = [(e.date, e.date_inferred, e.planned, e.kind, e.place) for e in s.events]
    assert got == [
        ("2024-02-02", True, False, "reception", ""),
        ("2024-03", True, True, "dialogue", "London"),
        ("2024-07-13", True, False, "visit", "Hanoi"),
        ("2024-11-12", True, False, "visit", ""),
        ("2024-11-12", False, False, "talks", "Hanoi"),
    ]
    talks = s.events[-1]
    assert [(a.name, a.status) for a in talks.agreements] == [
        ("agreement on the readmission of migrants", "agreed")
    ]
    biggar = s.entity("Graeme Biggar")
    assert (biggar.side, biggar.roles) == ("UK", (("Director General", "2024-07-13"),))
    assert s.events[1].name == "fifth Vietnam-UK Strategic Dialogue"


def test_json_round_trip_is_exact_and_deterministic(call_structure):
    text = call_structure.to_json()
    back = Structure.from_json(text)
    assert back == call_structure
    assert back.to_json() == text
    d = json.loads(text)
    assert d["version"] == 2
    # Every citation is stored once: the event's three sentences are three rows, one document.
    assert len(d["citations"]) == len({tuple(r) for r in d["citations"]}) == 3
    assert d["events"][0]["citations"] == [0, 1, 2]
    assert len(d["documents"]) == 1


def test_a_structure_of_another_schema_is_refused():
    with pytest.raises(ValueError, match="structure schema 1, this code reads 2"):
        Structure.from_dict({"version": 1, "events": []})
    with pytest.raises(ValueError, match="not a structure"):
        Structure.from_dict({"version": 2, "events": []})


def test_citations_become_passages(call_structure):
    (ev,) = call_structure.events
    p = ev.passages[0]
    assert isinstance(p, Passage)
    assert (p.doc_id, p.paragraph, p.date, p.date_inferred, p.source) == (
        "call.txt", 1, "2025-03-05", True, "Test News",
    )  # fmt: skip
    assert CALL[p.start : p.end] == p.text


def test_no_documents_no_structure():
    assert extract([]) == Structure()


# --- the real corpus -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_structure() -> Structure:
    return extract(load_corpus(CORPUS).documents)


def _event(s: Structure, date: str, kind: str):
    (ev,) = [e for e in s.events if e.date == date and e.kind == kind]
    return ev


def test_corpus_main_events(corpus_structure):
    s = corpus_structure
    call = _event(s, "2024-04-15", "phone call")
    assert (call.place, call.date_inferred) == ("Hanoi", False)
    assert [(p.name, p.side) for p in call.participants] == [
        ("To Lam", "VN"),
        ("James Cleverly", "UK"),
    ]
    cooper = _event(s, "2024-10-10", "phone call")
    assert cooper.date_inferred is True
    assert [p.name for p in cooper.participants] == ["Lương Tam Quang", "Yvette Cooper"]
    visit = _event(s, "2023-09-16", "talks")
    assert (visit.end_date, visit.date_inferred) == ("2023-09-21", True)
    assert [p.name for p in visit.participants] == ["Le Quoc Hung", "Robert Jenrick"]
    dialogue = _event(s, "2025-03-04", "dialogue")
    assert dialogue.name == "third Vietnam-UK Migration and Immigration Dialogue"
    assert (
        "Joint Statement of the third Vietnam-UK Migration and Immigration Dialogue",
        "signed",
    ) in [(a.name, a.status) for a in dialogue.agreements]


def test_corpus_agreement_proposers(corpus_structure):
    talks = _event(corpus_structure, "2023-09-16", "talks")
    assert [(a.name, a.status, a.by) for a in talks.agreements] == [
        ("agreement on the extradition of criminals", "proposed", "Le Quoc Hung"),
        ("agreement on the sharing of criminal records", "proposed", "UK Home Office"),
    ]


def test_corpus_citations_quote_the_files(corpus_structure):
    for ev in corpus_structure.events:
        for c in ev.citations:
            raw = (CORPUS / c.doc_id).read_text(encoding="utf-8")
            assert raw[c.start : c.end] == c.text


def test_corpus_extraction_matches_most_of_the_gold(corpus_structure):
    from bench.eval_structure import evaluate

    gold = json.loads((DATA / "structure-gold.json").read_text(encoding="utf-8"))
    res = evaluate(corpus_structure, gold)
    # Floors a little under the measured figures (bench/eval_structure.py), so a regression shows.
    assert res["events"]["f1"] >= 0.9
    assert res["event_dates"]["recall"] >= 0.9
    assert res["participants"]["f1"] >= 0.8
    assert res["entities"]["person"]["f1"] >= 0.9
    assert res["agreements"]["f1"] >= 0.85


# --- routing and structured answers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("List the meetings in chronological order", "timeline"),
        ("what happened in september 2023?", "period"),
        ("Which UK officials are mentioned?", "people"),
        ("which agreements come up in every meeting?", "recurring_agreements"),
        ("How has the cooperation changed since 2022?", "change"),
        ("who did To Lam talk to?", "counterparts"),
        ("which organisations are involved?", "organisations"),
        ("What agreements have been proposed but not signed yet?", "agreements"),
        # after "every" the listed noun is singular
        ("name every UK Home Office figure the articles mention", "people"),
    ],
)
def test_route_structure_questions(question, expected):
    assert route(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "Which UK official did To Lam speak with?",
        "Which official signed?",
        "When did the third migration dialogue take place?",
        "What agreement did Le Quoc Hung suggest that Vietnam and the UK soon negotiate and sign?",
        "What did the Border Guard Command and its UK partner hold in order to share experience?",
        "Who did the Vietnamese delegation hold talks with at the Home Office?",
        "which conference did pham minh chinh attend during his uk visit",
        "Which Vietnamese deputy ministers dealt with senior UK officials, one receiving a Home Office official?",
        "",
    ],
)
def test_fact_questions_are_not_routed(question):
    assert route(question) is None


def test_no_question_of_the_existing_sets_is_routed():
    for name in ("dev.jsonl", "test.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            assert route(json.loads(line)["question"]) is None, line


def test_structured_answer_period(corpus_structure):
    a = structured_answer("What happened in September 2023?", corpus_structure)
    assert a.route == "period"
    assert {r.date for r in a.rows} == {"2023-09-16"}
    assert all(r.date_inferred for r in a.rows)
    assert all(c.doc_id == "004_3d375005956adc1b.txt" for r in a.rows for c in r.citations)
    assert any("Robert Jenrick" in r.text for r in a.rows)


def test_structured_answer_timeline_is_in_date_order(corpus_structure):
    rows = structured_answer("List the meetings in chronological order", corpus_structure).rows
    dated = [r.date for r in rows if r.date]
    assert dated == sorted(dated)
    assert all(r.citations for r in rows)


def test_structured_answer_people_by_side(corpus_structure):
    rows = structured_answer("Which UK officials are mentioned?", corpus_structure).rows
    names = {r.text.split(" — ")[0] for r in rows}
    assert names == {
        "James Cleverly", "Yvette Cooper", "Simon Ridley", "Matthew Rycroft", "Robert Jenrick",
        "Rob Jones", "Baroness Goldie",
    }  # fmt: skip


def test_structured_answer_counterparts_unknown_person_is_empty(corpus_structure):
    assert structured_answer("Who did Jane Nobody meet?", corpus_structure).rows == ()


def test_cross_article_questions_file_is_valid():
    from qa.evaluation import load_questions

    qs = load_questions(DATA / "cross-article.jsonl").questions
    assert len(qs) >= 20
    assert {q.kind for q in qs} == {"cross"}
    for line in (DATA / "cross-article.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        assert route(q["question"]) == q["route"], q["question"]


def test_without_ner_patterns_still_find_titled_people_and_no_places():
    s = extract([_doc("call.txt", CALL, "2025-03-05", inferred=True)], ner=False)
    (ev,) = s.events
    assert [p.name for p in ev.participants] == ["Lương Tam Quang", "Jane Doe"]
    assert [e for e in s.entities if e.kind == "place"] == []


def test_spacy_loads_without_pulling_in_torch():
    import subprocess
    import sys

    code = (
        "import sys; from qa.structure import _nlp; _nlp(); "
        "print('torch' in sys.modules); import torch; print(bool(torch.__version__))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
