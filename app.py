"""The web app: chat with cited answers, the documents as a timeline, and evaluation.

Run ``python app.py`` (or ``make run``) and open http://127.0.0.1:7860. Options::

    --host / $GRADIO_SERVER_NAME   interface to bind (default 127.0.0.1)
    --port / $GRADIO_SERVER_PORT   port (default 7860)
    --corpus, --index              folders, as for the ``qa`` command
    --auth user:pass / $QA_AUTH    login; required for any non-loopback host and for --share
    --share                        public gradio.live link (off unless asked, needs --auth)

The page is served at once; the index is opened (built on a first start) in a background
thread, its progress shown in the page, and the chat opens when it is ready. Callbacks here
only move values between components; what is shown is decided in ``qa.ui``.
"""

import argparse
import atexit
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

# Offline by design: no usage analytics, no model hub look-ups (the model is bundled).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa import launch, ui  # noqa: E402 - after the environment defaults above
from qa.placeholder import Placeholder  # noqa: E402
from qa.startup import Startup  # noqa: E402

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


def _static(name: str) -> str:
    return resources.files("qa").joinpath("static", name).read_text(encoding="utf-8")


CSS = _static("app.css") + _static("structure.css")
# Turns each "[n]" of an answer into a link that opens source n in the Sources panel (a drawer
# on a phone), and a source card's "Read the article" link into the Documents tab at that
# paragraph. The chat text itself stays plain (so Copy gives clean Markdown).
JS = _static("app.js")
# Runs inside the timeline's gr.HTML: a click (or Enter) on an article sends its id to Python.
TIMELINE_JS = _static("timeline.js")
# Inside the events, people and agreements views: an "Open" button sends its citation's id.
STRUCTURE_JS = _static("structure.js")
# Inside the reader: scrolls an article opened at a cited paragraph to that paragraph.
READER_JS = _static("reader.js")
POLL_SECONDS = 0.5  # how often a page asks how the start-up is going, until the index is ready


def header_html(status: str) -> str:
    """The page title and the status line (the collection, the start-up progress, or the
    startup error and its fix)."""
    return (
        f'<div class="qa-header"><h1>{ui.esc(TITLE)}</h1><div class="qa-sub">Answers are '
        "sentences quoted from the articles, each with its source; questions the articles "
        f"do not answer are declined.</div>{status}</div>"
    )


def status_html(startup: Startup) -> str:
    """The status line for the start-up's current state."""
    index = startup.index
    if index is not None:
        return ui.ready_html(index)
    p = startup.progress
    return ui.progress_html(p.stage, p.done, p.total, p.seconds, p.error)


def build_demo(startup: Startup, workdir: Path) -> Any:
    """The Gradio app around ``startup`` (the index, ready or still being opened)."""
    import gradio as gr

    upload_root = os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")
    blocks = gr.Blocks(title="Vietnam–UK Q&A", analytics_enabled=False, delete_cache=(3600, 3600))
    with blocks as demo:
        header = gr.HTML(header_html(status_html(startup)), elem_id="qa-header")
        with gr.Tabs(elem_id="qa-tabs"):
            chat = chat_tab()
            docs = documents_tab()
            evaluation = evaluate_tab()
        # Events and states sit outside gr.Tabs: a gr.State inside it renders as a phantom tab.
        chat_events(demo, chat, startup, workdir)
        documents_events(docs, startup)
        uploads = evaluate_events(evaluation, startup, workdir, upload_root)
        startup_events(demo, header, chat, docs, startup)

        def end_session(request: gr.Request) -> None:  # the tab closed: its uploads go too
            uploads.end_session(request.session_hash or "")

        demo.unload(end_session)
    return demo


