"""The ``qa eval`` subcommand: run a question set, print the metrics, write reports.

Importing this module imports nothing heavy; the index, tqdm and matplotlib load inside ``run``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from qa.errors import QAError
from qa.opening import BACKENDS
from qa.render import echo as out


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``eval`` on ``subparsers`` (from ``ArgumentParser.add_subparsers``)."""
    p = subparsers.add_parser(
        "eval",
        help="evaluate retrieval and answers on a question set",
        description=(
            "Answer every question of FILE (JSONL, or SQuAD 1.1/2.0 JSON) and print retrieval, "
            "answer, declining and latency metrics. A SQuAD file is answered from a temporary "
            "index over its own paragraphs unless --index is given; any other file uses the "
            "default index."
        ),
    )
    p.add_argument("file", metavar="FILE", help="question set: .jsonl or SQuAD .json")
    p.add_argument("--index", metavar="DIR", help="index folder to answer from")
    p.add_argument("-k", type=int, default=5, help="passages the answerer reads (default 5)")
    p.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    p.add_argument("--csv", metavar="PATH", help="write one row per question as CSV")
    p.add_argument("--markdown", metavar="PATH", help="write a Markdown report")
    p.add_argument("--compare", metavar="OLD.json", help="compare with an earlier --json report")
    p.add_argument("--plot", metavar="PATH.png", help="save hit@k and per-kind charts as PNG")
    p.add_argument("--limit", type=int, metavar="N", help="evaluate only the first N questions")
    p.add_argument("--model", help="sentence-transformers model name or path (default: bundled)")
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        help="encoder backend (default: $QA_BACKEND or onnx-int8)",
    )
    p.add_argument(
        "--unbatched",
        action="store_true",
        help="encode each question inside its own timing (interactive latency; much slower)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``qa eval``; returns the exit code (1 with a one-line error for fixable problems)."""
    try:
        return _run(args)
    except QAError as exc:
        out(f"error: {exc}", err=True, one_line=True)
        return 1


def _run(args: argparse.Namespace) -> int:
    from qa.evaluation import compare, evaluate, load_questions

    k = getattr(args, "k", 5)
    if k < 1:
        raise QAError(f"-k must be at least 1, got {k}. Fix: pass -k 5.")
    limit = getattr(args, "limit", None)
    if limit is not None and limit < 1:
        raise QAError(f"--limit must be at least 1, got {limit}. Fix: pass a positive number.")
    model, backend = getattr(args, "model", None), getattr(args, "backend", None)
    old = None
    if getattr(args, "compare", None):
        from qa.evaluation import read_report

        old = read_report(args.compare)  # fail before the long run, not after it

    # Validate the file before loading any model, so a typo fails in a second.
    qset = load_questions(args.file)
    index = None
    if getattr(args, "index", None):
        from qa.index import load_index

        index = load_index(args.index, model=model, backend=backend, check_stale=True)
    encoder = None
    if index is None and (model or backend):
        from qa.index import default_index_encoder

        encoder = default_index_encoder(model, backend)

    bar: Any = None
    progress = None
    if not getattr(args, "no_progress", False):
        from tqdm import tqdm

        def progress(done: int, total: int) -> None:
            nonlocal bar
            # Created on the first answer so it does not sit at 0 while a SQuAD index builds.
            if bar is None:
                bar = tqdm(total=total, unit="q", desc="evaluating", file=sys.stderr)
            bar.update(done - bar.n)

    try:
        report = evaluate(
            qset,
            index=index,
            k=k,
            progress=progress,
            limit=limit,
            encoder=encoder,
            batch_queries=not getattr(args, "unbatched", False),
        )
    finally:
        if bar is not None:
            bar.close()

    out(report.summary_table())
    if old is not None:
        out()
        out(f"compared with {args.compare}:", one_line=True)
        out(compare(old, report))
    written = report.write(
        json=getattr(args, "json", None),
        csv=getattr(args, "csv", None),
        markdown=getattr(args, "markdown", None),
        plot=getattr(args, "plot", None),
    )
    for path in written:
        out(f"wrote {path}", err=True, one_line=True)
    return 0
