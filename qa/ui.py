"""What the web app shows, as plain functions: chat replies, source panels, the timeline.

``app.py`` wires these into Gradio; every decision about what a user sees is made here so it
can be tested without a browser or a model. Nothing here imports gradio.

Safety rule: document text is data. HTML panels pass it through :func:`esc` (which also
neutralises the ``${}``/``{{}}`` template syntax of ``gr.HTML``) and Markdown through
:func:`md_escape`, so an article containing ``<script>`` shows the tag as text.
"""

from __future__ import annotations

import datetime as _dt
import html
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.dates import is_iso_date
from qa.errors import QAError
from qa.render import answer_body, md_escape, md_unescape, outlet

if TYPE_CHECKING:
    from qa.evaluation import EvalReport
    from qa.index import Index
    from qa.types import Answer, Document, Passage

log = logging.getLogger("qa.app")

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_EVAL_QUESTIONS = 1000  # ~1 s each on 2 cores: keeps one upload under ~20 minutes
UPLOAD_SUFFIXES = (".jsonl", ".json")

EXAMPLES = (
    "Which agencies did Le Quoc Hung visit?",
    "When did To Lam and the UK Home Secretary talk by phone?",
    "What did Luong Tam Quang urge the UK Home Office to facilitate?",
    "What agreement did Le Quoc Hung suggest the two sides negotiate?",
    "Who hosted the reception on August 16?",
)


class InputError(QAError, ValueError):
    """A setting or upload the user can correct (bad date, nothing ticked, wrong file type)."""


# --- escaping ---------------------------------------------------------------------------------

# gr.HTML renders its value through a JS template string and Handlebars: "${...}" or "{{...}}"
# in an article must reach the page as characters, never as template code.
_TEMPLATE_CHARS = str.maketrans({"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;"})


def esc(text: Any) -> str:
    """``text`` as inert HTML: markup, quotes and template syntax become entities."""
    return html.escape(str(text), quote=True).translate(_TEMPLATE_CHARS)


# --- chat history -----------------------------------------------------------------------------


def message_text(content: Any) -> str:
    """The text of a chat message's content, whatever shape Gradio gave it.

    Gradio 6 hands a Chatbot's history to callbacks with ``content`` as a list of blocks
    (``[{"type": "text", "text": ...}]``); API clients usually send a plain string.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        if isinstance(content.get("text"), str):
            return content["text"]
        if "content" in content:
            return message_text(content["content"])
        return ""
    if isinstance(content, (list, tuple)):
        return "\n".join(t for t in (message_text(c) for c in content) if t)
    return ""


def normalize_history(history: Any, max_messages: int = 12) -> list[dict[str, str]]:
    """Chat history as ``[{"role", "content": str}]`` for ``Index.answer``.

    Keeps user and assistant text only, unescapes what the UI escaped for display, and keeps
    the last ``max_messages`` (follow-ups only look back a turn or two).
    """
    out: list[dict[str, str]] = []
    if not isinstance(history, (list, tuple)):
        return out
    for item in history:
        if isinstance(item, dict):
            role, content = item.get("role"), item.get("content")
        else:
            role, content = getattr(item, "role", None), getattr(item, "content", None)
        if role not in ("user", "assistant"):
            continue
        text = md_unescape(message_text(content)).strip()
        if text:
            out.append({"role": role, "content": text})
    return out[-max_messages:]


def user_bubble(message: str, limit: int = 400) -> str:
    """The user's message as shown in the chat: escaped, and shortened if very long."""
    text = message.strip()
    if len(text) > limit:
        return f"{md_escape(text[:limit].rstrip())}… ({len(message):,} characters)"
    return md_escape(text)


# --- settings ---------------------------------------------------------------------------------


def parse_date(value: str | None, name: str) -> str | None:
    """An ISO date from a textbox (``""`` means no bound); raises :class:`InputError`."""
    text = (value or "").strip()
    if not text:
        return None
    if not is_iso_date(text):
        raise InputError(
            f"{name} {text!r} is not a date. Use YYYY-MM-DD (e.g. 2024-01-31) or leave it empty."
        )
    return text


