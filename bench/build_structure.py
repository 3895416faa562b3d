"""What extracting the structure adds to a build: the five articles built side by side.

    python bench/build_structure.py [--rounds 3] [--corpus corpus] [--backend onnx-int8]

Each round builds the corpus into a fresh folder (so every text is encoded: no vectors are
reused) in four ways, in rotating order so machine noise falls on all alike:

- ``none``: no extraction (the build before issue 12);
- ``thread``: extraction with spaCy NER in a thread while the encoder runs (the default);
- ``serial``: extraction with NER after encoding, in the build's own thread;
- ``patterns``: extraction without NER (``STRUCTURE_NER = False``), in the thread.

spaCy is loaded once before the rounds, as in a process that builds more than once; the cold
load is timed separately and reported, since a first build in a fresh process pays it (in the
thread, overlapped with encoding). Prints the median seconds per way and the deltas to ``none``.

With ``--baseline DIR`` (a checkout of the code before extraction, e.g. ``git archive``d into
``DIR``), it also times whole ``qa index`` processes side by side, this checkout against
``DIR``, each into a fresh folder with the ONNX export shared: what a user waits for, with
Python start-up, imports and spaCy's cold load included.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa.build as build  # noqa: E402
from qa.embedding import get_encoder  # noqa: E402
from qa.index import build_index  # noqa: E402
from qa.structure import _nlp, extract  # noqa: E402

WAYS = ("none", "thread", "serial", "patterns")


def _done(value: object) -> Future:
    f: Future = Future()
    f.set_result(value)
    return f


class _Later(Future):
    """A future that runs the extraction when its result is asked for (after encoding)."""

    def __init__(self, docs: tuple) -> None:
        super().__init__()
        self.docs = docs

    def result(self, timeout: float | None = None) -> object:  # noqa: D102
        return extract(self.docs, ner=True)


def one_build(way: str, corpus: Path, encoder: object, work: Path) -> float:
    """Seconds to build ``corpus`` into a fresh folder the way ``way`` says."""
    real_start, real_ner = build.start_structure, build.STRUCTURE_NER
    if way == "none":
        build.start_structure = lambda docs: _done(None)
    elif way == "serial":
        build.start_structure = lambda docs: _Later(tuple(docs))
    elif way == "patterns":
        build.STRUCTURE_NER = False
    build.extract_cached.cache_clear()  # every build extracts afresh
    try:
        out = Path(tempfile.mkdtemp(dir=work))
        t0 = time.perf_counter()
        build_index(corpus, out, encoder=encoder)
        return time.perf_counter() - t0
    finally:
        build.start_structure, build.STRUCTURE_NER = real_start, real_ner


def process_rounds(baseline: Path, corpus: Path, rounds: int, backend: str) -> None:
    """Whole ``qa index`` processes: this checkout against ``baseline``, alternating."""
    with tempfile.TemporaryDirectory(prefix="qa-build-proc-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, QA_MODEL_CACHE=str(work / ".models"), QA_BACKEND=backend)
        times: dict[str, list[float]] = {"before": [], "now": []}
        cpu: dict[str, list[float]] = {"before": [], "now": []}
        code = {"before": baseline, "now": ROOT}

        def run(name: str) -> float:
            out = Path(tempfile.mkdtemp(dir=work))
            cmd = [sys.executable, "-m", "qa.cli", "index", "--corpus", str(corpus),
                   "--index", str(out / "index")]  # fmt: skip
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, cwd=code[name],
                           env=dict(env, PYTHONPATH=str(code[name])))  # fmt: skip
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            return wall

        run("now")  # the ONNX export, outside the timings
        cpu["now"].clear()
        for r in range(rounds):
            for name in ("before", "now") if r % 2 == 0 else ("now", "before"):
                times[name].append(run(name))
    print(f"\n`qa index` processes, {corpus} (wall s; CPU s is user+sys, less load-sensitive):")
    print(f"{'code':10} {'wall':>9} {'delta':>8} {'CPU':>7} {'delta':>7}  wall runs")
    base, base_cpu = statistics.median(times["before"]), statistics.median(cpu["before"])
    for name in ("before", "now"):
        med, med_cpu = statistics.median(times[name]), statistics.median(cpu[name])
        runs = " ".join(f"{t:.2f}" for t in times[name])
        print(
            f"{name:10} {med:9.2f} {med - base:+8.2f} {med_cpu:7.2f} {med_cpu - base_cpu:+7.2f}  {runs}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT / "corpus"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--backend", default="onnx-int8")
    ap.add_argument("--baseline", type=Path, help="code before extraction, to time processes")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="qa-build-structure-") as tmp:
        work = Path(tmp)
        encoder = get_encoder(None, args.backend, cache_dir=work / ".models")
        encoder.encode(["warm up"])  # export/load the model outside the timings
        t0 = time.perf_counter()
        _nlp()
        load = time.perf_counter() - t0
        times: dict[str, list[float]] = {w: [] for w in WAYS}
        for r in range(args.rounds):
            order = WAYS[r % len(WAYS) :] + WAYS[: r % len(WAYS)]
            for way in order:
                times[way].append(one_build(way, Path(args.corpus), encoder, work))
    base = statistics.median(times["none"])
    print(f"spaCy load (cold, once per process): {load:.2f} s")
    print(f"{'way':10} {'median s':>9} {'delta s':>8}  runs")
    for way in WAYS:
        med = statistics.median(times[way])
        runs = " ".join(f"{t:.2f}" for t in times[way])
        print(f"{way:10} {med:9.2f} {med - base:+8.2f}  {runs}")
    if args.baseline:
        process_rounds(args.baseline.resolve(), Path(args.corpus).resolve(), args.rounds,
                       args.backend)  # fmt: skip


if __name__ == "__main__":
    main()
