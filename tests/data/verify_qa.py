#!/usr/bin/env python3
"""Check tests/data/dev.jsonl and tests/data/test.jsonl against the corpus.

For each question:
  * required fields and types; history only (and required) for kind "conversation";
  * every evidence string is a substring of ONE line of one of the named sources, 6-20 words;
  * every answer string occurs in a named source, and inside an evidence string or on the
    same source line as one of the evidence strings;
  * unanswerable items have empty answers/evidence/sources.
Across files: no repeated ids, no identical or near-identical questions between dev and test.
Prints counts per kind. Exit status 1 on any error.
"""

import collections
import difflib
import json
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "corpus"
KINDS = {
    "fact",
    "paraphrase",
    "no_diacritics",
    "keywords_caps",
    "multi_doc",
    "when",
    "who",
    "how_many",
    "where",
    "unanswerable_offtopic",
    "unanswerable_neartopic",
    "conversation",
}
FIELDS = {"id", "kind", "question", "answers", "evidence", "sources", "answerable"}

lines = {p.name: p.read_text(encoding="utf-8").split("\n") for p in sorted(CORPUS.glob("*.txt"))}
errors, warnings = [], []


def err(qid, msg):
    errors.append(f"{qid}: {msg}")


def check(path):
    items = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            err(f"{path.name}:{n}", "blank line")
            continue
        d = json.loads(raw)
        items.append(d)
        qid = d.get("id", f"{path.name}:{n}")
        keys = set(d)
        want = FIELDS | ({"history"} if d.get("kind") == "conversation" else set())
        if keys != want:
            err(qid, f"fields {sorted(keys ^ want)} missing/extra")
        if d.get("kind") not in KINDS:
            err(qid, f"bad kind {d.get('kind')}")
        if d.get("kind") == "conversation":
            h = d.get("history")
            if not (isinstance(h, list) and h and all(isinstance(x, str) and x for x in h)):
                err(qid, "history must be a non-empty list of strings")
        unans = d["kind"].startswith("unanswerable")
        if d["answerable"] == unans:
            err(qid, "answerable flag does not match kind")
        if unans:
            if d["answers"] or d["evidence"] or d["sources"]:
                err(qid, "unanswerable item must have empty answers/evidence/sources")
            continue
        if not d["answers"] or not d["evidence"] or not d["sources"]:
            err(qid, "answerable item needs answers, evidence and sources")
        if not 1 <= len(d["evidence"]) <= 2:
            err(qid, "evidence must hold 1-2 strings")
        for s in d["sources"]:
            if s not in lines:
                err(qid, f"unknown source {s}")
        src_lines = [(s, ln) for s in d["sources"] if s in lines for ln in lines[s]]
        ev_lines = []
        for ev in d["evidence"]:
            hit = [ln for _, ln in src_lines if ev in ln]
            if not hit:
                err(qid, f"evidence not found on a single line of its sources: {ev!r}")
            ev_lines += hit
            nw = len(ev.split())
            if not 6 <= nw <= 20:
                err(qid, f"evidence has {nw} words (want 6-20): {ev!r}")
        for a in d["answers"]:
            if not any(a in ln for _, ln in src_lines):
                err(qid, f"answer not in named sources: {a!r}")
            if not (any(a in ev for ev in d["evidence"]) or any(a in ln for ln in ev_lines)):
                err(qid, f"answer neither in evidence nor on an evidence line: {a!r}")
            if len(a.split()) > 7:
                warnings.append(f"{qid}: long answer {a!r}")
    return items


def norm(q):
    return re.sub(r"[^a-z0-9 ]", "", q.lower()).strip()


dev = check(HERE / "dev.jsonl")
test = check(HERE / "test.jsonl")
ids = [d["id"] for d in dev + test]
for i, c in collections.Counter(ids).items():
    if c > 1:
        err(i, "duplicate id")
for d in dev:
    if not d["id"].startswith("dev-"):
        err(d["id"], "dev id should start with dev-")
for d in test:
    if not d["id"].startswith("test-"):
        err(d["id"], "test id should start with test-")
for name, items in (("dev", dev), ("test", test)):
    qs = collections.Counter(norm(d["question"]) for d in items)
    for q, c in qs.items():
        if c > 1:
            err(name, f"repeated question {q!r}")
for t in test:
    for d in dev:
        r = difflib.SequenceMatcher(None, norm(t["question"]), norm(d["question"])).ratio()
        if r > 0.75:
            err(t["id"], f"too close to {d['id']} ({r:.2f}): {t['question']!r} ~ {d['question']!r}")
        elif r > 0.6:
            warnings.append(f"{t['id']} resembles {d['id']} ({r:.2f})")

for name, items, min_n, min_conv, unans_rng in (
    ("dev", dev, 60, 5, (8, 10)),
    ("test", test, 40, 4, (6, 8)),
):
    kinds = collections.Counter(d["kind"] for d in items)
    n_un = kinds["unanswerable_offtopic"] + kinds["unanswerable_neartopic"]
    print(f"{name}.jsonl: {len(items)} questions")
    for k in sorted(KINDS):
        print(f"  {k:24s} {kinds[k]}")
    print(f"  {'(unanswerable total)':24s} {n_un}")
    srcs = collections.Counter(s for d in items for s in d["sources"])
    print("  items per source:", dict(sorted(srcs.items())))
    if len(items) < min_n:
        err(name, f"only {len(items)} questions (want >= {min_n})")
    if kinds["conversation"] < min_conv:
        err(name, f"only {kinds['conversation']} conversations (want >= {min_conv})")
    if not unans_rng[0] <= n_un <= unans_rng[1]:
        warnings.append(f"{name}: {n_un} unanswerable (aim {unans_rng[0]}-{unans_rng[1]})")
    missing = KINDS - set(kinds)
    if missing:
        err(name, f"kinds not covered: {sorted(missing)}")

for w in warnings:
    print("WARN", w)
for e in errors:
    print("ERROR", e)
print("OK" if not errors else f"{len(errors)} error(s)")
sys.exit(1 if errors else 0)