@dataclass(frozen=True)
class Filters:
    """What the Settings accordion restricts a search to (``None`` = no restriction)."""

    doc_ids: tuple[str, ...] | None = None
    date_from: str | None = None
    date_to: str | None = None


def parse_filters(
    selected: Sequence[str] | None,
    all_ids: Sequence[str],
    date_from: str | None = "",
    date_to: str | None = "",
) -> Filters:
    """Validate the Settings; raises :class:`InputError` with the fix in its message."""
    doc_ids: tuple[str, ...] | None = None
    if selected is not None:
        chosen = tuple(d for d in all_ids if d in set(selected))
        if not chosen:
            raise InputError(
                "No document is ticked in Settings. Tick at least one document to search."
            )
        if len(chosen) < len(all_ids):
            doc_ids = chosen
    start = parse_date(date_from, "The 'from' date")
    end = parse_date(date_to, "The 'to' date")
    if start and end and start > end:
        raise InputError(f"The 'from' date {start} is after the 'to' date {end}. Swap them.")
    return Filters(doc_ids, start, end)


# --- answers ----------------------------------------------------------------------------------


def chat_markdown(answer: Answer) -> str:
    """The chat reply: the answer's Markdown, plus the rewritten query when a follow-up was
    resolved (so the user can see what was actually searched)."""
    text = answer.text
    if answer.rewritten and answer.query and answer.query != answer.question:
        text += f"\n\n<small><em>Searched for: {md_escape(answer.query)}</em></small>"
    return text


def warning_markdown(message: str) -> str:
    """A reply for a question that could not be asked (empty, too long, bad settings)."""
    return f"⚠️ {md_escape(message)}"


