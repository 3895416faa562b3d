"""Pure metric functions against hand-computed values."""

from __future__ import annotations

import math

import pytest

from qa import metrics as m

# A relevant item only at rank 10.
AT_TEN = [False] * 9 + [True]


# --- ranking ----------------------------------------------------------------------------------


def test_first_relevant_rank() -> None:
    assert m.first_relevant_rank([False, True, True]) == 2
    assert m.first_relevant_rank(AT_TEN) == 10
    assert m.first_relevant_rank(AT_TEN + [True], k=10) == 10
    assert m.first_relevant_rank([False] * 10 + [True]) is None  # rank 11 is outside the top 10
    assert m.first_relevant_rank([]) is None
    assert m.first_relevant_rank(None) is None


def test_hit_at_k() -> None:
    flags = [False, False, True, False]
    assert m.hit_at_k(flags, 1) == 0.0
    assert m.hit_at_k(flags, 2) == 0.0
    assert m.hit_at_k(flags, 3) == 1.0
    assert m.hit_at_k(flags, 10) == 1.0
    assert m.hit_at_k(AT_TEN, 5) == 0.0
    assert m.hit_at_k(AT_TEN, 10) == 1.0
    assert m.hit_at_k([], 5) == 0.0  # gold exists but nothing was retrieved: a miss
    assert m.hit_at_k(None, 5) is None  # no gold: excluded


def test_mrr_at_k() -> None:
    assert m.mrr_at_k([True, False]) == 1.0
    assert m.mrr_at_k([False, False, True, True]) == pytest.approx(1 / 3)
    assert m.mrr_at_k(AT_TEN, 10) == pytest.approx(0.1)
    assert m.mrr_at_k(AT_TEN, 5) == 0.0
    assert m.mrr_at_k([False] * 10 + [True], 10) == 0.0
    assert m.mrr_at_k(None) is None


def test_recall_at_k_evidence_and_sources() -> None:
    covered = [set(), {"b"}, {"a", "b"}, set(), set(), {"c"}]
    gold = ["a", "b", "c"]
    assert m.recall_at_k(covered, gold, 1) == 0.0
    assert m.recall_at_k(covered, gold, 2) == pytest.approx(1 / 3)
    assert m.recall_at_k(covered, gold, 5) == pytest.approx(2 / 3)
    assert m.recall_at_k(covered, gold, 10) == 1.0
    # Items that are not gold (a passage claiming an extra document) do not count.
    assert m.recall_at_k([{"x", "a"}], {"a", "b"}, 5) == pytest.approx(1 / 2)
    # The same source document retrieved twice counts once.
    assert m.recall_at_k([{"d1"}, {"d1"}], ["d1", "d2"], 5) == pytest.approx(1 / 2)
    assert m.recall_at_k(covered, [], 5) is None


def test_dcg_and_ndcg_single_relevant() -> None:
    assert m.ndcg_at_k([True, False], 1) == 1.0
    # One relevant at rank 2: (1/log2(3)) / 1.
    assert m.ndcg_at_k([False, True], 1) == pytest.approx(1 / math.log2(3))
    # One relevant at rank 10: 1/log2(11) = 0.28906...
    assert m.ndcg_at_k(AT_TEN, 1, 10) == pytest.approx(1 / math.log2(11))
    assert m.ndcg_at_k(AT_TEN, 1, 10) == pytest.approx(0.2890648263178879)
    assert m.ndcg_at_k([False] * 10 + [True], 1, 10) == 0.0


