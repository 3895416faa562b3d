"""Loading question sets: JSONL lines or SQuAD 1.1/2.0 JSON, validated into
:class:`GoldQuestion` values (see the package docstring for the fields)."""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import QuestionSetError

FIELDS = ("question", "answers", "evidence", "sources", "answerable", "id", "kind", "history")

# --- the question set -------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldQuestion:
    """One question of a question set, validated."""

    question: str
    answers: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    answerable: bool = True
    id: str | None = None
    kind: str | None = None
    history: tuple[str, ...] = ()
    where: str = ""  # "questions.jsonl line 7", for messages

    @property
    def has_gold(self) -> bool:
        """Whether relevance of a passage can be judged for this question."""
        return bool(self.evidence or self.sources)


@dataclass(frozen=True)
class QuestionSet:
    """Validated questions plus, for a SQuAD file, the parsed file (its paragraphs are the
    corpus to index)."""

    questions: tuple[GoldQuestion, ...]
    name: str = ""
    squad: dict[str, Any] | None = field(default=None, compare=False)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _str_list(value: Any, name: str, where: str) -> tuple[str, ...]:
    # A lone string is accepted as a one-item list: it is what people write by hand.
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        got = _type_name(value)
        if isinstance(value, list):
            bad = next(v for v in value if not isinstance(v, str))
            got = f"a list holding {_type_name(bad)} {bad!r}"
        raise QuestionSetError(
            f"{where}: field '{name}' must be a list of strings, got {got}. "
            f'Fix: write it as ["first", "second"].'
        )
    return tuple(value)


def parse_question(obj: Any, where: str) -> GoldQuestion:
    """Validate one question dict; ``where`` (``"file.jsonl line 7"``) prefixes any error."""
    if not isinstance(obj, dict):
        raise QuestionSetError(
            f"{where}: must be a JSON object, got {_type_name(obj)}. "
            'Fix: write one object per line, e.g. {"question": "...", "answers": ["..."]}.'
        )
    for key in obj:
        if key not in FIELDS:
            near = difflib.get_close_matches(str(key), FIELDS, n=1, cutoff=0.75)
            if near:
                raise QuestionSetError(
                    f"{where}: unknown field '{key}'. Fix: rename it to '{near[0]}'."
                )
    if "question" not in obj:
        raise QuestionSetError(
            f'{where}: field \'question\' is missing. Fix: add "question": "...".'
        )
    question = obj["question"]
    if not isinstance(question, str) or not question.strip():
        got = "an empty string" if isinstance(question, str) else _type_name(question)
        raise QuestionSetError(
            f"{where}: field 'question' must be a non-empty string, got {got}. "
            "Fix: write the question text."
        )
    answers = _str_list(obj.get("answers", []), "answers", where)
    evidence = _str_list(obj.get("evidence", []), "evidence", where)
    sources = tuple(
        s.strip().replace("\\", "/").removeprefix("./")
        for s in _str_list(obj.get("sources", []), "sources", where)
    )
    history = _str_list(obj.get("history", []), "history", where)
    for turn in history:
        if not turn.strip():
            raise QuestionSetError(
                f"{where}: field 'history' holds an empty question. Fix: remove it."
            )
    answerable = obj.get("answerable", True)
    if not isinstance(answerable, bool):
        raise QuestionSetError(
            f"{where}: field 'answerable' must be true or false, got {_type_name(answerable)}. "
            "Fix: write true or false without quotes."
        )
    if not answerable and answers:
        raise QuestionSetError(
            f"{where}: field 'answers' is given but 'answerable' is false. "
            "Fix: remove the answers or set answerable to true."
        )
    qid = obj.get("id")
    if qid is not None and (isinstance(qid, bool) or not isinstance(qid, (str, int))):
        raise QuestionSetError(
            f"{where}: field 'id' must be a string or an integer, got {_type_name(qid)}. "
            'Fix: write a unique label such as "q7".'
        )
    kind = obj.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise QuestionSetError(
            f"{where}: field 'kind' must be a string, got {_type_name(kind)}. "
            'Fix: write a label such as "date" or "multi-hop".'
        )
    return GoldQuestion(
        question=question.strip(),
        answers=answers,
        evidence=evidence,
        sources=sources,
        answerable=answerable,
        id=None if qid is None else str(qid),
        kind=kind or None,
        history=tuple(t.strip() for t in history),
        where=where,
    )


