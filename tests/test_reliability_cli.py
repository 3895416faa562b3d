"""The bad inputs of test_reliability.py, through the ``qa`` command: ``main(argv)`` in process
(tests/cli_inprocess.py) and, where only a real process shows it (start-up, signals, a
patched process, a lock held by another process), ``python -m qa.cli`` in a subprocess.

Every user-fixable failure must be one ``error: ...`` line on stderr and exit code 1: no
traceback, no signal. The commands run with the fake encoder, so no model is loaded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.embedding import FakeEncoder
from qa.index import build_index, load_index

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cli_inprocess import CliResult, run_cli  # noqa: E402
from helpers_build import make_corpus  # noqa: E402
from test_reliability import (  # noqa: E402
    BAD_FILES,
    EMPTY_MESSAGE,
    GOOD_IDS,
    NAME_NFC,
    NAME_NFD,
    _current,
    _damage,
    leftovers,
    write_corpus,
)

PYTHON = sys.executable


def _env() -> dict[str, str]:
    env = dict(os.environ, QA_BACKEND="fake", HF_HUB_OFFLINE="1", PYTHONPATH=str(HERE.parent))
    env.pop("QA_CORPUS", None)
    env.pop("QA_INDEX", None)
    return env


def qa_cli(*args: str, cwd: Path) -> CliResult:
    """Run ``qa ARGS`` in this process and capture its output."""
    return run_cli(*args, cwd=cwd, unset=("QA_CORPUS", "QA_INDEX"))


def qa_subprocess(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``qa ARGS`` (as ``python -m qa.cli``) and capture its output."""
    return subprocess.run(
        [PYTHON, "-m", "qa.cli", *args],
        capture_output=True, text=True, timeout=timeout, env=_env(), cwd=cwd,
    )  # fmt: skip


def assert_one_error_line(proc: CliResult | subprocess.CompletedProcess, message: str) -> None:
    """Exit 1, nothing on stdout, and exactly ``error: MESSAGE`` on stderr."""
    assert proc.returncode == 1, (proc.returncode, proc.stderr)  # a signal would be negative
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [f"error: {message}"]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    build_index(write_corpus(root / "corpus"), root / "index", encoder=FakeEncoder())
    return root / "index"


# --- bad questions ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["search", "ask"])
@pytest.mark.parametrize(
    "question", ["", "   ", "\t\n", "\x01\x02\x1f\x7f"], ids=["empty", "spaces", "ws", "controls"]
)
def test_empty_question(index_dir, tmp_path, command, question):
    proc = qa_cli(command, question, "--index", str(index_dir), cwd=tmp_path)
    assert_one_error_line(proc, EMPTY_MESSAGE)


def test_huge_question_is_rejected_within_five_seconds(index_dir, tmp_path):
    t0 = time.perf_counter()
    proc = qa_subprocess("search", "x" * 100_000, "--index", str(index_dir), cwd=tmp_path)
    elapsed = time.perf_counter() - t0
    assert_one_error_line(
        proc,
        "The question is 100,000 characters long; the limit is 2,000. "
        "Shorten it to the question itself.",
    )
    assert elapsed < 5.0, elapsed  # includes interpreter start-up


def test_k_below_one(index_dir, tmp_path):
    proc = qa_cli("search", "trade", "-k", "0", "--index", str(index_dir), cwd=tmp_path)
    assert_one_error_line(proc, "k must be at least 1, got 0.")


