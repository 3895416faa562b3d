"""Compare retrieval settings side by side on a question set (dev set or SQuAD).

Usage: python bench/tune_retrieval.py [--set tests/data/dev.jsonl | --squad PATH] [--backend torch]

Builds one index per chunking/embedding variant in a temp folder, then scores every fusion
variant on the same index, so the comparison isolates each choice. Prints hit@1/hit@5/MRR.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from qa.chunking import ChunkSettings
from qa.embedding import get_encoder
from qa.fusion import FusionSettings
from qa.index import build_index
from qa.lexical import fold

ROOT = Path(__file__).resolve().parent.parent


def norm(s: str) -> str:
    return " ".join(fold(s).split())


def load_set(path: Path) -> list[dict]:
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [
        r
        for r in rows
        if r.get("answerable", True)
        and not r.get("history")
        and (r.get("evidence") or r.get("sources"))
    ]


def squad_corpus(path: Path, out: Path) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    meta = {}
    rows = []
    for ai, art in enumerate(data):
        for pi, para in enumerate(art["paragraphs"]):
            name = f"{ai:02d}-{pi:03d}.txt"
            (out / name).write_text(para["context"], encoding="utf-8")
            meta[name] = {"title": art["title"].replace("_", " ")}
            for qa_ in para["qas"]:
                if not qa_.get("is_impossible"):
                    rows.append({"question": qa_["question"], "sources": [name]})
    (out / "metadata.json").write_text(json.dumps({"files": meta}), encoding="utf-8")
    return rows


def relevant(p, row) -> bool:
    if row.get("evidence"):
        t = norm(p.text)
        return any(norm(e) in t for e in row["evidence"])
    return p.doc_id in row["sources"]


def score(index, rows, k=5) -> tuple[float, float, float]:
    h1 = h5 = mrr = 0.0
    for r in rows:
        res = index.retrieve(r["question"], k=10)
        rank = next((i for i, p in enumerate(res, 1) if relevant(p, r)), None)
        if rank:
            h1 += rank == 1
            h5 += rank <= k
            mrr += 1 / rank
    n = len(rows)
    return h1 / n, h5 / n, mrr / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", default=str(ROOT / "tests/data/dev.jsonl"))
    ap.add_argument("--squad")
    ap.add_argument("--backend", default="torch")
    ap.add_argument("--variants", default="default")
    args = ap.parse_args()
    enc = get_encoder(None, args.backend)
    tmp = Path(tempfile.mkdtemp())
    if args.squad:
        corpus = tmp / "corpus"
        corpus.mkdir()
        rows = squad_corpus(Path(args.squad), corpus)
    else:
        corpus = ROOT / "corpus"
        rows = load_set(Path(args.set))
    print(f"{len(rows)} questions")
    builds = {
        "default": dict(settings=ChunkSettings(), embed_title=True),
        "notitle": dict(settings=ChunkSettings(), embed_title=False),
        "para": dict(
            settings=ChunkSettings(min_chars=0, max_chars=2000, window_chars=2000), embed_title=True
        ),
        "small": dict(
            settings=ChunkSettings(min_chars=120, max_chars=600, window_chars=400), embed_title=True
        ),
    }
    fusions = {
        "weighted": FusionSettings(),
        "rrf": FusionSettings(method="rrf", w_dense=1, w_sentence=1, w_lexical=1),
        "rrf-2sig": FusionSettings(method="rrf", w_dense=1, w_sentence=0, w_lexical=1),
        "dense": FusionSettings(w_dense=1, w_sentence=0, w_lexical=0),
        "sentence": FusionSettings(w_dense=0, w_sentence=1, w_lexical=0),
        "bm25": FusionSettings(w_dense=0, w_sentence=0, w_lexical=1),
        "w-d.5-l.5": FusionSettings(w_dense=0.5, w_sentence=0, w_lexical=0.5),
        "w-s.5-l.5": FusionSettings(w_dense=0, w_sentence=0.5, w_lexical=0.5),
        "w-.25/.45/.3": FusionSettings(w_dense=0.25, w_sentence=0.45, w_lexical=0.30),
        "w-.4/.4/.2": FusionSettings(w_dense=0.4, w_sentence=0.4, w_lexical=0.2),
        "w-.3/.3/.4": FusionSettings(w_dense=0.3, w_sentence=0.3, w_lexical=0.4),
        "doc.1": FusionSettings(w_document=0.1),
        "doc.2": FusionSettings(w_document=0.2),
        "doc.3": FusionSettings(w_document=0.3),
        "d.5l.5doc.2": FusionSettings(w_dense=0.5, w_sentence=0, w_lexical=0.5, w_document=0.2),
        "d.3s.2l.5doc.2": FusionSettings(
            w_dense=0.3, w_sentence=0.2, w_lexical=0.5, w_document=0.2
        ),
        "rrf+doc": FusionSettings(method="rrf", w_dense=1, w_sentence=1, w_lexical=1, w_document=1),
        "rrf2+doc": FusionSettings(
            method="rrf", w_dense=1, w_sentence=0, w_lexical=1, w_document=1
        ),
    }
    for bname in args.variants.split(","):
        t0 = time.perf_counter()
        idx = build_index(corpus, tmp / f"idx-{bname}", encoder=enc, **builds[bname])
        print(f"== build {bname}: {len(idx)} passages, {time.perf_counter() - t0:.1f} s")
        for fname, fs in fusions.items():
            idx.fusion = fs
            h1, h5, mrr = score(idx, rows)
            print(f"{bname:8s} {fname:14s} hit@1 {h1:.3f}  hit@5 {h5:.3f}  mrr {mrr:.3f}")


if __name__ == "__main__":
    main()
