"""Short answers: the typed, novel phrase that answers (qa.phrases)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.lexical import fold
from qa.phrases import (
    Entity,
    ShortAnswer,
    answer_kind,
    named_in,
    pattern_entities,
    sentence_entities,
    short_answer,
)

# Sentences from the corpus articles (corpus/000 ... 004).
CALL = (
    "On the afternoon of April 15, 2024, in Hanoi, General To Lam, Minister of Public Security, "
    "had a phone call with British Minister of Home Affairs James Cleverly to discuss cooperation "
    "between the Vietnamese Ministry of Public Security and the British Ministry of Home Affairs."
)
VISIT = (
    "A high-ranking delegation of the Ministry of Public Security led by its Deputy Minister "
    "Lieutenant General Le Quoc Hung paid a working visit to the United Kingdom from September "
    "16-21 to strengthen bilateral cooperation in law enforcement."
)
TALKS = (
    "The delegation held talks with Minister of State (Minister for Immigration) at the Home "
    "Office Robert Jenrick, visited the UK's National Crime Agency (NCA), worked with the "
    "Metropolitan Police (Met) and visited several Met units."
)
RECEPTION = (
    "General Luong Tam Quang, Politburo member and Minister of Public Security hosted a "
    "reception in Hanoi on March 4 for Simon Ridley, Second Permanent Secretary at the UK Home "
    "Office."
)
THIRD = (
    "For his part, Simon Ridley hailed the growing cooperation between the two ministries, "
    "particularly their effective coordination in the third Vietnam-UK Migration and "
    "Immigration Dialogue held earlier in Hanoi."
)
MOU_2018 = (
    "With regard to human trafficking prevention, based on the Memorandum of Understanding (MoU) "
    "on co-operation in this field signed in November, 2018, the Border Guard Command has "
    "maintained an effective co-operation mechanism with the UK Border Agency."
)
PHONE_TALKS = (
    "Minister of Public Security Sen. Lieut. Gen. Lương Tam Quang told Secretary of State for "
    "the Home Department Yvette Cooper in their phone talks on October 10."
)
AGREEMENTS = (
    "To further bilateral cooperation, he proposed the implementation of signed agreements, "
    "including the Memorandum of Understanding (MoU) on Human Trafficking Prevention, the MoU on "
    "Immigration Information Sharing, the MoU on Migration Issues, and the Joint Statement of "
    "the third Vietnam-UK Migration and Immigration Dialogue."
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who did To Lam talk to?", "who"),
        ("Which minister hosted Simon Ridley?", "who"),
        ("When did Hung visit the UK?", "when"),
        ("In what year was the MoU signed?", "when"),
        ("On what date will the second dialogue be held?", "when"),  # after its preposition
        ("Where was the third dialogue held?", "where"),
        ("Which city hosted the dialogue?", "where"),
        ("How many MoUs were signed?", "how_many"),
        ("How much funding did the UK pledge?", "amount"),
        ("Which agency does the Border Guard Command work with?", "org"),
        ("Which MoUs did Quang propose to implement?", "agreement"),
        ("Who did he meet when he visited London?", "who"),  # the earliest cue wins
        ("When working with the police, what did he ask?", ""),  # the question proper
        ("What did the two sides agree?", ""),
    ],
)
def test_answer_kind(question: str, kind: str) -> None:
    assert answer_kind(question) == kind


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("When did To Lam have a phone call with James Cleverly?", CALL,
         ("On the afternoon of April 15, 2024", "DATE")),
        ("Who did To Lam talk to on the phone?", CALL, ("James Cleverly", "PERSON")),
        ("Where was To Lam during the call?", CALL, ("Hanoi", "GPE")),
        ("When did Hung visit the UK?", VISIT, ("September 16-21", "DATE")),
        ("Who led the delegation to the UK?", VISIT, ("Le Quoc Hung", "PERSON")),
        ("Who did Le Quoc Hung hold talks with?", TALKS, ("Robert Jenrick", "PERSON")),
        ("Which agency did the delegation visit?", TALKS, ("National Crime Agency", "ORG")),
        ("Who hosted a reception for Simon Ridley?", RECEPTION, ("Luong Tam Quang", "PERSON")),
        ("Who did Quang receive in Hanoi on March 4?", RECEPTION, ("Simon Ridley", "PERSON")),
        ("When did Quang receive Ridley?", RECEPTION, ("March 4", "DATE")),
        ("Where was the third dialogue held?", THIRD, ("Hanoi", "GPE")),
        ("Which agency does the Border Guard Command work with?", MOU_2018,
         ("UK Border Agency", "ORG")),
        ("When was the MoU on human trafficking signed?", MOU_2018, ("November, 2018", "DATE")),
        ("Who did Luong Tam Quang speak with on October 10?", PHONE_TALKS,
         ("Yvette Cooper", "PERSON")),
        ("Which agreements did Quang propose to implement?", AGREEMENTS,
         ("the Memorandum of Understanding (MoU) on Human Trafficking Prevention", "AGREEMENT")),
        ("How many people died?", "The earthquake killed 69,197 people in 2008.",
         ("69,197", "CARDINAL")),
    ],
)  # fmt: skip
def test_short_answer_finds_the_typed_phrase(
    question: str, sentence: str, expected: tuple[str, str]
) -> None:
    sa = short_answer(question, sentence)
    assert sa is not None
    assert (sa.text, sa.label) == expected
    assert sentence[sa.start : sa.end] == sa.text
    assert sa.kind == answer_kind(question)


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        # the only person is the one the question names
        ("Who was the Home Secretary during Hung's visit?", VISIT),
        ("Who was the UK Home Secretary during Le Quoc Hung's September visit?", VISIT),
        # the sentence holds nothing of the kind asked for
        ("How many MoUs were signed?", AGREEMENTS),
        ("Where did Simon Ridley study?", "Simon Ridley hailed the growing cooperation."),
        ("When did the dialogue end?", "The dialogue ended with a joint statement."),
        # a date is not a count, an ordinal is not a count
        ("How many dialogues were held?", "The third dialogue was held on March 4, 2025."),
        # a kind the module does not type
        ("Why did the UK sign the agreement?", MOU_2018),
    ],
)
def test_short_answer_declines(question: str, sentence: str) -> None:
    assert short_answer(question, sentence) is None


def test_named_in_folds_diacritics_and_name_parts() -> None:
    assert named_in("Lương Tam Quang", "What did Quang say?", "PERSON")
    assert named_in("Luong Tam Quang", "What did LƯƠNG say?", "PERSON")
    assert not named_in("Simon Ridley", "What did Quang say?", "PERSON")
    # other kinds need all their distinctive words: a year adds to a month
    assert not named_in("November, 2018", "What was signed in November?", "DATE")
    assert named_in("UK Home Office", "Which agency did the Home Office send?", "ORG")


def test_nearest_candidate_to_the_question_words_wins() -> None:
    sentence = "Alice Moore met Bob Stone in Paris, while Carol Diaz stayed in Rome."
    assert short_answer("Who stayed in Rome?", sentence).text == "Carol Diaz"
    assert short_answer("Who met Bob Stone?", sentence).text == "Alice Moore"


def test_pattern_entities_types_titles_and_names() -> None:
    ents = [(e.text, e.label) for e in pattern_entities(PHONE_TALKS)]
    assert ents == [
        ("Minister of Public Security Sen. Lieut. Gen.", "ROLE"),
        ("Lương Tam Quang", "PERSON"),
        ("Secretary of State for the Home Department", "ROLE"),
        ("Yvette Cooper", "PERSON"),
        ("October 10", "DATE"),
    ]


def test_pattern_entities_agreements_end_at_the_clause() -> None:
    ents = [(e.text, e.label) for e in pattern_entities(AGREEMENTS) if e.label == "AGREEMENT"]
    assert ents == [
        ("the Memorandum of Understanding (MoU) on Human Trafficking Prevention", "AGREEMENT"),
        ("the MoU on Immigration Information Sharing", "AGREEMENT"),
        ("the MoU on Migration Issues", "AGREEMENT"),
        ("the Joint Statement of the third Vietnam-UK Migration and Immigration Dialogue",
         "AGREEMENT"),
    ]  # fmt: skip


def test_pattern_entities_numbers_dates_ordinals() -> None:
    text = "In 2023, 12 officers and three experts met for the 2nd time; costs were $5 million."
    ents = [(e.text, e.label) for e in pattern_entities(text)]
    assert ents == [
        ("2023", "DATE"),
        ("12", "CARDINAL"),
        ("three", "CARDINAL"),
        ("2nd", "ORDINAL"),
        ("$5 million", "MONEY"),
    ]


def test_vietnamese_names_without_diacritics() -> None:
    text = "Minister To Lam said that Prime Minister Pham Minh Chinh's visit mattered."
    people = [e.text for e in pattern_entities(text) if e.label == "PERSON"]
    assert people == ["To Lam", "Pham Minh Chinh"]


def test_entities_roundtrip_json_and_spans() -> None:
    ents = sentence_entities([CALL, VISIT], method="patterns")
    data = json.loads(json.dumps([[e.to_dict() for e in row] for row in ents]))
    back = [[Entity.from_dict(d) for d in row] for row in data]
    assert back == ents
    for text, row in zip([CALL, VISIT], back):
        assert all(text[e.start : e.end] == e.text for e in row)


def test_precomputed_entities_are_used() -> None:
    ents = [Entity("Somebody Else", 0, 13, "PERSON")]
    sa = short_answer("Who came?", "Somebody Else came.", ents)
    assert sa == ShortAnswer("Somebody Else", 0, 13, "who", "PERSON")


def test_unknown_method_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown entity method 'bert'"):
        sentence_entities(["x"], method="bert")


@pytest.mark.integration
def test_spacy_entities_are_spans_of_the_sentence() -> None:
    # loading spaCy costs seconds on a busy 2-core machine: an integration test
    spacy_rows = sentence_entities([CALL, RECEPTION], method="spacy")
    assert ("James Cleverly", "PERSON") in [(e.text, e.label) for e in spacy_rows[0]]
    assert ("Simon Ridley", "PERSON") in [(e.text, e.label) for e in spacy_rows[1]]
    hybrid = sentence_entities([CALL], method="hybrid")[0]
    # patterns win where both see something: the whole date with its time of day
    assert ("On the afternoon of April 15, 2024", "DATE") in [(e.text, e.label) for e in hybrid]
    for text, row in zip([CALL, RECEPTION], spacy_rows):
        assert all(text[e.start : e.end] == e.text for e in row)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        # a later "when" asks nothing when the question opens with another question word
        ("Which edition of the dialogue had concluded when Quang received Ridley?", ""),
        ("Which Minister of State was expected to visit Vietnam?", "who"),  # not "which state"
        ("What kind of programmes will the two sides carry out?", ""),
        ("Among whom did Quang suggest more exchanges?", "who"),
        ("Beyonce met with whom's family?", "who"),  # no opening question word: any cue
    ],
)
def test_answer_kind_follows_the_opening_question_word(question: str, kind: str) -> None:
    assert answer_kind(question) == kind


def test_who_without_a_title_may_be_answered_by_an_organisation() -> None:
    sentence = (
        "Also on the same day, Vietnam’s Ministry of Public Security and the UK Home Office "
        "co-hosted the third Vietnam-UK Migration and Immigration Dialogue."
    )
    sa = short_answer("Who co-hosted the dialogue with the UK Home Office?", sentence)
    assert (sa.text, sa.label) == ("Ministry of Public Security", "ORG")
    # asking for an office holder is not answered by a ministry
    assert short_answer("Who was the Home Secretary at the dialogue?", sentence) is None


def test_lowercase_agreement_on_something_is_named() -> None:
    sentence = (
        "Hung suggested the two sides soon negotiate and sign an agreement on the extradition "
        "of criminals to complete the legal corridor."
    )
    sa = short_answer("What agreement did Hung suggest?", sentence)
    assert sa.text == "an agreement on the extradition of criminals to complete the legal corridor"


def test_two_names_after_a_title() -> None:
    sentence = (
        "Visiting the NCA, Deputy Minister Le Quoc Hung and Rob Jones, Director General for "
        "Operations at the NCA, committed to working closely."
    )
    people = [e.text for e in pattern_entities(sentence) if e.label == "PERSON"]
    assert people == ["Le Quoc Hung", "Rob Jones"]
    assert short_answer("Who did Hung meet at the NCA?", sentence).text == "Rob Jones"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["Minister", "To", "Lam", "of", "the", "UK", "Home", "Office", "and", "met", "in",
             "Hanoi", "on", "April", "15,", "2024", "3", "first", "MoU", "on", "trade", ".",
             "Lương", "Tam", "Quang's", "(MPS)", "Sen.", "Lt.", "Gen.", "£5", "million"]
        ),
        max_size=25,
    )
)  # fmt: skip
def test_pattern_entities_are_disjoint_spans_of_the_text(tokens: list[str]) -> None:
    text = " ".join(tokens)
    ents = pattern_entities(text)
    assert all(text[e.start : e.end] == e.text and e.text for e in ents)
    assert all(a.end <= b.start for a, b in zip(ents, ents[1:]))


# --- roles a who-question asks for (qa.roles) ---------------------------------------------

NCA = (
    "Visiting the NCA, Deputy Minister Le Quoc Hung and Rob Jones, Director General for "
    "Operations at the NCA, committed to working closely to exchange and share experiences."
)
CO_CHAIRED = (
    "Within the framework of the visit made by the top Vietnamese legislator, the two defence "
    "ministries co-chaired the first session of the fourth Vietnam - UK Defence Policy Dialogue."
)
GUEST = (
    "Deputy Minister Chien congratulated his guest on successfully co-chairing the first UK – "
    "Vietnam migration dialogue alongisde the Ministry of Public Security on the morning of "
    "August 15."
)


def test_asked_role_by_head_noun_and_by_verb():
    from qa.roles import asked_role

    chief = asked_role("Who is the NCA's operations chief who met the Vietnamese deputy minister?")
    assert (chief.text, chief.verb) == ("chief", False)
    assert "director" in chief.words
    servant = asked_role("Who is the Home Office's number two civil servant that visited Hanoi?")
    assert servant.text == "civil servant" and "secretary" in servant.words
    signed = asked_role("Who signed the Joint Statement for the UK?")
    assert (signed.text, signed.verb) == ("one who signed", True)
    assert asked_role("Who did he hold talks with at the home office?") is None


def test_role_synonym_in_appositive_picks_the_person_who_holds_it():
    # "operations chief" is met by "Director General for Operations" (chief ~ director); the
    # deputy minister next to him holds another role.
    q = "Who is the NCA's operations chief who met the Vietnamese deputy minister?"
    found = short_answer(q, NCA)
    assert found == ShortAnswer("Rob Jones", 51, 60, "who", "PERSON")
    # deputy, minister, operations and the NCA in its window (capitalised words are free)
    assert found.support == 4 / 7


def test_person_with_another_role_does_not_answer():
    assert short_answer("Who is the Commissioner of the Metropolitan Police?", TALKS) is None
    # without the role check the minister would be the short answer
    found = short_answer("Who is the Commissioner of the Metropolitan Police?", TALKS, roles=False)
    assert found is not None and found.text == "Robert Jenrick"


def test_role_stated_at_another_mention_in_the_article():
    said = "Minister To Lam said that the ministry supports cooperation with the British side."
    q = "Which Vietnamese general said his ministry would work with Britain?"
    assert short_answer(q, said) is None
    found = short_answer(q, said, article=CALL)
    assert found == ShortAnswer("To Lam", 9, 15, "who", "PERSON")


def test_role_noun_asks_for_a_person_not_an_organisation():
    assert short_answer("Who is the commander of Vietnam's Border Guard Command?", MOU_2018) is None


def test_role_verb_needs_the_person_next_to_it():
    # "his guest" co-chaired, not Chien (five words before the verb)
    assert short_answer("Who co-chaired the first migration dialogue?", GUEST) is None
    found = short_answer("Who co-chaired the opening session of the defence dialogue?", CO_CHAIRED)
    assert found == ShortAnswer("the two defence ministries", 73, 99, "who", "GROUP")


def test_adjectival_role_verb_states_no_act():
    s = "He affirmed that the UK Home Office will continue to implement signed agreements."
    assert short_answer("Who signed the Joint Statement for the UK?", s) is None


def test_span_support_counts_question_terms_near_the_phrase():
    from qa.phrases import span_support, support_terms

    terms = support_terms("who did he hold talks with at the home office?")
    start = TALKS.index("Robert Jenrick")
    assert sorted(terms) == ["hold", "home", "offic", "talk"]
    # the title between "talks with" and the name does not use up the window: talks, home,
    # office are near; "held" is the seventh lower-case word back
    assert span_support(terms, TALKS, start, start + len("Robert Jenrick")) == 0.75
    found = short_answer("who did he hold talks with at the home office?", TALKS)
    assert found is not None and found.support == 0.75


def test_who_led_is_a_role_verb_and_a_title_between_does_not_count():
    s = (
        "A high-ranking delegation of the Ministry of Public Security led by its Deputy "
        "Minister Lieutenant General Le Quoc Hung paid a working visit to the United Kingdom."
    )
    found = short_answer("Who led the Vietnamese delegation?", s)
    assert found is not None and found.text.endswith("Le Quoc Hung")
    # a sentence whose only name is an organisation the delegation visited states no leader
    other = "On this occasion, the delegation also visited the Vietnamese Embassy in the UK."
    assert short_answer("Who led the Vietnamese delegation?", other) is None


def test_a_possessive_ends_a_name_whatever_its_case():
    from qa.phrases import pattern_entities

    s = "On this occasion, the Ministry of Public Security'S delegation also visited London."
    assert [e.text for e in pattern_entities(s)][:1] == ["Ministry of Public Security"]


def test_a_name_of_several_words_after_in_or_at_is_a_place() -> None:
    ents = [(e.text, e.label) for e in pattern_entities(
        "Saad Hariri met aid donors in Saudi Arabia and at the East Rutherford stadium."
    )]  # fmt: skip
    assert ents == [("Saad Hariri", "PERSON"), ("Saudi Arabia", "GPE"), ("East Rutherford", "GPE")]
    ents = [(e.text, e.label) for e in pattern_entities("It was a call from James Cleverly.")]
    assert ents == [("James Cleverly", "PERSON")]
    found = short_answer("Where did he meet aid donors?", "He met aid donors in Saudi Arabia.")
    assert found is not None and (found.text, found.label) == ("Saudi Arabia", "GPE")


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("Who is Simon Ridley?", "Simon Ridley"),
        ("who is baroness goldy", "baroness goldy"),
        ("Who is Beyoncé married to?", ""),  # asks about someone else
        ("who is beyonce married to", ""),
        ("Who is the Home Secretary?", ""),  # a role, not a name
        ("who is he", ""),
    ],
)
def test_who_is_name(question, name):
    from qa.phrases import who_is_name

    assert who_is_name(question) == name


def test_describe_person_reads_the_appositive_or_the_title_before_the_name():
    from qa.phrases import describe_person

    host = (
        "General Luong Tam Quang, Politburo member and Minister of Public Security hosted a "
        "reception in Hanoi on March 4 for Simon Ridley, Second Permanent Secretary at the UK "
        "Home Office."
    )
    found = describe_person("simon ridley", host)
    assert found == ShortAnswer(
        "Second Permanent Secretary at the UK Home Office", 131, 179, "who", "ROLE"
    )
    assert host[found.start : found.end] == found.text
    # the appositive stops where the clause's verb and object begin
    assert describe_person("Luong Tam Quang", host).text == (
        "Politburo member and Minister of Public Security"
    )
    assert describe_person("Robert Jenrick", TALKS).text == (
        "Minister of State (Minister for Immigration) at the Home Office"
    )
    # a name misspelt by two letters is still found; a sentence without the person says nothing
    goldie = "the visit to Vietnam by Baroness Goldie DL, Minister of State at the UK Ministry."
    assert describe_person("baroness goldy", goldie).text == "Minister of State at the UK Ministry"
    assert describe_person("Rob Jones", host) is None


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("ridley hanoi date", "when"),
        ("3rd migration and immigration dialogue venue", "where"),
        ("to lam rank", ""),
        ("Up to date?", ""),  # a question mark: not a keyword query
        ("what happened in hanoi, location", ""),  # a question word: read as a question
    ],
)
def test_a_keyword_query_asks_by_its_last_word(query, kind):
    assert answer_kind(query) == kind


def test_a_place_is_not_a_side_and_a_located_one_comes_first():
    s = "Also on the same day, Vietnam’s Ministry of Public Security co-hosted the dialogue."
    assert short_answer("3rd migration dialogue venue", s) is None  # Vietnam names a side
    s2 = "The UK delegation met officials of Vietnam in Hanoi."
    assert short_answer("Where did the delegation meet officials?", s2).text == "Hanoi"


def test_role_verb_object_is_not_its_agent_and_a_side_is_no_place():
    s = (
        "Based on the MoU on co-operation in this field signed in November, 2018, the Border "
        "Guard Command has maintained an effective co-operation mechanism."
    )
    assert short_answer("who signed the 2018 anti-trafficking mou for the british side", s) is None
    s2 = "Quang told Yvette Cooper that the MPS supports cooperating with the UK side."
    assert short_answer("Where was Quang when he spoke to Yvette Cooper?", s2) is None


def test_a_lenient_era_is_a_whole_word():
    from qa.phrases import lenient_short

    s = "The delegation visited the UK's National Crime Agency (NCA)."
    assert lenient_short("When did Robert Jenrick visit Hanoi?", s, "when") is None


def test_a_person_asked_by_its_noun_is_not_an_organisation_and_which_x_verbed_is_a_role():
    s = (
        "Also on the same day, Vietnam’s Ministry of Public Security and the UK Home Office "
        "co-hosted the third Vietnam-UK Migration and Immigration Dialogue."
    )
    # "official" asks for a person: neither ministry answers (the noun sits in the cue)
    assert short_answer("Which Vietnamese official co-hosted the third dialogue?", s) is None
    from qa.roles import asked_role

    role = asked_role("Which Vietnamese official co-chaired the third dialogue?")
    assert role is not None and role.verb and "co-chaired" in role.words
    assert asked_role("who is the current manager of manchester united").text == "manager"


MET_LINK = (
    "He proposed the British side consider establishing cooperative relations between Met "
    "and the Hanoi Department of Public Security."
)


def test_a_city_question_is_not_answered_by_a_country() -> None:
    assert short_answer("in which city did le quoc hung meet rob jones", VISIT) is None
    assert short_answer("Which country did Le Quoc Hung visit?", VISIT).text == "United Kingdom"


def test_a_country_question_is_not_answered_by_a_city() -> None:
    s = "The talks were held in London, the capital of the United Kingdom."
    assert short_answer("Which country were the talks held in?", s).text == "United Kingdom"
    assert short_answer("Which city were the talks held in?", s).text == "London"


def test_a_city_may_open_an_organisation_s_name() -> None:
    sa = short_answer("Which city's police did Hung want to link up with the Met?", MET_LINK)
    assert (sa.text, sa.label) == ("Hanoi", "GPE")
    assert MET_LINK[sa.start : sa.end] == "Hanoi"


@pytest.mark.parametrize(
    "question",
    ["hung delegation britain how long which dates", "Which dates did Hung visit the UK?"],
)
def test_plural_date_nouns_ask_when(question: str) -> None:
    assert answer_kind(question) == "when"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("which Home Office minister did it hold talks with?", "who"),
        ("Which police officer met Hung?", "who"),
        ("Which police force did Hung work with?", "org"),
    ],
)
def test_an_organisation_noun_before_a_person_noun_asks_for_a_person(question, kind) -> None:
    assert answer_kind(question) == kind


QUANG_TOLD = (
    "The Vietnamese Ministry of Public Security (MPS) supports cooperating with the UK side, "
    "Minister of Public Security Sen. Lieut. Gen. Lương Tam Quang told Secretary of State for "
    "the Home Department Yvette Cooper in their phone talks on October 10."
)


def test_an_abbreviated_title_s_dots_do_not_cut_it_from_its_name() -> None:
    from qa.roles import role_context

    start = QUANG_TOLD.index("Lương")
    assert role_context(QUANG_TOLD, start, start + len("Lương Tam Quang")) == (
        "Minister of Public Security Sen Lieut Gen"
    )


@pytest.mark.parametrize(
    ("question", "side"),
    [
        ("Which Vietnamese deputy minister went to the National Crime Agency?", "VN"),
        ("Who was Vietnam's police minister during the October talks?", "VN"),
        ("which british minister did hung meet", "UK"),
        ("who is the uk home secretary", "UK"),
        ("Who did the Vietnamese delegation hold talks with?", ""),
        ("Which Vietnamese ministry sent the delegation?", ""),
    ],
)
def test_asked_side_is_the_nationality_of_the_asked_person(question: str, side: str) -> None:
    from qa.roles import asked_side

    assert asked_side(question) == side


def test_a_person_of_the_other_side_does_not_answer() -> None:
    q = "Who was Vietnam's police minister during the October phone talks?"
    sides = {"yvette cooper": "UK", "luong tam quang": "VN"}
    # without sides, the name nearest the question's words ("phone talks") wins
    assert short_answer(q, QUANG_TOLD).text == "Yvette Cooper"
    sa = short_answer(q, QUANG_TOLD, other_side=lambda n: sides.get(fold(n)) == "UK")
    assert sa.text == "Lương Tam Quang"


def test_a_nationality_or_a_short_organisation_name_is_no_official() -> None:
    s = "He proposed the British side consider relations between Met and the Hanoi police."
    assert short_answer("which vietnamese official did he meet?", s) is None


@pytest.mark.parametrize(
    ("entity", "question", "named"),
    [
        ("Border Guard Command", "Who runs the partnership with Vietnam's Border Guard?", True),
        ("UK Border Agency", "Who works with the Border Guard Command?", False),
        (
            "Hanoi Department of Public Security",
            "What did the Ministry of Public Security do?",
            False,
        ),
        ("Border Guard Academy", "What did the academy do?", False),
    ],
)
def test_an_organisation_named_but_for_its_kind_word_is_named(entity, question, named) -> None:
    assert named_in(entity, question, "ORG") is named


NCA_VISIT = (
    "Visiting the NCA, Deputy Minister Le Quoc Hung and Rob Jones, Director General for "
    "Operations at the NCA, committed to working closely."
)


def test_a_person_asked_for_by_organisation_must_be_stated_of_it() -> None:
    met = ("metropolitan police", "met")
    nca = ("national crime agency", "nca")
    q = "which met police officer did hung meet"
    assert short_answer(q, NCA_VISIT, org=met) is None
    assert short_answer("Who is the NCA's operations chief?", NCA_VISIT, org=nca).text == (
        "Rob Jones"
    )


def test_a_prime_minister_is_asked_for_not_any_minister() -> None:
    from qa.roles import asked_role

    s = (
        "Deputy Minister Chien emphasised the visit to the UK by Prime Minister Pham Minh "
        "Chinh in November, 2021."
    )
    q = "Which Vietnamese prime minister do the articles mention?"
    assert asked_role(q).words == ("prime minister", "premier")
    assert short_answer(q, s).text == "Pham Minh Chinh"