RAW_ENCODER_CLI = """
import sys
sys.path.insert(0, sys.argv[1])
import qa.embedding
from test_reliability import RawEncoder
# The fake backend folds accents itself, which would hide a missing NFC step in the CLI path;
# this encoder hashes the raw text, as a real model's tokenizer may.
qa.embedding._ENCODERS[(None, "fake")] = RawEncoder(model_id="fake-hash-64")
from qa.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_nfd_and_nfc_questions_print_identical_results(tmp_path):
    from test_reliability import RawEncoder

    index = tmp_path / "index"
    enc = RawEncoder(model_id="fake-hash-64")
    build_index(write_corpus(tmp_path / "corpus"), index, encoder=enc)

    def search(question: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "-c", RAW_ENCODER_CLI, str(HERE), "search", question, "--json",
             "--index", str(index)],
            capture_output=True, text=True, timeout=120, env=_env(), cwd=tmp_path,
        )  # fmt: skip

    nfc, nfd = search(f"Who is {NAME_NFC}?"), search(f"Who is {NAME_NFD}?")
    assert nfc.returncode == nfd.returncode == 0, nfc.stderr + nfd.stderr
    results = json.loads(nfc.stdout)
    assert results and results[0]["doc_id"] == "minister.txt"
    assert nfd.stdout == nfc.stdout


# --- bad corpora --------------------------------------------------------------------------------


def test_missing_corpus_folder(tmp_path):
    missing = tmp_path / "nope"
    proc = qa_cli("index", "--corpus", str(missing), "--index", str(tmp_path / "i"), cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    # The arguments are checked before `qa index` announces anything: one error line only,
    # and nothing is written.
    assert proc.stderr.splitlines() == [
        f"error: Corpus folder {str(missing)!r} does not exist. Fix: pass --corpus DIR.",
    ]
    assert not (tmp_path / "i").exists()


def test_empty_corpus_folder(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = qa_cli("index", "--corpus", str(empty), "--index", str(tmp_path / "i"), cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        f"error: Corpus folder {str(empty)!r} has no readable .txt, .md or .html documents. "
        "Fix: add UTF-8 text files to it."
    )


def test_bad_files_are_listed_and_the_rest_indexed(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    for name, (data, _) in BAD_FILES.items():
        (corpus / name).write_bytes(data)
    (corpus / "latin.txt").write_bytes(
        "Café owners\n\nThe café crème costs £3.\n".encode("latin-1")
    )
    with open(corpus / "huge.txt", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret\n\nThe XYZZY passphrase.\n", "utf-8")
    (corpus / "link.txt").symlink_to(outside)
    os.mkfifo(corpus / "pipe.txt")
    index = tmp_path / "index"
    proc = qa_cli("index", "--corpus", str(corpus), "--index", str(index), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    expected_skips = {f"skipped {name}: {reason}" for name, (_, reason) in BAD_FILES.items()}
    expected_skips |= {
        "skipped huge.txt: 52,428,800 bytes is over the 20,971,520-byte limit",
        f"skipped link.txt: symlink to {outside} points outside the corpus",
        "skipped pipe.txt: not a regular file (FIFO, socket or device)",
    }
    assert {line for line in lines if line.startswith("skipped ")} == expected_skips
    assert [line for line in lines if line.startswith("warning: ")] == [
        "warning: latin.txt: not valid UTF-8; read as Windows-1252/Latin-1"
    ]
    assert "documents: 4" in lines
    loaded = load_index(index, encoder=FakeEncoder())
    assert sorted(d.doc_id for d in loaded.documents) == sorted([*GOOD_IDS, "latin.txt"])
    assert not any("XYZZY" in p.text for p in loaded.passages)


# --- damaged indexes ----------------------------------------------------------------------------

CLI_DAMAGE = [
    "faiss-truncated",
    "faiss-zeroed",
    "faiss-random",
    "passages-line-removed",
    "manifest-missing",
    "current-garbage",
    "current-escapes",
    "file-missing",
]


@pytest.mark.parametrize("case", CLI_DAMAGE)
def test_damaged_index(index_dir, tmp_path, case):
    import shutil

    index = tmp_path / "index"
    shutil.copytree(index_dir, index, symlinks=True)
    expected = _damage(case, index)
    proc = qa_cli("search", "trade with the UK", "--index", str(index), cwd=tmp_path)
    assert_one_error_line(proc, expected.removeprefix("IndexCorruptError: "))


def test_missing_index_folder(tmp_path):
    proc = qa_subprocess("search", "trade", "--index", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert_one_error_line(
        proc, f"No index at {str(tmp_path / 'nowhere')!r}. Fix: build it with `qa index`."
    )


# --- locks, full disks, interrupts --------------------------------------------------------------

HOLD_LOCK = (
    "import sys, time\nfrom pathlib import Path\nfrom qa.store import build_lock\n"
    "with build_lock(Path(sys.argv[1])):\n    print('locked', flush=True)\n    time.sleep(60)\n"
)


def test_index_while_another_build_holds_the_lock(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    holder = subprocess.Popen(
        [PYTHON, "-c", HOLD_LOCK, str(index)], stdout=subprocess.PIPE, text=True, env=_env()
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        proc = qa_cli("index", "--corpus", str(corpus), "--index", str(index), cwd=tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    error = proc.stderr.splitlines()[-1]
    assert error.startswith(
        f"error: Index {str(index)!r} is being built by pid {holder.pid} since "
    )
    assert error.endswith("Fix: wait for that build to finish, then retry.")
    assert [line for line in proc.stderr.splitlines() if line.startswith("error:")] == [error]


ENOSPC_CLI = """
import errno, sys
import qa.build
def full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")
qa.build.write_jsonl = full
from qa.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_disk_full_during_index(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    before = build_index(corpus, index, encoder=FakeEncoder())
    (corpus / "new.txt").write_text("New article\n\nA new shipping route opens.\n", "utf-8")
    proc = subprocess.run(
        [PYTHON, "-c", ENOSPC_CLI, "index", "--corpus", str(corpus), "--index", str(index)],
        capture_output=True, text=True, timeout=120, env=_env(), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        f"error: Could not write the index to {str(index)!r} (No space left on device). "
        "Fix: free some space and rebuild; the current index is untouched."
    )
    assert leftovers(index) == []
    after = load_index(index, encoder=FakeEncoder())
    assert [p.passage_id for p in after.passages] == [p.passage_id for p in before.passages]


def test_ctrl_c_during_index_keeps_the_previous_index(tmp_path):
    small = write_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    before = build_index(small, index, encoder=FakeEncoder())
    version = _current(index).name
    big = make_corpus(tmp_path / "big", 60, seed=5)
    proc = subprocess.Popen(
        [PYTHON, "-m", "qa.cli", "index", "--corpus", str(big), "--index", str(index)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path,
    )  # fmt: skip
    assert proc.stderr.readline() == f"indexing {big} -> {index}\n"
    time.sleep(0.3)  # inside the build (reading and cleaning 60 documents takes longer)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    # The CLI returns 130. When the interrupt lands inside code CPython runs from C (a lazy
    # import of numpy.f2py during the build did it here), CPython remembers it and re-raises
    # SIGINT at exit even though it was handled; shells report both as 130.
    assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, err)
    assert "Traceback" not in err
    # tqdm may redraw its bar after the message as the interpreter exits.
    assert "interrupted\n" in err
    assert leftovers(index) == []
    assert _current(index).name == version
    after = load_index(index, encoder=FakeEncoder())
    assert [p.passage_id for p in after.passages] == [p.passage_id for p in before.passages]
