"""``qa eval`` (QA_BACKEND=fake, no model): through ``main(argv)`` in process, one smoke test
of the real command in a subprocess, and ``cli_eval.run`` with an argparse namespace."""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa import cli_eval

from .cli_inprocess import CliResult, run_cli

ROOT = Path(__file__).resolve().parent.parent

SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "Eiffel_Tower",
            "paragraphs": [
                {
                    "context": "The Eiffel Tower opened in 1889 for the World's Fair in Paris.",
                    "qas": [
                        {
                            "id": "e1",
                            "question": "When did the Eiffel Tower open?",
                            "answers": [{"text": "1889", "answer_start": 27}],
                            "is_impossible": False,
                        },
                        {
                            "id": "e2",
                            "question": "When did the Eiffel Tower close?",
                            "answers": [],
                            "is_impossible": True,
                        },
                    ],
                }
            ],
        },
        {
            "title": "Mekong",
            "paragraphs": [
                {
                    "context": "The Mekong river flows through six countries before the sea.",
                    "qas": [
                        {
                            "id": "m1",
                            "question": "How many countries does the Mekong flow through?",
                            "answers": [{"text": "six", "answer_start": 31}],
                            "is_impossible": False,
                        }
                    ],
                }
            ],
        },
    ],
}


def qa_cli(*args: str, cwd: Path, **env: str) -> CliResult:
    """``qa ARGS`` in this process (see tests/cli_inprocess.py)."""
    return run_cli(*args, cwd=cwd, env=env)


def qa_subprocess(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m qa.cli ARGS``: the smoke test of the real command."""
    full_env = {**os.environ, "QA_BACKEND": "fake", "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def squad_file(tmp_path: Path) -> Path:
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(SQUAD), encoding="utf-8")
    return path


def test_eval_squad_writes_every_report(tmp_path: Path, squad_file: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = qa_subprocess(
        "eval",
        str(squad_file),
        "--json", str(out / "r.json"),
        "--csv", str(out / "r.csv"),
        "--markdown", str(out / "r.md"),
        "--plot", str(out / "r.png"),
        "-k", "3",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["metric", "value"]
    assert any(line.split() == ["n", "3"] for line in lines)
    assert any(line.split() == ["n_unanswerable", "1"] for line in lines)
    assert "evaluating" in result.stderr  # the progress bar goes to stderr
    data = json.loads((out / "r.json").read_text())
    assert list(data) == ["metrics", "by_kind", "questions"]
    assert set(data["by_kind"]) == {"Eiffel Tower", "Mekong"}
    with open(out / "r.csv", encoding="utf-8", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 3
    assert "## By kind" in (out / "r.md").read_text()
    assert (out / "r.png").read_bytes()[:4] == b"\x89PNG"
    # The temporary corpus and index are not left in the working folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "squad.json"]


def test_eval_compare_and_limit(tmp_path: Path, squad_file: Path) -> None:
    first = qa_cli("eval", str(squad_file), "--json", "old.json", "--limit", "2", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = qa_cli("eval", str(squad_file), "--compare", "old.json", "--no-progress", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "compared with old.json:" in second.stdout
    assert "hit@5 flips: 0 hit -> miss, 0 miss -> hit" in second.stdout
    assert "unmatched questions: 0 only in old, 1 only in new" in second.stdout
    assert "evaluating" not in second.stderr


def test_eval_jsonl_on_default_index(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tower.txt").write_text(
        "The Eiffel Tower opened in 1889 for the World's Fair in Paris.", encoding="utf-8"
    )
    (corpus / "river.txt").write_text(
        "The Mekong river flows through six countries before the sea.", encoding="utf-8"
    )
    (tmp_path / "q.jsonl").write_text(
        '{"id": "1", "question": "When did the Eiffel Tower open?", "answers": ["1889"], '
        '"sources": ["tower.txt"]}\n',
        encoding="utf-8",
    )
    result = qa_cli(
        "eval",
        "q.jsonl",
        "--json",
        "r.json",
        cwd=tmp_path,
        QA_CORPUS=str(corpus),
        QA_INDEX=str(tmp_path / "emb"),
    )
    assert result.returncode == 0, result.stderr
    row = json.loads((tmp_path / "r.json").read_text())["questions"][0]
    assert row["rank"] == 1 and row["retrieved"][0]["doc_id"] == "tower.txt"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"question": "a"}\n{"question": "b", "answers": 3}\n', "q.jsonl line 2: field 'answers'"),
        ("", "q.jsonl is empty"),
    ],
)
def test_eval_bad_file_is_one_line_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "q.jsonl").write_text(content, encoding="utf-8")
    result = qa_cli("eval", "q.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert "Traceback" not in result.stderr


# --- cli_eval.run directly --------------------------------------------------------------------


def namespace(**kwargs: object) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    cli_eval.add_parser(sub)
    argv = ["eval", str(kwargs.pop("file"))]
    for key, value in kwargs.items():
        flag = "-k" if key == "k" else "--" + key.replace("_", "-")
        argv += [flag] if value is True else [flag, str(value)]
    return parser.parse_args(argv)


def test_parser_defaults() -> None:
    args = namespace(file="x.jsonl")
    assert args.func is cli_eval.run
    assert (args.k, args.index, args.json, args.csv, args.markdown) == (5, None, None, None, None)
    assert (args.compare, args.plot, args.limit, args.unbatched) == (None, None, None, False)


def test_run_with_index_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from qa.embedding import FakeEncoder
    from qa.index import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The Mekong river flows through six countries.", "utf-8")
    build_index(corpus, tmp_path / "idx", encoder=FakeEncoder())
    (tmp_path / "q.jsonl").write_text(
        '{"question": "Which river flows through six countries?", "evidence": ["six countries"]}\n'
        '{"question": "Who won the 2030 World Cup?", "answerable": false}\n',
        encoding="utf-8",
    )
    args = namespace(
        file=tmp_path / "q.jsonl",
        index=tmp_path / "idx",
        backend="fake",
        no_progress=True,
        markdown=tmp_path / "r.md",
    )
    assert cli_eval.run(args) == 0
    out = capsys.readouterr()
    assert any(line.split() == ["hit@1", "1.000"] for line in out.out.splitlines())
    assert f"wrote {tmp_path / 'r.md'}" in out.err
    assert (tmp_path / "r.md").exists()


def test_run_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "q.jsonl").write_text('{"question": "a"}\n', encoding="utf-8")
    # A missing --compare report fails before any question is answered.
    args = namespace(file=tmp_path / "q.jsonl", compare=tmp_path / "old.json")
    assert cli_eval.run(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Report") and "does not exist" in err
    assert cli_eval.run(namespace(file=tmp_path / "q.jsonl", k=0)) == 1
    assert "-k must be at least 1" in capsys.readouterr().err
    assert cli_eval.run(namespace(file=tmp_path / "q.jsonl", limit=0)) == 1
    assert "--limit must be at least 1" in capsys.readouterr().err
    assert cli_eval.run(namespace(file=tmp_path / "missing.jsonl")) == 1
    assert "does not exist" in capsys.readouterr().err
