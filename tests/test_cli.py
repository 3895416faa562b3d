"""The ``qa`` command (fake encoder): output, JSON, and one-line errors.

Most tests run ``main(argv)`` in process (tests/cli_inprocess.py); the subprocess smoke tests
check start-up imports and the exit code and stderr of a real ``python -m qa.cli``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .cli_inprocess import CliResult, run_cli

ENV = dict(os.environ, QA_BACKEND="fake", HF_HUB_OFFLINE="1")


def qa_cli(*args: str, cwd: Path | None = None) -> CliResult:
    return run_cli(*args, cwd=cwd)


def qa_subprocess(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        capture_output=True, text=True, env=ENV, cwd=cwd, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    import shutil

    from .conftest import CORPUS

    tmp = tmp_path_factory.mktemp("cli")
    shutil.copytree(CORPUS, tmp / "corpus")
    r = qa_cli("index", "--corpus", str(tmp / "corpus"), "--index", str(tmp / "idx"))
    assert r.returncode == 0, r.stderr
    return tmp, r


def test_index_prints_summary(built):
    _, r = built
    lines = r.stdout.splitlines()
    assert "documents: 5" in lines
    assert "paragraphs: 54" in lines
    assert "chunks: 40 (65 sentences)" in lines
    assert (
        "dropped by cleaning: 5 byline, 5 caption, 5 dateline, 7 duplicate, 3 image, 5 title"
        in lines
    )
    assert any(line.startswith("time: ") for line in lines)
    assert "embedding" in r.stderr  # the progress bar


def test_search_json(built):
    tmp, _ = built
    r = qa_cli("search", "Rob Jones National Crime Agency", "-k", "2", "--json",
               "--index", str(tmp / "idx"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["rank"] for row in rows] == [1, 2]
    assert rows[0]["doc_id"] == "004_3d375005956adc1b.txt"
    assert rows[0]["date_label"] == "2023-09-16 (inferred)"
    assert {"title", "source", "date", "paragraph", "score", "text"} <= set(rows[0])


def test_search_text(built):
    tmp, _ = built
    r = qa_cli("search", "Rob Jones", "-k", "1", "--index", str(tmp / "idx"))
    assert r.returncode == 0
    assert r.stdout.startswith("[1] ")
    assert (
        "Vietnam, UK enhance cooperation in law enforcement — VNA, 2023-09-16 (inferred)"
        in r.stdout
    )


def test_ask_exits_zero_and_declines_plainly(built):
    tmp, _ = built
    r = qa_cli("ask", "What is the capital of Australia?", "--index", str(tmp / "idx"), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["answerable"] is False
    assert data["text"].startswith("The articles do not answer this question.")


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_one_line_error(built, question):
    tmp, _ = built
    r = qa_cli("search", question, "--index", str(tmp / "idx"))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "error: The question is empty. Type a question about the articles."
    ]
    assert "Traceback" not in r.stderr


def test_missing_corpus_is_one_line_error(tmp_path):
    r = qa_subprocess("index", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "i"))
    assert r.returncode == 1
    assert (
        r.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: Corpus folder '{tmp_path / 'nope'}' does not exist.")
    )
    assert "Traceback" not in r.stderr


def test_help_is_instant_and_imports_nothing_heavy():
    code = (
        "import sys, qa.cli\n"
        "try:\n    qa.cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'gradio', 'sentence_transformers', 'faiss') "
        "if m in sys.modules]\nprint('HEAVY', heavy)"
    )
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "HEAVY []"
    assert "index" in r.stdout and "search" in r.stdout and "ask" in r.stdout
    _ = t0
