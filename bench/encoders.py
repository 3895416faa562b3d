"""Side-by-side benchmark of the encoder backends on the 173 SQuAD v2 dev paragraphs.

For sentence-transformers on PyTorch (the reference), ONNX fp32 and ONNX int8 it measures, in
one process: cold load time, paragraph encode time (median of ``--repeats`` runs after a
warm-up), single-question latency, cosine agreement with torch, and dense-only retrieval
hit@1 / hit@5 (FAISS IndexFlatIP over the paragraphs; gold = the question's own paragraph;
answerable questions only).

Usage: ``python bench/encoders.py [--data PATH] [--repeats 3] [--cache-dir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_DATA = "/work/shared/data/squad-v2-dev-5-articles.json"


@dataclass
class Squad:
    """Paragraphs and answerable questions, each question pointing at its paragraph."""

    paragraphs: list[str]
    questions: list[str]
    gold: np.ndarray  # paragraph index per question


def load_squad(path: str) -> Squad:
    """Read a SQuAD v2 json file; keep answerable questions (``is_impossible`` false)."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)["data"]
    paragraphs: list[str] = []
    questions: list[str] = []
    gold: list[int] = []
    for article in data:
        for para in article["paragraphs"]:
            paragraphs.append(para["context"])
            for qa in para["qas"]:
                if not qa.get("is_impossible", False):
                    questions.append(qa["question"])
                    gold.append(len(paragraphs) - 1)
    return Squad(paragraphs, questions, np.asarray(gold, dtype=np.int64))


@dataclass
class Result:
    """Everything measured for one backend."""

    name: str
    load_s: float
    encode_s: float
    runs: list[float] = field(default_factory=list)
    query_ms: float = 0.0
    cos_mean: float = 1.0
    cos_min: float = 1.0
    hit1: float = 0.0
    hit5: float = 0.0


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Run ``fn`` once; return (seconds, result)."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def hits(para_vecs: np.ndarray, q_vecs: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """Dense-only retrieval: fraction of questions whose paragraph is ranked 1st / in top 5."""
    import faiss

    index = faiss.IndexFlatIP(para_vecs.shape[1])
    index.add(para_vecs)
    _, ids = index.search(q_vecs, 5)
    return float((ids[:, 0] == gold).mean()), float((ids == gold[:, None]).any(axis=1).mean())


def bench_backend(
    name: str, make: Callable[[], object], squad: Squad, repeats: int, ref: np.ndarray | None
) -> tuple[Result, np.ndarray]:
    """Load one backend and measure it; ``ref`` (torch paragraph vectors) gives the cosines."""
    load_s, enc = timed(lambda: _loaded(make()))
    enc.encode(squad.paragraphs[:16])  # warm-up: thread pools, allocator, kernel choice
    runs = []
    vecs = None
    for _ in range(repeats):
        dt, vecs = timed(lambda: enc.encode(squad.paragraphs, batch_size=32))
        runs.append(dt)
    q_vecs = enc.encode(squad.questions, batch_size=32)
    # Interactive use embeds one question at a time: that latency is what a user waits for.
    lat = []
    for q in squad.questions[:50]:
        dt, _ = timed(lambda q=q: enc.encode([q]))
        lat.append(dt)
    res = Result(name, load_s, statistics.median(runs), runs, statistics.median(lat) * 1e3)
    if ref is not None:
        cos = (vecs * ref).sum(axis=1)
        res.cos_mean, res.cos_min = float(cos.mean()), float(cos.min())
    res.hit1, res.hit5 = hits(vecs, q_vecs, squad.gold)
    return res, vecs


def _loaded(enc: object) -> object:
    """Force the lazy model load so it is counted in the load time, not the first encode."""
    if hasattr(enc, "load"):
        enc.load()
    else:
        _ = enc.model  # SentenceTransformerEncoder loads on first access
    return enc


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cache-dir", default=None, help="ONNX export cache (default: the project's)")
    args = ap.parse_args(argv)

    from qa.embedding import SentenceTransformerEncoder
    from qa.onnx_encoder import OnnxEncoder

    squad = load_squad(args.data)
    print(
        f"data: {len(squad.paragraphs)} paragraphs, {len(squad.questions)} answerable questions;"
        f" cpu_count={os.cpu_count()}, repeats={args.repeats}"
    )
    # Make sure the ONNX exports exist first, so their load time below is the cached load.
    for q in (False, True):
        dt, _ = timed(lambda q=q: OnnxEncoder(cache_dir=args.cache_dir, quantized=q).load())
        print(f"prepare onnx{'-int8' if q else ''}: {dt:.1f}s (export on first run only)")

    torch_res, ref = bench_backend(
        "torch (sentence-transformers)", SentenceTransformerEncoder, squad, args.repeats, None
    )
    rows = [torch_res]
    for quantized in (False, True):
        res, _ = bench_backend(
            f"onnx {'int8' if quantized else 'fp32'}",
            lambda quantized=quantized: OnnxEncoder(cache_dir=args.cache_dir, quantized=quantized),
            squad,
            args.repeats,
            ref,
        )
        rows.append(res)

    head = (
        f"{'backend':30s} {'load s':>7s} {'173 paras s':>11s} {'x torch':>8s} {'1 query ms':>10s}"
        f" {'cos mean':>9s} {'cos min':>8s} {'hit@1':>6s} {'hit@5':>6s}"
    )
    print()
    print(head)
    print("-" * len(head))
    for r in rows:
        speedup = torch_res.encode_s / r.encode_s
        print(
            f"{r.name:30s} {r.load_s:7.2f} {r.encode_s:11.2f} {speedup:7.2f}x"
            f" {r.query_ms:10.1f} {r.cos_mean:9.5f} {r.cos_min:8.5f} {r.hit1:6.3f} {r.hit5:6.3f}"
        )
    print()
    runs = "; ".join(f"{r.name}: {[round(x, 2) for x in r.runs]}" for r in rows)
    print(f"encode runs (s): {runs}")
    try:
        with open("/proc/loadavg") as fh:
            load = fh.read().split()[:3]
        print(f"load average at end: {load} (the CPU is shared with others; timings are noisy)")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