def _check_ids(questions: Sequence[GoldQuestion]) -> None:
    # Comparisons between runs match questions by id; a repeated id would pair the wrong ones.
    seen: dict[str, str] = {}
    for q in questions:
        if q.id is None:
            continue
        if q.id in seen:
            raise QuestionSetError(
                f"{q.where}: field 'id' repeats {q.id!r} (first used at {seen[q.id]}). "
                "Fix: give every question its own id."
            )
        seen[q.id] = q.where


def _is_squad(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("data"), list)
        and all(isinstance(a, dict) and "paragraphs" in a for a in data["data"])
    )


def _squad_title(title: Any, article: int) -> str:
    # SQuAD titles are Wikipedia page names ("Sky_(United_Kingdom)"); show them as words.
    if not isinstance(title, str) or not title.strip():
        return f"article {article}"
    return title.replace("_", " ").strip()


def squad_doc_id(article: int, paragraph: int) -> str:
    """The doc id a SQuAD paragraph gets in the temporary corpus."""
    return f"{article}-{paragraph}.txt"


def squad_questions(data: dict[str, Any], name: str = "SQuAD file") -> list[GoldQuestion]:
    """Questions of a SQuAD 1.1/2.0 dict: golds are the answer texts, ``is_impossible`` makes
    a question unanswerable, the source is the question's paragraph, the kind its article
    title."""
    out: list[GoldQuestion] = []
    for ai, article in enumerate(data["data"]):
        title = article.get("title")
        title = _squad_title(title, ai)
        paragraphs = article.get("paragraphs")
        if not isinstance(paragraphs, list):
            raise QuestionSetError(
                f"{name} data[{ai}]: field 'paragraphs' must be a list, got "
                f"{_type_name(paragraphs)}. Fix: use the SQuAD layout."
            )
        for pi, para in enumerate(paragraphs):
            where = f"{name} data[{ai}].paragraphs[{pi}]"
            if not isinstance(para, dict) or not isinstance(para.get("context"), str):
                raise QuestionSetError(
                    f"{where}: field 'context' must be a string. Fix: use the SQuAD layout."
                )
            qas = para.get("qas", [])
            if not isinstance(qas, list):
                raise QuestionSetError(
                    f"{where}: field 'qas' must be a list, got {_type_name(qas)}. "
                    "Fix: use the SQuAD layout."
                )
            for qi, qa_ in enumerate(qas):
                qwhere = f"{where}.qas[{qi}]"
                if not isinstance(qa_, dict):
                    raise QuestionSetError(
                        f"{qwhere}: must be an object, got {_type_name(qa_)}. "
                        "Fix: use the SQuAD layout."
                    )
                answers = qa_.get("answers", [])
                if not isinstance(answers, list) or not all(
                    isinstance(a, dict) and isinstance(a.get("text"), str) for a in answers
                ):
                    raise QuestionSetError(
                        f"{qwhere}: field 'answers' must be a list of "
                        '{"text": ..., "answer_start": ...} objects. Fix: use the SQuAD layout.'
                    )
                impossible = bool(qa_.get("is_impossible", False))
                golds = list(dict.fromkeys(a["text"] for a in answers if a["text"].strip()))
                obj = {
                    "question": qa_.get("question"),
                    "answers": [] if impossible else golds,
                    "sources": [squad_doc_id(ai, pi)],
                    "answerable": not impossible,
                    "kind": title,
                }
                if qa_.get("id") is not None:
                    obj["id"] = qa_["id"]
                out.append(parse_question(obj, qwhere))
    return out


