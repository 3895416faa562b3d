"""What the web app costs over plain Python: start-up, first answer, answer latency.

Usage: python bench/app_bench.py [--corpus corpus] [--index DIR] [--questions 10] [--runs 1]

Without ``--index`` the corpus is indexed once into a temp folder first (not timed), so the
shared ``embeddings/`` is never touched. Then, each in a fresh process:

* app: ``python app.py`` on a free loopback port; time until the page is served, the first
  answer through gradio_client (``/chat``), and the median over ``--questions`` questions;
* bare: ``import qa; load_index(); index.answer()`` with the same questions, on the app's
  encoder (the default ONNX int8);
* reference: the same bare process on the reference encoder, sentence-transformers on
  PyTorch (``--backend torch``): loading the model and answering, the cost issue #4 compares
  the app's first answer against.

Prints a table with app/bare ratios and the app/reference ratio for the first answer. Note the app answers one warm-up question before it
serves (so its users never pay for the model load), while the bare process pays for it in its
first answer; compare "start to first answer" for the end-to-end cost.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FALLBACK_QUESTIONS = [
    "Which agencies did Le Quoc Hung visit?",
    "When did To Lam and the UK Home Secretary talk by phone?",
    "What did Luong Tam Quang urge the UK Home Office to facilitate?",
    "What agreement did Le Quoc Hung suggest the two sides negotiate?",
    "Who hosted the reception on August 16?",
]

BARE = r"""
import json, sys, time
t0 = time.perf_counter()
import qa
from qa.index import load_index
t_import = time.perf_counter() - t0
index = load_index(sys.argv[1], backend=sys.argv[3] or None)
t_loaded = time.perf_counter() - t0
questions = json.loads(sys.argv[2])
lat = []
for q in questions:
    s = time.perf_counter()
    index.answer(q)
    lat.append(time.perf_counter() - s)
print(json.dumps({"import": t_import, "loaded": t_loaded, "latencies": lat}))
"""


def env() -> dict[str, str]:
    """Offline, no analytics; no stray server settings from the caller's shell."""
    e = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
             GRADIO_ANALYTICS_ENABLED="False")  # fmt: skip
    for key in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "QA_AUTH"):
        e.pop(key, None)
    return e


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def questions(n: int) -> list[str]:
    """``n`` answerable questions from the dev set (or a fixed list), cycled if needed."""
    dev = ROOT / "tests" / "data" / "dev.jsonl"
    pool: list[str] = []
    if dev.exists():
        for line in dev.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if row.get("answerable", True) and not row.get("history"):
                    pool.append(row["question"])
    pool = pool or FALLBACK_QUESTIONS
    return [pool[i % len(pool)] for i in range(n)]


def prepare(corpus: Path, index: Path) -> None:
    """Build (or refresh) the index so neither side pays for indexing."""
    code = (
        "import sys; from qa.index import open_index; "
        "open_index(sys.argv[1], sys.argv[2], show_progress=True)"
    )
    subprocess.run([sys.executable, "-c", code, str(corpus), str(index)], check=True, env=env())


def served(url: str) -> bool:
    """Whether ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def bench_app(corpus: Path, index: Path, qs: list[str]) -> dict[str, float | list[float]]:
    """Start app.py, wait for the page, ask through gradio_client; timings in seconds."""
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryFile() as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--corpus", str(corpus),
             "--index", str(index)],
            env=env(), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
        try:
            while not served(url):
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"app.py exited early:\n{log.read().decode()[-2000:]}")
                if time.perf_counter() - t0 > 600:
                    raise RuntimeError("app.py did not serve within 600 s")
                time.sleep(0.1)
            t_served = time.perf_counter() - t0
            client = Client(url, verbose=False)
            lat: list[float] = []
            t_first = 0.0
            for q in qs:
                s = time.perf_counter()
                reply = client.predict(q, api_name="/chat")
                lat.append(time.perf_counter() - s)
                if not reply:
                    raise RuntimeError(f"empty reply to {q!r}")
                if len(lat) == 1:
                    t_first = time.perf_counter() - t0
            return {"ready": t_served, "first_total": t_first, "latencies": lat}
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def bench_bare(index: Path, qs: list[str], backend: str = "") -> dict[str, float | list[float]]:
    """A fresh Python process: import qa, load the index, answer; timings in seconds."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", BARE, str(index), json.dumps(qs), backend],
        env=env(), capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    data = json.loads(done.stdout.strip().splitlines()[-1])
    lat = data["latencies"]
    # Interpreter start-up is outside the child's own clock: add it back.
    startup = wall - data["loaded"] - sum(lat)
    return {
        "ready": startup + data["loaded"],
        "first_total": startup + data["loaded"] + lat[0],
        "latencies": lat,
    }


def row(name: str, app: float, bare: float, unit: str = "s") -> str:
    """One Markdown table row with the app/bare ratio."""
    scale = 1000.0 if unit == "ms" else 1.0
    ratio = f"{app / bare:.2f}" if bare > 0 else "n/a"
    return f"| {name} | {app * scale:,.{0 if unit == 'ms' else 2}f} {unit} | " \
           f"{bare * scale:,.{0 if unit == 'ms' else 2}f} {unit} | {ratio} |"  # fmt: skip


def summarize(app: dict, bare: dict, ref: dict | None = None) -> list[str]:
    """The comparison table (Markdown)."""
    a_lat, b_lat = app["latencies"], bare["latencies"]
    a_rest, b_rest = a_lat[1:] or a_lat, b_lat[1:] or b_lat
    extra = []
    if ref is not None:
        extra = [
            "",
            "| start → first answer | app (gradio) | reference: bare python, PyTorch encoder "
            "| app / reference |",
            "|---|---:|---:|---:|",
            row("start → first answer", app["first_total"], ref["first_total"]),
        ]
    return [
        "| measure | app (gradio) | bare python | app / bare |",
        "|---|---:|---:|---:|",
        row("start → ready (page served / index loaded)", app["ready"], bare["ready"]),
        row("first answer", a_lat[0], b_lat[0]),
        row("start → first answer", app["first_total"], bare["first_total"]),
        row(
            f"median answer, next {len(a_rest)}",
            statistics.median(a_rest),
            statistics.median(b_rest),
            "ms",
        ),  # fmt: skip
        row(f"max answer, next {len(a_rest)}", max(a_rest), max(b_rest), "ms"),
        *extra,
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=str(ROOT / "corpus"))
    p.add_argument("--index", help="a built index (default: build one in a temp folder)")
    p.add_argument("--questions", type=int, default=10)
    p.add_argument("--json", help="also write the raw timings to this file")
    args = p.parse_args(argv)
    qs = questions(args.questions)
    with tempfile.TemporaryDirectory(prefix="qa-app-bench-") as tmp:
        index = Path(args.index) if args.index else Path(tmp) / "index"
        corpus = Path(args.corpus)
        print(f"preparing index {index} ...", file=sys.stderr)
        prepare(corpus, index)
        print("bare python ...", file=sys.stderr)
        bare = bench_bare(index, qs)
        print("reference: bare python on PyTorch ...", file=sys.stderr)
        ref = bench_bare(index, qs, "torch")
        print("app ...", file=sys.stderr)
        app = bench_app(corpus, index, qs)
    print(f"{len(qs)} questions; {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    print("\n".join(summarize(app, bare, ref)))
    if args.json:
        Path(args.json).write_text(json.dumps({"app": app, "bare": bare, "ref": ref}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
