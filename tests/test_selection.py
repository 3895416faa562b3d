"""Learned sentence selection: features on a hand-made pool, the model file, the switch."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pytest

from qa.errors import QAError
from qa.selection import (
    FEATURES,
    MODEL_FORMAT,
    candidate_features,
    default_model,
    load_model,
    model_from_dict,
    select_scores,
    trees_from_lightgbm,
)


@dataclass(frozen=True)
class Cand:
    passage: int
    sentence: str
    semantic: float
    overlap: float
    type_match: float


QUERY = "Ridley visited Hanoi"  # terms: ridley, visit, hanoi
IDF = {"ridley": 2.0, "visit": 1.0, "hanoi": 1.0}
POOL = [
    Cand(0, "Ridley visited Hanoi.", 0.8, 1.0, 0.5),  # terms: ridley, visit, hanoi
    Cand(0, "Weather was warm.", 0.1, 0.5, 0.5),  # terms: weather, warm
    Cand(1, "Hanoi hosted talks.", 0.4, 0.25, 0.5),  # terms: hanoi, host, talk
]
SCORES = [2.0, 1.0]


def col(x: np.ndarray, name: str) -> list[float]:
    return [round(float(v), 6) for v in x[:, FEATURES.index(name)]]


def test_features_of_a_hand_made_pool():
    x = candidate_features(QUERY, POOL, SCORES, IDF)
    assert x.shape == (3, len(FEATURES))
    # BM25 of one matched term (tf 1) in a 3-term sentence, average length 8/3:
    # 2.2 / (1 + 1.2 * (0.25 + 0.75 * 3 / (8 / 3))) = 0.951351; divided by total IDF 4.
    one = 2.2 / (1 + 1.2 * (0.25 + 0.75 * 3 / (8 / 3)))
    assert col(x, "cos") == [0.8, 0.1, 0.4]
    assert col(x, "overlap") == [1.0, 0.5, 0.25]
    assert col(x, "sent_overlap") == [1.0, 0.0, 0.25]
    assert col(x, "bm25") == [round(one, 6), 0.0, round(one / 4, 6)]
    assert col(x, "bigram") == [1.0, 0.0, 0.0]
    assert col(x, "type_match") == [0.5, 0.5, 0.5]
    assert col(x, "passage_rank") == [1.0, 1.0, 0.5]
    assert col(x, "passage_score") == [1.0, 1.0, 0.5]
    assert col(x, "position") == [1.0, 0.5, 1.0]
    assert col(x, "log_len") == [
        round(math.log(4), 6),
        round(math.log(3), 6),
        round(math.log(4), 6),
    ]
    assert col(x, "cos_gap_passage") == [0.0, -0.7, 0.0]
    assert col(x, "cos_gap_all") == [0.0, -0.7, -0.4]
    assert col(x, "bm25_gap_passage") == [0.0, round(-one, 6), 0.0]
    assert col(x, "bm25_gap_all") == [0.0, round(-one, 6), round(one / 4 - one, 6)]
    assert col(x, "overlap_gap_passage") == [0.0, -1.0, 0.0]
    assert col(x, "overlap_gap_all") == [0.0, -1.0, -0.75]
    assert col(x, "cos_rank_passage") == [1.0, 0.5, 1.0]
    assert col(x, "bm25_rank_passage") == [1.0, 0.5, 1.0]
    # The neighbours' own overlap, within the passage only.
    assert col(x, "neighbour_overlap") == [0.0, 1.0, 0.0]


def test_unknown_terms_get_the_default_idf():
    x = candidate_features("Ridley met Lammy", POOL[:1], [1.0], IDF, default_idf=2.0)
    # ridley 2 of ridley 2 + met 2 + lammy 2.
    assert col(x, "sent_overlap") == [round(2 / 6, 6)]


def test_candidates_must_be_grouped_by_passage():
    with pytest.raises(ValueError, match="grouped by passage"):
        candidate_features(QUERY, [POOL[0], POOL[2], POOL[1]], SCORES, IDF)


def test_empty_pool():
    assert candidate_features(QUERY, [], SCORES, IDF).shape == (0, len(FEATURES))


TREE = {
    "feature": [0, -1, 3, -1, -1],
    "threshold": [0.5, 0.0, 0.2, 0.0, 0.0],
    "left": [1, -1, 3, -1, -1],
    "right": [2, -1, 4, -1, -1],
    "value": [0.0, -1.0, 0.0, 0.5, 2.0],
    "roots": [0, 1],  # a second tree that is a single leaf (-1.0)
}


def tree_model_dict(**changes) -> dict:
    d = {"format": MODEL_FORMAT, "model": "trees", "features": list(FEATURES)}
    d |= {"trees": dict(TREE), "bias": 0.25, "info": {"note": "test"}}
    d.update(changes)
    return d


def test_tree_model_scores_exactly(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(tree_model_dict()), encoding="utf-8")
    model = load_model(path)
    x = np.zeros((3, len(FEATURES)))
    x[:, 0] = [0.4, 0.6, 0.6]  # cos: left leaf, then split on bm25
    x[:, 3] = [0.9, 0.1, 0.3]
    # tree 1: -1.0 / 0.5 / 2.0; tree 2: -1.0 always; bias 0.25.
    assert model.score(x).tolist() == [-1.75, -0.25, 1.25]
    assert model.score(x).tolist() == model.score(x.copy()).tolist()
    assert model.score(x[:0]).tolist() == []
    again = model_from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.score(x).tolist() == [-1.75, -0.25, 1.25]
    assert again.info == {"note": "test"}


def test_logistic_model_scores_exactly():
    w = [0.0] * len(FEATURES)
    w[0], w[2] = 2.0, 1.0
    d = {"format": MODEL_FORMAT, "model": "logistic", "features": list(FEATURES)}
    d |= {"mean": [0.5] * len(FEATURES), "scale": [0.5] * len(FEATURES), "weights": w}
    model = model_from_dict(d | {"bias": -1.0})
    x = candidate_features(QUERY, POOL, SCORES, IDF)
    # 2 * (cos - 0.5) / 0.5 + (sent_overlap - 0.5) / 0.5 - 1
    assert [round(v, 6) for v in model.score(x)] == [1.2, -3.6, -1.9]


def test_trees_from_a_lightgbm_dump():
    dump = {
        "tree_info": [
            {
                "tree_structure": {
                    "split_feature": 2,
                    "threshold": 0.3,
                    "decision_type": "<=",
                    "left_child": {"leaf_value": -0.1},
                    "right_child": {"leaf_value": 0.4},
                }
            },
            {"tree_structure": {"leaf_value": 0.05}},
        ]
    }
    arrays = trees_from_lightgbm(dump)
    assert {k: v.tolist() for k, v in arrays.items()} == {
        "feature": [2, -1, -1, -1],
        "threshold": [0.3, 0.0, 0.0, 0.0],
        "left": [1, -1, -1, -1],
        "right": [2, -1, -1, -1],
        "value": [0.0, -0.1, 0.4, 0.05],
        "roots": [0, 3],
    }
    with pytest.raises(ValueError, match="unsupported split"):
        trees_from_lightgbm({"tree_info": [{"tree_structure": {**dump["tree_info"][0]["tree_structure"], "decision_type": "=="}}]})  # fmt: skip


def test_the_shipped_model_loads_and_prefers_the_answering_sentence():
    model = default_model()
    assert model.kind == "trees"
    assert model.features == FEATURES
    assert "squad-v2-train-10-articles.json" in " ".join(model.info["trained_on"])
    first = select_scores(QUERY, POOL, SCORES, IDF)
    assert first.tolist() == select_scores(QUERY, POOL, SCORES, IDF).tolist()
    assert int(np.argmax(first)) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "is missing"),
        ("{not json", "is not valid JSON"),
        (json.dumps({"format": "other"}), "is not a qa-selection/1 file"),
        (json.dumps(tree_model_dict(model="forest")), "unknown model type 'forest'"),
        (json.dumps(tree_model_dict(features=["cos"])), "features that differ"),
        (json.dumps(tree_model_dict(bias="high")), "'bias' must be a finite number"),
        (json.dumps(tree_model_dict(trees=[])), "'trees' must be an object"),
        (json.dumps(tree_model_dict(trees=TREE | {"left": [0, -1, 3, -1, -1]})), "backwards"),
        (json.dumps(tree_model_dict(trees=TREE | {"feature": [99, -1, 3, -1, -1]})), "outside"),
        (json.dumps(tree_model_dict(trees=TREE | {"value": [0.0, 1.0]})), "'value' must be a list of 5"),
        (json.dumps(tree_model_dict(trees=TREE | {"roots": [0.5]})), "must be integers"),
        (json.dumps(tree_model_dict(trees=TREE | {"value": [0, "a", 0, 0, 0]})), "numbers only"),
        (json.dumps(tree_model_dict()).replace("0.25", "NaN"), "'bias' must be a finite number"),
    ],
)  # fmt: skip
def test_bad_model_files_are_qa_errors(tmp_path, text, message):
    path = tmp_path / "selection.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(QAError, match=message) as err:
        load_model(path)
    assert str(path) in str(err.value)
    assert "Fix:" in str(err.value)


def test_the_switch_in_score_sentences(fake_index, monkeypatch):
    from qa.answering import score_sentences

    q = "When did To Lam have a phone call with James Cleverly?"
    passages = fake_index.retrieve(q, k=5)
    qvec = fake_index.embed_query(q)
    base = score_sentences(fake_index, q, qvec, passages)
    lead = score_sentences(fake_index, q, qvec, passages, selection="model")
    only = score_sentences(fake_index, q, qvec, passages, selection="model-only")
    key = sorted((c.passage, c.sentence) for c in base)
    assert sorted((c.passage, c.sentence) for c in lead) == key
    assert sorted((c.passage, c.sentence) for c in only) == key
    # "model": the model's favourite leads with the best weighted score; the rest keep theirs.
    assert lead[0].sentence == only[0].sentence
    assert lead[0].score == pytest.approx(base[0].score, abs=1e-8)
    rest = {(c.passage, c.sentence): c.score for c in lead[1:]}
    assert all(
        rest[(c.passage, c.sentence)] == c.score for c in base if (c.passage, c.sentence) in rest
    )
    monkeypatch.setenv("QA_SELECTION", "model-only")
    assert [c.score for c in score_sentences(fake_index, q, qvec, passages)] == [
        c.score for c in only
    ]
    monkeypatch.setenv("QA_SELECTION", "neural")
    with pytest.raises(QAError, match="Unknown sentence selection 'neural'"):
        score_sentences(fake_index, q, qvec, passages)
