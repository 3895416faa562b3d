"""The hard question sets hold verbatim gold, and bench/score_sets.py scores the way it says."""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from qa.types import Answer, Passage

ROOT = Path(__file__).resolve().parent.parent


def _load_scorer():
    spec = importlib.util.spec_from_file_location("score_sets", ROOT / "bench" / "score_sets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


score_sets = _load_scorer()


def _passage(text: str) -> Passage:
    return Passage(
        passage_id="p1",
        text=text,
        doc_id="d.txt",
        title="Vietnam, UK enhance cooperation in law enforcement",
        source="VNA",
        date="2023-09-16",
        paragraph=2,
        paragraph_end=2,
        start=0,
        end=len(text),
    )


def test_hard_sets_pass_their_checker():
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "data" / "verify_hard.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("OK")


@pytest.mark.parametrize(
    ("body", "gold", "expected"),
    [
        ("Minister Lương Tam Quang told Yvette Cooper", "Luong Tam Quang", True),
        (
            "the first UK – Vietnam migration dialogue",
            "first UK - Vietnam migration dialogue",
            True,
        ),
        ("a visit from September 16-21.", "September 16-21", True),
        ("held in 2010s", "2010", False),
        ("Prime Minister Pham Minh Chinh’s visit to UK", "Pham Minh Chinh", True),
        ("Sen. Lieut. Gen. Lương Tam Quang", "Sen. Lieut. Gen.", True),
        ("Lieutenant General Le Quoc Hung", "General To Lam", False),
        ("anything", "the", False),
    ],
)
def test_contains_folds_case_diacritics_dashes_on_token_boundaries(body, gold, expected):
    assert score_sets.contains(body, gold) is expected


def test_answer_body_drops_the_source_list_and_markers_and_reads_new_fields():
    text = "Hung met Rob Jones. [1]\n\n**Sources**\n[1] Vietnam, UK enhance cooperation — VNA"
    answer = Answer(
        question="q",
        text=text,
        citations=(_passage("Hung met Rob Jones."),),
        passages=(),
        answerable=True,
        confidence=0.9,
        sentences=("Hung met Rob Jones. [1]",),
    )
    body = score_sets.answer_body(answer)
    assert body == "Hung met Rob Jones. Hung met Rob Jones."
    assert not score_sets.contains(body, "enhance cooperation")

    # A field added later (a short answer, as text or as an object with a span) counts too.
    @dataclasses.dataclass(frozen=True)
    class Short:
        text: str
        start: int
        end: int

    @dataclasses.dataclass(frozen=True)
    class Longer(Answer):
        short: Short | None = None

    longer = Longer(**{**dataclasses.asdict(answer), "citations": (), "short": Short("Rob", 9, 12)})
    assert score_sets.answer_body(longer).endswith("Rob")
    declined = dataclasses.replace(answer, answerable=False)
    assert score_sets.answer_body(declined) == ""


class _ScriptedIndex:
    """Answers from a table; records the history each call saw."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.histories: list[list[dict] | None] = []

    def answer(self, question: str, history: list[dict] | None = None) -> Answer:
        self.histories.append(None if history is None else list(history))
        return self.answers[question]

    def retrieve(self, question: str, k: int = 5) -> list[Passage]:
        return [_passage("The delegation held talks with Robert Jenrick.")]


def _answer(question: str, text: str, answerable: bool = True, confidence: float = 0.5) -> Answer:
    return Answer(
        question=question,
        text=text,
        citations=(_passage(text),) if answerable else (),
        passages=(),
        answerable=answerable,
        confidence=confidence,
        query=question,
        sentences=(text,) if answerable else (),
    )


def test_conversation_history_is_each_turn_then_the_bots_answer():
    index = _ScriptedIndex(
        {
            "when did hung visit": _answer("when did hung visit", "From September 16-21."),
            "who did he meet": _answer(
                "who did he meet", "The delegation held talks with Robert Jenrick."
            ),
        }
    )
    row = {
        "id": "c1",
        "kind": "conversation",
        "style": "conversation",
        "question": "who did he meet",
        "history": ["when did hung visit"],
        "answers": ["Robert Jenrick"],
        "evidence": ["held talks with Robert Jenrick"],
        "sources": ["d.txt"],
        "answerable": True,
    }
    out = score_sets.score_row(index, row)
    assert index.histories == [
        None,
        [
            {"role": "user", "content": "when did hung visit"},
            {"role": "assistant", "content": "From September 16-21."},
        ],
    ]
    assert (out["gold_in_answer"], out["cited"], out["first"], out["conversation_right"]) == (
        True,
        True,
        True,
        True,
    )


def test_list_needs_every_item_and_unanswerable_must_decline():
    index = _ScriptedIndex(
        {
            "which bodies": _answer("which bodies", "They visited the NCA."),
            "who is the met commissioner": _answer(
                "who is the met commissioner", "Robert Jenrick."
            ),
        }
    )
    listed = score_sets.score_row(
        index,
        {
            "kind": "list",
            "question": "which bodies",
            "answers": ["NCA"],
            "items": [["National Crime Agency", "NCA"], ["Metropolitan Police"]],
            "evidence": ["visited the NCA"],
            "sources": ["d.txt"],
            "answerable": True,
        },
    )
    assert (listed["gold_in_answer"], listed["complete"], listed["items_found"]) == (
        True,
        False,
        "1/2",
    )
    wrong = score_sets.score_row(
        index,
        {
            "kind": "unanswerable_neartopic",
            "question": "who is the met commissioner",
            "answerable": False,
        },
    )
    assert (wrong["declined"], wrong["gold_in_answer"], score_sets.failures(wrong)) == (
        False,
        None,
        ["answered an unanswerable question"],
    )


def test_auc_counts_ties_half():
    assert score_sets.auc([0.9, 0.5], [0.5, 0.1]) == pytest.approx(0.875)
    assert score_sets.auc([0.9], []) is None
