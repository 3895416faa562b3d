"""Every part of the question must be met (qa.constraints)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.constraints import (
    Constraint,
    closest_match_message,
    extract_constraints,
    indirect,
    met,
    name_met,
    unmet,
)

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _article(prefix: str) -> str:
    return next(CORPUS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


CALL_2024 = _article("000")  # To Lam - James Cleverly phone call, April 15, 2024
PHONE_TALKS = _article("001")  # Luong Tam Quang - Yvette Cooper phone talks, October 10
RECEPTION = _article("002")  # Quang receives Simon Ridley; third migration dialogue
FIRST_DIALOGUE = _article("003")  # Hoang Xuan Chien - Matthew Rycroft; first dialogue
VISIT = _article("004")  # Le Quoc Hung's visit to the UK, September 16-21

THIRD = (
    "For his part, Simon Ridley hailed the growing cooperation between the two ministries, "
    "particularly their effective coordination in the third Vietnam-UK Migration and "
    "Immigration Dialogue held earlier in Hanoi."
)
VISIT_LEAD = (
    "A high-ranking delegation of the Ministry of Public Security led by its Deputy Minister "
    "Lieutenant General Le Quoc Hung paid a working visit to the United Kingdom from September "
    "16-21 to strengthen bilateral cooperation in law enforcement."
)


def _kinds(question: str) -> list[tuple[str, str, str]]:
    return [(c.kind, c.text, c.value) for c in extract_constraints(question)]


def test_extracts_role_name_month_and_event() -> None:
    q = "Who was the UK Home Secretary during Le Quoc Hung's September visit?"
    assert _kinds(q) == [
        ("role", "Home Secretary", "home secretary"),
        ("name", "Le Quoc Hung", "le quoc hung"),
        ("month", "September", "september"),
        ("event", "visit", "visit"),
    ]


def test_extracts_ordinal_with_the_noun_it_counts() -> None:
    (ordinal, event) = extract_constraints("Where was the first migration dialogue held?")
    assert ordinal == Constraint("ordinal", "first", "1", "dialogue")
    assert event == Constraint("event", "dialogue", "dialogue")


def test_extracts_years_days_and_numbers_apart() -> None:
    q = "Did the two sides meet on March 4, 2025?"
    assert _kinds(q) == [
        ("number", "two", "2"),
        ("event", "meet", "meeting"),
        ("month", "March", "march"),
        ("day", "March 4", "march 4"),
        ("year", "2025", "2025"),
    ]


def test_a_lowercase_may_is_no_month() -> None:
    assert [c.kind for c in extract_constraints("What may the UK do next?")] == ["name"]


def test_role_title_ordinal_is_part_of_the_role() -> None:
    q = "Who is the Second Permanent Secretary at the Home Office?"
    assert _kinds(q) == [
        ("role", "Second Permanent Secretary", "permanent secretary"),
        ("name", "Home Office", "home office"),
    ]


def test_wrong_ordinal_is_unmet_even_when_another_is_there() -> None:
    cs = extract_constraints("Where was the first migration dialogue held?")
    assert [c.text for c in unmet(cs, THIRD, RECEPTION)] == ["first"]
    # article 003 reports the first dialogue ("the first UK - Vietnam migration dialogue")
    assert unmet(cs, "", FIRST_DIALOGUE) == ()


def test_ordinal_must_count_the_same_noun() -> None:
    # article 002 has "Second Permanent Secretary", not a second dialogue
    cs = extract_constraints("Where was the 2nd Vietnam - UK Migration Dialogue held?")
    assert [c.text for c in unmet(cs, "", RECEPTION)] == ["2nd"]
    assert unmet(cs, "", VISIT) == ()


def test_role_missing_from_the_visit_article() -> None:
    cs = extract_constraints("Who was the UK Home Secretary during Le Quoc Hung's September visit?")
    assert [c.text for c in unmet(cs, VISIT_LEAD, VISIT)] == ["Home Secretary"]


def test_role_met_by_its_other_titles() -> None:
    home = Constraint("role", "Home Secretary", "home secretary")
    assert met(home, CALL_2024)  # "British Minister of Home Affairs James Cleverly"
    assert met(home, PHONE_TALKS)  # "Secretary of State for the Home Department"
    perm = extract_constraints("Who is the Permanent Secretary of the Home Office?")[0]
    assert met(perm, FIRST_DIALOGUE)  # "Permanent Under-Secretary Matthew Rycroft"


def test_misspelt_names_still_match() -> None:
    assert name_met("James Cleverley", CALL_2024)
    assert name_met("Le Quoc Hong", VISIT)
    assert name_met("Cleverley", CALL_2024)  # one edit, 9 letters
    assert name_met("Luong Tam Quang", "Lương Tam Quang told Yvette Cooper")  # diacritics
    assert name_met("Quang", "Minister Luong Tam Quang")  # a part of the name


def test_different_names_do_not_match() -> None:
    assert not name_met("Le Quoc Hong", CALL_2024)
    assert not name_met("David Lammy", VISIT)
    assert not name_met("Hong", VISIT)  # a lone 4-letter word is not fuzzily matched
    assert not name_met("James Smith", CALL_2024)  # one word right is not the name


def test_different_year_does_not_match_but_article_date_does() -> None:
    cs = extract_constraints("Who did Hung hold talks with in 2021?")
    assert [c.text for c in unmet(cs, "", VISIT, date="2023-09-16")] == ["2021"]
    cs = extract_constraints("Who did Hung hold talks with in 2023?")
    assert unmet(cs, "", VISIT, date="2023-09-16") == ()
    assert [c.text for c in unmet(cs, "", VISIT)] == ["2023"]


def test_day_inside_a_range() -> None:
    day = Constraint("day", "September 18", "september 18")
    assert met(day, VISIT)  # "from September 16-21"
    assert not met(Constraint("day", "September 22", "september 22"), VISIT)
    assert met(Constraint("day", "16 August", "august 16"), "Tuesday 16/08/2022")


def test_event_variants() -> None:
    call = Constraint("event", "phone call", "phone call")
    assert met(call, PHONE_TALKS)  # "phone talks"
    assert not met(call, VISIT)
    reception = extract_constraints("When did Quang receive Simon Ridley?")[1]
    assert reception == Constraint("event", "receive", "reception")
    assert met(reception, RECEPTION)  # "hosted a reception"


def test_numbers_must_be_equal() -> None:
    cs = extract_constraints("What did the 3 ministers sign?")
    assert cs[0] == Constraint("number", "3", "3")
    assert unmet(cs[:1], "Three ministers signed it.") == ()
    assert [c.text for c in unmet(cs[:1], "Two ministers signed it.")] == ["3"]


def test_closest_match_message_names_the_unmet_part() -> None:
    q = "Where was the first migration dialogue held?"
    missing = unmet(extract_constraints(q), THIRD)
    assert closest_match_message(q, missing, THIRD, 1) == (
        "No article says where the first migration dialogue was held; "
        "the closest match is about the third one [1]."
    )
    q = "Who was the UK Home Secretary during Le Quoc Hung's September visit?"
    missing = unmet(extract_constraints(q), VISIT_LEAD)
    assert closest_match_message(q, missing, VISIT_LEAD, 2) == (
        "No article says who was the UK Home Secretary during Le Quoc Hung's September visit; "
        "the closest match names no Home Secretary [2]."
    )


def test_closest_match_message_lists_further_parts_and_needs_one() -> None:
    # "call" before an object is the verb ("What do they call home?"); "phone" is the call.
    q = "Did Quang phone David Lammy in 2021?"
    missing = unmet(extract_constraints(q), THIRD)
    assert [c.text for c in missing] == ["Quang", "phone", "David Lammy", "2021"]
    assert closest_match_message(q, missing, THIRD, 3) == (
        "No article says “Did Quang phone David Lammy in 2021?”; "
        "the closest match does not mention Quang [3] (also not found: phone, David Lammy, 2021)."
    )
    with pytest.raises(ValueError, match="at least one unmet constraint"):
        closest_match_message(q, (), THIRD, 1)


@pytest.mark.parametrize(
    ("question", "clause"),
    [
        ("Where was the first migration dialogue held?", "where the first migration dialogue was held"),
        ("When did Le Quoc Hung visit the UK?", "when Le Quoc Hung visited the UK"),
        ("Who did Hung hold talks with?", "who Hung held talks with"),
        ("Who hosted Simon Ridley?", "who hosted Simon Ridley"),
        ("How many MoUs were signed?", "how many MoUs were signed"),
        ("Who is the Home Secretary?", "who is the Home Secretary"),
    ],
)  # fmt: skip
def test_indirect(question: str, clause: str) -> None:
    assert indirect(question) == clause


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown constraint kind 'colour'"):
        met(Constraint("colour", "red", "red"), "red")


def test_place_and_organisation_variants() -> None:
    assert name_met("Britain", VISIT)  # the article says "UK" and "United Kingdom"
    assert name_met("Vietnam", PHONE_TALKS)  # "Vietnamese"
    assert name_met("NCA", "visited the UK's National Crime Agency")
    assert not name_met("France", VISIT)


def test_month_and_year_are_not_a_day() -> None:
    q = "What did the ministers agree in their April 2024 call?"
    assert _kinds(q) == [
        ("month", "April", "april"),
        ("year", "2024", "2024"),
        ("event", "call", "phone call"),
    ]
    assert unmet(extract_constraints(q), "", CALL_2024) == ()


def test_a_question_in_capitals_sets_no_names() -> None:
    assert _kinds("ROBERT JENRICK POSITION HOME OFFICE") == []
    assert _kinds("PHAM MINH CHINH UK VISIT 2021") == [
        ("event", "VISIT", "visit"),
        ("year", "2021", "2021"),
    ]


def test_called_for_is_no_phone_call() -> None:
    assert [c.kind for c in extract_constraints("Who called for joint investigations?")] == []


def test_two_sides_are_both_sides() -> None:
    cs = extract_constraints("What programmes will the two sides carry out?")
    assert cs == (Constraint("number", "two", "2"),)
    assert unmet(cs, "", "Both sides will carry out programmes.") == ()


def test_keyword_query_with_two_ordinals() -> None:
    cs = extract_constraints("defence policy dialogue fourth second session month")
    assert [(c.text, c.about) for c in cs if c.kind == "ordinal"] == [
        ("fourth", ""),
        ("second", "session"),
    ]
    assert unmet(cs, "", FIRST_DIALOGUE) == ()


def test_a_delegation_received_is_on_a_visit() -> None:
    cs = extract_constraints(
        "Who is the Home Office's number two civil servant that visited Hanoi?"
    )
    assert unmet(cs, "", RECEPTION) == ()


def test_an_ordinal_meets_its_numeral_forms_only_for_the_same_number() -> None:
    cs = extract_constraints("Who won at the 43rd Annual Grammy Awards?")
    assert [(c.kind, c.value) for c in cs] == [("ordinal", "43"), ("name", "annual grammy awards")]
    assert unmet(cs, "She won at the 43 Annual Grammy Awards in 2001.") == ()
    assert [c.text for c in unmet(cs, "She won at the 44 Annual Grammy Awards.")] == ["43rd"]
    third = extract_constraints("Where was the third dialogue held?")
    assert unmet(third, "The 3rd dialogue was held in Hanoi.") == ()
    assert unmet(third, "The 3 dialogue was held in Hanoi.") == ()
    first = extract_constraints("Where was the first dialogue held?")
    assert [c.text for c in unmet(first, "The third dialogue was held in Hanoi.")] == ["first"]
    assert [c.text for c in unmet(first, "The 3rd dialogue was held in Hanoi.")] == ["first"]
    assert unmet(first, "The inaugural dialogue was held in Hanoi.") == ()
    assert [c.text for c in unmet(third, "The inaugural dialogue was held.")] == ["third"]


def test_a_number_meets_its_ordinal_forms() -> None:
    cs = extract_constraints("How many awards did she win at the 43 Grammy Awards?")
    assert cs[0] == Constraint("number", "43", "43")
    assert unmet(cs[:1], "at the 43rd Annual Grammy Awards") == ()
    assert [c.text for c in unmet(cs[:1], "at the 42nd Annual Grammy Awards")] == ["43"]


def test_names_meet_their_plural_possessive_and_joined_forms() -> None:
    assert name_met("Grammies", "Beyoncé won five Grammy awards.")
    assert name_met("Beyoncé's", "Beyonce released her debut album.")
    assert name_met("Jay-Z", "She married JayZ in 2008.")
    assert name_met("Jay Z", "She married Jay-Z in 2008.")
    assert not name_met("Grammies", "She won five Brit awards.")


def test_dotted_abbreviations_titles_and_dates_in_names() -> None:
    assert name_met("U.K.", "It was released only in the UK.")
    assert name_met("UK", "It was released only in the U.K.")
    assert not name_met("U.K.", "It was released only in France.")
    assert name_met("Doctor Adam Łyszczyński", "He stayed with Adam Łyszczyński.")
    cs = extract_constraints("What was the most searched term in week of Aug 29, 2011?")
    assert [c.kind for c in cs] == ["month", "day", "year"]


@pytest.mark.parametrize(
    "question",
    [
        "What percentage of tax revenue came from Wall Street in 2013-4?",
        "Which company sold iPods from 2004-05 under a license?",
        "How much money had the film made by 2/21/2016?",
        "Which magazine placed it on its list for the 00's?",
    ],
)
def test_a_number_inside_a_date_or_span_of_years_counts_nothing(question: str) -> None:
    assert [c for c in extract_constraints(question) if c.kind == "number"] == []


def test_a_number_range_that_is_no_year_span_is_still_a_count() -> None:
    cs = extract_constraints("Where was it projected to gross 80-85 million?")
    assert [(c.kind, c.value) for c in cs] == [("number", "80"), ("number", "85")]


def test_a_year_is_met_in_the_sentence_s_paragraph_or_by_the_date_not_elsewhere():
    from qa.constraints import extract_constraints, unmet

    q = "What did Chien and Rycroft discuss when they met in 2023?"
    cons = [c for c in extract_constraints(q) if c.kind == "year"]
    sentence = "Chien hosted a reception on August 16 for Rycroft."
    article = sentence + "\nAhead of the anniversary in 2023, he suggested more co-operation."
    # the 2023 of another paragraph does not date a meeting reported in 2022
    assert unmet(cons, sentence, article, date="2022-08-16", paragraph=sentence) == tuple(cons)
    # without the paragraph (a passage checked alone), the article's text still counts
    assert unmet(cons, sentence, article, date="2022-08-16") == ()
    # the article's own date meets it
    assert unmet(cons, sentence, article, date="2023-09-16", paragraph=sentence) == ()


def test_a_month_is_still_met_anywhere_in_the_article():
    from qa.constraints import extract_constraints, unmet

    q = "In the April 2024 call, what were the delegation exchanges meant to achieve?"
    cons = [c for c in extract_constraints(q) if c.kind == "month"]
    sentence = "They pledged to maintain the exchange of delegations at all levels."
    article = "On April 15, 2024, To Lam had a phone call with Cleverly.\n" + sentence
    assert unmet(cons, sentence, article, date="2024-05-30", paragraph=sentence) == ()


CALL_SENTENCE = (
    "On the afternoon of April 15, 2024, in Hanoi, General To Lam had a phone call with "
    "British Minister of Home Affairs James Cleverly."
)


def test_a_phone_call_sentence_contradicts_an_asked_visit():
    from qa.constraints import conflicting_events, extract_constraints

    cons = extract_constraints("When did To Lam visit London?")
    assert [c.value for c in conflicting_events(cons, CALL_SENTENCE)] == ["visit"]
    # a sentence that says nothing of any event contradicts nothing
    assert conflicting_events(cons, "To Lam thanked the UK for its support.") == ()


def test_delegation_exchanges_agreed_on_a_call_are_no_visit():
    from qa.constraints import conflicting_events, extract_constraints

    cons = extract_constraints("In the April 2024 call, what were the delegation exchanges for?")
    s = "They pledged to maintain and promote the exchange of delegations at all levels."
    assert conflicting_events(cons, s) == ()


def test_a_capital_is_not_its_country():
    from qa.constraints import name_met

    assert not name_met("London", "The delegation visited the United Kingdom.")
    assert name_met("Britain", "The delegation visited the United Kingdom.")
    assert name_met("Hanoi", "The talks were held in Ha Noi.")


def test_a_name_is_not_met_by_a_longer_word_of_the_same_stem():
    from qa.constraints import name_met

    assert not name_met("Cooper", "The two sides deepened their cooperation.")
    assert name_met("Grammy", "She won two Grammies.")  # an inflection still is
    assert name_met("Cooper", "Yvette Cooper said")
