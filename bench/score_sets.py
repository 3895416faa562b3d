"""Score question sets the way issue 11 reports them: one table per file, one line per measure.

Usage::

    python bench/score_sets.py tests/data/hard-dev.jsonl tests/data/hard-heldback.jsonl \
        [tests/data/dev.jsonl ...] [--index DIR] [--corpus corpus] [--verbose] [--json OUT]

Each file is run through the Python API: ``qa.load_index(DIR)`` (or ``qa.build_index`` of
``--corpus`` into ``DIR``, a temporary folder when ``--index`` is not given), then
``index.answer(question, history)``. A conversation is played as ``qa.evaluation`` plays it:
each earlier user turn is answered with the history so far, and the history (Gradio messages)
gets that turn followed by the bot's answer text.

Measures (answerable rows are every row with ``answerable`` true, whatever its kind):

- *gold answer in the answer*: some gold string (``answers``, or any variant of any ``items``)
  occurs on whole-token boundaries in the answer body, after folding case, diacritics,
  typographic quotes/dashes, punctuation (to spaces) and the articles a/an/the. The body is every text field of
  the ``Answer`` (``text`` without its source list and ``[n]`` markers, ``sentences``, and any
  field added later such as ``short``), so a short answer counts as soon as it exists; a
  declined answer has no body.
- *a citation holds the evidence*: a cited passage contains one of the ``evidence`` strings
  (``qa.metrics.evidence_found``).
- *passage with the answer ranked first*: the first passage of
  ``index.retrieve(answer.query, k=10)`` (the query the answerer searched, rewritten for a
  follow-up) contains one of the evidence strings.
- *unanswerable questions declined* / *answerable questions declined*: ``answer.answerable``
  is false.
- *list questions with every item*: rows of kind ``list``, every item matched (any variant).
- *two-part questions with both parts*: rows of kind ``two_part``, every item matched.
- *conversations ending right*: rows of kind ``conversation``; an answerable one is not declined
  and holds a gold answer, an unanswerable one is declined.
- *confidence AUC*: how well ``answer.confidence`` ranks answerable rows above unanswerable
  ones (0.5 is chance).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa  # noqa: E402
from qa.lexical import fold  # noqa: E402
from qa.metrics import evidence_found, normalize_evidence  # noqa: E402

RETRIEVAL_DEPTH = 10  # as in qa.evaluation; only rank 1 is scored here
# Answer fields that are not answer text: what was asked, where it came from, how sure.
_NOT_TEXT = {
    "question", "query", "citations", "passages", "supports", "rewritten", "answerable",
    "path", "route",  # which path answered (qa.routing), not answer text
}  # fmt: skip
_PUNCT = re.compile(r"[^\w\s]|_")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_CITATION_MARK = re.compile(r"\s*\[\d+(?:\s*[,;-]\s*\d+)*\]")
# The source list the answer text ends with ("**Sources**" then one line per citation): it
# holds document titles, which must not count as an answer.
_SOURCES = re.compile(r"^\W*sources\W*$", re.I | re.M)


def norm_answer(text: str) -> str:
    """Case, diacritics, typography, punctuation and articles folded, for containment.

    Punctuation becomes a space rather than vanishing (as it does in SQuAD's normalisation), so
    a possessive keeps its name whole: "Pham Minh Chinh’s visit" holds "Pham Minh Chinh".
    """
    text = _PUNCT.sub(" ", fold(normalize_evidence(text)))
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains(body: str, gold: str) -> bool:
    """Whether ``gold`` occurs in ``body`` on whole-token boundaries after folding."""
    needle = norm_answer(gold)
    return bool(needle) and f" {needle} " in f" {norm_answer(body)} "


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        return _texts(value.get("text", ""))
    text = getattr(value, "text", None)  # e.g. a short-answer object with its span
    return [text] if isinstance(text, str) else []


def answer_body(answer: Any) -> str:
    """Every text field of the answer, joined; empty when it declined."""
    if not answer.answerable:
        return ""
    parts: list[str] = []
    for f in dataclasses.fields(answer):
        if f.name in _NOT_TEXT:
            continue
        value = getattr(answer, f.name)
        if f.name == "text" and isinstance(value, str):
            m = _SOURCES.search(value)
            value = value[: m.start()] if m else value
        parts += [_CITATION_MARK.sub("", t).strip() for t in _texts(value)]
    return " ".join(p for p in parts if p)


def ask(index: Any, row: dict[str, Any]) -> Any:
    """The final answer of a row, its earlier turns answered first as qa.evaluation does."""
    history: list[dict[str, str]] = []
    for turn in row.get("history", []):
        earlier = index.answer(turn, list(history) or None)
        history.append({"role": "user", "content": turn})
        history.append({"role": "assistant", "content": earlier.text})
    return index.answer(row["question"], history or None)


def score_row(index: Any, row: dict[str, Any]) -> dict[str, Any]:
    """Run one row and judge every measure that applies to it (``None`` where none does)."""
    answer = ask(index, row)
    declined = not answer.answerable
    body = answer_body(answer)
    items = row.get("items") or []
    golds = list(row.get("answers", [])) + [v for item in items for v in item]
    evidence = row.get("evidence", [])
    answerable = bool(row.get("answerable", True))
    top = index.retrieve(answer.query or row["question"], k=RETRIEVAL_DEPTH)
    out: dict[str, Any] = {
        "id": row.get("id"),
        "kind": row.get("kind"),
        "style": row.get("style"),
        "question": row["question"],
        "history": row.get("history", []),
        "answerable": answerable,
        "declined": declined,
        "confidence": float(answer.confidence),
        "query": answer.query,
        "answer": body or answer.text,
        "gold": golds[:4],
        "gold_in_answer": None,
        "cited": None,
        "first": None,
        "items_found": None,
        "complete": None,
        "conversation_right": None,
    }
    if answerable:
        out["gold_in_answer"] = any(contains(body, g) for g in golds)
        out["cited"] = not declined and any(
            evidence_found(evidence, p.text) for p in answer.citations
        )
        out["first"] = bool(top) and bool(evidence_found(evidence, top[0].text))
        if items:
            found = [any(contains(body, v) for v in item) for item in items]
            out["items_found"] = f"{sum(found)}/{len(found)}"
            out["missing_items"] = [item[0] for item, ok in zip(items, found) if not ok]
            out["complete"] = all(found)
    if row.get("kind") == "conversation":
        out["conversation_right"] = (
            bool(out["gold_in_answer"]) and not declined if answerable else declined
        )
    return out


def auc(scores_pos: list[float], scores_neg: list[float]) -> float | None:
    """Probability that a random positive outranks a random negative (ties count half)."""
    if not scores_pos or not scores_neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in scores_pos for n in scores_neg)
    return wins / (len(scores_pos) * len(scores_neg))


def _frac(rows: list[dict[str, Any]], key: str, want: bool = True) -> str:
    judged = [r for r in rows if r[key] is not None]
    return f"{sum(1 for r in judged if r[key] == want)}/{len(judged)}"


def table(name: str, rows: list[dict[str, Any]]) -> str:
    """The issue's table for one file, plus the AUC and a per-style line."""
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    convs = [r for r in rows if r["conversation_right"] is not None]
    lists = [r for r in rows if r["kind"] == "list"]
    parts = [r for r in rows if r["kind"] == "two_part"]
    a = auc([r["confidence"] for r in ans], [r["confidence"] for r in una])
    lines = [
        f"| measure ({name}: {len(ans)} answerable, {len(una)} unanswerable, "
        f"{len(convs)} conversations) | today |",
        "|---|---|",
        f"| gold answer in the answer | {_frac(ans, 'gold_in_answer')} |",
        f"| a citation holds the evidence | {_frac(ans, 'cited')} |",
        f"| passage with the answer ranked first | {_frac(ans, 'first')} |",
        f"| unanswerable questions declined | {sum(r['declined'] for r in una)}/{len(una)} |",
        f"| answerable questions declined | {sum(r['declined'] for r in ans)}/{len(ans)} |",
        f"| list questions with every item | {_frac(lists, 'complete')} |",
        f"| two-part questions with both parts | {_frac(parts, 'complete')} |",
        f"| conversations ending right | {_frac(convs, 'conversation_right')} |",
        f"| confidence AUC, answerable vs unanswerable | {'n/a' if a is None else f'{a:.3f}'} |",
    ]
    by_style: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_style[str(r["style"] or r["kind"] or "-")].append(r)
    cells = []
    for style, group in sorted(by_style.items()):
        g_ans = [r for r in group if r["answerable"]]
        if g_ans:
            cells.append(f"{style} gold {_frac(g_ans, 'gold_in_answer')}")
        else:
            cells.append(f"{style} declined {sum(r['declined'] for r in group)}/{len(group)}")
    lines.append("")
    lines.append("by style: " + "; ".join(cells))
    return "\n".join(lines)


def failures(row: dict[str, Any]) -> list[str]:
    """The measures a row fails, by name."""
    bad = []
    if row["answerable"]:
        if row["declined"]:
            bad.append("declined")
        for key, label in (
            ("gold_in_answer", "no gold"),
            ("cited", "no citation"),
            ("first", "rank>1"),
        ):
            if row[key] is False:
                bad.append(label)
        if row["complete"] is False:
            bad.append(f"items {row['items_found']} (missing: {'; '.join(row['missing_items'])})")
    elif not row["declined"]:
        bad.append("answered an unanswerable question")
    return bad


def report_failures(rows: list[dict[str, Any]]) -> str:
    out = []
    for r in rows:
        bad = failures(r)
        if not bad:
            continue
        turns = "".join(f"    earlier: {t}\n" for t in r["history"])
        query = f"    query: {r['query']}\n" if r["query"] and r["query"] != r["question"] else ""
        out.append(
            f"  {r['id']} [{r['kind']}/{r['style']}] {', '.join(bad)}  conf={r['confidence']:.2f}\n"
            f"{turns}    Q: {r['question']}\n{query}"
            f"    gold: {' | '.join(r['gold'])}\n"
            f"    got: {r['answer'][:240].replace(chr(10), ' ')}"
        )
    return "\n".join(out) if out else "  (none)"


def open_index(
    index_dir: str | None, corpus: str, stack: tempfile.TemporaryDirectory | None
) -> Any:
    if index_dir and (Path(index_dir) / "CURRENT").exists():
        return qa.load_index(index_dir)
    target = index_dir or str(Path(stack.name) / "index")  # type: ignore[union-attr]
    return qa.build_index(corpus, target)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", type=Path, help="question sets (JSONL)")
    ap.add_argument("--index", help="index folder: loaded if it holds an index, else built there")
    ap.add_argument("--corpus", default=str(ROOT / "corpus"), help="corpus to build from")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every failing row")
    ap.add_argument("--json", type=Path, help="write every scored row here (JSON lines)")
    args = ap.parse_args(argv)
    tmp = None if args.index else tempfile.TemporaryDirectory(prefix="score-sets-")
    try:
        index = open_index(args.index, args.corpus, tmp)
        scored: list[dict[str, Any]] = []
        for path in args.files:
            rows = [
                json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()
            ]
            results = [score_row(index, r) for r in rows]
            scored += [{"file": path.name, **r} for r in results]
            print(table(path.name, results))
            if args.verbose:
                print(f"\nfailures in {path.name}:\n{report_failures(results)}")
            print()
        if args.json:
            args.json.write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in scored), encoding="utf-8"
            )
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
