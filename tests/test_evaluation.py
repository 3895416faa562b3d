"""The evaluation API: question parsing, row scoring, metrics, writers, compare, SQuAD, plot.

Exact metric values come from a scripted index whose retrievals and answers are fixed by the
test, so they do not move when the retriever or answerer is tuned. The end-to-end tests use a
real index built with the FakeEncoder (no model loads).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from qa import evaluation as ev
from qa.errors import QuestionSetError
from qa.types import Answer, Passage

# --- a scripted index -------------------------------------------------------------------------


def P(doc_id: str, text: str, paragraph: int = 1, score: float = 0.5) -> Passage:  # noqa: N802
    return Passage(
        passage_id=f"{doc_id}:{paragraph}",
        text=text,
        doc_id=doc_id,
        title=doc_id,
        source="test",
        date="",
        paragraph=paragraph,
        paragraph_end=paragraph,
        start=0,
        end=len(text),
        score=score,
    )


def A(  # noqa: N802
    question: str,
    sentences: tuple[str, ...] = (),
    citations: tuple[Passage, ...] = (),
    *,
    answerable: bool = True,
    query: str = "",
    text: str | None = None,
) -> Answer:
    if text is None:
        text = " ".join(f"{s} [1]" for s in sentences) if answerable else "I could not find it."
    return Answer(
        question=question,
        text=text,
        citations=citations,
        passages=citations,
        answerable=answerable,
        confidence=0.9 if answerable else 0.1,
        query=query or question,
        rewritten=bool(query),
        sentences=sentences,
    )


@dataclass
class ScriptedIndex:
    retrievals: dict[str, list[Passage]]
    answers: dict[str, Answer]
    retrieve_calls: list[tuple[str, int]] = field(default_factory=list)
    answer_calls: list[dict[str, Any]] = field(default_factory=list)

    def retrieve(self, question: str, k: int = 5) -> list[Passage]:
        self.retrieve_calls.append((question, k))
        return self.retrievals.get(question, [])[:k]

    def answer(
        self,
        question: str,
        history: list[dict] | None = None,
        *,
        k: int = 5,
        passages: list[Passage] | None = None,
    ) -> Answer:
        self.answer_calls.append(
            {"question": question, "history": history, "k": k, "passages": passages}
        )
        return self.answers[question]


TOWER = P("d1.txt", "The tower opened in 1889 to visitors.", 2, 0.8)
OTHER = P("d2.txt", "Paris is the capital of France.", 1, 0.9)
FILLER = [P(f"f{i}.txt", f"Filler passage number {i}.", 1, 0.5 - i / 100) for i in range(9)]
ENGINEER = P("d3.txt", "Gustave Eiffel's company built it.", 4, 0.1)

QUESTIONS = [
    {
        "id": "a",
        "kind": "fact",
        "question": "When did the tower open?",
        "answers": ["1889"],
        "evidence": ["opened   in 1889"],
    },
    {
        "id": "b",
        "kind": "fact",
        "question": "Who built the tower?",
        "answers": ["Gustave Eiffel"],
        "sources": ["d3.txt"],
    },
    {"id": "c", "kind": "refusal", "question": "Who won in 2030?", "answerable": False},
    {"id": "d", "kind": "refusal", "question": "What is on Mars?", "answerable": False},
]


def scripted() -> ScriptedIndex:
    return ScriptedIndex(
        retrievals={
            "When did the tower open?": [OTHER, TOWER, *FILLER],
            "Who built the tower?": [*FILLER, ENGINEER],  # the source at rank 10
            "Who won in 2030?": [OTHER],
            "What is on Mars?": [OTHER],
        },
        answers={
            "When did the tower open?": A(
                "When did the tower open?",
                ("The tower opened in 1889 to visitors.",),
                (TOWER, OTHER),
            ),
            "Who built the tower?": A("Who built the tower?", answerable=False),
            "Who won in 2030?": A("Who won in 2030?", answerable=False),
            "What is on Mars?": A(
                "What is on Mars?", ("Paris is the capital of France.",), (OTHER,)
            ),
        },
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each question's final turn takes 10, 20, 30, 40 ms in turn."""
    ticks = iter([0.0, 0.010, 1.0, 1.020, 2.0, 2.030, 3.0, 3.040])
    monkeypatch.setattr(ev.run, "_clock", lambda: next(ticks))