def startup_events(
    demo: Any, header: Any, c: "ChatParts", d: "DocsParts", startup: Startup
) -> None:
    """Until the index is ready, each page polls the start-up and shows its progress; then
    it fills in the articles and the Documents tab's views, and enables the chat."""
    import gradio as gr

    from qa.structure_views import structure_views

    timer = gr.Timer(POLL_SECONDS, active=True)
    views_out = [d.timeline, d.events, d.people, d.tracker]
    outputs = [header, timer, c.msg, c.send, c.docs, c.articles, *views_out]

    def poll() -> tuple:
        index = startup.index
        if index is None:
            keep = [gr.skip()] * 8
            return (header_html(status_html(startup)), gr.Timer(active=not startup.error), *keep)
        docs = list(index.documents)
        return (
            header_html(status_html(startup)),
            gr.Timer(active=False),
            gr.Textbox(interactive=True, placeholder=INPUT_PLACEHOLDER),
            gr.Button(interactive=True),
            gr.CheckboxGroup(choices=ui.document_choices(docs), value=[d.doc_id for d in docs]),
            ui.articles_html(docs),
            ui.timeline_html(docs),
            *structure_views(index).tab_html,
        )

    timer.tick(poll, None, outputs, **_PRIVATE_INSTANT)
    demo.load(poll, None, outputs, **_PRIVATE_INSTANT)


# --- chat -------------------------------------------------------------------------------------

INPUT_PLACEHOLDER = "Ask about the articles…"
# Runs in the page when a question is sent, before the server sees it: empties the box at
# once (a refused question is put back by the server), passing every input on unchanged.
# While an answer is pending, trigger_mode="once" ignores a second Enter, but this script still
# runs: it leaves the box alone then (window.qaPending), so that question is not lost.
CLEAR_INPUT_JS = """(...args) => {
  if (window.qaPending) return args;
  window.qaPending = true;
  const t = document.querySelector('#qa-input textarea');
  if (t) { t.value = ''; t.dispatchEvent(new Event('input', {bubbles: true})); }
  return args;
}"""
# Runs in the page when an answer has arrived (or failed): the next question may be sent.
END_PENDING_JS = "() => { window.qaPending = false; }"
WAIT_PLACEHOLDER = "The articles are being indexed; the chat opens in a moment…"


@dataclass(frozen=True)
class ChatParts:
    """The Chat tab's components that its events read and write."""

    chatbot: Any
    msg: Any
    send: Any
    clear: Any
    export: Any
    note: Any
    chip: Any
    k: Any
    docs: Any
    date_from: Any
    date_to: Any
    articles: Any
    sources: Any


def chat_tab() -> ChatParts:
    """The Chat tab's layout: conversation and filters on the left, Sources on the right (a
    drawer over the answer on a phone)."""
    import gradio as gr

    with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False, elem_id="qa-chat-row"):
        with gr.Column(scale=3, min_width=420, elem_id="qa-chat-col"):
            chatbot, msg, send, chip, note = _conversation()
            with gr.Row(elem_id="qa-chat-tools"):
                clear = gr.Button("Clear conversation", size="sm", elem_id="qa-clear")
                export = gr.DownloadButton(
                    "Export as Markdown", size="sm", elem_id="qa-export", value=None
                )
            k, docs, date_from, date_to, articles = _filters()
        with (
            gr.Column(scale=2, min_width=320, elem_id="qa-side"),
            gr.Group(elem_id="qa-sources-col"),
        ):
            gr.HTML(
                '<div class="qa-sources-bar"><h2>Sources</h2>'
                '<button type="button" id="qa-drawer-close" class="qa-drawer-close">'
                "← Back to the answer</button></div>",
                elem_id="qa-sources-head",
            )
            sources = gr.HTML(ui.EMPTY_SOURCES, elem_id="qa-sources", js_on_load=None)
    return ChatParts(
        chatbot, msg, send, clear, export, note, chip, k, docs, date_from, date_to, articles,
        sources,
    )  # fmt: skip


