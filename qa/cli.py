"""The ``qa`` command: thin wrappers that parse input, call the API and format the result.

Every user-fixable error becomes one line on stderr and exit code 1, never a traceback.
Everything printed goes through ``qa.render.echo`` (``terminal_safe``): document text and file
names never reach the terminal as raw escape sequences.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from qa import cli_eval
from qa.errors import QAError
from qa.opening import BACKENDS, open_for, resolve_paths
from qa.render import echo as out
from qa.render import terminal_safe


class _SafeFormatter(logging.Formatter):
    """Log lines (which name corpus files) escaped like every other printed line."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record), one_line=True)


def _paths(args: argparse.Namespace) -> tuple[Path, Path]:
    return resolve_paths(getattr(args, "corpus", None), getattr(args, "index", None))


def _open(args: argparse.Namespace):  # noqa: ANN202 - qa.index.Index
    return open_for(
        getattr(args, "corpus", None),
        getattr(args, "index", None),
        model=args.model,
        backend=args.backend,
    )


def cmd_index(args: argparse.Namespace) -> int:
    """``qa index``: build the index and print its summary."""
    from qa.documents import check_corpus_dir
    from qa.index import build_index
    from qa.store import check_index_dir

    corpus, index = _paths(args)
    check_corpus_dir(corpus)  # a bad --corpus or --index is one error line, before anything
    check_index_dir(index)
    out(f"indexing {corpus} -> {index}", err=True, one_line=True)
    idx = build_index(
        corpus, index, model=args.model, backend=args.backend, show_progress=True,
        passage_vectors=args.passage_vectors, force=args.force,
        store=args.store, milvus_uri=args.milvus_uri,
    )  # fmt: skip
    summary = idx.summary
    if args.json:
        out(json.dumps(summary.to_dict() if summary else {}, ensure_ascii=False, indent=1))
    elif summary:
        out(f"index: {index} (model {idx.model_id})", one_line=True)
        for line in summary.lines():
            out(line, one_line=True)
    return 0


def _passage_json(p: Any, rank: int) -> dict[str, Any]:
    d = p.to_dict()
    d["rank"] = rank
    d["date_label"] = p.date_label
    return d


def cmd_search(args: argparse.Namespace) -> int:
    """``qa search``: ranked passages with their sources."""
    from qa.questions import check_question
    from qa.render import source_label

    check_question(args.question)  # a bad question fails before any index is opened or built
    idx = _open(args)
    results = idx.retrieve(args.question, k=args.k)
    if args.json:
        out(json.dumps([_passage_json(p, i) for i, p in enumerate(results, 1)],
                       ensure_ascii=False, indent=1))  # fmt: skip
        return 0
    if not results:
        out("no passages found")
    for i, p in enumerate(results, 1):
        out(f"[{i}] {p.score:.3f}  {source_label(p)} ({p.doc_id})", one_line=True)
        for line in p.text.splitlines():
            out("    " + line, one_line=True)
        out()
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    """``qa ask``: a cited answer (exit 0 even when the bot declines)."""
    from qa.questions import check_question

    check_question(args.question)
    idx = _open(args)
    history: list[dict] = []
    if args.history:
        for turn in args.history:
            history.append({"role": "user", "content": turn})
            history.append({"role": "assistant", "content": idx.answer(turn, history[:-1]).text})
    ans = idx.answer(args.question, history or None, k=args.k)
    if args.json:
        out(json.dumps(ans.to_dict(), ensure_ascii=False, indent=1))
        return 0
    if ans.rewritten:
        out(f"(searched for: {ans.query})", one_line=True)
    if ans.path == "structure":
        out(f"(answered from the extracted structure: {ans.route})", one_line=True)
    out(ans.text)
    return 0


def _print_json(rows: list[dict[str, Any]]) -> None:
    out(json.dumps(rows, ensure_ascii=False, indent=1))


def cmd_timeline(args: argparse.Namespace) -> int:
    """``qa timeline``: the events, by date, with participants, agreements and citations."""
    from qa.render import events_text, structure_json
    from qa.structure_query import check_timeline_args

    filters = (args.date_from, args.date_to, args.person, args.org, args.agreement, args.kind)
    check_timeline_args(*filters)  # bad filters fail before any index is opened or built
    events = _open(args).timeline(*filters)
    if args.json:
        _print_json(structure_json(events))
    else:
        out(events_text(events))
    return 0