# --- exact metrics on the constructed case ----------------------------------------------------


def test_metrics_of_constructed_case(clock: None) -> None:
    report = ev.evaluate(QUESTIONS, index=scripted(), k=5)
    m = report.metrics
    assert m["n"] == 4
    assert m["n_answerable"] == 2
    assert m["n_unanswerable"] == 2
    assert m["n_retrieval"] == 2
    assert m["n_answers"] == 2
    assert m["n_declined"] == 2
    # a: first relevant at rank 2; b: at rank 10.
    assert m["hit@1"] == 0.0
    assert m["hit@3"] == pytest.approx(1 / 2)
    assert m["hit@5"] == pytest.approx(1 / 2)
    assert m["hit@10"] == 1.0
    assert m["recall@5"] == pytest.approx(1 / 2)
    assert m["mrr@10"] == pytest.approx((1 / 2 + 1 / 10) / 2)
    assert m["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(11)) / 2)
    # a: contained, EM 0, F1 over [tower opened in 1889 to visitors] vs [1889] = 2/7;
    # b: declined, so 0 on all three.
    assert m["answer_containment"] == pytest.approx(1 / 2)
    assert m["exact_match"] == 0.0
    assert m["answer_f1"] == pytest.approx((2 / 7) / 2)
    # a cites TOWER (relevant) and OTHER (not); b declined, so it is not counted.
    assert m["citation_precision"] == pytest.approx(1 / 2)
    # a cites a relevant passage; b is declined, so it cites nothing useful.
    assert m["citation_hit"] == pytest.approx(1 / 2)
    # Declined: b (answerable) and c (unanswerable). Unanswerable: c (declined), d (answered).
    assert m["refusal_precision"] == pytest.approx(1 / 2)
    assert m["refusal_recall"] == pytest.approx(1 / 2)
    assert m["false_refusal_rate"] == pytest.approx(1 / 2)
    assert m["latency_p50_ms"] == pytest.approx(25.0)
    assert m["latency_p95_ms"] == pytest.approx(38.5)


def test_by_kind_and_undefined_metrics(clock: None) -> None:
    report = ev.evaluate(QUESTIONS, index=scripted(), k=5)
    assert list(report.by_kind) == ["fact", "refusal"]
    fact, refusal = report.by_kind["fact"], report.by_kind["refusal"]
    assert fact["n"] == 2
    assert fact["mrr@10"] == pytest.approx(0.3)
    assert fact["refusal_recall"] is None  # no unanswerable question: undefined, not 0
    assert fact["refusal_precision"] == 0.0  # b was declined but answerable
    assert fact["false_refusal_rate"] == pytest.approx(1 / 2)
    assert refusal["n"] == 2
    for key in ("hit@1", "hit@5", "mrr@10", "ndcg@10", "recall@5", "answer_f1"):
        assert refusal[key] is None
    assert refusal["false_refusal_rate"] is None
    assert refusal["refusal_precision"] == 1.0
    assert refusal["refusal_recall"] == pytest.approx(1 / 2)


def test_rows(clock: None) -> None:
    index = scripted()
    report = ev.evaluate(QUESTIONS, index=index, k=3)
    a, b, c, d = report.rows
    assert a["id"] == "a" and a["kind"] == "fact"
    assert a["gold_answers"] == ["1889"]
    assert a["evidence"] == ["opened   in 1889"]
    assert a["answer"] == "The tower opened in 1889 to visitors. [1]"
    assert a["answer_sentences"] == ["The tower opened in 1889 to visitors."]
    assert a["predicted_answerable"] is True and a["declined"] is False
    assert a["confidence"] == 0.9
    assert a["citations"] == [
        {"doc_id": "d1.txt", "paragraph": 2},
        {"doc_id": "d2.txt", "paragraph": 1},
    ]
    assert [p["doc_id"] for p in a["retrieved"]][:2] == ["d2.txt", "d1.txt"]
    assert len(a["retrieved"]) == 10  # always the top 10, for rank and hit@10
    assert a["retrieved"][1] == {"doc_id": "d1.txt", "paragraph": 2, "score": 0.8, "relevant": True}
    assert a["rank"] == 2
    assert (a["hit@1"], a["hit@3"], a["hit@5"], a["hit@10"]) == (False, True, True, True)
    assert a["recall@5"] == 1.0
    assert a["mrr@10"] == 0.5
    assert a["answer_containment"] == 1.0
    assert a["exact_match"] == 0.0
    assert a["answer_f1"] == pytest.approx(2 / 7)
    assert a["citation_precision"] == 0.5
    assert a["citation_hit"] is True
    assert a["latency_ms"] == pytest.approx(10.0)

    assert b["rank"] == 10 and b["hit@5"] is False and b["hit@10"] is True
    assert b["mrr@10"] == pytest.approx(0.1)
    assert b["ndcg@10"] == pytest.approx(1 / math.log2(11))
    assert b["recall@5"] == 0.0
    assert b["declined"] is True and b["answer_f1"] == 0.0 and b["citation_precision"] is None
    assert b["citation_hit"] is False
    assert b["answer_sentences"] == []

    for row in (c, d):  # unanswerable: no retrieval or answer metrics
        assert row["rank"] is None and row["hit@1"] is None and row["answer_f1"] is None
        assert row["retrieved"][0]["relevant"] is None
    assert c["declined"] is True and d["declined"] is False

    # One retrieval of depth 10 per question, reused for the answer: no second search.
    assert index.retrieve_calls == [(q["question"], 10) for q in QUESTIONS]
    first = index.answer_calls[0]
    assert first["k"] == 3 and first["history"] is None
    assert first["passages"] == [OTHER, TOWER, FILLER[0]]


def test_deeper_k_retrieves_deeper() -> None:
    index = scripted()
    ev.evaluate(QUESTIONS[:1], index=index, k=12)
    assert index.retrieve_calls == [("When did the tower open?", 12)]


def test_conversation_uses_rewritten_query_and_real_history() -> None:
    first = A("Who built the tower?", ("Gustave Eiffel's company built it.",), (ENGINEER,))
    final = A(
        "When did it open?",
        ("The tower opened in 1889 to visitors.",),
        (TOWER,),
        query="When did the tower open?",
    )
    index = ScriptedIndex(
        retrievals={"When did the tower open?": [TOWER, OTHER]},
        answers={"Who built the tower?": first, "When did it open?": final},
    )
    report = ev.evaluate(
        [
            {
                "question": "When did it open?",
                "history": ["Who built the tower?"],
                "answers": ["1889"],
                "evidence": ["opened in 1889"],
                "kind": "follow-up",
            }
        ],
        index=index,
    )
    calls = index.answer_calls
    assert [c["question"] for c in calls] == ["Who built the tower?", "When did it open?"]
    assert calls[0]["history"] is None
    assert calls[1]["history"] == [
        {"role": "user", "content": "Who built the tower?"},
        {"role": "assistant", "content": first.text},
    ]
    # Retrieval metrics use the query the answerer actually searched.
    assert index.retrieve_calls == [("When did the tower open?", 10)]
    row = report.rows[0]
    assert row["history"] == ["Who built the tower?"]
    assert row["query"] == "When did the tower open?" and row["rewritten"] is True
    assert row["rank"] == 1 and row["answer_containment"] == 1.0


def test_evidence_wins_over_sources_and_normalises() -> None:
    q = ev.parse_question(
        {
            "question": "x?",
            "evidence": ["THE TOWER\u00a0opened"],
            "sources": ["d2.txt"],
        },
        "t",
    )
    row = ev.score_row(q, A("x?", answerable=False), [OTHER, TOWER], 1.0)
    assert [p["relevant"] for p in row["retrieved"]] == [False, True]
    assert row["rank"] == 2


def test_answer_body_ignores_markers_and_source_lists() -> None:
    ans = A(
        "q",
        ("Paris is big.", "It has a tower."),
        (OTHER,),
        text="Paris is big. [1] It has a tower. [1]\n\nSources:\n[1] Eiffel Tower History",
    )
    assert ev.answer_body(ans) == "Paris is big. It has a tower."
    assert ev.answer_body(A("q", answerable=False)) == ""
    no_sentences = A("q", text="Built in 1889 [1][2].")
    assert ev.answer_body(no_sentences) == "Built in 1889."


def test_exact_match_on_a_single_quoted_sentence() -> None:
    q = ev.parse_question({"question": "q", "answers": ["Paris is big"]}, "t")
    row = ev.score_row(q, A("q", ("Paris is big.", "It has a tower.")), [], 1.0)
    assert row["exact_match"] == 1.0  # matched against the first quoted sentence alone
    assert row["answer_f1"] == 1.0
    assert row["hit@1"] is None  # no evidence or sources: retrieval not judged


def test_progress_and_limit() -> None:
    seen: list[tuple[int, int]] = []
    report = ev.evaluate(
        QUESTIONS, index=scripted(), progress=lambda d, t: seen.append((d, t)), limit=2
    )
    assert len(report.rows) == 2
    assert seen == [(1, 2), (2, 2)]


def test_bad_k() -> None:
    with pytest.raises(ValueError):
        ev.evaluate(QUESTIONS, index=scripted(), k=0)


# --- question files ---------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "questions.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_parsing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '{"question": "When?", "answers": ["1889"], "id": 7, "kind": "date"}\n'
        "\n"
        '{"question": " Who? ", "answers": "Eiffel", "sources": ["./a/b.txt"], '
        '"history": ["Tower?"]}\n'
        '{"question": "Mars?", "answerable": false}\n',
    )
    qs = ev.load_questions(path).questions
    assert [q.question for q in qs] == ["When?", "Who?", "Mars?"]
    assert qs[0].id == "7" and qs[0].kind == "date" and qs[0].answers == ("1889",)
    assert qs[1].answers == ("Eiffel",)  # a lone string is a one-item list
    assert qs[1].sources == ("a/b.txt",)
    assert qs[1].history == ("Tower?",)
    assert qs[2].answerable is False and qs[2].id is None
    assert qs[1].where == "questions.jsonl line 3"  # blank lines keep the line numbering


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "questions.jsonl is empty"),
        ("  \n\n", "questions.jsonl is empty"),
        ('{"question": "ok"}\n{"question": \n', "questions.jsonl line 2: invalid JSON"),
        ('{"answers": ["x"]}\n', "questions.jsonl line 1: field 'question' is missing"),
        ('{"question": ""}\n', "line 1: field 'question' must be a non-empty string"),
        ('{"question": 5}\n', "line 1: field 'question' must be a non-empty string, got int"),
        (
            '{"question": "a"}\n' * 6 + '{"question": "q", "answers": 3}\n',
            "questions.jsonl line 7: field 'answers' must be a list of strings, got int. Fix:",
        ),
        (
            '{"question": "q", "evidence": ["ok", 2]}\n',
            "line 1: field 'evidence' must be a list of strings, got a list holding int 2",
        ),
        ('{"question": "q", "sources": {"a": 1}}\n', "field 'sources' must be a list of strings"),
        ('{"question": "q", "history": [null]}\n', "field 'history' must be a list of strings"),
        ('{"question": "q", "history": [" "]}\n', "field 'history' holds an empty question"),
        ('{"question": "q", "answerable": "no"}\n', "'answerable' must be true or false, got str"),
        ('{"question": "q", "id": [1]}\n', "field 'id' must be a string or an integer"),
        ('{"question": "q", "kind": 3}\n', "field 'kind' must be a string, got int"),
        (
            '{"question": "q", "answer": ["x"]}\n',
            "unknown field 'answer'. Fix: rename it to 'answers'",
        ),
        ('"just a string"\n', "line 1: must be a JSON object, got str"),
        (
            '{"question": "q", "answers": ["x"], "answerable": false}\n',
            "'answers' is given but 'answerable' is false",
        ),
        (
            '{"question": "a", "id": "x"}\n{"question": "b", "id": "x"}\n',
            "line 2: field 'id' repeats 'x' (first used at questions.jsonl line 1)",
        ),
    ],
)
def test_jsonl_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(QuestionSetError) as info:
        ev.load_questions(write(tmp_path, text))
    assert message in str(info.value)
    assert "Fix" in str(info.value)


