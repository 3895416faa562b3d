"""Checking a question at the door: normalised, non-empty, not too long; and the other
request arguments (``k``, the conversation history).

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


# A user turn kept as conversation context: far longer than any follow-up needs (the names of
# the last turns are what a follow-up leans on), short enough that a pasted article in an
# earlier turn cannot make the next question too long or slow. History is context, not a
# question: a longer turn is cut, never refused.
MAX_HISTORY_TURN_CHARS = 1000
# Only the last turns are read (``qa.answering.rewrite_query`` looks at two user turns and the
# last answer); 20 messages leaves room for any client's framing.
MAX_HISTORY_MESSAGES = 20
HISTORY_SHAPE = '[{"role": "user" or "assistant", "content": "text"}, ...]'
_ROLES = ("user", "assistant", "system")


def check_k(k: object) -> int:
    """``k`` if it is a whole number of at least 1; else a ``QuestionError`` (a ValueError).

    ``bool`` is refused although it is an ``int``: ``k=True`` is a mistake, not one passage.
    """
    if isinstance(k, bool) or not isinstance(k, int):
        raise QuestionError(
            f"k must be a whole number of passages (at least 1), got {type(k).__name__} {k!r}."
        )
    if k < 1:
        raise QuestionError(f"k must be at least 1, got {k}.")
    return k


def check_history(history: object) -> list[dict[str, str]]:
    """The conversation as a list of ``{"role", "content"}`` messages, checked and trimmed.

    Raises ``QuestionError`` (a ValueError) showing the expected shape when ``history`` is not
    a list of such messages. Keeps the last ``MAX_HISTORY_MESSAGES`` and cuts each content to
    ``MAX_HISTORY_TURN_CHARS`` characters.
    """
    if history is None:
        return []
    if isinstance(history, (str, bytes)) or not isinstance(history, (list, tuple)):
        raise QuestionError(
            f"history must be a list of messages {HISTORY_SHAPE}, got {type(history).__name__}."
        )
    out: list[dict[str, str]] = []
    for i, m in enumerate(history[-MAX_HISTORY_MESSAGES:]):
        if not isinstance(m, dict):
            raise QuestionError(
                f"history[{i}] must be a message {{'role': ..., 'content': ...}} "
                f"({HISTORY_SHAPE}), got {type(m).__name__}."
            )
        role, content = m.get("role"), m.get("content")
        if role not in _ROLES or not isinstance(content, str):
            raise QuestionError(
                f"history[{i}] must have a role (user or assistant) and a text content "
                f"({HISTORY_SHAPE}), got role {str(role)[:20]!r} and content of type "
                f"{type(content).__name__}."
            )
        out.append({"role": role, "content": content[:MAX_HISTORY_TURN_CHARS]})
    return out
