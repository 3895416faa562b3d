"""Load test: many concurrent chat users against the real app.

Starts ``app.py`` on a free 127.0.0.1 port (on a private copy of the index, so a rebuild
cannot disturb anyone), then measures:

1. one user alone asking ``--questions`` questions, one after another;
2. ``--users`` users (threads, one gradio_client each) asking ``--questions`` each at once;
3. a burst of ``--burst`` simultaneous one-question users, more than the queue holds; what
   does not fit must be refused cleanly ("queue full"), never hang or crash the app.

Every request must end as answered or as a clean queue refusal within ``--deadline``
seconds, and the server must still answer afterwards. Prints a Markdown table and writes
the figures as JSON (``--out``). Exit code 0 when all of that holds, 1 otherwise.

    python bench/load_test.py                    # the real model (what users get)
    python bench/load_test.py --backend fake     # plumbing only, no model
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Outcome:
    """One request: how it ended and how long it took."""

    user: int
    question: str
    status: str  # "answered", "rejected" (queue full), "error", "timeout"
    seconds: float
    detail: str = ""


@dataclass
class Phase:
    """The figures of one phase of the test."""

    name: str
    users: int
    requests: int
    wall_seconds: float
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many requests ended with ``status``."""
        return sum(o.status == status for o in self.outcomes)

    def latencies(self) -> list[float]:
        """Seconds per answered request."""
        return sorted(o.seconds for o in self.outcomes if o.status == "answered")

    def summary(self) -> dict:
        """JSON-ready figures."""
        lat = self.latencies()
        return {
            "name": self.name,
            "users": self.users,
            "requests": self.requests,
            "answered": self.count("answered"),
            "rejected": self.count("rejected"),
            "errors": self.count("error"),
            "timeouts": self.count("timeout"),
            "wall_seconds": round(self.wall_seconds, 2),
            "p50_seconds": round(percentile(lat, 50), 3) if lat else None,
            "p95_seconds": round(percentile(lat, 95), 3) if lat else None,
            "max_seconds": round(lat[-1], 3) if lat else None,
            "throughput_per_s": round(len(lat) / self.wall_seconds, 3) if self.wall_seconds else 0,
        }


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(pct / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float) -> None:
    """Poll the app's front page until it answers, the process dies, or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with code {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1.0)
    raise RuntimeError(f"app.py did not answer on {url} within {timeout:.0f} s")


def load_questions(path: Path, n: int) -> list[str]:
    """The first ``n`` questions of a JSONL question set (cycled if it is shorter)."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    questions = [r["question"] for r in rows if r.get("question")]
    return [questions[i % len(questions)] for i in range(n)]


def ask(client, user: int, question: str) -> Outcome:  # noqa: ANN001 - gradio_client.Client
    """One request through the app's public ``/chat`` endpoint, classified."""
    from gradio_client.utils import QueueError

    t0 = time.perf_counter()
    try:
        reply = client.predict(question, [], api_name="/chat")
    except QueueError as exc:
        return Outcome(user, question, "rejected", time.perf_counter() - t0, str(exc))
    except Exception as exc:  # noqa: BLE001 - every other failure is reported, not raised
        return Outcome(user, question, "error", time.perf_counter() - t0, repr(exc)[:300])
    seconds = time.perf_counter() - t0
    if not isinstance(reply, str) or not reply.strip():
        return Outcome(user, question, "error", seconds, f"empty reply {reply!r:.100}")
    return Outcome(user, question, "answered", seconds)


def run_users(url: str, name: str, questions_per_user: list[list[str]], deadline: float) -> Phase:
    """Each user (a thread with its own client) asks its questions in order."""
    from gradio_client import Client

    users = len(questions_per_user)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    ready = threading.Barrier(users + 1)

    def user(i: int, questions: list[str]) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # noqa: BLE001
            with lock:
                outcomes.extend(Outcome(i, q, "error", 0.0, f"connect: {exc!r}") for q in questions)
            ready.wait()
            return
        ready.wait()  # connect first, then everybody starts asking at the same moment
        for q in questions:
            o = ask(client, i, q)
            with lock:
                outcomes.append(o)

    threads = [
        threading.Thread(target=user, args=(i, qs), daemon=True)
        for i, qs in enumerate(questions_per_user)
    ]
    for t in threads:
        t.start()
    ready.wait()
    t0 = time.perf_counter()
    end = time.monotonic() + deadline
    for t in threads:
        t.join(timeout=max(0.0, end - time.monotonic()))
    wall = time.perf_counter() - t0
    with lock:
        done = list(outcomes)
    asked = sum(len(qs) for qs in questions_per_user)
    answered_keys = {(o.user, o.question) for o in done}
    for i, qs in enumerate(questions_per_user):
        for q in qs:
            if (i, q) not in answered_keys:
                done.append(Outcome(i, q, "timeout", deadline, "no reply before the deadline"))
    return Phase(name, users, asked, wall, done)


