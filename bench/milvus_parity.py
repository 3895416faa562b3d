"""Milvus Lite store vs the embedded store on a question set, side by side in one run.

Builds the corpus twice with the real model (FAISS + bm25s, then a Milvus Lite collection),
then prints: the share of questions with the same top-5 passages, and every `qa eval`
figure of both runs with their difference.

Usage: ``python bench/milvus_parity.py [--questions tests/data/dev.jsonl] [--uri URI]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    """Build both, compare, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", default=str(ROOT / "tests" / "data" / "dev.jsonl"))
    ap.add_argument("--corpus", default=str(ROOT / "corpus"))
    ap.add_argument("--uri", default="", help="Milvus URI (default: a temp Lite folder)")
    args = ap.parse_args(argv)

    from qa.evaluation import evaluate
    from qa.index import build_index

    tmp = Path(tempfile.mkdtemp(prefix="qa-milvus-parity-"))
    t0 = time.perf_counter()
    emb = build_index(args.corpus, tmp / "embedded")
    t_emb = time.perf_counter() - t0
    t0 = time.perf_counter()
    mil = build_index(
        args.corpus, tmp / "milvus", encoder=emb.encoder, store="milvus",
        milvus_uri=args.uri or None,
    )  # fmt: skip
    t_mil = time.perf_counter() - t0
    with open(args.questions, encoding="utf-8") as fh:
        qs = [json.loads(line)["question"] for line in fh if line.strip()]
    same = sum(
        [p.passage_id for p in emb.retrieve(q, k=5)] == [p.passage_id for p in mil.retrieve(q, k=5)]
        for q in qs
    )
    print(f"build: embedded {t_emb:.1f} s, milvus {t_mil:.1f} s ({mil.manifest['store']['uri']})")
    print(f"same top-5 passages: {same}/{len(qs)} = {same / len(qs):.3f}")
    a = evaluate(args.questions, emb).metrics
    b = evaluate(args.questions, mil).metrics
    print(f"{'metric':<28}{'embedded':>10}{'milvus':>10}{'diff':>9}")
    for key, va in a.items():
        vb = b.get(key)
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)):
            print(f"{key:<28}{va:>10.4f}{vb:>10.4f}{vb - va:>+9.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