def test_ndcg_multiple_relevant() -> None:
    # Two gold items, found at ranks 1 and 3: (1 + 1/2) / (1 + 1/log2(3)).
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert m.ndcg_at_k([True, False, True], 2) == pytest.approx(expected)
    assert m.ndcg_at_k([True, False, True], 2) == pytest.approx(0.9197207891481876)
    # Two gold items, only one found at rank 2: (1/log2(3)) / (1 + 1/log2(3)).
    assert m.ndcg_at_k([False, True], 2) == pytest.approx(
        (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    )
    # Perfect ranking is 1 even with more relevant passages than gold items (overlapping
    # passages that all contain the one evidence string).
    assert m.ndcg_at_k([True, True, True], 1) == pytest.approx(1.0)
    # Extra relevant passages raise the ideal count: ranks 1 and 3 of a 1-gold question.
    assert m.ndcg_at_k([True, False, True], 1) == pytest.approx(expected)


def test_ndcg_caps_ideal_at_k() -> None:
    # 12 gold items, all of the top 10 relevant: ideal is capped at 10, so the score is 1.
    assert m.ndcg_at_k([True] * 10, 12, 10) == pytest.approx(1.0)
    assert m.ndcg_at_k([True] * 3, 12, 3) == pytest.approx(1.0)


def test_ndcg_no_gold() -> None:
    assert m.ndcg_at_k(None, 3) is None
    assert m.ndcg_at_k([True], 0) is None


def test_ties_are_resolved_by_list_order() -> None:
    # Two passages with the same score: whichever the retriever listed first takes rank 1.
    assert m.mrr_at_k([False, True]) == 0.5
    assert m.mrr_at_k([True, False]) == 1.0


# --- evidence ---------------------------------------------------------------------------------


def test_normalize_evidence() -> None:
    assert m.normalize_evidence("  The\u00a0Cafe\u0301 \n  OPENED ") == "the café opened"
    assert m.normalize_evidence("It\u2019s \u201cfine\u201d \u2013 ok") == 'it\'s "fine" - ok'
    assert m.normalize_evidence("STRASSE") == m.normalize_evidence("straße")


def test_evidence_found() -> None:
    text = "The Minister  said\non Monday that the\u00a0agreement was signed."
    assert m.evidence_found(["said on monday", "was SIGNED.", "not here"], text) == {
        "said on monday",
        "was SIGNED.",
    }
    assert m.evidence_found(["", "   "], text) == set()
    assert m.evidence_found([], text) == set()


# --- answers ----------------------------------------------------------------------------------


def test_squad_normalize() -> None:
    assert m.squad_normalize("The  Cat, a dog & AN owl!") == "cat dog owl"
    assert m.squad_normalize("theatre") == "theatre"  # articles only as whole words
    assert m.squad_normalize("") == ""


def test_exact_match() -> None:
    assert m.exact_match("The Eiffel Tower.", "eiffel tower") == 1.0
    assert m.exact_match("Eiffel Tower in Paris", "eiffel tower") == 0.0
    assert m.exact_match("", "") == 1.0
    assert m.exact_match("", "x") == 0.0


def test_f1() -> None:
    # pred tokens: [in, 10th, and, 11th, centuries]; gold: [10th, and, 11th, centuries]
    # overlap 4 -> P = 4/5, R = 1, F1 = 8/9.
    assert m.f1("in the 10th and 11th centuries", "10th and 11th centuries") == pytest.approx(8 / 9)
    assert m.f1("paris", "paris") == 1.0
    assert m.f1("london", "paris") == 0.0
    # Repeated tokens count by multiplicity: pred [a1, a1, b] vs gold [a1, b, b]: overlap 2,
    # P = R = 2/3.
    assert m.f1("a1 a1 b", "a1 b b") == pytest.approx(2 / 3)


def test_f1_empty() -> None:
    assert m.f1("", "") == 1.0
    assert m.f1("", "paris") == 0.0
    assert m.f1("paris", "") == 0.0
    assert m.f1("the", "a") == 1.0  # both normalise to nothing


def test_containment() -> None:
    assert m.containment("The tower is in Paris, France.", "paris france") == 1.0
    assert m.containment("Built in 1990.", "1") == 0.0  # whole tokens only
    assert m.containment("Built in 1990.", "1990") == 1.0
    assert m.containment("", "paris") == 0.0
    assert m.containment("anything", "the") == 0.0


def test_best_scores_over_candidates_and_golds() -> None:
    candidates = ["It opened in 1889.", "The tower is in Paris."]
    golds = ["1889", "Paris"]
    assert m.best_exact_match(candidates, golds) == 0.0
    assert m.best_exact_match(candidates + ["Paris"], golds) == 1.0
    # best F1: "It opened in 1889." -> [it, opened, in, 1889] vs [1889]: P=1/4, R=1 -> 2/5;
    # "tower is in paris" vs [paris]: P=1/4 -> 2/5 as well (a tie; max is the same).
    assert m.best_f1(candidates, golds) == pytest.approx(2 / 5)
    assert m.best_f1([], golds) == 0.0  # declined: nothing to compare
    assert m.best_exact_match([], golds) == 0.0
    assert m.best_f1(candidates, []) is None
    assert m.best_exact_match(candidates, []) is None
    assert m.best_containment("in Paris", golds) == 1.0
    assert m.best_containment("in Lyon", golds) == 0.0
    assert m.best_containment("", golds) == 0.0  # empty answer
    assert m.best_containment("in Paris", []) is None


# --- aggregation ------------------------------------------------------------------------------


def test_percentile() -> None:
    xs = [10.0, 20.0, 30.0, 40.0]
    assert m.percentile(xs, 50) == pytest.approx(25.0)
    # pos = 3 * 0.95 = 2.85 -> 30 + 0.85 * 10
    assert m.percentile(xs, 95) == pytest.approx(38.5)
    assert m.percentile(xs, 0) == 10.0
    assert m.percentile(xs, 100) == 40.0
    assert m.percentile([40.0, 10.0, 30.0, 20.0], 50) == pytest.approx(25.0)  # unsorted input
    assert m.percentile([7.0], 95) == 7.0
    assert m.percentile([5.0, 5.0, 5.0, 9.0], 50) == 5.0  # ties
    assert m.percentile([], 50) is None
    with pytest.raises(ValueError):
        m.percentile(xs, 101)


def test_percentile_matches_numpy() -> None:
    np = pytest.importorskip("numpy")
    xs = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    for q in (0, 5, 50, 90, 95, 99, 100):
        assert m.percentile(xs, q) == pytest.approx(float(np.percentile(xs, q)))


def test_mean_and_ratio() -> None:
    assert m.mean([1.0, None, 0.0]) == 0.5
    assert m.mean([None, None]) is None
    assert m.mean([]) is None
    assert m.ratio(1, 4) == 0.25
    assert m.ratio(0, 0) is None
