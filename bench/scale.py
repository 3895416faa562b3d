"""Scale benchmark: vector search (FAISS) and BM25 (bm25s) at 100k and 1M documents.

ALL DATA HERE IS SYNTHETIC. Nothing is embedded: encoding 1M real passages would take hours
on this machine, and the question is how the *indexes* behave as N grows.

Vectors: dim 384 unit vectors from a Gaussian mixture, because uniform random vectors on the
sphere are a pathological case for ANN (every point is almost equidistant from every other,
so no index can beat a full scan). The mixture has ``--clusters`` topic centres with
Zipf-skewed sizes; each point is ``centre + sigma * noise``, the noise having a power-law
variance spectrum under a random rotation, so the data has an effective dimension of about 90
(printed) instead of 384 -- as real sentence embeddings do. Queries are held-out samples of
the same mixture (new texts on known topics), never perturbed database vectors, whose nearest
neighbour would be trivially their own source.

Indexes (inner product, ``faiss.index_factory``): ``Flat`` (exact, the ground truth),
``HNSW32`` (efSearch swept), ``IVF{nlist},PQ48,RFlat`` (IVF-PQ with exact re-ranking of
``k_factor * k`` candidates; nprobe and k_factor swept). For each: build time, serialised index
size, RSS growth and peak RSS during the build, single-query latency (batch of 1, 2 OpenMP
threads; median and p95) and recall@10 against Flat. The target is <= 10 ms median at
recall@10 >= 0.95 at 1M.

Also: memory read bandwidth (numpy) and the resulting floor for a flat scan, and BM25 on
synthetic Zipfian text (index time, save, mmap load, RSS, query latency).

Usage: ``python bench/scale.py [--sizes 100000,1000000] [--queries 500] > results.txt``
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The CPU is shared: spinning OpenMP workers burn cycles other processes need and, when one is
# descheduled, stall every barrier (the 100k HNSW build took 2.3x longer with spinning). Must
# be set before numpy/faiss load their OpenMP runtime; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

DIM = 384
K = 10
TARGET_MS = 10.0
TARGET_RECALL = 0.95


def log(msg: str) -> None:
    """Print with a timestamp and flush, so a background run's file shows progress."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# -- process memory ------------------------------------------------------------------------


