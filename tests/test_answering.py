"""Answering with the fake encoder: citation invariants, escaping, refusals, follow-ups."""

from __future__ import annotations

import re

import pytest

from qa.answering import DECLINE_TEXT, question_type, rewrite_query
from qa.lexical import fold
from qa.render import md_escape
from qa.text import entities

QUESTIONS = [
    "Which agencies did Le Quoc Hung visit in the UK?",
    "When did To Lam have a phone call with James Cleverly?",
    "Who is Simon Ridley?",
    "What did Luong Tam Quang urge the UK Home Office to facilitate?",
    "What agreement on extradition of criminals did Hung suggest?",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_citation_contains_its_sentence(fake_index, question):
    ans = fake_index.answer(question)
    if not ans.answerable:
        pytest.skip("declined with the fake encoder")
    assert 1 <= len(ans.sentences) <= 3
    assert len(ans.supports) == len(ans.sentences)
    for sentence, nums in zip(ans.sentences, ans.supports):
        primary = ans.citations[nums[0] - 1]
        # The first citation of a sentence is the passage it is quoted from, verbatim.
        assert sentence in primary.text
        assert all(1 <= n <= len(ans.citations) for n in nums)
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", ans.text)}
    assert markers == set(range(1, len(ans.citations) + 1))
    assert all(c in ans.passages for c in ans.citations)
    # The answer never repeats a sentence.
    assert len({fold(s) for s in ans.sentences}) == len(ans.sentences)


def test_sources_list_format(fake_index):
    ans = fake_index.answer("When did To Lam have a phone call with James Cleverly?",
                            passages=fake_index.retrieve("To Lam James Cleverly phone call"))  # fmt: skip
    assert ans.answerable
    src = ans.text.split("**Sources**", 1)[1].strip().splitlines()
    first = ans.citations[0]
    assert src[0].strip() == (
        f"[1] {md_escape(first.title)} — {md_escape(first.source)}, {first.date_label}, "
        f"{first.paragraph_label}"
    )


def test_when_question_gives_document_date_marked_inferred(fake_index):
    p = [x for x in fake_index.passages if "October 10" in x.text]
    ans = fake_index.answer("When did Quang have phone talks with Yvette Cooper?", passages=p)
    assert ans.answerable
    assert (
        "_Date: the sentence gives no year; the article [1] is dated 2024-10-10 (inferred)._"
        in (ans.text)
    )


def test_off_topic_question_declined_with_related(fake_index):
    ans = fake_index.answer("Who is David Lammy, and what does France think?")
    assert ans.answerable is False
    assert ans.citations == ()
    assert ans.text.startswith(DECLINE_TEXT)
    assert "**Related passages**" in ans.text


def test_empty_question_raises_value_error(fake_index):
    with pytest.raises(ValueError):
        fake_index.answer(" \n ")


def test_markdown_in_documents_cannot_forge_links():
    assert md_escape("[1](javascript:alert(1)) **x** <img>") == (
        r"\[1\]\(javascript:alert\(1\)\) \*\*x\*\* \<img\>"
    )


def test_question_types():
    assert question_type("When did they meet?") == "when"
    assert question_type("How many units were visited?") == "how_many"
    assert question_type("Who is Simon Ridley?") == "who"
    assert question_type("Where was the dialogue held?") == "where"
    assert question_type("What did they sign?") == ""


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        # A leading subordinate clause is not the question: the clause after the comma is.
        ("When working with the police, what did the officer ask for?", ""),
        ("Besides politics, in which fields did they cooperate?", ""),
        ("After the talks, who hosted the reception?", "who"),
        # Within the question proper, the earliest cue wins.
        ("Who did he meet when he visited London?", "who"),
        ("In which year did the dialogue start?", "when"),
        ("Who visited Hanoi, and when?", "when"),
        ("How much money did the UK pledge?", "amount"),
        ("What is the budget of the programme?", "amount"),
        ("How many officials were in the delegation?", "how_many"),
    ],
)
def test_question_type_of_the_question_proper(question, kind):
    assert question_type(question) == kind


@pytest.mark.parametrize(
    ("kind", "sentence", "match"),
    [
        # Dates and ordinals are not counts.
        ("how_many", "The delegation visited the UK from September 16-21, 2023.", 0.0),
        ("how_many", "They co-hosted the third migration dialogue.", 0.0),
        ("how_many", "A delegation of 12 officials visited three agencies.", 1.0),
        # An amount needs its currency.
        ("amount", "The two sides met 5 times in 2023.", 0.0),
        ("amount", "The UK pledged £2 million for training.", 1.0),
        ("amount", "The project costs 3 billion VND.", 1.0),
    ],
)
def test_expected_answer_types(kind, sentence, match):
    from qa.answering import _type_match

    assert _type_match(kind, sentence) == match