def _find_spans(text: str, sentences: Iterable[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for sentence in sentences:
        s = sentence.strip()
        if not s:
            continue
        i = text.find(s)
        if i >= 0:
            spans.append((i, i + len(s)))
            continue
        # The passage may wrap or space the sentence differently: match word by word.
        tokens = s.split()
        m = re.search(r"\s+".join(re.escape(t) for t in tokens), text)
        if m:
            spans.append(m.span())
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _marked(text: str, spans: Sequence[tuple[int, int]], offset: int = 0) -> str:
    """Escape ``text`` (which starts at ``offset`` of the passage), wrapping spans in <mark>."""
    out: list[str] = []
    pos = 0
    for a, b in spans:
        a, b = max(a - offset, 0), min(b - offset, len(text))
        if b <= 0 or a >= len(text) or a >= b:
            continue
        a = max(a, pos)
        out.append(esc(text[pos:a]))
        out.append(f"<mark>{esc(text[a:b])}</mark>")
        pos = b
    out.append(esc(text[pos:]))
    return "".join(out)


def highlight(text: str, sentences: Iterable[str]) -> str:
    """``text`` escaped, each of ``sentences`` found in it wrapped in ``<mark>``."""
    return _marked(text, _find_spans(text, sentences))


def passage_body(passage: Passage, sentences: Iterable[str] = ()) -> str:
    """A passage as HTML paragraphs numbered like the document's, sentences highlighted."""
    text = passage.text
    spans = _find_spans(text, sentences)
    parts: list[str] = []
    pos = 0
    blocks = text.split("\n\n")
    for i, block in enumerate(blocks):
        number = passage.paragraph + i
        body = _marked(block, spans, pos)
        parts.append(
            f'<p class="qa-para"><span class="qa-pn" title="paragraph {number}">¶{number}</span> '
            f"{body}</p>"
        )
        pos += len(block) + 2
    return "".join(parts)


def date_html(date: str, inferred: bool) -> str:
    """A date with an explicit, explained "(inferred)" marker where it was not stated."""
    if not date:
        return '<span class="qa-date">date unknown</span>'
    label = f'<span class="qa-date">{esc(date)}</span>'
    if inferred:
        label += (
            ' <span class="qa-inferred" title="The article does not state the year; it is '
            'inferred from who held which office at the time.">(inferred)</span>'
        )
    return label


def _meta_line(p: Passage) -> str:
    return (
        f'<span class="qa-outlet">{esc(outlet(p.source))}</span> · {date_html(p.date, p.date_inferred)}'
        f' · <span class="qa-loc">{esc(p.paragraph_label)}</span>'
    )


def citation_sentences(answer: Answer, n: int) -> list[str]:
    """The quoted sentences that citation ``[n]`` supports."""
    if answer.supports and len(answer.supports) == len(answer.sentences):
        return [s for s, sup in zip(answer.sentences, answer.supports) if n in sup]
    passage = answer.citations[n - 1]
    return [s for s in answer.sentences if " ".join(s.split()) in " ".join(passage.text.split())]


def _card(anchor: str, label: str, p: Passage, sentences: Sequence[str], is_open: bool) -> str:
    title = p.title or p.doc_id
    return (
        f'<details class="qa-cite" id="{esc(anchor)}"{" open" if is_open else ""}>'
        f'<summary><span class="qa-n">{esc(label)}</span> '
        f'<span class="qa-title">{esc(title)}</span>'
        f'<span class="qa-meta">{_meta_line(p)}</span></summary>'
        f'<div class="qa-passage">{passage_body(p, sentences)}</div>'
        f'<div class="qa-file">{esc(p.doc_id)}</div>'
        "</details>"
    )


def sources_html(answer: Answer) -> str:
    """The Sources panel for an answer: one expandable card per citation, the supporting
    sentences highlighted; for a declined question, the related passages instead."""
    q = f'<div class="qa-asked">Q: {esc(answer.question)}</div>'
    if not answer.answerable and answer.citations:
        # A "closest match": the quoted sentence is [1], but it does not answer every part.
        cards = "".join(
            _card(f"qa-cite-{n}", f"[{n}]", p, citation_sentences(answer, n), n == 1)
            for n, p in enumerate(answer.citations, 1)
        )
        missing = ", ".join(answer.missing) or "a part of the question"
        head = (
            '<div class="qa-head qa-declined">Closest match only: the articles do not mention '
            f"{esc(missing)}.</div>"
        )
        return f'<div class="qa-sources" data-state="declined">{q}{head}{cards}</div>'
    if not answer.answerable:
        cards = "".join(
            _card(f"qa-rel-{i}", "·", p, (), i == 1) for i, p in enumerate(answer.passages[:3], 1)
        )
        head = (
            '<div class="qa-head qa-declined">Not in the articles. The closest passages '
            "(they do not answer it):</div>"
        )
        body = cards or '<p class="qa-hint">No related passage was found.</p>'
        return f'<div class="qa-sources" data-state="declined">{q}{head}{body}</div>'
    cards = "".join(
        _card(f"qa-cite-{n}", f"[{n}]", p, citation_sentences(answer, n), n == 1)
        for n, p in enumerate(answer.citations, 1)
    )
    head = (
        f'<div class="qa-head">{len(answer.citations)} source'
        f"{'s' if len(answer.citations) != 1 else ''} · confidence {answer.confidence:.2f}"
        '<span class="qa-hint"> · click a [n] in the answer or a card to open it</span></div>'
    )
    return f'<div class="qa-sources" data-state="answered">{q}{head}{cards}</div>'


def notice_html(message: str, kind: str = "info", state: str = "notice") -> str:
    """A one-message panel (empty state, warning or startup error)."""
    return (
        f'<div class="qa-sources" data-state="{esc(state)}">'
        f'<div class="qa-notice qa-{esc(kind)}">{esc(message)}</div></div>'
    )


EMPTY_SOURCES = notice_html(
    "Ask a question: the passages behind each citation of the answer appear here, with the "
    "quoted sentence highlighted.",
    state="empty",
)


@dataclass(frozen=True)
class Turn:
    """One chat exchange as the UI shows it."""

    reply: str  # Markdown for the chat bubble
    sources: str  # HTML for the Sources panel
    answer: Answer | None = None


def respond(
    index: Index | None,
    message: str,
    history: Any = None,
    *,
    k: int = 5,
    selected: Sequence[str] | None = None,
    date_from: str | None = "",
    date_to: str | None = "",
    startup_error: str = "",
) -> Turn:
    """Answer ``message`` (with the earlier ``history``) and format the reply and sources.

    ``selected`` are the ticked documents (``None``: all), dates are the Settings textboxes.
    Every failure a user can act on becomes a readable reply, never an exception.
    """
    if index is None:
        msg = startup_error or "The index is not loaded. Fix: run `qa index`, then restart."
        return Turn(warning_markdown(msg), notice_html(msg, "error"))
    try:
        from qa.questions import check_question

        question = check_question(message if isinstance(message, str) else "")
        all_ids = [d.doc_id for d in index.documents]
        f = parse_filters(selected, all_ids, date_from, date_to)
        answer = index.answer(
            question,
            normalize_history(history) or None,
            k=int(k),
            doc_ids=f.doc_ids,
            date_from=f.date_from,
            date_to=f.date_to,
        )
    except QAError as exc:
        return Turn(warning_markdown(str(exc)), notice_html(str(exc), "warning"))
    except Exception as exc:  # a bug must not leave the user with a dead chat
        log.exception("answering %r failed", message)
        msg = f"Answering failed ({type(exc).__name__}). The details are in the server log."
        return Turn(warning_markdown(msg), notice_html(msg, "error"))
    return Turn(chat_markdown(answer), sources_html(answer), answer)


def append_user(history: Any, message: str) -> list[Any]:
    """The chat with the user's message added (nothing added for a blank message)."""
    out = list(history or [])
    if isinstance(message, str) and message.strip():
        out.append({"role": "user", "content": user_bubble(message)})
    return out


def append_reply(history: Any, pending: str, turn: Turn) -> list[Any]:
    """The chat with the assistant's reply to ``pending`` added."""
    return [*list(history or []), {"role": "assistant", "content": turn.reply}]


def prior_history(history: Any, pending: str) -> list[Any]:
    """The conversation before ``pending`` (the chat already shows it as the last message)."""
    items = list(history or [])
    if isinstance(pending, str) and pending.strip() and items:
        last = items[-1]
        role = last.get("role") if isinstance(last, dict) else getattr(last, "role", None)
        if role == "user":
            return items[:-1]
    return items


def panel_for(panels: dict[int, str] | None, message_index: int | None) -> str | None:
    """The Sources panel of the chat message clicked (a question shows its answer's sources);
    ``None`` when that message has none (keep the panel as it is)."""
    if not panels or message_index is None:
        return None
    for i in (message_index, message_index + 1):
        if i in panels:
            return panels[i]
    return None


# --- documents --------------------------------------------------------------------------------


def status_line(index: Index) -> str:
    """``Index: 5 documents, 40 passages, model all-MiniLM-L6-v2`` for the page header."""
    docs = len(index.documents)
    return (
        f"Index: {docs} document{'s' if docs != 1 else ''}, {len(index.passages)} passages, "
        f"model {index.model_id}"
    )


def timeline(documents: Iterable[Document]) -> list[Document]:
    """Documents oldest first; undated ones last (by title)."""
    return sorted(documents, key=lambda d: (not d.meta.date, d.meta.date, d.meta.title, d.doc_id))


def _lead(doc: Document, chars: int) -> str:
    lead = " ".join(doc.lead.split())
    return lead[:chars].rsplit(" ", 1)[0] + "…" if len(lead) > chars else lead


def timeline_html(documents: Iterable[Document], lead_chars: int = 220) -> str:
    """The documents as a clickable timeline, oldest first: date (inferred marked), title,
    outlet and a one-line summary. Each entry carries its ``data-doc`` id for the page script."""
    items = []
    for d in timeline(documents):
        m = d.meta
        items.append(
            f'<li class="qa-tl-item" data-doc="{esc(d.doc_id)}" title="Open this article">'
            f'<div class="qa-tl-date">{date_html(m.date, m.date_inferred)}</div>'
            f'<div class="qa-tl-body"><button type="button" class="qa-tl-title">'
            f"{esc(m.title or d.doc_id)}</button>"
            f'<div class="qa-meta"><span class="qa-outlet">{esc(outlet(m.source))}'
            f'</span> · <span class="qa-file">{esc(d.doc_id)}</span></div>'
            f'<div class="qa-tl-lead">{esc(_lead(d, lead_chars))}</div></div></li>'
        )
    if not items:
        return notice_html("No documents are loaded.")
    return f'<ol class="qa-timeline">{"".join(items)}</ol>'


def document_choices(documents: Iterable[Document]) -> list[tuple[str, str]]:
    """``(label, doc_id)`` pairs in timeline order, for pickers."""
    return [
        (f"{d.meta.date_label} — {d.meta.title or d.doc_id}", d.doc_id) for d in timeline(documents)
    ]


def document_html(doc: Document, focus: int | None = None, sentences: Sequence[str] = ()) -> str:
    """A cleaned document with its paragraphs numbered as citations refer to them; paragraph
    ``focus`` (when given) is marked ``qa-focus`` and ``sentences`` highlighted in it."""
    meta = doc.meta
    title = esc(meta.title or doc.doc_id)
    if meta.title_inferred:
        title += ' <span class="qa-inferred">(title taken from the text)</span>'
    note = f'<div class="qa-note">{esc(meta.date_note)}</div>' if meta.date_note else ""
    paras = "".join(
        f'<p class="qa-para{" qa-focus" if p.number == focus else ""}" id="qa-doc-p{p.number}">'
        f'<span class="qa-pn">¶{p.number}</span> '
        f"{highlight(p.text, sentences) if p.number == focus else esc(p.text)}</p>"
        for p in doc.paragraphs
    )
    return (
        f'<div class="qa-doc" tabindex="0" role="region" aria-label="Article text">'
        f'<h2 class="qa-doc-title">{title}</h2>'
        f'<div class="qa-meta"><span class="qa-outlet">{esc(outlet(meta.source))}'
        f"</span> · {date_html(meta.date, meta.date_inferred)} · "
        f'<span class="qa-file">{esc(doc.doc_id)}</span></div>{note}'
        f'<div class="qa-doc-body">{paras}</div></div>'
    )


# --- evaluation -------------------------------------------------------------------------------


def check_upload(path: str | os.PathLike | None, max_bytes: int = MAX_UPLOAD_BYTES) -> Path:
    """The uploaded question file, if it has the right type and size; else :class:`InputError`."""
    if not path:
        raise InputError("Upload a question file first (.jsonl, or SQuAD .json).")
    p = Path(path)
    if p.suffix.lower() not in UPLOAD_SUFFIXES:
        raise InputError(
            f"{p.name!r} is not a question file. Upload JSON Lines (.jsonl: one "
            '{"question": ..., "answers": [...]} per line) or a SQuAD .json file.'
        )
    size = p.stat().st_size
    if size > max_bytes:
        raise InputError(
            f"{p.name!r} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. "
            "Split the file or evaluate it with `qa eval` on the command line."
        )
    return p


def discard_upload(path: str | os.PathLike | None, root: str | os.PathLike) -> None:
    """Delete an uploaded temp file (and its now-empty folder) if it lies under ``root``."""
    if not path:
        return
    p = Path(path).resolve()
    base = Path(root).resolve()
    if not p.is_relative_to(base) or p == base:
        return
    try:
        p.unlink(missing_ok=True)
        if p.parent != base and not any(p.parent.iterdir()):
            p.parent.rmdir()
    except OSError:
        log.warning("could not remove uploaded file %s", p)


def summary_rows(report: EvalReport) -> list[list[str]]:
    """``[metric, value]`` rows of an evaluation report, in the report's display order."""
    from qa.evaluation import METRIC_KEYS, format_value

    keys = [k for k in METRIC_KEYS if k in report.metrics]
    keys += [k for k in report.metrics if k not in METRIC_KEYS]
    return [[k, format_value(k, report.metrics.get(k))] for k in keys]


QUESTION_HEADERS = ["result", "id", "kind", "question", "why", "rank", "confidence", "answer"]


def question_rows(report: EvalReport, answer_chars: int = 240) -> list[list[Any]]:
    """One row per question, failures first, with the reasons each failed."""
    from qa.evaluation import failures

    out = []
    for row in report.rows:
        why = failures(row)
        text = answer_body(str(row.get("answer", "")))
        text = " ".join(md_unescape(text).split())
        if len(text) > answer_chars:
            text = text[:answer_chars].rsplit(" ", 1)[0] + "…"
        rank = row.get("rank")
        out.append(
            [
                "FAIL" if why else "ok",
                str(row.get("id", "")),
                str(row.get("kind", "")),
                str(row.get("question", "")),
                "; ".join(why),
                "" if rank is None else str(rank),
                f"{float(row.get('confidence', 0.0)):.2f}",
                text,
            ]
        )
    out.sort(key=lambda r: r[0] != "FAIL")  # stable: file order within each group
    return out


@dataclass(frozen=True)
class EvalResult:
    """What the Evaluate tab shows after a run (or a refusal to run)."""

    message: str  # Markdown
    summary: list[list[str]]
    rows: list[list[Any]]
    plot: str | None = None
    report: str | None = None


def run_evaluation(
    index: Index | None,
    path: str | os.PathLike | None,
    workdir: str | os.PathLike,
    *,
    upload_root: str | os.PathLike,
    progress: Any = None,
    k: int = 5,
    limit: int = MAX_EVAL_QUESTIONS,
    startup_error: str = "",
) -> EvalResult:
    """Evaluate an uploaded question file against ``index``; write the JSON report and plot
    into ``workdir``. The upload is deleted whatever happens."""
    try:
        if index is None:
            raise InputError(startup_error or "The index is not loaded. Fix: run `qa index`.")
        checked = check_upload(path)
        from qa.evaluation import evaluate, load_questions

        qset = load_questions(checked)
        total = len(qset.questions)
        if total == 0:
            raise InputError(f"{checked.name!r} holds no questions.")
        report = evaluate(qset, index=index, k=k, progress=progress, limit=limit)
    except (QAError, ValueError, UnicodeDecodeError) as exc:
        return EvalResult(warning_markdown(str(exc)), [], [])
    except Exception as exc:  # a bug must not leave the tab with a bare "Error"
        log.exception("evaluating %s failed", path)
        msg = f"Evaluation failed ({type(exc).__name__}). The details are in the server log."
        return EvalResult(warning_markdown(msg), [], [])
    finally:
        discard_upload(path, upload_root)
    out = Path(workdir)
    out.mkdir(parents=True, exist_ok=True)
    prune(out)
    stem = f"eval-{_dt.datetime.now():%Y%m%d-%H%M%S}-{os.urandom(3).hex()}"
    report_path = out / f"{stem}.json"
    report.write(json=report_path)
    plot_path: Path | None = out / f"{stem}.png"
    try:
        report.write(plot=plot_path)
    except Exception:  # a missing plot must not cost the user the report
        log.exception("plotting the evaluation failed")
        plot_path = None
    rows = question_rows(report)
    failed = sum(1 for r in rows if r[0] == "FAIL")
    msg = (
        f"**{len(rows)} question{'s' if len(rows) != 1 else ''}** from "
        f"`{md_escape(checked.name)}` answered from the top {k} passages: "
        f"**{failed} failed**, {len(rows) - failed} passed."
    )
    if total > len(rows):
        msg += f" Only the first {len(rows)} of {total} were run (the web limit)."
    return EvalResult(
        msg, summary_rows(report), rows, str(plot_path) if plot_path else None, str(report_path)
    )


def prune(folder: str | os.PathLike, max_age: float = 3600.0) -> None:
    """Delete files in ``folder`` older than ``max_age`` seconds (old reports and plots)."""
    import time

    now = time.time()
    for f in Path(folder).glob("eval-*"):
        try:
            if now - f.stat().st_mtime > max_age:
                f.unlink()
        except OSError:
            pass
