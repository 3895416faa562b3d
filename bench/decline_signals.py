"""How well short answers and unmet constraints separate answerable from unanswerable.

For each question of a JSONL set (``question``, ``answerable``, ``sources``, ``evidence``):

- answerable: are any of its constraints unmet by its source article(s)? (a false alarm);
  for a typed question (who/when/where/how many/which agreement), does the sentence holding
  the evidence give no short answer? (a false "nothing of the kind asked");
- unanswerable: is some constraint unmet by every article? (a true alarm: no article can
  meet the whole question); and, stricter, does no sentence of the corpus pass both checks
  (its paragraph meets every constraint and, for a typed question, it gives a short answer)?
  The same two checks on the answerable questions' evidence sentences give the cost.

Whole articles stand in for the cited passage, so the alarms are a lower bound on what a
passage-level check raises. No retrieval, no model: seconds.

    PYTHONPATH=. python bench/decline_signals.py tests/data/dev.jsonl [more.jsonl ...] [-v]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qa.chunking import split_sentences
from qa.constraints import extract_constraints, unmet
from qa.phrases import answer_kind, short_answer

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _sentence_with(evidence: str, texts: list[str]) -> str:
    """The article sentence holding the evidence's opening (the evidence itself if none)."""
    head = evidence[:40]
    for text in texts:
        for _, _, sent in split_sentences(text.replace("\n", " ")):
            if head in sent:
                return sent
    return evidence


def _with_paragraph(evidence: str, texts: list[str]) -> tuple[str, str]:
    """The sentence holding the evidence's opening, and its paragraph."""
    head = evidence[:40]
    for text in texts:
        for para in text.split("\n"):
            for _, _, sent in split_sentences(para):
                if head in sent:
                    return sent, para
    return evidence, evidence


def _passes(q: str, sentence: str, article: str) -> bool:
    """Whether a sentence could answer: its article meets every constraint and, for a typed
    question, it holds a phrase of the asked kind that the question does not name."""
    if unmet(extract_constraints(q), sentence, article):
        return False
    return not answer_kind(q) or short_answer(q, sentence) is not None


def measure(path: Path, docs: dict[str, str], verbose: bool, scope: str = "article") -> None:
    """Print the counts for one question set."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    false_unmet, no_phrase, true_unmet = [], [], []
    n_answerable = n_typed = n_unanswerable = 0
    evidence_fails, nothing_passes = [], []
    # (sentence, its paragraph): a paragraph stands in for the passage a citation shows
    corpus = [
        (sent, para if scope == "paragraph" else text)
        for text in docs.values()
        for para in text.split("\n")
        for _, _, sent in split_sentences(para)
    ]
    for r in rows:
        q = r["question"]
        cs = extract_constraints(q)
        if r.get("answerable", True) and r.get("sources"):
            n_answerable += 1
            texts = [docs[s] for s in r["sources"] if s in docs]
            missing = unmet(cs, "", "\n".join(texts))
            if missing:
                false_unmet.append((q, [c.text for c in missing]))
            sent, para = _with_paragraph(r["evidence"][0], texts) if r.get("evidence") else ("", "")
            context = para if scope == "paragraph" else "\n".join(texts)
            if r.get("evidence") and not _passes(q, sent, context):
                evidence_fails.append(q)
            if answer_kind(q) and r.get("evidence"):
                n_typed += 1
                if short_answer(q, _sentence_with(r["evidence"][0], texts)) is None:
                    no_phrase.append(q)
        elif not r.get("answerable", True):
            n_unanswerable += 1
            per_doc = [unmet(cs, "", t) for t in docs.values()]
            if all(per_doc):
                true_unmet.append((q, [c.text for c in min(per_doc, key=len)]))
            if not any(_passes(q, sent, text) for sent, text in corpus):
                nothing_passes.append(q)
    print(f"== {path} (constraints met within the {scope})")
    print(f"answerable with an unmet constraint (false alarm): {len(false_unmet)}/{n_answerable}")
    print(f"typed answerable, no short answer in the evidence sentence: {len(no_phrase)}/{n_typed}")
    print(f"unanswerable with a constraint no article meets: {len(true_unmet)}/{n_unanswerable}")
    print(
        f"answerable whose evidence sentence fails the two checks: {len(evidence_fails)}/{n_answerable}"
    )
    print(f"unanswerable that no corpus sentence passes: {len(nothing_passes)}/{n_unanswerable}")
    if verbose:
        for q in evidence_fails:
            print(f"  evidence fails: {q}")
        for q in nothing_passes:
            print(f"  none passes: {q}")
        for q, parts in false_unmet:
            print(f"  false alarm: {q} -> {parts}")
        for q in no_phrase:
            print(f"  no phrase:   {q}")
        for q, parts in true_unmet:
            print(f"  caught:      {q} -> {parts}")


def main() -> None:
    """Measure every set given on the command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="+", type=Path)
    ap.add_argument("-v", "--verbose", action="store_true", help="list the questions")
    ap.add_argument(
        "--scope",
        choices=("article", "paragraph"),
        default="article",
        help="where a sentence's constraints may be met: its whole article or its paragraph",
    )
    args = ap.parse_args()
    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))}
    for path in args.sets:
        measure(path, docs, args.verbose, args.scope)


if __name__ == "__main__":
    main()