def _conversation() -> tuple[Any, Any, Any, Any, Any]:
    import gradio as gr

    chatbot = gr.Chatbot(
        label="Conversation",
        show_label=False,
        elem_id="qa-chat",
        height=460,
        buttons=["copy"],
        latex_delimiters=[],
        sanitize_html=True,
        allow_tags=False,
        feedback_options=None,
        placeholder="Ask about the Vietnam–UK articles. Every answer quotes "
        "the articles and cites them as [1], [2]…",
        # Shown in the empty chat, in full (gr.Examples cut long questions mid-word).
        examples=[{"text": q, "display_text": q} for q in ui.EXAMPLES],
    )
    chip = gr.Button("", visible=False, size="sm", elem_id="qa-chip", elem_classes=["qa-chip"])
    with gr.Row(elem_id="qa-ask-row"):
        msg = gr.Textbox(
            show_label=False,
            placeholder=WAIT_PLACEHOLDER,
            scale=6,
            lines=1,
            max_lines=4,
            elem_id="qa-input",
            autofocus=True,
            interactive=False,
        )
        send = gr.Button("Ask", variant="primary", scale=1, min_width=80, interactive=False,
                         elem_id="qa-ask")  # fmt: skip
    note = gr.HTML("", elem_id="qa-input-note")
    return chatbot, msg, send, chip, note


def _filters() -> tuple[Any, Any, Any, Any, Any]:
    import gradio as gr

    with gr.Group(elem_id="qa-filters"):
        gr.Markdown("**Search in** — the articles, oldest first (untick one to leave it out)")
        docs = gr.CheckboxGroup(choices=[], value=[], show_label=False, elem_id="qa-docs")
        with gr.Row():
            date_from = gr.Textbox(label="From date", placeholder="YYYY-MM-DD", max_lines=1,
                                   elem_id="qa-date-from")  # fmt: skip
            date_to = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", max_lines=1,
                                 elem_id="qa-date-to")  # fmt: skip
        gr.Markdown(
            "A date range leaves out articles whose date is unknown; inferred dates count "
            "as their date.",
            elem_classes=["qa-hint"],
        )
    articles = gr.HTML("", visible=False)  # the list lives in the checkboxes' labels
    with gr.Accordion("More settings", open=False, elem_id="qa-settings"):
        k = gr.Slider(
            1,
            10,
            value=5,
            step=1,
            label="Passages to read (k)",
            info="More passages can find more, but may add noise.",
        )
    return k, docs, date_from, date_to, articles


