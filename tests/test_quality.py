"""Quality regression on the development set with the real bundled model.

The floors are the levels measured when this test was written (docs/quality.md), less one
question; a change that drops below them fails here.
"""

from __future__ import annotations

import unicodedata

import pytest

from .conftest import DATA

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dev_report(real_index):
    import qa

    return qa.evaluate(DATA / "dev.jsonl", index=real_index, k=5)


def test_dev_retrieval_levels(dev_report):
    m = dev_report.metrics
    # Measured 0.982 / 0.789 (56 and 45 of 57, int8 encoder), then 0.754 (43 of 57) once the
    # follow-up dev-061 carries the person the conversation is about ("Le Quoc Hung", not
    # "Met") into its query, which ranks another passage of his visit first; floors allow one
    # question to flip on a tie.
    assert m["hit@5"] >= 0.96
    assert m["hit@1"] >= 0.73


def test_dev_answer_levels(dev_report):
    m = dev_report.metrics
    # Measured 0.912 / 0.877 / 0.800 / 0.035 (52 of 57 answered with the gold, citation hit,
    # 12 of 15 declined, 2 of 57 declined) with issue 11's short answers, checks, broad typing
    # and same-article sentences (docs/quality.md); floors allow one question to flip.
    assert m["answer_containment"] >= 0.89
    assert m["citation_hit"] >= 0.859
    assert m["refusal_recall"] >= 0.73
    assert m["false_refusal_rate"] <= 0.053


@pytest.fixture(scope="module")
def hard_dev_report(real_index):
    import qa

    return qa.evaluate(DATA / "hard-dev.jsonl", index=real_index, k=5)


def test_hard_dev_answer_levels(hard_dev_report):
    m = hard_dev_report.metrics
    # Measured 0.866 / 0.915 / 0.640 / 0.037 (71 of 82, citation hit, 16 of 25 declined, 3 of
    # 82 declined; issue 11, docs/quality.md); floors allow one question to flip.
    # hard-heldback.jsonl is never asserted on here (it is measured, not tuned on).
    assert m["answer_containment"] >= 0.85
    assert m["citation_hit"] >= 0.90
    assert m["refusal_recall"] >= 0.60
    assert m["false_refusal_rate"] <= 0.05


def test_report_hit_at_5_equals_retrieve(dev_report, real_index):
    from qa.lexical import fold

    def norm(s: str) -> str:
        return " ".join(fold(s).split())

    rows = [r for r in dev_report.rows if r["answerable"] and r["evidence"] and not r["history"]]
    for row in rows:
        got = real_index.retrieve(row["question"], k=5)
        hit = any(norm(e) in norm(p.text) for p in got for e in row["evidence"])
        assert hit == bool(row["hit@5"]), row["question"]


def test_follow_up_conversation(real_index):
    first = "What did Le Quoc Hung suggest about the extradition of criminals?"
    a1 = real_index.answer(first)
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": a1.text}]
    a2 = real_index.answer("Which agencies did he visit?", history)
    assert a2.answerable
    assert "NCA" in a2.text or "National Crime Agency" in a2.text


def test_nfc_and_nfd_give_the_same_results(real_index):
    nfc = "Lương Tam Quang phone talks"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    a = real_index.retrieve(nfc, k=5)
    b = real_index.retrieve(nfd, k=5)
    assert [(p.passage_id, p.score) for p in a] == [(p.passage_id, p.score) for p in b]


def test_diacritic_free_name_finds_the_article(real_index):
    top = real_index.retrieve("luong tam quang yvette cooper phone talks", k=3)
    assert "001_725ecd0f546f87bb.txt" in [p.doc_id for p in top]