def test_unknown_far_fields_are_ignored(tmp_path: Path) -> None:
    qs = ev.load_questions(write(tmp_path, '{"question": "q", "notes": "whatever"}\n')).questions
    assert qs[0].question == "q"


def test_missing_file_and_list_errors(tmp_path: Path) -> None:
    with pytest.raises(QuestionSetError, match="does not exist"):
        ev.load_questions(tmp_path / "nope.jsonl")
    with pytest.raises(QuestionSetError, match=r"question 2: field 'question' is missing"):
        ev.load_questions([{"question": "a"}, {"answers": []}])
    with pytest.raises(QuestionSetError, match="empty"):
        ev.load_questions([])
    with pytest.raises(QuestionSetError, match="not SQuAD"):
        ev.load_questions({"questions": []})


def test_json_list_file(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps([{"question": "a"}, {"question": "b"}]), "qs.json")
    assert [q.question for q in ev.load_questions(path).questions] == ["a", "b"]
    bad = write(tmp_path, json.dumps([{"question": "a"}, {"q": "b"}]), "bad.json")
    with pytest.raises(QuestionSetError, match="bad.json item 2: field 'question' is missing"):
        ev.load_questions(bad)


# --- SQuAD ------------------------------------------------------------------------------------

SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "Eiffel_Tower",
            "paragraphs": [
                {
                    "context": "The Eiffel Tower is a wrought-iron lattice tower in Paris. "
                    "It opened in 1889 for the World's Fair.",
                    "qas": [
                        {
                            "id": "e1",
                            "question": "When did the Eiffel Tower open?",
                            "answers": [
                                {"text": "1889", "answer_start": 80},
                                {"text": "1889", "answer_start": 80},
                                {"text": "in 1889", "answer_start": 77},
                            ],
                            "is_impossible": False,
                        },
                        {
                            "id": "e2",
                            "question": "When did the Eiffel Tower close?",
                            "answers": [],
                            "plausible_answers": [{"text": "1889", "answer_start": 80}],
                            "is_impossible": True,
                        },
                    ],
                },
                {
                    "context": "Gustave Eiffel's engineering company designed and built the "
                    "tower between 1887 and 1889.",
                    "qas": [
                        {
                            "id": "e3",
                            "question": "Whose company built the Eiffel Tower?",
                            "answers": [{"text": "Gustave Eiffel's", "answer_start": 0}],
                        }
                    ],
                },
            ],
        },
        {
            "title": "Photosynthesis",
            "paragraphs": [
                {
                    "context": "Photosynthesis converts light energy into chemical energy in "
                    "plants, algae and cyanobacteria.",
                    "qas": [
                        {
                            "id": "p1",
                            "question": "What does photosynthesis convert light energy into?",
                            "answers": [{"text": "chemical energy", "answer_start": 39}],
                            "is_impossible": False,
                        }
                    ],
                }
            ],
        },
    ],
}