def stop(proc: subprocess.Popen) -> int | None:
    """SIGTERM the app (it shuts Gradio down on it), then SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def table(phases: list[Phase], single: Phase | None) -> str:
    """The figures as a Markdown table, throughput relative to one user alone."""
    base = single.summary()["throughput_per_s"] if single else None
    lines = [
        "| phase | users | requests | answered | rejected (queue full) | errors | timeouts "
        "| p50 s | p95 s | max s | throughput /s | vs one user |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for ph in phases:
        s = ph.summary()
        rel = f"{s['throughput_per_s'] / base:.2f}×" if base else "—"
        lines.append(
            f"| {s['name']} | {s['users']} | {s['requests']} | {s['answered']} | {s['rejected']} "
            f"| {s['errors']} | {s['timeouts']} | {s['p50_seconds']} | {s['p95_seconds']} "
            f"| {s['max_seconds']} | {s['throughput_per_s']} | {rel} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the three phases against a fresh app process; 0 when every check holds."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--questions", type=int, default=10, help="questions per user")
    p.add_argument("--burst", type=int, default=60, help="simultaneous requests (0: skip)")
    p.add_argument("--backend", default=None, help="encoder backend for the app (default: its own)")
    p.add_argument("--corpus", default=str(ROOT / "corpus"))
    p.add_argument("--index", default=str(ROOT / "embeddings"), help="copied, never modified")
    p.add_argument("--question-file", default=str(ROOT / "tests" / "data" / "dev.jsonl"))
    p.add_argument("--startup-timeout", type=float, default=600)
    p.add_argument("--deadline", type=float, default=600, help="seconds allowed per phase")
    p.add_argument("--out", default=str(ROOT / "artifacts" / "load_test.json"))
    args = p.parse_args(argv)

    app = ROOT / "app.py"
    if not app.exists():
        print(f"error: {app} does not exist yet", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="qa-load-"))
    index = work / "index"
    if Path(args.index, "CURRENT").exists():
        # A private copy: if the app decides the index is stale it rebuilds this one, not yours.
        shutil.copytree(args.index, index, ignore=shutil.ignore_patterns(".lock", ".models"))
        models = Path(args.index, ".models")
        if models.is_dir():
            os.symlink(models.resolve(), index / ".models")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    env.pop("QA_AUTH", None)
    if args.backend:
        env["QA_BACKEND"] = args.backend
    cmd = [sys.executable, str(app), "--host", "127.0.0.1", "--port", str(port),
           "--corpus", args.corpus, "--index", str(index)]  # fmt: skip
    log_path = work / "app.log"
    print(f"starting {' '.join(cmd)} (log: {log_path})", file=sys.stderr)
    log = open(log_path, "w")  # noqa: SIM115 - lives as long as the app process
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    failures: list[str] = []
    phases: list[Phase] = []
    single = None
    try:
        t0 = time.perf_counter()
        wait_until_up(url, proc, args.startup_timeout)
        startup = time.perf_counter() - t0
        print(f"app up in {startup:.1f} s on {url}", file=sys.stderr)

        pool = load_questions(Path(args.question_file), args.users * args.questions)
        per_user = [pool[i * args.questions : (i + 1) * args.questions] for i in range(args.users)]

        single = run_users(url, "one user alone", [per_user[0]], args.deadline)
        phases.append(single)
        print(table([single], single), file=sys.stderr)
        crowd = run_users(url, f"{args.users} users at once", per_user, args.deadline)
        phases.append(crowd)
        if args.burst:
            # One client per request: a single gradio_client shared by many threads
            # sometimes cancels one of its own jobs (CancelledError), which is not the app.
            burst = load_questions(Path(args.question_file), args.burst)
            phases.append(run_users(url, "burst", [[q] for q in burst], args.deadline))

        alive = proc.poll() is None
        after = None
        if alive:
            from gradio_client import Client

            after = ask(Client(url, verbose=False), -1, pool[0])
        if not alive:
            failures.append(f"the app died (exit code {proc.returncode})")
        elif after is None or after.status != "answered":
            failures.append(f"the app no longer answers after the load: {after}")
        for ph in phases:
            if ph.count("error") or ph.count("timeout"):
                bad = [o for o in ph.outcomes if o.status in ("error", "timeout")][:3]
                failures.append(f"{ph.name}: {ph.count('error')} errors, "
                                f"{ph.count('timeout')} timeouts, e.g. {bad}")  # fmt: skip
        if phases[1:2] and phases[1].count("answered") == 0:
            failures.append("no request of the concurrent phase was answered")
    except Exception as exc:  # noqa: BLE001 - report, then clean up below
        failures.append(f"{type(exc).__name__}: {exc}")
        startup = float("nan")
    finally:
        code = stop(proc)
        log.close()

    print(table(phases, single))
    report = {
        "url": url,
        "backend": args.backend or os.environ.get("QA_BACKEND", "default"),
        "startup_seconds": round(startup, 1),
        "phases": [ph.summary() for ph in phases],
        "outcomes": {ph.name: [asdict(o) for o in ph.outcomes] for ph in phases},
        "app_exit_code": code,
        "failures": failures,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False), "utf-8")
    print(f"figures written to {out}", file=sys.stderr)
    if failures:
        print(f"app log: {log_path}", file=sys.stderr)
        for f in failures:
            print(f"FAIL: {f}", file=sys.stderr)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("ok: every request answered or cleanly refused; the app stayed up", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
