"""bench/lead_sentence.py: the sentence-selection accuracy of an evaluation report."""

from __future__ import annotations

from bench.lead_sentence import lead_accuracy


def test_lead_accuracy_counts_the_first_sentence_and_the_short_answer():
    rows = [
        {"answerable": True, "gold_answers": ["Hanoi"], "declined": False,
         "answer_sentences": ["It was held in Hanoi.", "Later in London."], "short": "Hanoi"},
        {"answerable": True, "gold_answers": ["London"], "declined": False,
         "answer_sentences": ["It was held in Hanoi.", "Later in London."], "short": "Hanoi"},
        {"answerable": True, "gold_answers": ["Hanoi"], "declined": True,
         "answer_sentences": ["It was held in Hanoi."], "short": "Hanoi"},
        {"answerable": False, "gold_answers": [], "declined": True},
    ]  # fmt: skip
    # the second's gold is only in its second sentence; a declined answer is a miss
    assert lead_accuracy(rows) == (1, 1, 3)
