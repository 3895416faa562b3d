"""Short-answer extractors compared on SQuAD 2.0 train: spaCy, patterns, and the two combined.

For every answerable who / when / where / how-many question of the excerpt whose kind
``qa.phrases.answer_kind`` recognises, the sentence holding the gold answer is given to
``qa.phrases.short_answer`` with each extractor's entities. Reported per extractor and kind:
how often the phrase equals the gold answer (SQuAD normalisation), contains it, is contained
in it, overlaps it (a shared token), and how often no phrase is found; and the entity time per
sentence. The data are CC BY-SA 4.0 (../shared/data/README or SQuAD's site).

    PYTHONPATH=. python bench/short_answers.py [--limit N] [--sets tests/data/dev.jsonl ...]

``--sets`` adds the same comparison on the project's question sets (JSONL with ``answers``,
``evidence`` and ``sources``): the sentence of the source article holding the evidence.
"""

from __future__ import annotations

import argparse
import json
import re
import string
import time
from collections import Counter, defaultdict
from pathlib import Path

from qa.chunking import split_sentences
from qa.constraints import extract_constraints, unmet
from qa.phrases import answer_kind, pattern_entities, sentence_entities, short_answer

_ROOT = Path(__file__).resolve().parent.parent
# ../shared/data beside the checkout (a worktree one level deeper finds it one level up)
DATA = next(
    (
        d
        for d in (_ROOT.parent / "shared" / "data", _ROOT.parent.parent / "shared" / "data")
        if d.is_dir()
    ),
    _ROOT.parent / "shared" / "data",
)
TRAIN = DATA / "squad-v2-train-10-articles.json"
KINDS = ("who", "when", "where", "how_many")


def normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, articles or extra spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def items(path: Path, *, with_context: bool = False) -> list[tuple]:
    """``(kind, question, sentence, gold)`` for answerable questions of the measured kinds
    (and the paragraph, with ``with_context``)."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = []
    for article in data:
        for para in article["paragraphs"]:
            ctx = para["context"]
            sents = split_sentences(ctx)
            for qa in para["qas"]:
                if qa.get("is_impossible") or not qa["answers"]:
                    continue
                kind = answer_kind(qa["question"])
                if kind not in KINDS:
                    continue
                ans = qa["answers"][0]
                a0, a1 = ans["answer_start"], ans["answer_start"] + len(ans["text"])
                for s, e, sent in sents:
                    if s <= a0 and a1 <= e:
                        row = (kind, qa["question"], sent, ans["text"])
                        out.append((*row, ctx) if with_context else row)
                        break
    return out


def grade(pred: str | None, gold: str) -> str:
    """``equal``, ``contains`` (pred holds gold), ``inside`` (gold holds pred), ``overlap``,
    ``wrong`` or ``none``."""
    if pred is None:
        return "none"
    p, g = normalise(pred), normalise(gold)
    if p == g:
        return "equal"
    if g and g in p:
        return "contains"
    if p and p in g:
        return "inside"
    if set(p.split()) & set(g.split()):
        return "overlap"
    return "wrong"


def main() -> None:
    """Run the comparison and print one table per extractor."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=0, help="use only the first N questions")
    ap.add_argument("--sets", nargs="*", type=Path, default=[], help="project JSONL sets")
    args = ap.parse_args()
    rows = items(TRAIN)
    if args.limit:
        rows = rows[: args.limit]
    sentences = list(dict.fromkeys(r[2] for r in rows))
    print(f"{len(rows)} questions, {len(sentences)} distinct sentences ({TRAIN.name})")
    print("kinds:", dict(Counter(r[0] for r in rows)))

    timings: dict[str, float] = {}
    t = time.perf_counter()
    pattern = [pattern_entities(s) for s in sentences]
    timings["patterns"] = time.perf_counter() - t
    sentence_entities(["Warm up the model."], method="spacy")  # loading is not per sentence
    t = time.perf_counter()
    spacy = sentence_entities(sentences, method="spacy")
    timings["spacy"] = time.perf_counter() - t
    t = time.perf_counter()
    hybrid = sentence_entities(sentences, method="hybrid")
    timings["hybrid"] = time.perf_counter() - t
    by_method = {"patterns": pattern, "spacy": spacy, "hybrid": hybrid}

    for method, ents in by_method.items():
        table = dict(zip(sentences, ents))
        counts: dict[str, Counter] = defaultdict(Counter)
        for _, q, sent, _ in rows:  # warm the per-word stem cache, as a running server has
            short_answer(q, sent, table[sent])
        t = time.perf_counter()
        for kind, q, sent, gold in rows:
            sa = short_answer(q, sent, table[sent])
            g = grade(sa.text if sa else None, gold)
            counts[kind][g] += 1
            counts["all"][g] += 1
        select_ms = 1000 * (time.perf_counter() - t) / len(rows)
        per_sent = 1000 * timings[method] / len(sentences)
        print(
            f"\n== {method}: entities {per_sent:.2f} ms/sentence (batched), "
            f"selection {select_ms:.3f} ms/question"
        )
        print(f"{'kind':9} {'n':>5} {'equal':>6} {'eq|cont':>8} {'any-ovl':>8} {'none':>6}")
        for kind in (*KINDS, "all"):
            c = counts[kind]
            n = sum(c.values())
            if not n:
                continue
            eq = c["equal"]
            cont = eq + c["contains"]
            ovl = cont + c["inside"] + c["overlap"]
            print(
                f"{kind:9} {n:5d} {eq / n:6.3f} {cont / n:8.3f} {ovl / n:8.3f} {c['none'] / n:6.3f}"
            )
    if args.sets:
        compare_sets(args.sets)