def chat_events(demo: Any, c: ChatParts, startup: Startup, workdir: Path) -> None:
    """The Chat tab's events: ask (one question at a time), show a reply's sources, the
    filter chip, clear, export, the conversation kept in the browser, and the ``/chat`` API."""
    import gradio as gr

    panels = gr.State({})
    saved = gr.BrowserState({"history": [], "panels": {}}, storage_key="qa-conversation")

    def ask(message: str, history: list, k_: int, selected: list, d_from: str, d_to: str,
            panel_map: dict):  # fmt: skip
        problem = ui.question_problem(message)
        if problem:  # nothing is sent: the chat stays as it was, the text back in the box
            yield (message, gr.skip(), gr.skip(), gr.skip(), gr.skip(),
                   ui.input_note(problem), gr.skip(), gr.skip())  # fmt: skip
            return
        asked = ui.append_user(history, message)
        busy = gr.Button(value="Answering…", interactive=False)
        # The box was emptied in the page at once (CLEAR_INPUT_JS); a next question typed
        # meanwhile stays there, so the server never writes the box here.
        yield gr.skip(), asked, gr.skip(), gr.skip(), gr.skip(), "", busy, gr.skip()
        turn = ui.respond(
            startup.index,
            message,
            history,
            k=k_,
            selected=selected,
            date_from=d_from,
            date_to=d_to,
            startup_error=startup.error or "The index is still being prepared; ask again soon.",
        )
        answered = ui.append_reply(asked, message, turn)
        panel_map = {**panel_map, str(len(answered) - 1): turn.sources}
        yield (
            gr.skip(),
            answered,
            turn.sources,
            panel_map,
            {"history": answered, "panels": panel_map},
            "",
            gr.Button(value="Ask", interactive=True),
            ui.write_conversation(answered, workdir),
        )

    gr.on(
        [c.msg.submit, c.send.click],
        ask,
        [c.msg, c.chatbot, c.k, c.docs, c.date_from, c.date_to, panels],
        [c.msg, c.chatbot, c.sources, panels, saved, c.note, c.send, c.export],
        # "once": while an answer is pending a second Enter is ignored and its text stays in
        # the box (Ask shows "Answering…"), so no question is dropped half-way.
        trigger_mode="once",
        js=CLEAR_INPUT_JS,
        concurrency_limit=CHAT_CONCURRENCY,
        concurrency_id="answer",
        api_visibility="private",
        show_progress="minimal",
    ).then(None, None, None, js=END_PENDING_JS)

    def pick_example(evt: gr.SelectData) -> str:
        value = evt.value if isinstance(evt.value, dict) else {}
        return str(value.get("text") or "")

    c.chatbot.example_select(pick_example, None, [c.msg], **_PRIVATE_INSTANT).then(
        ask,
        [c.msg, c.chatbot, c.k, c.docs, c.date_from, c.date_to, panels],
        [c.msg, c.chatbot, c.sources, panels, saved, c.note, c.send, c.export],
        concurrency_limit=CHAT_CONCURRENCY,
        concurrency_id="answer",
        api_visibility="private",
        show_progress="minimal",
    )

    def show_panel(panel_map: dict, evt: gr.SelectData) -> Any:
        html = ui.panel_for(panel_map, evt.index if isinstance(evt.index, int) else None)
        return gr.skip() if html is None else html

    c.chatbot.select(show_panel, [panels], [c.sources], **_PRIVATE_INSTANT)

    def restore(stored: dict) -> tuple:
        history = list((stored or {}).get("history") or [])
        panel_map = dict((stored or {}).get("panels") or {})
        return (history, ui.last_panel(panel_map), panel_map,
                ui.write_conversation(history, workdir))  # fmt: skip

    def reset() -> tuple:
        empty = {"history": [], "panels": {}}
        return [], ui.EMPTY_SOURCES, {}, empty, "", "", None

    for clearing in (c.clear.click, c.chatbot.clear):
        clearing(reset, None, [c.chatbot, c.sources, panels, saved, c.msg, c.note, c.export],
                 **_PRIVATE_INSTANT)  # fmt: skip

    def chip_label(selected: list, d_from: str, d_to: str) -> Any:
        index = startup.index
        label = ui.filter_chip(selected, list(index.documents) if index else [], d_from, d_to)
        return gr.Button(value=label or " ", visible=bool(label))

    for changed in (c.docs.change, c.date_from.change, c.date_to.change):
        changed(chip_label, [c.docs, c.date_from, c.date_to], [c.chip], **_PRIVATE_INSTANT)

    def remove_filter() -> tuple:
        index = startup.index
        return ([d.doc_id for d in index.documents] if index else [], "", "",
                gr.Button(visible=False))  # fmt: skip

    c.chip.click(remove_filter, None, [c.docs, c.date_from, c.date_to, c.chip],
                 **_PRIVATE_INSTANT)  # fmt: skip
    # A reload (or a new tab) shows the conversation kept in this browser.
    demo.load(restore, [saved], [c.chatbot, c.sources, panels, c.export], **_PRIVATE_INSTANT)
    _chat_api(startup)


def _chat_api(startup: Startup) -> None:
    import gradio as gr

    def chat(message: str, history: list[dict] | None = None) -> str:
        """Answer a question about the articles.

        ``history`` is earlier turns as ``[{"role": "user"|"assistant", "content": str}]``.
        Returns the answer as Markdown: quoted sentences with [n] citations, then Sources.
        """
        error = startup.error or "The index is still being prepared; ask again in a moment."
        return ui.respond(startup.index, message, history or [], startup_error=error).reply

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


# The views start with this; the start-up's ready handler fills them (startup_events).
VIEWS_WAIT = "The events, people and agreements appear here once the index is ready."


