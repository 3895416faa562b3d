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
from pathlib import Path
from typing import Any

# Offline by design: no usage analytics, no model hub look-ups (the model is bundled).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa import ui  # noqa: E402 - after the environment defaults above
from qa.errors import QAError  # noqa: E402

log = logging.getLogger("qa.app")

# Two cores serve everything. An answer is ~0.1-1 s of CPU; two at a time keeps both cores
# busy without making every user wait on one slow request. Evaluation runs take minutes, so
# they get their own single slot and cannot starve the chat. Beyond QUEUE_MAX waiting
# requests new ones are refused ("queue full") instead of piling up for minutes.
CHAT_CONCURRENCY = 2
EVAL_CONCURRENCY = 1
QUEUE_MAX = 32
TITLE = "Vietnam–UK cooperation against human trafficking · article Q&A"


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


def paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """Corpus and index folders, resolved as the ``qa`` command does."""
    from qa import default_paths

    corpus, index = default_paths()
    if args.corpus:
        corpus = Path(args.corpus)
        if not args.index:
            index = corpus.resolve().parent / "embeddings"
    if args.index:
        index = Path(args.index)
    return corpus, index


def load(args: argparse.Namespace) -> tuple[Any, str]:
    """``(index, "")``, or ``(None, message)`` when the index cannot be loaded or built."""
    corpus, index_dir = paths(args)
    print(f"loading index {index_dir} (corpus {corpus})", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    try:
        from qa.index import load_index, open_index

        if args.corpus or not args.index:
            index = open_index(corpus, index_dir, show_progress=True)
        else:  # an explicit index alone: never guess where its corpus is
            index = load_index(index_dir, check_stale=True)
        index.answer(ui.EXAMPLES[0])  # loads the model now, not on the first user's time
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return None, str(exc)
    print(f"{ui.status_line(index)} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return index, ""


CSS = """
.qa-header h1 {font-size: 1.35rem; margin: 0 0 2px 0;}
.qa-header .qa-sub {color: var(--body-text-color-subdued); font-size: .92rem;}
#qa-status {font-size: .82rem; color: var(--body-text-color-subdued); margin-top: 2px;}
#qa-status.qa-error {color: var(--error-text-color, #b91c1c); font-size: .95rem;
  border: 1px solid #ef4444; border-radius: 8px; padding: 8px 12px; background: #fef2f2;}
#qa-sources .qa-sources {max-height: 640px; overflow-y: auto; padding-right: 4px;}
.qa-asked {font-weight: 600; margin: 2px 0 4px;}
.qa-head {font-size: .85rem; color: var(--body-text-color-subdued); margin-bottom: 6px;}
.qa-head.qa-declined {color: #b45309; font-weight: 600;}
.qa-hint {font-size: .8rem; color: var(--body-text-color-subdued);}
details.qa-cite {border: 1px solid var(--border-color-primary); border-radius: 8px;
  margin: 0 0 8px; padding: 6px 10px; background: var(--block-background-fill);}
details.qa-cite[open] {border-color: var(--color-accent);}
details.qa-cite summary {cursor: pointer; line-height: 1.35;}
.qa-n {font-weight: 700; color: var(--color-accent); margin-right: 2px;}
.qa-title {font-weight: 600;}
.qa-meta {display: block; font-size: .8rem; color: var(--body-text-color-subdued);
  margin: 2px 0 0 0;}
.qa-inferred {font-style: italic; color: #b45309;}
.qa-passage {margin-top: 6px; font-size: .92rem; line-height: 1.5;}
.qa-para {margin: 0 0 6px;}
.qa-pn {font-size: .72rem; color: var(--body-text-color-subdued); margin-right: 4px;
  font-variant-numeric: tabular-nums;}
.qa-file {font-size: .72rem; color: var(--body-text-color-subdued); font-family: monospace;}
.qa-sources mark, .qa-doc mark {background: #fde68a; color: #1f2937; padding: 0 2px;
  border-radius: 2px;}
.qa-notice {padding: 10px 12px; border-radius: 8px; border: 1px dashed var(--border-color-primary);
  color: var(--body-text-color-subdued);}
.qa-notice.qa-warning {border: 1px solid #f59e0b; color: #92400e; background: #fffbeb;}
.qa-notice.qa-error {border: 1px solid #ef4444; color: #b91c1c; background: #fef2f2;}
a.qa-cite-link {text-decoration: none; font-weight: 600; color: var(--color-accent);
  cursor: pointer; border-radius: 3px; padding: 0 1px;}
a.qa-cite-link:hover {background: var(--color-accent-soft);}
details.qa-flash {box-shadow: 0 0 0 3px var(--color-accent-soft);}
.qa-doc {max-height: 620px; overflow-y: auto;}
.qa-doc-title {margin: 0 0 4px;}
.qa-note {font-size: .8rem; color: var(--body-text-color-subdued); margin: 4px 0 10px;}
.qa-doc-body {line-height: 1.55;}
.qa-doc-body .qa-para {margin: 0 0 10px;}
ol.qa-timeline {list-style: none; margin: 0; padding: 0 0 0 14px;
  border-left: 2px solid var(--border-color-primary);}
li.qa-tl-item {position: relative; margin: 0 0 10px; padding: 8px 10px; cursor: pointer;
  border: 1px solid var(--border-color-primary); border-radius: 8px;
  background: var(--block-background-fill);}
li.qa-tl-item::before {content: ""; position: absolute; left: -21px; top: 14px; width: 10px;
  height: 10px; border-radius: 50%; background: var(--color-accent);}
li.qa-tl-item:hover, li.qa-tl-item:focus {border-color: var(--color-accent); outline: none;}
li.qa-tl-item.qa-active {border-color: var(--color-accent);
  box-shadow: 0 0 0 2px var(--color-accent-soft);}
.qa-tl-date {font-weight: 700; font-size: .85rem; font-variant-numeric: tabular-nums;}
.qa-tl-title {font-weight: 600; margin: 2px 0;}
.qa-tl-lead {font-size: .85rem; color: var(--body-text-color-subdued); margin-top: 2px;}
"""

# Turns each "[n]" of an answer into a link that opens source n in the Sources panel. The
# chat text itself stays plain (so Copy gives clean Markdown); the links are added in the page.
JS = r"""
() => {
  const CITE = /\[(\d{1,2})\]/g;
  let pending = null;
  const panel = () => document.querySelector('#qa-sources .qa-sources');
  function wrap() {
    document.querySelectorAll('#qa-chat .message.bot, #qa-chat [data-testid="bot"]')
      .forEach((msg) => {
        const walker = document.createTreeWalker(msg, NodeFilter.SHOW_TEXT);
        const hits = [];
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          if (n.parentElement.closest('a, code, pre, button')) continue;
          CITE.lastIndex = 0;
          if (CITE.test(n.nodeValue)) hits.push(n);
        }
        hits.forEach((n) => {
          const text = n.nodeValue;
          const frag = document.createDocumentFragment();
          let last = 0;
          text.replace(CITE, (m, num, off) => {
            frag.append(text.slice(last, off));
            const a = document.createElement('a');
            a.href = '#qa-cite-' + num;
            a.className = 'qa-cite-link';
            a.dataset.cite = num;
            a.title = 'Show source ' + num;
            a.textContent = m;
            frag.append(a);
            last = off + m.length;
            return m;
          });
          frag.append(text.slice(last));
          n.replaceWith(frag);
        });
      });
  }
  function openCite(num) {
    const el = document.getElementById('qa-cite-' + num);
    if (!el) return false;
    document.querySelectorAll('#qa-sources details.qa-cite').forEach((d) => {
      d.open = d === el;
    });
    el.scrollIntoView({block: 'nearest'});
    el.classList.add('qa-flash');
    setTimeout(() => el.classList.remove('qa-flash'), 1500);
    return true;
  }
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest && ev.target.closest('a.qa-cite-link');
    if (!a) return;
    ev.preventDefault();  // no navigation; the chat's select event still fires
    pending = {num: a.dataset.cite, text: panel()?.textContent, t: Date.now()};
    openCite(a.dataset.cite);
  }, true);
  let scheduled = false;
  new MutationObserver(() => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      wrap();
      // Clicking a marker of an older answer swaps the panel to that answer's sources.
      if (pending && panel()?.textContent !== pending.text) {
        if (Date.now() - pending.t < 4000) openCite(pending.num);
        pending = null;
      }
    });
  }).observe(document.body, {childList: true, subtree: true});
}
"""


# Runs inside the timeline's gr.HTML: a click (or Enter) on an article sends its id to Python.
TIMELINE_JS = """
const pick = (item) => {
  element.querySelectorAll('.qa-tl-item')
    .forEach((x) => x.classList.toggle('qa-active', x === item));
  trigger('click', {doc: item.dataset.doc});
};
element.addEventListener('click', (ev) => {
  const item = ev.target.closest('.qa-tl-item');
  if (item) pick(item);
});
element.addEventListener('keydown', (ev) => {
  const item = ev.target.closest('.qa-tl-item');
  if (item && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); pick(item); }
});
"""


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

    from qa.ui import EMPTY_SOURCES

    documents = list(index.documents) if index is not None else []
    all_ids = [d.doc_id for d in documents]
    choices = ui.document_choices(documents)
    upload_root = os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")

    blocks = gr.Blocks(title="Vietnam–UK Q&A", analytics_enabled=False, delete_cache=(3600, 3600))
    with blocks as demo:
        gr.HTML(header_html(index, error))
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=420):
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
                            placeholder="Ask a question, e.g. Which agencies did Le Quoc "
                            "Hung visit?",
                            scale=6,
                            max_lines=4,
                            elem_id="qa-input",
                            autofocus=True,
                        )
                        send = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                        clear = gr.Button("Clear", scale=1, min_width=80)
                    gr.Examples(
                        examples=[[q] for q in ui.EXAMPLES],
                        inputs=[msg],
                        label="Example questions",
                    )
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
                            choices=choices,
                            elem_id="qa-docs",
                            value=all_ids,
                            label="Search only these documents",
                            show_select_all=True,
                        )
                        with gr.Row():
                            date_from = gr.Textbox(
                                label="From date", placeholder="YYYY-MM-DD", max_lines=1
                            )
                            date_to = gr.Textbox(
                                label="To date", placeholder="YYYY-MM-DD", max_lines=1
                            )
                        gr.Markdown(
                            "A date range leaves out documents whose date is unknown; "
                            "inferred dates count as their date.",
                            elem_classes=["qa-hint"],
                        )
                with gr.Column(scale=2, min_width=320):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(EMPTY_SOURCES, elem_id="qa-sources", js_on_load=None)

            with gr.Tab("Documents", id="documents"):
                gr.Markdown(
                    "The articles, oldest first. Dates marked *(inferred)* are not stated in "
                    "the article. Click an article to read its cleaned text, paragraphs "
                    "numbered as citations refer to them."
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=320):
                        timeline = gr.HTML(
                            ui.timeline_html(documents),
                            elem_id="qa-timeline",
                            js_on_load=TIMELINE_JS,
                        )
                    with gr.Column(scale=3, min_width=420):
                        doc_view = gr.HTML(
                            ui.notice_html("Click an article in the timeline to read it."),
                            elem_id="qa-doc",
                            js_on_load=None,
                        )

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
                        report_file = gr.File(
                            label="Report (JSON)", interactive=False, elem_id="qa-report"
                        )
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

        pending = gr.State("")
        panels = gr.State({})

        # --- chat ------------------------------------------------------------------------------
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

        chat_inputs = [pending, chatbot, k, docs, date_from, date_to, panels]
        for trigger in (msg.submit, send.click):
            trigger(
                add_user,
                [msg, chatbot],
                [msg, chatbot, pending],
                queue=False,
                api_visibility="private",
            ).then(
                reply,
                chat_inputs,
                [chatbot, sources, panels],
                concurrency_limit=CHAT_CONCURRENCY,
                concurrency_id="answer",
                api_visibility="private",
            )

        def show_panel(panel_map: dict, evt: gr.SelectData) -> Any:
            html = ui.panel_for(panel_map, evt.index if isinstance(evt.index, int) else None)
            return gr.skip() if html is None else html

        chatbot.select(show_panel, [panels], [sources], queue=False, api_visibility="private")

        def reset() -> tuple[list, str, dict, str]:
            return [], EMPTY_SOURCES, {}, ""

        clear.click(
            reset, None, [chatbot, sources, panels, msg], queue=False, api_visibility="private"
        )
        chatbot.clear(
            reset, None, [chatbot, sources, panels, msg], queue=False, api_visibility="private"
        )

        def chat(message: str, history: list[dict] | None = None) -> str:
            """Answer a question about the articles.

            ``history`` is earlier turns as ``[{"role": "user"|"assistant", "content": str}]``.
            Returns the answer as Markdown: quoted sentences with [n] citations, then Sources.
            """
            return ui.respond(index, message, history or [], startup_error=error).reply

        gr.api(chat, api_name="chat", concurrency_limit=CHAT_CONCURRENCY, concurrency_id="answer")

        # --- documents -------------------------------------------------------------------------
        def show_document(evt: gr.EventData) -> str:
            doc_id = getattr(evt, "doc", None)
            if index is None:
                return ui.notice_html(error, "error")
            if doc_id not in all_ids:
                return ui.notice_html("Click an article in the timeline to read it.")
            return ui.document_html(index.document(doc_id))

        timeline.click(show_document, None, [doc_view], queue=False, api_visibility="private")

        # --- evaluation ------------------------------------------------------------------------
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

        upload.upload(check_file, [upload], [eval_msg, upload], api_visibility="private")
        run.click(
            evaluate,
            [upload],
            [eval_msg, summary, rows, plot, report_file, upload],
            concurrency_limit=EVAL_CONCURRENCY,
            concurrency_id="eval",
            api_visibility="private",
        )
    return demo


def main(argv: list[str] | None = None) -> int:
    """Check the exposure policy, load the index, serve until interrupted; the exit code."""
    args = parse_args(argv)
    try:
        port = int(args.port)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        print(f"error: port {args.port!r} is not a port number (1-65535).", file=sys.stderr)
        return 2
    try:
        auth = ui.parse_auth(args.auth)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    refusal = ui.exposure_error(args.host, args.share, auth)
    if refusal:  # before loading anything: refusing must be instant
        print(refusal, file=sys.stderr)
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
            server_name=args.host,
            server_port=port,
            share=bool(args.share),
            auth=auth,
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
        print(f"error: cannot serve on {args.host}:{port}: {exc}", file=sys.stderr)
        return 1
    finally:
        demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
