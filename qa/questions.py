"""Checking a question at the door: normalised, non-empty, not too long.

A leaf module (it imports only ``qa.errors``), shared by the search, the answers, the UI and
the evaluation.
"""

from __future__ import annotations

import unicodedata

from qa.errors import QAError

MAX_QUESTION_CHARS = 2000


class QuestionError(QAError, ValueError):
    """A question that cannot be searched: empty, control characters only, or too long."""


def check_question(question: str) -> str:
    """Normalise a question to NFC and validate it; raises ``QuestionError`` (a ValueError)."""
    if not isinstance(question, str):
        raise QuestionError(f"The question must be text, got {type(question).__name__}.")
    q = unicodedata.normalize("NFC", question)
    q = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in q)
    q = " ".join(q.split())
    if not q:
        raise QuestionError("The question is empty. Type a question about the articles.")
    if len(q) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The question is {len(q):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. "
            "Shorten it to the question itself."
        )
    return q