def test_squad_detection_and_questions(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(SQUAD), "dev.json")
    qset = ev.load_questions(path)
    assert qset.squad is not None
    qs = {q.id: q for q in qset.questions}
    assert list(qs) == ["e1", "e2", "e3", "p1"]
    assert qs["e1"].answers == ("1889", "in 1889")  # duplicates dropped, order kept
    assert qs["e1"].sources == ("0-0.txt",)
    assert qs["e1"].kind == "Eiffel Tower" and qs["e1"].answerable
    assert qs["e2"].answerable is False and qs["e2"].answers == ()
    assert qs["e3"].sources == ("0-1.txt",) and qs["e3"].answerable  # is_impossible absent: 1.1
    assert qs["p1"].sources == ("1-0.txt",) and qs["p1"].kind == "Photosynthesis"
    assert qs["p1"].evidence == ()


def test_squad_corpus(tmp_path: Path) -> None:
    n = ev.write_squad_corpus(SQUAD, tmp_path / "corpus")
    assert n == 3
    names = sorted(p.name for p in (tmp_path / "corpus").iterdir())
    assert names == ["0-0.txt", "0-1.txt", "1-0.txt", "metadata.json"]
    meta = json.loads((tmp_path / "corpus" / "metadata.json").read_text())
    assert meta["files"]["1-0.txt"]["title"] == "Photosynthesis"
    assert meta["files"]["0-0.txt"]["title"] == "Eiffel Tower"
    text = (tmp_path / "corpus" / "0-1.txt").read_text()
    assert text == SQUAD["data"][0]["paragraphs"][1]["context"]