def cmd_entities(args: argparse.Namespace) -> int:
    """``qa entities``: people, organisations and places with roles, variants and a citation."""
    from qa.render import entities_text, structure_json
    from qa.structure_query import check_entity_args

    check_entity_args(args.kind, args.side)
    found = _open(args).entities(args.kind, args.side)
    if args.json:
        _print_json(structure_json(found))
    else:
        out(entities_text(found))
    return 0


def cmd_agreements(args: argparse.Namespace) -> int:
    """``qa agreements``: each agreement and what happened to it at each event."""
    from qa.render import agreements_text, structure_json

    idx = _open(args)
    found = idx.agreements()
    if args.json:
        _print_json(structure_json(found))
    else:
        out(agreements_text(found, idx.timeline()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (built without importing any heavy library)."""
    parser = argparse.ArgumentParser(
        prog="qa",
        description="Offline question answering with citations over a folder of news articles.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, corpus: bool = True) -> None:
        if corpus:
            p.add_argument("--corpus", help="corpus folder (default: corpus/ or $QA_CORPUS)")
        p.add_argument("--index", help="index folder (default: embeddings/ or $QA_INDEX)")
        p.add_argument("--model", help="sentence-transformers model name or path "
                       "(default: the bundled all-MiniLM-L6-v2)")  # fmt: skip
        p.add_argument("--backend", choices=BACKENDS,
                       help="encoder backend (default: $QA_BACKEND or onnx-int8)")  # fmt: skip

    p = sub.add_parser("index", help="build or rebuild the index")
    common(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--passage-vectors", choices=["derived", "encoded"], default="derived",
                   help="derive passage vectors from their sentences (default, half the "
                   "encoding) or also run the model on each whole passage")  # fmt: skip
    p.add_argument("--force", action="store_true",
                   help="rebuild even when nothing changed (vectors are still reused)")  # fmt: skip
    p.add_argument("--store", choices=["embedded", "milvus"],
                   help="where dense and BM25 search run: FAISS + bm25s in the folder "
                   "(the default for a new index) or a Milvus collection (pip install -e "
                   "'.[milvus]'); a rebuild keeps the index's store unless given")  # fmt: skip
    p.add_argument("--milvus-uri", help="Milvus Lite folder (default <index>/milvus-lite.db) "
                   "or http://host:19530; alone, it implies --store milvus")  # fmt: skip
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="ranked passages for a question")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    common(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="a short cited answer")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=5, help="how many passages to read (default 5)")
    p.add_argument("--history", action="append", metavar="QUESTION",
                   help="an earlier question of the conversation (repeatable, in order)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print JSON")
    common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("timeline", help="the events across the articles, by date")
    p.add_argument("--from", dest="date_from", metavar="DATE",
                   help="events on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD)")  # fmt: skip
    p.add_argument("--to", dest="date_to", metavar="DATE", help="events on or before DATE")
    p.add_argument("--person", metavar="NAME", help="events NAME took part in")
    p.add_argument("--org", metavar="NAME", help="events an organisation took part in")
    p.add_argument("--agreement", metavar="NAME", help="events where an agreement came up")
    p.add_argument("--kind", metavar="KIND", help="meeting, phone call, visit, reception, ...")
    p.add_argument("--json", action="store_true", help="print JSON")
    common(p)
    p.set_defaults(func=cmd_timeline)

    p = sub.add_parser("entities", help="people, organisations and places")
    p.add_argument("--kind", choices=["person", "org", "place"], help="only this kind")
    p.add_argument("--side", metavar="SIDE", help="VN or UK")
    p.add_argument("--json", action="store_true", help="print JSON")
    common(p)
    p.set_defaults(func=cmd_entities)

    p = sub.add_parser("agreements", help="agreements and what happened to them at each event")
    p.add_argument("--json", action="store_true", help="print JSON")
    common(p)
    p.set_defaults(func=cmd_agreements)

    cli_eval.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qa`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(_SafeFormatter("%(levelname)s: %(message)s"))
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, handlers=[handler]
    )
    try:
        return int(args.func(args) or 0)
    except (QAError, ValueError) as exc:  # ValueError: bad argument values (k < 1, dates)
        out(f"error: {exc}", err=True, one_line=True)
        return 1
    except KeyboardInterrupt:
        out("interrupted", err=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