def _status_kb(field_name: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def rss_bytes() -> int:
    """Current resident set size of this process."""
    return _status_kb("VmRSS") * 1024


def peak_rss_bytes() -> int:
    """Peak RSS (VmHWM) since the process start or the last ``reset_peak_rss``."""
    return _status_kb("VmHWM") * 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so each phase gets its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def loadavg() -> str:
    """The 1/5/15-minute load averages: other work on the shared CPU skews wall timings."""
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "?"


def gb(n: float) -> str:
    """Bytes as a short human string."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.0f} B"


# -- memory bandwidth ----------------------------------------------------------------------


def memory_bandwidth(nbytes: int = 1 << 30, repeats: int = 3) -> dict[str, float]:
    """Read bandwidth in GB/s: numpy sum on 1 thread, on 2 threads, and a BLAS matvec.

    The matvec over an (n, 384) float32 matrix is exactly a flat inner-product scan, so it is
    the most relevant figure for the flat-search floor.
    """
    a = np.ones((nbytes // 4 // DIM) * DIM, dtype=np.float32)
    a.sum()  # fault the pages in before timing

    def best(fn: Callable[[], object]) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return a.nbytes / min(times) / 1e9

    one = best(a.sum)
    halves = np.array_split(a, 2)
    with ThreadPoolExecutor(2) as pool:  # numpy reductions release the GIL
        two = best(lambda: list(pool.map(np.sum, halves)))
    mat = a.reshape(-1, DIM)
    q = np.ones(DIM, dtype=np.float32)
    matvec = best(lambda: mat @ q)
    return {"sum_1thread": one, "sum_2threads": two, "matvec_blas": matvec}


# -- synthetic vectors ---------------------------------------------------------------------


@dataclass
class Mixture:
    """A fixed Gaussian mixture on the unit sphere; sample database and queries from it."""

    dim: int
    n_clusters: int
    sigma: float
    alpha: float
    seed: int
    rotation: np.ndarray = field(init=False, repr=False)
    spectrum: np.ndarray = field(init=False, repr=False)
    centres: np.ndarray = field(init=False, repr=False)
    weights: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        q, _ = np.linalg.qr(rng.standard_normal((self.dim, self.dim)))
        self.rotation = q.astype(np.float32)
        s = (1.0 + np.arange(self.dim)) ** (-self.alpha)
        self.spectrum = (s / np.sqrt((s**2).sum())).astype(np.float32)  # E|noise|^2 = 1
        c = self._shape(rng.standard_normal((self.n_clusters, self.dim), dtype=np.float32))
        self.centres = c / np.linalg.norm(c, axis=1, keepdims=True)
        w = 1.0 / np.sqrt(1.0 + np.arange(self.n_clusters))  # mildly skewed topic sizes
        self.weights = w / w.sum()

    def _shape(self, z: np.ndarray) -> np.ndarray:
        return (z * self.spectrum) @ self.rotation.T

    @property
    def effective_dim(self) -> float:
        """Participation ratio of the noise spectrum: (sum var)^2 / sum var^2."""
        v = self.spectrum.astype(np.float64) ** 2
        return float(v.sum() ** 2 / (v**2).sum())

    def sample(self, n: int, stream: int, chunk: int = 100_000) -> np.ndarray:
        """``n`` unit vectors; ``stream`` picks an independent RNG stream (db vs queries)."""
        rng = np.random.default_rng([self.seed, stream])
        out = np.empty((n, self.dim), dtype=np.float32)
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            labels = rng.choice(self.n_clusters, size=m, p=self.weights)
            z = rng.standard_normal((m, self.dim), dtype=np.float32)
            x = self.centres[labels] + self.sigma * self._shape(z)
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            out[start : start + m] = x
        return out


# -- FAISS ---------------------------------------------------------------------------------


@dataclass
class Setting:
    """One search configuration's quality and speed."""

    params: str
    recall: float
    median_ms: float
    p95_ms: float
    cpu_ms: float = 0.0  # median process CPU per query: the work, whatever the contention


@dataclass
class IndexResult:
    """Everything measured for one index at one N."""

    name: str
    n: int
    build_s: float
    build_cpu_s: float
    index_bytes: int
    rss_growth: int
    peak_rss: int
    chosen: Setting
    sweep: list[Setting]
    notes: str = ""


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of the exact top-k ids that the index returned."""
    return float(np.mean([len(set(f) & set(t)) / truth.shape[1] for f, t in zip(found, truth)]))


def single_query_latency(index: Any, xq: np.ndarray, n: int) -> tuple[float, float, float]:
    """Median and p95 wall ms, and median CPU ms, for ``n`` one-query searches (after warm-up)."""
    for i in range(min(5, len(xq))):
        index.search(xq[i : i + 1], K)
    times, cpu = [], []
    for i in range(n):
        c0 = time.process_time()
        t0 = time.perf_counter()
        index.search(xq[i : i + 1], K)
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(times), float(np.percentile(times, 95)), statistics.median(cpu)


def index_nbytes(index: Any) -> int:
    """Size of the serialised index: what it costs on disk and, roughly, in memory."""
    import faiss

    return int(faiss.serialize_index(index).nbytes)


def build(index: Any, xb: np.ndarray, train: np.ndarray | None) -> tuple[float, float, int, int]:
    """Train (if asked) and add; return (wall s, CPU s, RSS growth, peak RSS during the build)."""
    gc.collect()
    reset_peak_rss()
    before = rss_bytes()
    c0 = time.process_time()
    t0 = time.perf_counter()
    if train is not None:
        index.train(train)
    index.add(xb)
    dt = time.perf_counter() - t0
    return dt, time.process_time() - c0, rss_bytes() - before, peak_rss_bytes()


def pick(sweep: list[Setting]) -> Setting:
    """The fastest setting reaching the recall target, else the most accurate one."""
    ok = [s for s in sweep if s.recall >= TARGET_RECALL]
    if ok:
        return min(ok, key=lambda s: s.median_ms)
    return max(sweep, key=lambda s: (s.recall, -s.median_ms))


def bench_flat(xb: np.ndarray, xq: np.ndarray, n_lat: int) -> tuple[IndexResult, np.ndarray]:
    """Exact inner-product search; also returns the ground-truth top-k for every query."""
    import faiss

    index = faiss.index_factory(DIM, "Flat", faiss.METRIC_INNER_PRODUCT)
    build_s, cpu_s, growth, peak = build(index, xb, None)
    _, truth = index.search(xq, K)
    setting = Setting("exact", 1.0, *single_query_latency(index, xq, n_lat))
    res = IndexResult(
        "Flat", len(xb), build_s, cpu_s, index_nbytes(index), growth, peak, setting, []
    )
    res.notes = f"latency over {n_lat} queries"
    del index
    return res, truth


def bench_hnsw(
    xb: np.ndarray, xq: np.ndarray, truth: np.ndarray, n_lat: int, ef_construction: int
) -> IndexResult:
    """HNSW32 with the given efConstruction; efSearch swept."""
    import faiss

    index = faiss.index_factory(DIM, "HNSW32", faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    build_s, cpu_s, growth, peak = build(index, xb, None)
    log(f"  HNSW32 built in {build_s:.1f}s, cpu {cpu_s:.1f}s (efConstruction={ef_construction})")
    sweep = []
    for ef in (16, 32, 64, 128, 256):
        index.hnsw.efSearch = ef
        _, found = index.search(xq, K)
        lat = single_query_latency(index, xq, n_lat)
        sweep.append(Setting(f"efSearch={ef}", recall_at_k(found, truth), *lat))
        log(f"    {sweep[-1]}")
    size = index_nbytes(index)
    res = IndexResult("HNSW32", len(xb), build_s, cpu_s, size, growth, peak, pick(sweep), sweep)
    res.notes = f"efConstruction={ef_construction}"
    del index
    return res


def bench_ivfpq(
    xb: np.ndarray,
    xq: np.ndarray,
    truth: np.ndarray,
    n_lat: int,
    nlist: int,
    m: int,
    train_size: int,
    seed: int,
) -> IndexResult:
    """IVF-PQ with an exact re-ranking stage (RFlat); nprobe and k_factor swept."""
    import faiss

    key = f"IVF{nlist},PQ{m},RFlat"
    index = faiss.index_factory(DIM, key, faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.extract_index_ivf(index)
    # The factory turns on polysemous training (a code-permutation search used only by
    # Hamming-filtered search, which is not used here): 278 s instead of ~19 s at 100k.
    faiss.downcast_index(index.base_index).do_polysemous_training = False
    rng = np.random.default_rng(seed)
    train = xb[rng.choice(len(xb), size=min(train_size, len(xb)), replace=False)]
    build_s, cpu_s, growth, peak = build(index, xb, train)
    log(f"  {key} trained on {len(train)} + built in {build_s:.1f}s, cpu {cpu_s:.1f}s")
    del train
    sweep = []
    for nprobe in (8, 16, 32, 64, 128):
        for k_factor in (4, 8, 16, 32):
            ivf.nprobe = nprobe
            index.k_factor = k_factor
            _, found = index.search(xq, K)
            rec = recall_at_k(found, truth)
            lat = single_query_latency(index, xq, n_lat)
            sweep.append(Setting(f"nprobe={nprobe},k_factor={k_factor}", rec, *lat))
        log(
            f"    nprobe={nprobe}: "
            + ", ".join(f"{s.recall:.3f}/{s.median_ms:.2f}ms" for s in sweep[-4:])
        )
    size = index_nbytes(index)
    res = IndexResult(key, len(xb), build_s, cpu_s, size, growth, peak, pick(sweep), sweep)
    res.notes = f"train={min(train_size, len(xb))}, kmeans niter={ivf.cp.niter}"
    del index
    return res


# -- BM25 ----------------------------------------------------------------------------------


@dataclass
class Bm25Result:
    """Everything measured for BM25 at one N."""

    n: int
    tokens: int
    vocab: int
    index_s: float
    index_peak_rss: int
    save_s: float
    disk_bytes: int
    load: dict[str, float]
    tokenize_docs_per_s: float = 0.0


def zipf_corpus(
    n_docs: int, vocab: int, exponent: float, mean_len: int, seed: int
) -> tuple[list[list[int]], np.ndarray, np.ndarray]:
    """Synthetic documents as token-id lists (Zipfian word frequencies, Poisson lengths).

    Returns (docs with ids remapped onto 0..V-1 as bm25s wants, the original word id of each
    remapped id, the Zipf probabilities over the full vocabulary).
    """
    rng = np.random.default_rng(seed)
    p = 1.0 / (1.0 + np.arange(vocab)) ** exponent
    p /= p.sum()
    lengths = np.maximum(5, rng.poisson(mean_len, size=n_docs))
    flat = rng.choice(vocab, size=int(lengths.sum()), p=p)
    used, remapped = np.unique(flat, return_inverse=True)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    docs = [remapped[bounds[i] : bounds[i + 1]].tolist() for i in range(n_docs)]
    return docs, used, p


def zipf_queries(p: np.ndarray, n: int, seed: int, stop_ranks: int = 100) -> list[list[str]]:
    """Query token lists of 3-6 words, drawn from the Zipf law minus the top ``stop_ranks``
    words (a real query pipeline drops stop words, which would otherwise dominate the cost)."""
    rng = np.random.default_rng(seed)
    q = p.copy()
    q[:stop_ranks] = 0
    q /= q.sum()
    return [[f"w{t}" for t in rng.choice(len(p), size=rng.integers(3, 7), p=q)] for _ in range(n)]


def _bm25_load_and_query(save_dir: str, queries: list[list[str]]) -> dict[str, float]:
    """Run in a fresh process: RSS before/after the mmap load, and query latency."""
    out = {"rss_before_import": float(rss_bytes())}
    import bm25s

    out["rss_before_load"] = float(rss_bytes())
    t0 = time.perf_counter()
    retriever = bm25s.BM25.load(save_dir, mmap=True)
    out["load_s"] = time.perf_counter() - t0
    out["rss_after_load"] = float(rss_bytes())
    for q in queries[:5]:
        retriever.retrieve([q], k=K, show_progress=False)
    times = []
    for q in queries:
        t0 = time.perf_counter()
        retriever.retrieve([q], k=K, show_progress=False)
        times.append((time.perf_counter() - t0) * 1e3)
    out["median_ms"] = statistics.median(times)
    out["p95_ms"] = float(np.percentile(times, 95))
    out["rss_after_queries"] = float(rss_bytes())
    return out


def bench_bm25(n_docs: int, n_queries: int, seed: int) -> Bm25Result:
    """Index synthetic Zipfian text with bm25s, save it, then load it with mmap elsewhere."""
    import bm25s

    vocab = 200_000
    t0 = time.perf_counter()
    docs, used, p = zipf_corpus(n_docs, vocab, exponent=1.07, mean_len=50, seed=seed)
    vocab_dict = {f"w{t}": i for i, t in enumerate(used.tolist())}
    n_tokens = sum(len(d) for d in docs)
    log(
        f"  BM25 corpus: {n_docs} docs, {n_tokens} tokens, {len(used)} distinct words "
        f"({time.perf_counter() - t0:.1f}s to generate)"
    )

    # The index is built from ids; string tokenisation is timed separately on up to 100k docs
    # (it is linear in the text and would otherwise dominate the 1M run).
    sample = [" ".join(f"w{used[t]}" for t in d) for d in docs[:100_000]]
    t0 = time.perf_counter()
    bm25s.tokenize(sample, stopwords=None, show_progress=False)
    tok_rate = len(sample) / (time.perf_counter() - t0)
    del sample

    gc.collect()
    reset_peak_rss()
    retriever = bm25s.BM25()
    t0 = time.perf_counter()
    retriever.index((docs, vocab_dict), show_progress=False)
    index_s = time.perf_counter() - t0
    index_peak = peak_rss_bytes()
    del docs
    tmp = tempfile.mkdtemp(prefix="bm25-scale-")
    try:
        t0 = time.perf_counter()
        retriever.save(tmp, show_progress=False)
        save_s = time.perf_counter() - t0
        disk = sum(f.stat().st_size for f in Path(tmp).iterdir())
        del retriever
        gc.collect()
        queries = zipf_queries(p, n_queries, seed + 1)
        # A fresh process shows what a server pays to open the index, without this process's
        # corpus and build garbage in its RSS.
        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            load = pool.submit(_bm25_load_and_query, tmp, queries).result()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Bm25Result(
        n_docs, n_tokens, len(used), index_s, index_peak, save_s, disk, load, tok_rate
    )


# -- report --------------------------------------------------------------------------------


def print_sweeps(results: list[IndexResult]) -> None:
    """Every swept setting, so the choice of the tuned one can be checked."""
    for r in results:
        if not r.sweep:
            continue
        print(f"\n{r.name} @ N={r.n:,} sweep (recall@10 / median ms / p95 ms / cpu ms):")
        for s in r.sweep:
            mark = " <- chosen" if s is r.chosen else ""
            print(
                f"  {s.params:28s} {s.recall:6.3f} {s.median_ms:8.2f} {s.p95_ms:8.2f} "
                f"{s.cpu_ms:8.2f}{mark}"
            )


def print_index_table(results: list[IndexResult], bandwidth: float) -> None:
    """One row per (index, N)."""
    head = (
        f"{'index':22s} {'N':>9s} {'build s':>8s} {'(cpu s)':>8s} {'index size':>11s} "
        f"{'RSS +':>10s} {'peak RSS':>10s} {'setting':>26s} {'recall@10':>9s} {'med ms':>7s} "
        f"{'p95 ms':>7s} {'cpu ms':>7s}"
    )
    print("\n" + head)
    print("-" * len(head))
    for r in results:
        c = r.chosen
        print(
            f"{r.name:22s} {r.n:>9,} {r.build_s:8.1f} {r.build_cpu_s:8.1f} "
            f"{gb(r.index_bytes):>11s} {gb(r.rss_growth):>10s} {gb(r.peak_rss):>10s} "
            f"{c.params:>26s} {c.recall:9.3f} {c.median_ms:7.2f} {c.p95_ms:7.2f} {c.cpu_ms:7.2f}"
        )
    for n in sorted({r.n for r in results}):
        scan = n * DIM * 4
        print(
            f"flat-scan floor at N={n:,}: {gb(scan)} per query / {bandwidth:.1f} GB/s "
            f"= {scan / bandwidth / 1e6:.2f} ms"
        )


def print_growth(results: list[IndexResult], bm25: list[Bm25Result]) -> None:
    """How each figure grows from the smallest to the largest N."""
    sizes = sorted({r.n for r in results} | {b.n for b in bm25})
    if len(sizes) < 2:
        return
    lo, hi = sizes[0], sizes[-1]

    def f1(v: float) -> str:
        return f"{v:.1f}"

    def f2(v: float) -> str:
        return f"{v:.2f}"

    def f3(v: float) -> str:
        return f"{v:.3f}"

    rows: list[tuple[str, float, float, Callable[[float], str]]] = []
    by = {(r.name.split(",")[0] if r.name.startswith("IVF") else r.name, r.n): r for r in results}
    for name in ("Flat", "HNSW32", "IVF"):
        a = next((r for (nm, n), r in by.items() if nm.startswith(name) and n == lo), None)
        b = next((r for (nm, n), r in by.items() if nm.startswith(name) and n == hi), None)
        if a is None or b is None:
            continue
        label = a.name if name != "IVF" else "IVF-PQ+RFlat"  # nlist differs per N; see above
        rows += [
            (f"{label}: build s", a.build_s, b.build_s, f1),
            (f"{label}: build cpu s", a.build_cpu_s, b.build_cpu_s, f1),
            (f"{label}: index size", a.index_bytes, b.index_bytes, gb),
            (f"{label}: build peak RSS", a.peak_rss, b.peak_rss, gb),
            (f"{label}: median ms (tuned)", a.chosen.median_ms, b.chosen.median_ms, f2),
            (f"{label}: p95 ms (tuned)", a.chosen.p95_ms, b.chosen.p95_ms, f2),
            (f"{label}: cpu ms (tuned)", a.chosen.cpu_ms, b.chosen.cpu_ms, f2),
            (f"{label}: recall@10 (tuned)", a.chosen.recall, b.chosen.recall, f3),
        ]
    a_b = {b.n: b for b in bm25}
    if lo in a_b and hi in a_b:
        a, b = a_b[lo], a_b[hi]
        rows += [
            ("BM25: index s", a.index_s, b.index_s, lambda v: f"{v:.1f}"),
            ("BM25: on disk", a.disk_bytes, b.disk_bytes, gb),
            (
                "BM25: RSS growth on mmap load",
                a.load["rss_after_load"] - a.load["rss_before_load"],
                b.load["rss_after_load"] - b.load["rss_before_load"],
                gb,
            ),
            ("BM25: median ms", a.load["median_ms"], b.load["median_ms"], lambda v: f"{v:.2f}"),
            ("BM25: p95 ms", a.load["p95_ms"], b.load["p95_ms"], lambda v: f"{v:.2f}"),
        ]
    head = f"{'figure':44s} {f'N={lo:,}':>12s} {f'N={hi:,}':>12s} {'growth':>8s}"
    print(f"\nGrowth from N={lo:,} to N={hi:,} ({hi / lo:.0f}x the documents):")
    print(head)
    print("-" * len(head))
    for label, va, vb, fmt in rows:
        ratio = f"{vb / va:.1f}x" if va else "-"
        print(f"{label:44s} {fmt(va):>12s} {fmt(vb):>12s} {ratio:>8s}")


def print_bm25_table(bm25: list[Bm25Result]) -> None:
    """One row per N."""
    head = (
        f"{'N':>9s} {'tokens':>11s} {'vocab':>8s} {'index s':>8s} {'build peak RSS':>14s} "
        f"{'save s':>7s} {'on disk':>10s} {'load s':>7s} {'RSS +load':>10s} "
        f"{'RSS +queries':>12s} {'med ms':>7s} {'p95 ms':>7s} {'tokenize docs/s':>15s}"
    )
    print("\nBM25 (bm25s, synthetic Zipfian text, pre-tokenised ids):")
    print(head)
    print("-" * len(head))
    for b in bm25:
        ld = b.load
        print(
            f"{b.n:>9,} {b.tokens:>11,} {b.vocab:>8,} {b.index_s:8.1f} {gb(b.index_peak_rss):>14s} "
            f"{b.save_s:7.1f} {gb(b.disk_bytes):>10s} {ld['load_s']:7.2f} "
            f"{gb(ld['rss_after_load'] - ld['rss_before_load']):>10s} "
            f"{gb(ld['rss_after_queries'] - ld['rss_before_load']):>12s} "
            f"{ld['median_ms']:7.2f} {ld['p95_ms']:7.2f} {b.tokenize_docs_per_s:15,.0f}"
        )


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the whole benchmark and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated N values")
    ap.add_argument("--queries", type=int, default=500, help="queries for recall@10")
    ap.add_argument("--latency-queries", type=int, default=200, help="single-query timings")
    ap.add_argument("--flat-latency-queries", type=int, default=20)
    ap.add_argument("--clusters", type=int, default=1000)
    ap.add_argument(
        "--sigma",
        type=float,
        default=0.9,
        help="noise scale; cos(point, centre) ~ 1/sqrt(1+sigma^2)",
    )
    ap.add_argument("--alpha", type=float, default=0.35, help="noise spectrum power law")
    ap.add_argument("--ef-construction", type=int, default=40)
    ap.add_argument("--pq-m", type=int, default=48)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--skip-bm25", action="store_true")
    ap.add_argument("--skip-vectors", action="store_true")
    ap.add_argument("--json", default=None, help="also write the raw results here")
    ap.add_argument(
        "--retrieve",
        action="store_true",
        help="end-to-end Index.retrieve (bench/scale_retrieve.py)",
    )
    ap.add_argument("--store", default="embedded", choices=("embedded", "milvus"))
    ap.add_argument(
        "--milvus-uri", default="", help="for --store milvus (default: a temp Lite file)"
    )
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.retrieve:
        return _retrieve(args, sizes)

    import faiss

    faiss.omp_set_num_threads(2)
    t_start = time.perf_counter()
    print(
        f"load average at the start: {loadavg()}; OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}"
    )
    print("SYNTHETIC DATA -- see the module docstring for how it is generated.")
    print(
        f"faiss {faiss.__version__}, numpy {np.__version__}, cpu_count={os.cpu_count()}, "
        f"omp threads=2, sizes={sizes}, dim={DIM}, k={K}, queries={args.queries}, "
        f"latency queries={args.latency_queries} (Flat: {args.flat_latency_queries})"
    )
    if not reset_peak_rss():
        print("note: cannot reset VmHWM here; 'peak RSS' is the process peak so far")

    log("measuring memory bandwidth (1 GiB array)")
    bw = memory_bandwidth()
    print("memory read bandwidth: " + ", ".join(f"{k} {v:.1f} GB/s" for k, v in bw.items()))
    floor_bw = max(bw.values())

    results: list[IndexResult] = []
    bm25: list[Bm25Result] = []
    if not args.skip_vectors:
        mix = Mixture(DIM, args.clusters, args.sigma, args.alpha, args.seed)
        print(
            f"vectors: Gaussian mixture, {args.clusters} Zipf-weighted centres, "
            f"sigma={args.sigma}, "
            f"noise spectrum ~ i^-{args.alpha} under a random rotation "
            f"(effective dim {mix.effective_dim:.0f}); queries = held-out mixture samples"
        )
        xq = mix.sample(args.queries, stream=1)
        for n in sizes:
            log(f"N={n:,}: generating vectors")
            t0 = time.perf_counter()
            xb = mix.sample(n, stream=0)
            log(f"  generated in {time.perf_counter() - t0:.1f}s ({gb(xb.nbytes)})")
            flat, truth = bench_flat(xb, xq, args.flat_latency_queries)
            results.append(flat)
            gt_cos = float(np.mean((xq @ xb[truth[:, 0]].T).diagonal()))
            log(f"  Flat: {flat.chosen.median_ms:.1f} ms/query; mean top-1 cosine {gt_cos:.3f}")
            results.append(bench_hnsw(xb, xq, truth, args.latency_queries, args.ef_construction))
            # nlist ~ 4*sqrt(N), rounded to a power of two: 1024 at 100k, 4096 at 1M.
            nlist = 1 << int(round(np.log2(4 * np.sqrt(n))))
            results.append(
                bench_ivfpq(
                    xb,
                    xq,
                    truth,
                    args.latency_queries,
                    nlist,
                    args.pq_m,
                    train_size=40 * nlist,
                    seed=args.seed,
                )
            )
            del xb
            gc.collect()
    if not args.skip_bm25:
        for n in sizes:
            log(f"N={n:,}: BM25")
            bm25.append(bench_bm25(n, args.latency_queries, args.seed))
            log(f"  BM25 done: {bm25[-1].load['median_ms']:.2f} ms/query")

    print("\n==== RESULTS (synthetic data) ====")
    if results:
        print_sweeps(results)
        print_index_table(results, floor_bw)
    if bm25:
        print_bm25_table(bm25)
    print_growth(results, bm25)
    total = time.perf_counter() - t_start
    print(f"load average at the end: {loadavg()} (2 cores, shared with other work)")
    print(
        f"\nprocess peak RSS (last phase): {gb(peak_rss_bytes())}; total time {total / 60:.1f} min"
    )
    if args.json:
        payload = {
            "bandwidth_gbs": bw,
            "indexes": [
                r.__dict__ | {"chosen": r.chosen.__dict__, "sweep": [s.__dict__ for s in r.sweep]}
                for r in results
            ],
            "bm25": [b.__dict__ for b in bm25],
        }
        Path(args.json).write_text(json.dumps(payload, indent=2, default=str))
    return 0


def _retrieve(args: argparse.Namespace, sizes: list[int]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import scale_retrieve

    print(f"load average at the start: {loadavg()}; SYNTHETIC DATA (see bench/scale_retrieve.py)")
    mix = Mixture(DIM, args.clusters, args.sigma, args.alpha, args.seed)
    uri = args.milvus_uri or str(Path(tempfile.mkdtemp(prefix="qa-milvus-scale-")) / "bench.db")
    t0 = time.perf_counter()
    scale_retrieve.run(sizes, mix, args.seed, args.latency_queries, log, args.store, uri)
    print(f"load average at the end: {loadavg()}; total {(time.perf_counter() - t0) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
