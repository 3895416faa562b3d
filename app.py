"""The web app: chat with cited answers, the documents as a timeline, and evaluation.

Run ``python app.py`` (or ``make run``) and open http://127.0.0.1:7860. Options::

    --host / $GRADIO_SERVER_NAME   interface to bind (default 127.0.0.1)
    --port / $GRADIO_SERVER_PORT   port (default 7860)
    --corpus, --index              folders, as for the ``qa`` command
    --auth user:pass / $QA_AUTH    login; required for any non-loopback host and for --share
    --share                        public gradio.live link (off unless asked, needs --auth)

The index is loaded (built on first start, with progress in the terminal) before the server
starts, so the first question does not pay for it. Callbacks here only move values between
components; what is shown is decided in ``qa.ui``.
"""

import argparse
import atexit
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

# Offline by design: no usage analytics, no model hub look-ups (the model is bundled).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa import launch, ui  # noqa: E402 - after the environment defaults above
from qa.errors import QAError  # noqa: E402
from qa.opening import open_for, resolve_paths  # noqa: E402

log = logging.getLogger("qa.app")

# Two cores serve everything. An answer is ~0.1-1 s of CPU; two at a time keeps both cores
# busy without making every user wait on one slow request. Evaluation runs take minutes, so
# they get their own single slot and cannot starve the chat. Beyond QUEUE_MAX waiting
# requests new ones are refused ("queue full") instead of piling up for minutes.
CHAT_CONCURRENCY = 2
EVAL_CONCURRENCY = 1
QUEUE_MAX = 32
TITLE = "Vietnam–UK cooperation against human trafficking · article Q&A"
# Events that only move values between components: no queue, no public API endpoint.
_PRIVATE_INSTANT = {"queue": False, "api_visibility": "private"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options, with the GRADIO_SERVER_* and QA_AUTH environment as defaults."""
    p = argparse.ArgumentParser(
        prog="app.py",
        description="Serve the question-answering chat over the news articles.",
    )
    p.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1",
        help="interface to bind (default: $GRADIO_SERVER_NAME or 127.0.0.1)",
    )
    p.add_argument(
        "--port",
        default=os.environ.get("GRADIO_SERVER_PORT") or "7860",
        help="port (default: $GRADIO_SERVER_PORT or 7860)",
    )
    p.add_argument("--corpus", help="corpus folder (default: corpus/ or $QA_CORPUS)")
    p.add_argument("--index", help="index folder (default: embeddings/ or $QA_INDEX)")
    p.add_argument(
        "--auth",
        default=os.environ.get("QA_AUTH") or None,
        help="user:password login (default: $QA_AUTH); required off loopback and with --share",
    )
    p.add_argument("--share", action="store_true", help="also publish a public gradio.live link")
    return p.parse_args(argv)


def load(args: argparse.Namespace) -> tuple[Any, str]:
    """``(index, "")``, or ``(None, message)`` when the index cannot be loaded or built."""
    corpus, index_dir = resolve_paths(args.corpus, args.index)
    print(f"loading index {index_dir} (corpus {corpus})", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    try:
        index = open_for(args.corpus, args.index)
        index.answer(ui.EXAMPLES[0])  # loads the model now, not on the first user's time
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return None, str(exc)
    print(f"{ui.status_line(index)} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return index, ""


def _static(name: str) -> str:
    return resources.files("qa").joinpath("static", name).read_text(encoding="utf-8")


CSS = _static("app.css") + _static("structure.css")
# Turns each "[n]" of an answer into a link that opens source n in the Sources panel. The
# chat text itself stays plain (so Copy gives clean Markdown); the links are added in the page.
JS = _static("app.js")
# Runs inside the timeline's gr.HTML: a click (or Enter) on an article sends its id to Python.
TIMELINE_JS = _static("timeline.js")
# Inside the events, people and agreements views: an "Open" button sends its citation's id.
STRUCTURE_JS = _static("structure.js")
# Inside the reader: scrolls an article opened at a cited paragraph to that paragraph.
READER_JS = _static("reader.js")


def header_html(index: Any, error: str) -> str:
    """The page title and the index status line (or the startup error and its fix)."""
    if index is None:
        status = f'<div id="qa-status" class="qa-error">⚠️ {ui.esc(error)}</div>'
    else:
        status = f'<div id="qa-status">{ui.esc(ui.status_line(index))}</div>'
    return (
        f'<div class="qa-header"><h1>{ui.esc(TITLE)}</h1><div class="qa-sub">Answers are '
        "sentences quoted from the articles, each with its source; questions the articles "
        f"do not answer are declined.</div>{status}</div>"
    )


def build_demo(index: Any, error: str, workdir: Path) -> Any:
    """The Gradio app around a loaded ``index`` (or around the startup ``error``)."""
    import gradio as gr

    documents = list(index.documents) if index is not None else []
    upload_root = os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")
    blocks = gr.Blocks(title="Vietnam–UK Q&A", analytics_enabled=False, delete_cache=(3600, 3600))
    with blocks as demo:
        gr.HTML(header_html(index, error))
        with gr.Tabs():
            chat = chat_tab(documents)
            docs = documents_tab(documents, index, error)
            evaluation = evaluate_tab()
        # Events and states sit outside gr.Tabs: a gr.State inside it renders as a phantom tab.
        chat_events(chat, index, error)
        documents_events(docs, index, error, documents)
        evaluate_events(evaluation, index, error, workdir, upload_root)
    return demo


# --- chat -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatParts:
    """The Chat tab's components that its events read and write."""

    chatbot: Any
    msg: Any
    send: Any
    clear: Any
    k: Any
    docs: Any
    date_from: Any
    date_to: Any
    sources: Any


def chat_tab(documents: list[Any]) -> ChatParts:
    """The Chat tab's layout: conversation, settings and the Sources panel."""
    import gradio as gr

    with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            chatbot, msg, send, clear = _conversation()
            k, docs, date_from, date_to = _settings(documents)
        with gr.Column(scale=2, min_width=320):
            gr.Markdown("### Sources")
            sources = gr.HTML(ui.EMPTY_SOURCES, elem_id="qa-sources", js_on_load=None)
    return ChatParts(chatbot, msg, send, clear, k, docs, date_from, date_to, sources)


def _conversation() -> tuple[Any, Any, Any, Any]:
    import gradio as gr

    chatbot = gr.Chatbot(
        label="Conversation",
        show_label=False,
        elem_id="qa-chat",
        height=560,
        buttons=["copy"],
        latex_delimiters=[],
        sanitize_html=True,
        allow_tags=False,
        feedback_options=None,
        placeholder="Ask about the Vietnam–UK articles. Every answer quotes "
        "the articles and cites them as [1], [2]…",
    )
    with gr.Row():
        msg = gr.Textbox(
            show_label=False,
            placeholder="Ask a question, e.g. Which agencies did Le Quoc Hung visit?",
            scale=6,
            max_lines=4,
            elem_id="qa-input",
            autofocus=True,
        )
        send = gr.Button("Ask", variant="primary", scale=1, min_width=80)
        clear = gr.Button("Clear", scale=1, min_width=80)
    gr.Examples(examples=[[q] for q in ui.EXAMPLES], inputs=[msg], label="Example questions")
    return chatbot, msg, send, clear


def _settings(documents: list[Any]) -> tuple[Any, Any, Any, Any]:
    import gradio as gr

    with gr.Accordion("Settings", open=False, elem_id="qa-settings"):
        k = gr.Slider(
            1,
            10,
            value=5,
            step=1,
            label="Passages to read (k)",
            info="More passages can find more, but may add noise.",
        )
        docs = gr.CheckboxGroup(
            choices=ui.document_choices(documents),
            elem_id="qa-docs",
            value=[d.doc_id for d in documents],
            label="Search only these documents",
            show_select_all=True,
        )
        with gr.Row():
            date_from = gr.Textbox(label="From date", placeholder="YYYY-MM-DD", max_lines=1)
            date_to = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", max_lines=1)
        gr.Markdown(
            "A date range leaves out documents whose date is unknown; "
            "inferred dates count as their date.",
            elem_classes=["qa-hint"],
        )
    return k, docs, date_from, date_to


def chat_events(c: ChatParts, index: Any, error: str) -> None:
    """The Chat tab's events: ask, show a reply's sources, clear, and the ``/chat`` API."""
    import gradio as gr

    pending = gr.State("")
    panels = gr.State({})

    def add_user(message: str, history: list) -> tuple[str, list, str]:
        return "", ui.append_user(history, message), message

    def reply(
        message: str,
        history: list,
        k_: int,
        selected: list,
        d_from: str,
        d_to: str,
        panel_map: dict,
    ) -> tuple[list, str, dict]:
        turn = ui.respond(
            index,
            message,
            ui.prior_history(history, message),
            k=k_,
            selected=selected,
            date_from=d_from,
            date_to=d_to,
            startup_error=error,
        )
        history = ui.append_reply(history, message, turn)
        return history, turn.sources, {**panel_map, len(history) - 1: turn.sources}

    chat_inputs = [pending, c.chatbot, c.k, c.docs, c.date_from, c.date_to, panels]
    for trigger in (c.msg.submit, c.send.click):
        trigger(add_user, [c.msg, c.chatbot], [c.msg, c.chatbot, pending], **_PRIVATE_INSTANT).then(
            reply,
            chat_inputs,
            [c.chatbot, c.sources, panels],
            concurrency_limit=CHAT_CONCURRENCY,
            concurrency_id="answer",
            api_visibility="private",
        )

    def show_panel(panel_map: dict, evt: gr.SelectData) -> Any:
        html = ui.panel_for(panel_map, evt.index if isinstance(evt.index, int) else None)
        return gr.skip() if html is None else html

    c.chatbot.select(show_panel, [panels], [c.sources], **_PRIVATE_INSTANT)

    def reset() -> tuple[list, str, dict, str]:
        return [], ui.EMPTY_SOURCES, {}, ""

    for clearing in (c.clear.click, c.chatbot.clear):
        clearing(reset, None, [c.chatbot, c.sources, panels, c.msg], **_PRIVATE_INSTANT)
    _chat_api(index, error)


def _chat_api(index: Any, error: str) -> None:
    import gradio as gr

    def chat(message: str, history: list[dict] | None = None) -> str:
        """Answer a question about the articles.

        ``history`` is earlier turns as ``[{"role": "user"|"assistant", "content": str}]``.
        Returns the answer as Markdown: quoted sentences with [n] citations, then Sources.
        """
        return ui.respond(index, message, history or [], startup_error=error).reply

    gr.api(chat, api_name="chat", concurrency_limit=CHAT_CONCURRENCY, concurrency_id="answer")


# --- documents --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocsParts:
    """The Documents tab's components that its events read and write."""

    timeline: Any  # the articles, oldest first
    events: Any  # the events plot and timeline
    people: Any
    tracker: Any
    doc_view: Any  # the article reader
    citations: Any  # Mapping[str, Citation]: what the views' "Open" buttons may open


def documents_tab(documents: list[Any], index: Any = None, error: str = "") -> DocsParts:
    """The Documents tab's layout: events, people, agreements and articles, and the reader."""
    import gradio as gr

    from qa.structure_views import structure_views

    views = structure_views(index, error)
    with gr.Tab("Documents", id="documents", elem_id="qa-documents"):
        gr.Markdown(
            "What the articles report, oldest first: the **events** (meetings, calls, visits), "
            "the **people and organisations** taking part, and the **agreements** that recur. "
            "Dates marked *(inferred)* are not stated in full in the article. Every **Open** "
            "button shows the article at the paragraph it cites.",
            elem_classes=["qa-docs-intro"],
        )
        with gr.Row(equal_height=False, elem_id="qa-docs-row"):
            with gr.Column(scale=3, min_width=320), gr.Tabs(elem_id="qa-doc-views"):
                with gr.Tab("Events", id="doc-events"):
                    events = _structure_html(views.plot + views.events, "qa-events")
                with gr.Tab("People", id="doc-people"):
                    people = _structure_html(views.people, "qa-people")
                with gr.Tab("Agreements", id="doc-agreements"):
                    tracker = _structure_html(views.tracker, "qa-tracker")
                with gr.Tab("Articles", id="doc-articles"):
                    timeline = gr.HTML(
                        ui.timeline_html(documents), elem_id="qa-timeline", js_on_load=TIMELINE_JS
                    )
            with gr.Column(scale=2, min_width=320, elem_id="qa-reader-col"):
                doc_view = gr.HTML(
                    ui.notice_html("Open a cited sentence, or click an article, to read it here."),
                    elem_id="qa-doc",
                    js_on_load=READER_JS,
                )
    return DocsParts(timeline, events, people, tracker, doc_view, views.citations)


def _structure_html(value: str, elem_id: str) -> Any:
    import gradio as gr

    return gr.HTML(value, elem_id=elem_id, elem_classes=["qa-structure"], js_on_load=STRUCTURE_JS)


def documents_events(d: DocsParts, index: Any, error: str, documents: list[Any]) -> None:
    """A click on an article opens its cleaned text; an "Open" button of the events, people or
    agreements opens its article at the cited paragraph."""
    import gradio as gr

    from qa.structure_views import open_citation_html

    all_ids = [doc.doc_id for doc in documents]

    def show_document(evt: gr.EventData) -> str:
        doc_id = getattr(evt, "doc", None)
        if index is None:
            return ui.notice_html(error, "error")
        if doc_id not in all_ids:
            return ui.notice_html("Click an article in the timeline to read it.")
        return ui.document_html(index.document(doc_id))

    def show_citation(evt: gr.EventData) -> str:
        if index is None:
            return ui.notice_html(error, "error")
        return open_citation_html(index, d.citations, getattr(evt, "cite", ""))

    d.timeline.click(show_document, None, [d.doc_view], **_PRIVATE_INSTANT)
    for view in (d.events, d.people, d.tracker):
        view.cite(show_citation, None, [d.doc_view], **_PRIVATE_INSTANT)


# --- evaluation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalParts:
    """The Evaluate tab's components that its events read and write."""

    upload: Any
    run: Any
    message: Any
    report: Any
    summary: Any
    plot: Any
    rows: Any


def evaluate_tab() -> EvalParts:
    """The Evaluate tab's layout: the upload, the run button, the summary, plot and rows."""
    import gradio as gr

    with gr.Tab("Evaluate", id="evaluate"):
        gr.Markdown(
            'Upload a question file — JSON Lines (one `{"question": …, "answers": '
            "[…]}` per line) or SQuAD `.json`, at most 5 MB — and run it against the "
            "loaded index. Failures are listed first."
        )
        with gr.Row():
            upload = gr.File(
                label="Question file (.jsonl or .json, ≤ 5 MB)",
                file_types=list(ui.UPLOAD_SUFFIXES),
                type="filepath",
                elem_id="qa-upload",
            )
            with gr.Column():
                run = gr.Button("Run evaluation", variant="primary")
                eval_msg = gr.Markdown(elem_id="qa-eval-msg")
                report_file = gr.File(label="Report (JSON)", interactive=False, elem_id="qa-report")
        summary, plot, rows = _eval_results()
    return EvalParts(upload, run, eval_msg, report_file, summary, plot, rows)


def evaluate_events(e: EvalParts, index: Any, error: str, workdir: Path, upload_root: str) -> None:
    """Check an upload when it arrives; run it on the button (one evaluation at a time)."""
    import gradio as gr

    def check_file(path: str | None) -> tuple[str, Any]:
        if not path:
            return "", gr.skip()
        try:
            ui.check_upload(path)
        except ui.InputError as exc:
            ui.discard_upload(path, upload_root)
            return ui.warning_markdown(str(exc)), None
        return "Ready: press **Run evaluation**.", gr.skip()

    def evaluate(path: str | None, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
        progress(0, desc="Reading questions")
        result = ui.run_evaluation(
            index,
            path,
            workdir,
            upload_root=upload_root,
            startup_error=error,
            progress=lambda done, total: progress((done, total), desc="Answering questions"),
        )
        return (result.message, result.summary, result.rows, result.plot, result.report, None)

    e.upload.upload(check_file, [e.upload], [e.message, e.upload], api_visibility="private")
    e.run.click(
        evaluate,
        [e.upload],
        [e.message, e.summary, e.rows, e.plot, e.report, e.upload],
        concurrency_limit=EVAL_CONCURRENCY,
        concurrency_id="eval",
        api_visibility="private",
    )


def _eval_results() -> tuple[Any, Any, Any]:
    import gradio as gr

    with gr.Row(equal_height=False):
        summary = gr.Dataframe(
            headers=["metric", "value"],
            interactive=False,
            label="Summary",
            max_height=420,
            scale=1,
            min_width=240,
        )
        plot = gr.Image(
            label="Retrieval hit@k and metrics by kind",
            show_label=False,
            type="filepath",
            interactive=False,
            scale=3,
        )
    rows = gr.Dataframe(
        headers=ui.QUESTION_HEADERS,
        interactive=False,
        wrap=True,
        label="Questions (failures first)",
        max_height=560,
        column_widths=["6%", "8%", "7%", "27%", "18%", "5%", "7%", "22%"],
    )
    return summary, plot, rows


# --- serving ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Check the exposure policy, load the index, serve until interrupted; the exit code."""
    args = parse_args(argv)
    try:
        plan = launch.plan(args.host, args.port, args.auth, args.share)
    except launch.LaunchRefused as exc:  # before loading anything: refusing must be instant
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    index, error = load(args)
    workdir = Path(tempfile.mkdtemp(prefix="qa-app-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    demo = build_demo(index, error, workdir)
    demo.queue(default_concurrency_limit=CHAT_CONCURRENCY, max_size=QUEUE_MAX)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # Gradio's serving loop closes the server on this

    signal.signal(signal.SIGTERM, stop)
    import gradio as gr

    font = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "monospace"]
    try:
        demo.launch(
            server_name=plan.host,
            server_port=plan.port,
            share=plan.share,
            auth=plan.auth,
            auth_message="Sign in to ask questions about the articles.",
            max_file_size=ui.MAX_UPLOAD_BYTES,
            ssr_mode=False,
            show_error=False,
            quiet=False,
            theme=gr.themes.Soft(font=font, font_mono=mono),  # system fonts: no web fetch
            css=CSS,
            js=JS,
        )
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # port in use, bad host
        print(f"error: cannot serve on {plan.host}:{plan.port}: {exc}", file=sys.stderr)
        return 1
    finally:
        demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
