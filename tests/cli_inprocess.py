"""Run the ``qa`` command inside the test process: ``qa.cli.main(argv)`` with its own
environment, working folder and captured output, returning what a subprocess would.

In process the CLI tests are fast and their failures show the real traceback; the few
subprocess smoke tests left in test_cli*.py check what only a new process can (exit codes of
``python -m qa.cli``, imports at start-up, signals).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from qa.cli import main

# What every CLI test runs with: the deterministic encoder, and never a model-hub look-up.
CLI_ENV = {"QA_BACKEND": "fake", "HF_HUB_OFFLINE": "1"}


@dataclass(frozen=True)
class CliResult:
    """The exit code and output of one command (the fields of ``CompletedProcess``)."""

    returncode: int
    stdout: str
    stderr: str


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


def run_cli(
    *args: str,
    cwd: str | os.PathLike | None = None,
    env: dict[str, str] | None = None,
    unset: Iterable[str] = (),
) -> CliResult:
    """``qa ARGS`` in this process; the environment, folder and default index are restored."""
    out, err = io.StringIO(), io.StringIO()
    # main() calls logging.basicConfig, which does nothing under pytest (its log capture owns
    # the root logger), so give the command the stderr handler a fresh process would have.
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.setLevel(logging.DEBUG if {"-v", "--verbose"} & set(args) else logging.WARNING)
    root = logging.getLogger()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {**CLI_ENV, **(env or {})}.items():
            mp.setenv(key, value)
        for key in unset:
            mp.delenv(key, raising=False)
        if cwd is not None:
            mp.chdir(Path(cwd))
        mp.setattr("qa.opening._default", None)  # a new process has no default index yet
        root.addHandler(handler)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    code = main(list(args))
                except SystemExit as exc:  # argparse: --help, a bad choice
                    code = _exit_code(exc)
        finally:
            root.removeHandler(handler)
    return CliResult(code, out.getvalue(), err.getvalue())
