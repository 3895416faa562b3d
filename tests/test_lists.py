"""List questions (qa.lists): what is listed, the items of a sentence, which sentences list."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from qa.lists import (
    enumeration,
    is_list_question,
    item_key,
    list_head,
    listed_noun,
    rank_list_sentences,
)


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("list the crimes the two sides agreed to fight together", "crimes"),
        ("what were the focus areas of the third migration dialogue", "areas"),
        ("Which MoUs did they sign?", "MoUs"),
        ("which memoranda are mentioned", "memoranda"),
        ("name every UK Home Office figure the articles mention", "figure"),
        # capitalised modifiers do not use up the window
        ("Which senior UK Home Office civil servants were received?", "servants"),
        # the noun after an auxiliary, or behind a possessive, is the subject
        ("what does mps stand for", ""),
        ("What are Vietnam's frontier guards and their British partners writing together?", ""),
        ("What happens next?", ""),
        ("Which UK minister did To Lam speak to?", ""),
    ],
)
def test_listed_noun(question, noun):
    assert listed_noun(question) == noun
    assert is_list_question(question) is bool(noun)


def test_list_head_takes_the_synonyms_of_its_group():
    head = list_head("list the crimes the two sides agreed to fight together")
    assert {"crime", "fraud", "launder"} <= head
    assert "traffick" not in head  # the topic of every article is no crime list by itself
    assert list_head("Who is Simon Ridley?") == frozenset()


def test_enumeration_reads_the_clause_that_names_the_listed_thing():
    s = (
        "The two ministers agreed on projects such as disseminating laws, community "
        "communication and safe migration; Strengthen cooperation against crimes such as "
        "property appropriation fraud, financial and banking crimes.../."
    )
    assert enumeration(s, list_head("which crimes")) == [
        "property appropriation fraud", "financial and banking crimes",
    ]  # fmt: skip
    # Without a listed thing, the clause with the most parts.
    assert enumeration(s) == ["disseminating laws", "community communication", "safe migration"]


def test_a_middle_and_stays_inside_its_item_and_the_introducing_clause_is_cut():
    s = (
        "Strengthen cooperation in fighting crimes using technology, property appropriation "
        "fraud, financial and banking crimes, money laundering.../."
    )
    assert enumeration(s) == [
        "crimes using technology", "property appropriation fraud",
        "financial and banking crimes", "money laundering",
    ]  # fmt: skip


def test_enumeration_needs_a_cue_or_three_short_parts():
    assert enumeration("Quang met Ridley, and they talked.") == []
    assert enumeration("Topics: visas, asylum and returns.") == ["visas", "asylum", "returns"]


def test_a_long_clause_ends_a_bare_list_before_it():
    s = (
        "Hailing the ties since 2010, he said the MPS and the UK Home Office have been working "
        "closely together in combating crimes, migration, border control management, and the "
        "fight against human trafficking."
    )
    assert enumeration(s) == [
        "crimes", "migration", "border control management", "fight against human trafficking",
    ]  # fmt: skip


def test_item_key_ignores_case_spaces_and_articles():
    assert item_key("the MoU on  Migration Issues") == item_key("MoU on migration issues")


@dataclass(frozen=True)
class _Cand:
    sentence: str
    score: float
    semantic: float = 0.5


def test_list_sentences_lead_with_the_one_naming_the_listed_thing_and_add_new_items():
    crimes = _Cand("They will fight crimes such as fraud and money laundering.", 0.40)
    areas = _Cand("They cooperate on areas such as visas, asylum and returns.", 0.50)
    again = _Cand("The crimes: fraud and money laundering.", 0.39)
    more = _Cand("They also named crimes such as forgery and cybercrime.", 0.35)
    far = _Cand("They also named crimes such as smuggling and cybercrime.", 0.10)
    off = _Cand("They named crimes such as smuggling and forgery.", 0.45, semantic=0.1)
    cands = [areas, crimes, again, more, far, off]
    query = "list the crimes they will fight"
    chosen = rank_list_sentences(query, cands, enumeration, limit=5)
    # "crimes" is named by the sentence and by its items: it leads although it scores less.
    # Its items name crimes themselves, so "areas" (a list of something else) does not join;
    # "more" does (new items, one naming a crime); "again" adds nothing new, "far" is under
    # LIST_JOIN_RATIO and "off" is off the question.
    assert chosen == [crimes, more]
    assert rank_list_sentences(query, cands, enumeration, limit=1) == [crimes]
    # a list whose lead's items do not name the listed thing takes any sentence with new items
    trade = _Cand("They also discussed topics such as trade and tourism.", 0.45)
    topics = rank_list_sentences("what topics came up", [areas, trade], enumeration, 5)
    assert topics == [areas, trade]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which senior UK Home Office civil servants were received?", "who"),
        ("what agencies did the delegation visit", "org"),
        ("which documents did both sides commit to", "agreement"),
        ("list the crimes the two sides agreed to fight", ""),
    ],
)
def test_list_kind_follows_the_listed_noun_group(question, kind):
    from qa.lists import list_kind

    assert list_kind(question, "") == kind
    assert list_kind(question, "when") == "when"  # the question's own kind comes first


def test_the_owner_of_what_the_question_names_is_no_item():
    from qa.lists import list_items

    q = "what agencies did hung's delegation visit in the UK"
    s = "On this occasion, the Ministry of Public Security'S delegation also visited the Vietnamese Embassy."
    assert list_items(q, s, "org") == ["Vietnamese Embassy"]
    s2 = "A delegation of the Ministry of Public Security visited the National Crime Agency."
    assert list_items(q, s2, "org") == ["National Crime Agency"]
    # owned by something the question does not name: still an item
    s3 = "The Ministry of Public Security's officers visited the National Crime Agency."
    assert list_items(q, s3, "org") == ["Ministry of Public Security", "National Crime Agency"]


@pytest.mark.parametrize(
    ("question", "side"),
    [
        ("Which Vietnamese ministries dealt with the British side?", "VN"),
        ("Which British ministries and agencies come up in the articles?", "UK"),
        ("name every UK Home Office figure", "UK"),
        ("Which ministries did the Vietnamese delegation visit?", ""),
        ("Who did Hung meet?", ""),
    ],
)
def test_listed_side_is_the_nationality_before_the_listed_noun(question, side):
    from qa.lists import listed_side

    assert listed_side(question) == side


def test_items_of_the_other_side_are_left_out():
    from qa.lists import list_items

    s = (
        "The delegation visited the UK Ministry of Defence, the Vietnamese Embassy and the "
        "National Crime Agency."
    )
    q = "Which British ministries and agencies come up?"
    vn = {"vietnamese embassy"}
    assert list_items(q, s, "org") == [
        "UK Ministry of Defence", "Vietnamese Embassy", "National Crime Agency",
    ]  # fmt: skip
    assert list_items(q, s, "org", other_side=lambda n: n.lower() in vn) == [
        "UK Ministry of Defence", "National Crime Agency",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("cities where vietnam uk meetings held or planned", "cities"),
        ("mous signed by the border guard", "mous"),
        ("talks between hung and jenrick", ""),  # one event, not a list
        ("Cities of Vietnam", ""),  # capitalised: a title or a name, not a keyword list
        ("does the uk fund projects", ""),
    ],
)
def test_a_keyword_query_opening_with_a_plural_noun_lists_it(question, noun):
    from qa.lists import listed_noun

    assert listed_noun(question) == noun