def test_squad_layout_errors(tmp_path: Path) -> None:
    bad = {"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [{"answers": []}]}]}]}
    with pytest.raises(
        QuestionSetError, match=r"data\[0\]\.paragraphs\[0\]\.qas\[0\]: field 'question'"
    ):
        ev.load_questions(bad)
    bad = {"data": [{"title": "T", "paragraphs": [{"qas": []}]}]}
    with pytest.raises(QuestionSetError, match="field 'context' must be a string"):
        ev.load_questions(write(tmp_path, json.dumps(bad), "s.json"))


# --- writers ----------------------------------------------------------------------------------


def test_json_writer_and_reload(tmp_path: Path, clock: None) -> None:
    report = ev.evaluate(QUESTIONS, index=scripted())
    report.to_json(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert list(data) == ["metrics", "by_kind", "questions"]
    assert set(ev.METRIC_KEYS) <= set(data["metrics"])
    assert data["metrics"]["hit@1"] == 0.0 and data["metrics"]["latency_p50_ms"] == 25.0
    assert list(data["by_kind"]) == ["fact", "refusal"]
    assert len(data["questions"]) == 4
    row_keys = {
        "id", "kind", "question", "history", "gold_answers", "evidence", "sources", "answerable",
        "answer", "predicted_answerable", "declined", "confidence", "citations", "retrieved",
        "rank", "hit@1", "hit@3", "hit@5", "hit@10", "recall@5", "mrr@10", "ndcg@10",
        "answer_containment", "exact_match", "answer_f1", "citation_precision", "latency_ms",
    }  # fmt: skip
    assert row_keys <= set(data["questions"][0])
    again = ev.EvalReport.load(tmp_path / "r.json")
    assert again.metrics == report.metrics and again.rows == report.rows


def test_csv_writer(tmp_path: Path) -> None:
    report = ev.evaluate(QUESTIONS, index=scripted())
    report.to_csv(tmp_path / "r.csv")
    with open(tmp_path / "r.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4
    assert list(rows[0]) == list(ev.CSV_COLUMNS)
    a = rows[0]
    assert a["id"] == "a" and a["rank"] == "2" and a["hit@1"] == "false" and a["hit@3"] == "true"
    assert a["citations"] == "d1.txt#2 | d2.txt#1"
    assert a["retrieved"].startswith("d2.txt#1 (0.9000) | *d1.txt#2 (0.8000)")
    assert rows[2]["rank"] == "" and rows[2]["answerable"] == "false"


def test_markdown_writer_lists_failures_first(tmp_path: Path) -> None:
    report = ev.evaluate(QUESTIONS, index=scripted())
    report.to_markdown(tmp_path / "r.md")
    md = (tmp_path / "r.md").read_text()
    assert "## Summary" in md and "## By kind" in md
    assert md.index("## Summary") < md.index("## By kind") < md.index("## Questions")
    assert "| hit@5 | 0.500 |" in md
    table = md[md.index("## Questions") :].splitlines()
    statuses = [
        line.split("|")[1].strip()
        for line in table
        if line.startswith("| FAIL") or line.startswith("| ok")
    ]
    # b (declined, rank 10) and d (answered an unanswerable one) fail; a fails only if its
    # first relevant passage is below rank 5, which it is not.
    assert statuses == ["FAIL", "FAIL", "ok", "ok"]
    assert "declined an answerable question" in md
    assert "answered an unanswerable question" in md


def test_summary_table() -> None:
    report = ev.evaluate(QUESTIONS, index=scripted())
    table = report.summary_table()
    lines = table.splitlines()
    assert lines[0].split() == ["metric", "value"]
    assert any(line.split() == ["hit@10", "1.000"] for line in lines)
    assert any(line.split() == ["n", "4"] for line in lines)
    assert any(line.split() == ["exact_match", "0.000"] for line in lines)


def test_undefined_metrics_show_as_na() -> None:
    report = ev.evaluate([QUESTIONS[2]], index=scripted())
    assert report.metrics["hit@1"] is None and report.metrics["answer_f1"] is None
    assert any(line.split() == ["hit@1", "n/a"] for line in report.summary_table().splitlines())


# --- compare ----------------------------------------------------------------------------------


def test_compare_flips(tmp_path: Path) -> None:
    old = ev.evaluate(QUESTIONS, index=scripted())
    better = scripted()
    better.retrievals["Who built the tower?"] = [ENGINEER, *FILLER]  # b: miss -> hit
    better.retrievals["When did the tower open?"] = [OTHER, *FILLER]  # a: hit -> miss
    better.answers["When did the tower open?"] = A(
        "When did the tower open?", ("No idea.",), (OTHER,)
    )
    new = ev.evaluate(QUESTIONS, index=better)
    old.to_json(tmp_path / "old.json")
    text = ev.compare(tmp_path / "old.json", new)
    lines = text.splitlines()
    assert lines[0].split() == ["metric", "old", "new", "delta"]
    hit1 = next(line for line in lines if line.startswith("hit@1 "))
    assert hit1.split() == ["hit@1", "0.000", "0.500", "+0.500"]
    n = next(line for line in lines if line.startswith("n "))
    assert n.split() == ["n", "4", "4", "+0"]
    assert "hit@5 flips: 1 hit -> miss, 1 miss -> hit" in text
    assert "  hit -> miss  [a] When did the tower open?" in lines
    assert "  miss -> hit  [b] Who built the tower?" in lines
    assert "answer containment flips: 1 hit -> miss, 0 miss -> hit" in text
    assert "unmatched" not in text
    # Works with dicts too, and matches by question text when there is no id.
    no_ids = [{k: v for k, v in q.items() if k != "id"} for q in QUESTIONS]
    old2 = ev.evaluate(no_ids, index=scripted()).to_dict()
    text2 = ev.compare(old2, ev.evaluate(no_ids, index=better))
    assert "  hit -> miss  When did the tower open?" in text2.splitlines()


def test_compare_unmatched_and_undefined(tmp_path: Path) -> None:
    old = ev.evaluate(QUESTIONS[:2], index=scripted())
    new = ev.evaluate(QUESTIONS[1:], index=scripted())
    text = ev.compare(old.to_dict(), new)
    assert "unmatched questions: 1 only in old, 2 only in new" in text
    line = next(x for x in text.splitlines() if x.startswith("refusal_recall"))
    assert line.split() == ["refusal_recall", "n/a", "0.500", "n/a"]


def test_compare_bad_old_report(tmp_path: Path) -> None:
    with pytest.raises(QuestionSetError, match="does not exist"):
        ev.compare(tmp_path / "missing.json", ev.evaluate(QUESTIONS[:1], index=scripted()))
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(QuestionSetError, match="no 'metrics'"):
        ev.compare(tmp_path / "x.json", ev.evaluate(QUESTIONS[:1], index=scripted()))


# --- plot -------------------------------------------------------------------------------------


def test_plot_writes_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    report = ev.evaluate(QUESTIONS, index=scripted())
    ev.plot(report, tmp_path / "r.png")
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ev.hit_curve(report.rows) == pytest.approx(
        [0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1]
    )
    # A report without kinds still plots (one "all" group).
    ev.plot(
        ev.evaluate([{"question": "When did the tower open?"}], index=scripted()),
        tmp_path / "b.png",
    )
    assert (tmp_path / "b.png").stat().st_size > 0


# --- end to end with a real index (FakeEncoder, no model) -------------------------------------

needs_answering = pytest.mark.skipif(
    importlib.util.find_spec("qa.answering") is None, reason="qa.answering is not written yet"
)

CORPUS = {
    "tower.txt": "The Eiffel Tower opened in 1889 for the World's Fair in Paris.\n\n"
    "Gustave Eiffel's engineering company designed and built the tower.",
    "plants.txt": "Photosynthesis converts light energy into chemical energy in green plants.\n\n"
    "Chlorophyll absorbs mostly blue and red light.",
    "river.txt": "The Mekong river flows through six countries before reaching the sea.\n\n"
    "Its delta in Vietnam produces much of the country's rice.",
}


@pytest.fixture(scope="module")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from qa.embedding import FakeEncoder
    from qa.index import build_index

    root = tmp_path_factory.mktemp("eval")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in CORPUS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "metadata.json").write_text(
        json.dumps({"files": {n: {"title": n[:-4].title(), "date": "2024-01-01"} for n in CORPUS}})
    )
    return build_index(corpus, root / "index", encoder=FakeEncoder())


@needs_answering
def test_end_to_end_jsonl(tmp_path: Path, real_index: Any) -> None:
    path = write(
        tmp_path,
        '{"id": "t", "question": "When did the Eiffel Tower open for the World\'s Fair?", '
        '"answers": ["1889"], "evidence": ["opened in 1889"], "kind": "date"}\n'
        '{"id": "p", "question": "What does photosynthesis convert light energy into?", '
        '"answers": ["chemical energy"], "sources": ["plants.txt"], "kind": "fact"}\n'
        '{"id": "f", "question": "Who built it?", "history": ["When did the Eiffel Tower open?"], '
        '"sources": ["tower.txt"], "kind": "follow-up"}\n',
    )
    report = ev.evaluate(path, index=real_index, k=3)
    assert [r["id"] for r in report.rows] == ["t", "p", "f"]
    t, p, f = report.rows
    assert t["retrieved"][0]["doc_id"] == "tower.txt" and t["rank"] == 1
    assert p["retrieved"][0]["doc_id"] == "plants.txt" and p["rank"] == 1
    assert report.metrics["n"] == 3 and report.metrics["n_retrieval"] == 3
    for row in report.rows:
        assert row["latency_ms"] > 0
        assert len(row["retrieved"]) == min(10, len(real_index))
        assert all(set(c) == {"doc_id", "paragraph"} for c in row["citations"])
    assert f["history"] == ["When did the Eiffel Tower open?"]
    assert set(report.by_kind) == {"date", "fact", "follow-up"}


@needs_answering
def test_queries_are_encoded_in_one_batch(real_index: Any) -> None:
    questions = [
        {"question": f"Which river flows through {n} countries?", "sources": ["river.txt"]}
        for n in ("six", "seven", "eight")
    ]
    questions.append({"question": "Which river flows through six countries?"})  # a repeat
    before = real_index.encoder.calls
    report = ev.evaluate(questions, index=real_index)
    assert real_index.encoder.calls - before == 3  # three unique questions, encoded once
    assert all(r["latency_ms"] > 0 for r in report.rows)
    unbatched = ev.evaluate(
        [{"question": "Which river reaches the sea?"}], index=real_index, batch_queries=False
    )
    assert unbatched.rows[0]["latency_ms"] > 0


@needs_answering
def test_end_to_end_squad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.embedding import FakeEncoder

    made: list[Path] = []
    real_mkdtemp = ev.run.tempfile.mkdtemp

    def spy(*args: Any, **kwargs: Any) -> str:
        made.append(Path(real_mkdtemp(*args, **kwargs)))
        return str(made[-1])

    monkeypatch.setattr(ev.run.tempfile, "mkdtemp", spy)
    path = write(tmp_path, json.dumps(SQUAD), "squad.json")
    report = ev.evaluate(path, encoder=FakeEncoder())
    assert report.metrics["n"] == 4
    assert report.metrics["n_unanswerable"] == 1
    assert report.metrics["n_retrieval"] == 3
    assert set(report.by_kind) == {"Eiffel Tower", "Photosynthesis"}
    docs = {p["doc_id"] for r in report.rows for p in r["retrieved"]}
    assert docs == {"0-0.txt", "0-1.txt", "1-0.txt"}
    p1 = next(r for r in report.rows if r["id"] == "p1")
    assert p1["rank"] == 1
    assert made and not any(p.exists() for p in made)  # the temporary index is cleaned up
