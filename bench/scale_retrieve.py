"""End-to-end ``Index.retrieve`` at scale: dense + sentence + BM25 + document signals, fused.

ALL DATA IS SYNTHETIC (see ``bench/scale.py``): passage vectors from its Gaussian mixture,
passage text from its Zipfian word law ("w123 w7 ..."), 20 passages per document, one
sentence per passage (its sentence vector is the passage vector). An ``Index`` is assembled
from these in memory, exactly as ``load_index`` assembles one from a folder, and queried
through the public ``retrieve``. The dense index is what ``build_index`` would pick
(``qa.build.factory_string``: HNSW32 above 50k passages).

Reported per N: build time of each part, peak RSS, p50/p95 of ``retrieve(k=5)`` over single
queries, dense recall@10 of the store against an exact scan, and the BM25 step alone in four
ways side by side: the old full score array + sort, bm25s ``retrieve`` (numpy and numba
backends) and the candidate-only postings path ``retrieve`` now uses.

Usage: ``python bench/scale.py --retrieve [--sizes 100000,1000000] [--store milvus]``
(called from ``bench/scale.py``; ``--store milvus`` builds a Milvus Lite collection instead).
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

PASSAGES_PER_DOC = 20
K_RECALL = 10
ROOT = Path(__file__).resolve().parent.parent


class TableEncoder:
    """Returns the synthetic query vector registered for each question text."""

    model_id = "synthetic-mixture"

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.table: dict[str, np.ndarray] = {}

    def encode(self, texts, *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:  # noqa: ANN001
        """Look the texts up."""
        return np.stack([self.table[t] for t in texts]).astype(np.float32)


def _timed(fn, *a, **kw) -> tuple[Any, float]:  # noqa: ANN001
    t0 = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - t0


def synthetic_index(n: int, mix: Any, seed: int, log, store: str = "embedded", uri: str = ""):  # noqa: ANN001
    """Assemble an ``Index`` of ``n`` synthetic passages; returns (index, parts, zipf p)."""
    import faiss
    import scale as sc

    from qa.build import factory_string
    from qa.fusion import FusionSettings
    from qa.index import Index
    from qa.lexical import LexicalIndex, _bm25s
    from qa.types import DocMeta, Document, Paragraph, Passage

    parts: dict[str, float] = {}
    xb, parts["vectors s"] = _timed(mix.sample, n, 0)
    docs, used, p = sc.zipf_corpus(n, 200_000, exponent=1.07, mean_len=50, seed=seed)
    words = [f"w{t}" for t in used.tolist()]
    vocab_dict = {w: i for i, w in enumerate(words)}
    t0 = time.perf_counter()
    passages = []
    n_docs = (n + PASSAGES_PER_DOC - 1) // PASSAGES_PER_DOC
    for i, d in enumerate(docs):
        text = " ".join(words[t] for t in d)
        passages.append(
            Passage(
                passage_id=f"p{i}", text=text, doc_id=f"d{i // PASSAGES_PER_DOC}", title="",
                source="synthetic", date="2024-01-01", paragraph=i % PASSAGES_PER_DOC + 1,
                paragraph_end=i % PASSAGES_PER_DOC + 1, start=0, end=len(text),
            )
        )  # fmt: skip
    documents = [
        Document(f"d{j}", DocMeta(title=f"doc {j}"), (Paragraph(1, "", 0, 0),))
        for j in range(n_docs)
    ]
    parts["passages s"] = time.perf_counter() - t0

    bm25 = _bm25s()
    t0 = time.perf_counter()
    retriever = bm25.BM25(k1=1.2, b=0.75)
    retriever.index((docs, vocab_dict), show_progress=False)
    lexical = LexicalIndex(retriever)
    doc_tokens = [
        [t for d in docs[j * PASSAGES_PER_DOC : (j + 1) * PASSAGES_PER_DOC] for t in d]
        for j in range(n_docs)
    ]
    dret = bm25.BM25(k1=1.2, b=0.75)
    dret.index((doc_tokens, vocab_dict), show_progress=False)
    doc_lexical = LexicalIndex(dret)
    parts["bm25 s"] = time.perf_counter() - t0
    del doc_tokens

    kind = factory_string(n)
    cache = Path(tempfile.gettempdir()) / "qa-scale-cache" / f"{kind}-{n}-{seed}.faiss"
    _wait_for_other_build(cache, n, log)
    t0 = time.perf_counter()
    if store == "embedded":
        if cache.exists():  # the HNSW build at 1M takes minutes: reuse it between runs
            dense = faiss.read_index(str(cache))
            parts["faiss s (cached)"] = time.perf_counter() - t0
        else:
            dense = faiss.index_factory(xb.shape[1], kind, faiss.METRIC_INNER_PRODUCT)
            if not dense.is_trained:
                dense.train(xb)
            dense.add(xb)
            parts["faiss s"] = time.perf_counter() - t0
            cache.parent.mkdir(parents=True, exist_ok=True)
            faiss.write_index(dense, str(cache))
        st = None
    else:
        from qa.milvus_store import MilvusStore

        dense = None
        st = MilvusStore.create(uri, "scale_bench", xb.shape[1], drop=True)
        st.insert(passages, xb, [" ".join(words[t] for t in d) for d in docs], log=log)
        st.bind(passages)
        parts["milvus insert+index s"] = time.perf_counter() - t0
    del docs
    gc.collect()
    manifest = {
        "model": {"id": TableEncoder.model_id, "dim": xb.shape[1]},
        "fusion": FusionSettings().to_dict(),
        "corpus": {"dir": "synthetic", "files": {}},
    }
    t0 = time.perf_counter()
    index = Index(
        Path("synthetic"), manifest, passages, documents, xb, dense, lexical, doc_lexical, xb,
        np.arange(n + 1, dtype=np.int64), TableEncoder(xb.shape[1]), store=st,
    )  # fmt: skip
    parts["Index() s"] = time.perf_counter() - t0
    return index, parts, p


def _wait_for_other_build(cache: Path, n: int, log) -> None:  # noqa: ANN001
    """With ``QA_SCALE_WAIT_LOG`` set (another run's log), wait until that run has written the
    dense index this one would otherwise build too (its log says "built in" for this N)."""
    import os

    other = os.environ.get("QA_SCALE_WAIT_LOG")
    if not other or cache.exists() and _other_done(Path(other), n):
        return
    log(f"  waiting for {other} to finish building {cache.name}")
    while not (cache.exists() and _other_done(Path(other), n)):
        time.sleep(10)


def _other_done(path: Path, n: int) -> bool:
    text = path.read_text(errors="replace")
    start = text.find(f"N={n:,} store=embedded: building")
    return start >= 0 and "built in" in text[start:]


def bm25_side_by_side(index: Any, questions: list[str], n_cand: int) -> dict[str, float]:
    """Median ms of the BM25 step, four ways, on the same index and queries."""
    from qa.lexical import _bm25s, tokenize

    lex = index.lexical
    out: dict[str, float] = {}

    def med(fn) -> float:  # noqa: ANN001
        for q in questions[:3]:
            fn(q)
        ts = []
        for q in questions:
            t0 = time.perf_counter()
            fn(q)
            ts.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(ts)

    def old(q: str) -> None:  # what retrieve did before: score all N, sort all N
        s = lex.scores(q)
        np.argsort(-s, kind="stable")[:n_cand]

    out["full array + argsort (before)"] = med(old)
    r = lex._bm25
    out["bm25s retrieve k=100, numpy"] = med(
        lambda q: r.retrieve([tokenize(q)], k=n_cand, show_progress=False)
    )
    try:
        import copy

        _bm25s()
        rn = copy.copy(r)  # the same score matrix, numba's scorer and top-k selection
        rn.backend = "numba"
        rn.compile(activate_numba=True)
        rn.retrieve([tokenize(questions[0])], k=n_cand, show_progress=False)  # JIT compile
        out["bm25s retrieve k=100, numba"] = med(
            lambda q: rn.retrieve([tokenize(q)], k=n_cand, show_progress=False, n_threads=1)
        )
    except Exception as exc:  # noqa: BLE001 - report, do not hide, a backend that fails
        print(f"  numba backend failed: {type(exc).__name__}: {exc}")
    out["postings only: top + candidate scores (now)"] = med(
        lambda q: (lex.top(q, n_cand), lex.scores_at(q, np.arange(200)))
    )
    return out


def run(sizes: list[int], mix: Any, seed: int, n_queries: int, log, store: str, uri: str):  # noqa: ANN001
    """Build, then time ``retrieve`` at each size; prints a table and returns the rows."""
    import faiss
    import scale as sc

    rows = []
    for n in sizes:
        log(f"retrieve e2e N={n:,} store={store}: building")
        sc.reset_peak_rss()
        rss0 = sc.rss_bytes()
        faiss.omp_set_num_threads(2)
        t0 = time.perf_counter()
        index, parts, p = synthetic_index(n, mix, seed, log, store, uri)
        build_s = time.perf_counter() - t0
        peak = sc.peak_rss_bytes()
        log(f"  built in {build_s:.1f}s ({', '.join(f'{k} {v:.1f}' for k, v in parts.items())})")
        faiss.omp_set_num_threads(1)  # one query, one core: the other is someone else's
        xq = mix.sample(n_queries, stream=1)
        qwords = sc.zipf_queries(p, n_queries, seed + 1)
        questions = [" ".join(ws) + f" q{i}" for i, ws in enumerate(qwords)]
        for q, v in zip(questions, xq):
            index.encoder.table[q] = v
        # exact dense top-10, for recall of the store's (approximate) dense search
        truth = np.argsort(-(xq @ index.vectors.T), axis=1)[:, :K_RECALL]
        found = [index.store.dense_search(v, 100, None)[0][:K_RECALL] for v in xq]
        recall = float(np.mean([len(set(f) & set(t)) / K_RECALL for f, t in zip(found, truth)]))
        for q in questions[:5]:
            index.retrieve(q, k=5)
        times, cpu = [], []
        for q in questions:
            t0, c0 = time.perf_counter(), time.process_time()
            index.retrieve(q, k=5)
            times.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
        row = {
            "n": n, "store": store, "build_s": build_s, "parts": parts, "peak_rss": peak,
            "rss_growth": sc.rss_bytes() - rss0, "recall10": recall,
            "p50_ms": statistics.median(times), "p95_ms": float(np.percentile(times, 95)),
            "cpu_p50_ms": statistics.median(cpu),
        }  # fmt: skip
        if store == "embedded":
            row["bm25"] = bm25_side_by_side(index, questions, 100)
        log(
            f"  retrieve p50 {row['p50_ms']:.2f} ms, p95 {row['p95_ms']:.2f} ms, "
            f"dense recall@10 {recall:.3f}"
        )
        rows.append(row)
        del index
        gc.collect()
    print_rows(rows)
    return rows


def print_rows(rows: list[dict]) -> None:
    """The end-to-end table and the BM25 side-by-side table."""
    import scale as sc

    print("\nEnd-to-end Index.retrieve(k=5), synthetic data, single queries, 1 thread:")
    print(
        f"{'store':>9} {'N':>10} {'build s':>8} {'peak RSS':>10} {'recall@10':>9} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'cpu p50':>7}  parts"
    )
    for r in rows:
        parts = ", ".join(f"{k} {v:.1f}" for k, v in r["parts"].items())
        print(
            f"{r['store']:>9} {r['n']:>10,} {r['build_s']:>8.1f} {sc.gb(r['peak_rss']):>10} "
            f"{r['recall10']:>9.3f} {r['p50_ms']:>7.2f} {r['p95_ms']:>7.2f} "
            f"{r['cpu_p50_ms']:>7.2f}  {parts}"
        )
    bm = [r for r in rows if "bm25" in r]
    if bm:
        print("\nBM25 step alone, median ms, side by side on the same index and queries:")
        names = list(bm[0]["bm25"])
        print(f"{'method':<46}" + "".join(f"{r['n']:>12,}" for r in bm))
        for name in names:
            print(
                f"{name:<46}" + "".join(f"{r['bm25'].get(name, float('nan')):>12.2f}" for r in bm)
            )