def set_items(paths: list[Path]) -> list[tuple[str, str, str, list[str]]]:
    """``(kind, question, sentence, gold answers)`` for typed answerable questions of sets."""
    corpus = _ROOT / "corpus"
    docs = {p.name: p.read_text(encoding="utf-8") for p in corpus.glob("*.txt")}
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line) if line.strip() else None
            if not r or not r.get("answerable", True) or not r.get("evidence"):
                continue
            kind = answer_kind(r["question"])
            if not kind:
                continue
            head = r["evidence"][0][:40]
            sents = [
                x
                for src in r.get("sources", [])
                for para in docs.get(src, "").split("\n")
                for _, _, x in split_sentences(para)
                if head in x
            ]
            if sents:
                out.append((kind, r["question"], sents[0], list(r["answers"])))
    return out


def compare_sets(paths: list[Path]) -> None:
    """Short answers on the project's sets: how often one of the gold answers is matched."""
    rows = set_items(paths)
    sentences = list(dict.fromkeys(r[2] for r in rows))
    print(f"\n== project sets {[p.name for p in paths]}: {len(rows)} typed answerable questions")
    print(f"{'method':9} {'equal':>6} {'eq|cont':>8} {'any-ovl':>8} {'none':>6}")
    for method in ("patterns", "spacy", "hybrid"):
        table = dict(zip(sentences, sentence_entities(sentences, method=method)))
        grades = Counter()
        for _kind, q, sent, golds in rows:
            sa = short_answer(q, sent, table[sent])
            order = ("equal", "contains", "inside", "overlap", "wrong", "none")
            grades[min((grade(sa.text if sa else None, g) for g in golds), key=order.index)] += 1
        n = len(rows)
        eq, cont = grades["equal"], grades["equal"] + grades["contains"]
        ovl = cont + grades["inside"] + grades["overlap"]
        print(f"{method:9} {eq / n:6.3f} {cont / n:8.3f} {ovl / n:8.3f} {grades['none'] / n:6.3f}")


def query_cost(limit: int = 0, candidates: int = 5) -> None:
    """Per-question cost of what answering adds at query time: the question's constraints,
    then for ``candidates`` sentences the short answer (entities stored at build time, or
    found by patterns now) and the unmet constraints against the paragraph."""
    rows = items(TRAIN, with_context=True)
    rows = rows[:limit] if limit else rows[:500]
    pool = []
    for _kind, q, _sent, _gold, ctx in rows:
        sents = [x for _, _, x in split_sentences(ctx)][:candidates]
        pool.append((q, ctx, sents, sentence_entities(sents)))
    for _ in range(2):  # the second pass is what a warm server pays
        t = time.perf_counter()
        for q, ctx, sents, ents in pool:
            cs = extract_constraints(q)
            for sent, e in zip(sents, ents):
                short_answer(q, sent, e)
                unmet(cs, sent, ctx)
        stored = 1000 * (time.perf_counter() - t) / len(pool)
        t = time.perf_counter()
        for q, ctx, sents, _ in pool:
            cs = extract_constraints(q)
            for sent in sents:
                short_answer(q, sent)
                unmet(cs, sent, ctx)
        live = 1000 * (time.perf_counter() - t) / len(pool)
    print(
        f"\n== query-time cost, {len(pool)} questions x {candidates} sentences: "
        f"{stored:.2f} ms/question with stored entities, {live:.2f} ms with patterns run now"
    )


if __name__ == "__main__":
    main()
    query_cost()