def documents_tab() -> DocsParts:
    """The Documents tab's layout: events, people, agreements and articles, and the reader.
    Each starts with a notice: the index is opened in the background (see startup_events)."""
    import gradio as gr

    wait = ui.notice_html(VIEWS_WAIT)
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
                    events = _structure_html(wait, "qa-events")
                with gr.Tab("People", id="doc-people"):
                    people = _structure_html(wait, "qa-people")
                with gr.Tab("Agreements", id="doc-agreements"):
                    tracker = _structure_html(wait, "qa-tracker")
                with gr.Tab("Articles", id="doc-articles"):
                    timeline = gr.HTML(
                        ui.notice_html("The articles appear here once the index is ready."),
                        elem_id="qa-timeline",
                        js_on_load=TIMELINE_JS,
                    )
            with gr.Column(scale=2, min_width=320, elem_id="qa-reader-col"):
                doc_view = gr.HTML(
                    ui.notice_html("Open a cited sentence, or click an article, to read it here."),
                    elem_id="qa-doc",
                    js_on_load=READER_JS,
                )
    return DocsParts(timeline, events, people, tracker, doc_view)


def _structure_html(value: str, elem_id: str) -> Any:
    import gradio as gr

    return gr.HTML(value, elem_id=elem_id, elem_classes=["qa-structure"], js_on_load=STRUCTURE_JS)


def documents_events(d: DocsParts, startup: Startup) -> None:
    """A click on an article opens its cleaned text; an "Open" button of the events, people or
    agreements opens its article at the cited paragraph."""
    import gradio as gr

    from qa.structure_views import open_cited_html

    def show_document(evt: gr.EventData) -> str:
        doc_id = getattr(evt, "doc", None)
        index = startup.index
        if index is None:
            return ui.notice_html(startup.error or "The index is still being prepared.", "error")
        if doc_id not in {d.doc_id for d in index.documents}:
            return ui.notice_html("Click an article in the timeline to read it.")
        return ui.document_html(index.document(doc_id))

    def show_citation(evt: gr.EventData) -> str:
        error = startup.error or "The index is still being prepared."
        return open_cited_html(startup.index, getattr(evt, "cite", ""), error)

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