def write_squad_corpus(data: dict[str, Any], corpus_dir: Path) -> int:
    """Write each SQuAD paragraph as ``<article>-<paragraph>.txt`` plus a ``metadata.json``
    carrying the article title. Returns the number of paragraphs written."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    version = str(data.get("version") or "").strip()
    files: dict[str, dict[str, Any]] = {}
    for ai, article in enumerate(data["data"]):
        title = article.get("title")
        title = _squad_title(title, ai)
        for pi, para in enumerate(article["paragraphs"]):
            doc_id = squad_doc_id(ai, pi)
            (corpus_dir / doc_id).write_text(para["context"], encoding="utf-8")
            files[doc_id] = {
                "title": title,
                "source": f"SQuAD {version}".strip(),
            }
    (corpus_dir / "metadata.json").write_text(
        json.dumps({"files": files}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return len(files)


def load_questions(
    questions: str | os.PathLike | Sequence[dict] | dict | QuestionSet,
) -> QuestionSet:
    """Read and validate a question set: a path to JSONL or SQuAD JSON, a list of question
    dicts, or a SQuAD dict. Raises :class:`QuestionSetError` naming the line and the field."""
    if isinstance(questions, QuestionSet):
        return questions
    if isinstance(questions, dict):
        if not _is_squad(questions):
            raise QuestionSetError(
                "The question set is a dict but not SQuAD JSON (no 'data' list of articles). "
                "Fix: pass a list of question dicts, or a path to a .jsonl file."
            )
        return QuestionSet(tuple(squad_questions(questions)), "SQuAD", squad=questions)
    if isinstance(questions, (str, os.PathLike)):
        return _load_path(Path(questions))
    if isinstance(questions, Iterable):
        items = list(questions)
        qs = [parse_question(obj, f"question {i}") for i, obj in enumerate(items, 1)]
        if not qs:
            raise QuestionSetError("The question list is empty. Fix: pass at least one question.")
        _check_ids(qs)
        return QuestionSet(tuple(qs), "questions")
    raise QuestionSetError(
        f"Cannot read questions from {_type_name(questions)}. "
        "Fix: pass a path to a .jsonl or SQuAD .json file, or a list of dicts."
    )


def _load_path(path: Path) -> QuestionSet:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise QuestionSetError(
            f"Question file {str(path)!r} does not exist. Fix: check the path."
        ) from None
    except IsADirectoryError:
        raise QuestionSetError(
            f"Question file {str(path)!r} is a folder. Fix: pass a .jsonl or .json file."
        ) from None
    except UnicodeDecodeError as exc:
        raise QuestionSetError(
            f"Question file {str(path)!r} is not UTF-8 ({exc.reason} at byte {exc.start}). "
            "Fix: save it as UTF-8."
        ) from None
    if not text.strip():
        raise QuestionSetError(
            f"{name} is empty. Fix: write one JSON object per line, e.g. "
            '{"question": "...", "answers": ["..."]}.'
        )
    # A whole-file JSON value is SQuAD (or a JSON list of questions); anything else is JSONL.
    whole: Any = None
    try:
        whole = json.loads(text)
    except ValueError:
        pass
    if _is_squad(whole):
        return QuestionSet(tuple(squad_questions(whole, name)), name, squad=whole)
    if isinstance(whole, list):
        qs = [parse_question(obj, f"{name} item {i}") for i, obj in enumerate(whole, 1)]
        if not qs:
            raise QuestionSetError(f"{name} holds an empty list. Fix: add questions to it.")
        _check_ids(qs)
        return QuestionSet(tuple(qs), name)
    qs = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{name} line {lineno}"
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise QuestionSetError(
                f"{where}: invalid JSON ({exc}). Fix: write one complete JSON object per line."
            ) from None
        qs.append(parse_question(obj, where))
    _check_ids(qs)
    return QuestionSet(tuple(qs), name)