@pytest.mark.parametrize(
    ("question", "proper_missing"),
    [
        ("Besides politics and diplomacy, in which fields did they cooperate?", False),
        ("Apart from fraud, which crimes did the ministers discuss?", False),
        ("France signed which agreement with Vietnam?", False),  # a lone first word: unknown
        ("What did France agree with Vietnam?", True),
        ("Which agreement did France sign with Vietnam?", True),
    ],
)
def test_a_lone_capitalised_opening_word_is_not_taken_for_a_name(
    fake_index, monkeypatch, question, proper_missing
):
    from qa import answering

    monkeypatch.setattr(fake_index, "encoder", _StubEncoder())
    names = ["United Kingdom", "Hanoi"]
    monkeypatch.setattr(
        fake_index, "corpus_names", (names, _StubEncoder().encode(names)), raising=False
    )
    assert answering.salient_missing(question, fake_index)[2] is proper_missing


def test_entities():
    assert entities("Which agencies did Le Quoc Hung visit in the UK?") == ["Le Quoc Hung", "UK"]
    assert entities("Who is Simon Ridley?") == ["Simon Ridley"]


def test_follow_up_rewritten_from_history(fake_index):
    history = [
        {"role": "user", "content": "Who is Simon Ridley?"},
        {"role": "assistant", "content": "Simon Ridley ... [1] Vietnam, UK push for closer "
         "cooperation in security and human trafficking prevention"},
    ]  # fmt: skip
    query, docs = rewrite_query("When did he meet the minister?", history, fake_index)
    assert query == "When did he meet the minister? (Simon Ridley)"
    assert docs == {"002_0e3753c4b3636534.txt"}
    ans = fake_index.answer("When did he meet the minister?", history)
    assert ans.rewritten and ans.query == query


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        # "Who is X?": the pronoun is X, even when the answer names its host first.
        ("Who is Simon Ridley?", "Simon Ridley"),
        # "Which UK official ...?" asks for a person: the pronoun is the one the answer added
        # (an office such as "Second Permanent Secretary" is no person).
        ("Which UK official did Luong Tam Quang receive on March 4?", "Simon Ridley"),
        ("Who did Luong Tam Quang receive on March 4?", "Simon Ridley"),
        # A who-question naming no one: the person the answer gives first.
        ("Who hosted the reception?", "General Luong Tam Quang"),
    ],
)
def test_follow_up_pronoun_after_a_who_question(fake_index, asked, expected):
    history = [
        {"role": "user", "content": asked},
        {"role": "assistant", "content": "General Luong Tam Quang hosted a reception for Simon "
         "Ridley, Second Permanent Secretary. [1]\n\n**Sources**"},
    ]  # fmt: skip
    query, _ = rewrite_query("What is his title?", history, fake_index)
    assert query == f"What is his title? ({expected})"


def test_self_contained_question_not_rewritten(fake_index):
    history = [{"role": "user", "content": "Who is Simon Ridley?"}]
    q = "What did Le Quoc Hung propose about extradition of criminals?"
    assert rewrite_query(q, history, fake_index) == (q, set())


class _StubEncoder:
    """Fixed vectors: "Britain" sits next to "United Kingdom", "France" far from everything."""

    model_id, dim = "stub", 3
    table = {"britain": [0.9, 0.436, 0], "france": [0, 0, 1]}

    def encode(self, texts, **kw):
        import numpy as np

        return np.asarray(
            [self.table.get(t.casefold(), [1, 0, 0] if "kingdom" in t.casefold() else [0, 1, 0])
             for t in texts], dtype=np.float32,
        )  # fmt: skip


def test_unknown_name_with_a_corpus_synonym_is_not_missing(fake_index, monkeypatch):
    from qa import answering

    monkeypatch.setattr(fake_index, "encoder", _StubEncoder())
    names = ["United Kingdom", "Hanoi"]
    monkeypatch.setattr(
        fake_index, "corpus_names", (names, _StubEncoder().encode(names)), raising=False
    )
    assert answering._has_synonym(fake_index, ["Britain", "France"]) == [True, False]
    _, _, missing = answering.salient_missing("What did Britain agree with Vietnam?", fake_index)
    assert missing is False
    _, _, missing = answering.salient_missing("What did France agree with Vietnam?", fake_index)
    assert missing is True