def evaluate_events(
    e: EvalParts, startup: Startup, workdir: Path, upload_root: str
) -> Any:  # qa.ui.Uploads
    """Check an upload when it arrives; run it on the button (one evaluation at a time).
    Returns the registry of which session uploaded which file."""
    import gradio as gr

    uploads = ui.Uploads(upload_root)

    def check_file(path: str | None, request: gr.Request) -> tuple[str, Any]:
        if not path:
            return "", gr.skip()
        session = request.session_hash or ""
        if not uploads.claim(session, path):  # another session's file: refuse, never delete
            return ui.warning_markdown(ui.NOT_YOUR_UPLOAD), None
        try:
            ui.check_upload(path)
        except ui.InputError as exc:
            uploads.remove(session, path)
            return ui.warning_markdown(str(exc)), None
        return "Ready: press **Run evaluation**.", gr.skip()

    def evaluate(
        path: str | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple:
        progress(0, desc="Reading questions")
        result = ui.run_evaluation(
            startup.index,
            path,
            workdir,
            upload_root=upload_root,
            startup_error=startup.error or "The index is still being prepared; try again soon.",
            progress=lambda done, total: progress((done, total), desc="Answering questions",
                                                  unit="questions"),
            keep_upload=True,  # the file stays in the box: run it again, or compare
            owner=request.session_hash or "",
            uploads=uploads,
        )  # fmt: skip
        return (result.message, result.summary, result.rows, result.plot, result.report)

    e.upload.upload(check_file, [e.upload], [e.message, e.upload], api_visibility="private")
    e.run.click(
        evaluate,
        [e.upload],
        [e.message, e.summary, e.rows, e.plot, e.report],
        concurrency_limit=EVAL_CONCURRENCY,
        concurrency_id="eval",
        api_visibility="private",
    )
    return uploads


def _eval_results() -> tuple[Any, Any, Any]:
    import gradio as gr

    with gr.Row(equal_height=False):
        summary = gr.Dataframe(
            headers=ui.SUMMARY_HEADERS,
            interactive=False,
            label="Summary",
            max_height=520,
            scale=2,
            min_width=300,
            wrap=True,
            column_widths=["58%", "17%", "25%"],
        )
        plot = gr.Image(
            label="Three metrics by kind of question",
            show_label=False,
            type="filepath",
            interactive=False,
            scale=3,
            elem_id="qa-eval-plot",
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


def _stage(startup: Startup) -> tuple[str, int, int]:
    """The start-up's stage for the starting page: words, texts embedded, texts in all."""
    p = startup.progress
    if p.ready:
        return "The articles are ready; opening the chat…", 0, 0
    return p.error or p.stage, p.done, p.total


def _report_start(startup: Startup) -> None:
    """The start-up's outcome in the terminal too (the page shows it as it goes)."""
    p = startup.wait()
    if p.error:
        print(f"error: {p.error}", file=sys.stderr, flush=True)
    else:
        print(f"{status_html_text(startup)} ({p.seconds:.1f} s)", file=sys.stderr, flush=True)


def status_html_text(startup: Startup) -> str:
    """The ready status line as plain text."""
    index = startup.index
    return ui.status_line(index) if index is not None else startup.progress.stage


def theme() -> Any:
    """The Soft theme with system fonts (no web fetch) and AA-contrast primary buttons: white
    on indigo-700 is 7.9:1, on indigo-600 6.3:1 (the default indigo-500 is 4.47:1)."""
    import gradio as gr

    font = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "monospace"]
    return gr.themes.Soft(font=font, font_mono=mono).set(
        button_primary_background_fill="#4338ca",
        button_primary_background_fill_hover="#3730a3",
        button_primary_background_fill_dark="#4f46e5",
        button_primary_background_fill_hover_dark="#4338ca",
        button_primary_text_color="#ffffff",
        button_primary_text_color_dark="#ffffff",
        # Labels and accents in light mode: indigo-700 (#4338ca) on the label's indigo-100 is
        # 6.3:1, the default indigo-500 3.6:1. Subdued text: neutral-600, 7.6:1 on white.
        block_label_text_color="*primary_700",
        block_title_text_color="*primary_700",
        color_accent="*primary_600",
        body_text_color_subdued="*neutral_600",
    )


def main(argv: list[str] | None = None) -> int:
    """Check the exposure policy, load the index, serve until interrupted; the exit code."""
    args = parse_args(argv)
    try:
        plan = launch.plan(args.host, args.port, args.auth, args.share)
    except launch.LaunchRefused as exc:  # before loading anything: refusing must be instant
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    startup = Startup(args.corpus, args.index).start()  # the page serves while it runs
    try:  # a page within a second, while Gradio (4-7 s) is imported
        early = Placeholder(plan.host, plan.port, lambda: _stage(startup)).start()
    except OSError as exc:  # port in use, bad host
        print(f"error: cannot serve on {plan.host}:{plan.port}: {exc}", file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="qa-app-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    demo = build_demo(startup, workdir)
    demo.queue(default_concurrency_limit=CHAT_CONCURRENCY, max_size=QUEUE_MAX)
    threading.Thread(target=_report_start, args=(startup,), daemon=True).start()

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # Gradio's serving loop closes the server on this

    signal.signal(signal.SIGTERM, stop)
    from starlette.middleware import Middleware

    guard = Middleware(
        launch.RequestGuard,
        loopback_only=launch.is_loopback(plan.host) and not plan.share,
        max_upload_bytes=ui.MAX_UPLOAD_BYTES,
    )

    early.stop()  # hand the port to Gradio; the starting page reloads itself onto the app
    try:
        demo.launch(
            server_name=plan.host,
            server_port=plan.port,
            share=plan.share,
            auth=plan.auth,
            auth_message="Sign in to ask questions about the articles.",
            max_file_size=ui.MAX_UPLOAD_BYTES,
            app_kwargs={"middleware": [guard]},  # before Gradio's routes do any work
            ssr_mode=False,
            show_error=False,
            quiet=False,
            theme=theme(),
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
