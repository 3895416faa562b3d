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
import threading
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
NOT_YOUR_UPLOAD = "That file is not an upload of this session (or it was removed). Upload it again."
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
        f'<div class="qa-card-foot"><span class="qa-file">{esc(p.doc_id)}</span> '
        f'<a class="qa-open-doc" href="#qa-doc" data-doc="{esc(p.doc_id)}" '
        f'data-para="{int(p.paragraph)}">Read the article at ¶{int(p.paragraph)} →</a></div>'
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
        hidden = None
        if not answer.answerable and (f.doc_ids or f.date_from or f.date_to):
            # Say when the filter, not the articles, is why there is no answer.
            unfiltered = index.answer(question, normalize_history(history) or None, k=int(k))
            hidden = unfiltered if unfiltered.answerable else None
    except QAError as exc:
        return Turn(warning_markdown(str(exc)), notice_html(str(exc), "warning"))
    except Exception as exc:  # a bug must not leave the user with a dead chat
        log.exception("answering %r failed", message)
        msg = f"Answering failed ({type(exc).__name__}). The details are in the server log."
        return Turn(warning_markdown(msg), notice_html(msg, "error"))
    if hidden is not None:
        note = notice_html(
            "The selected articles do not answer this; the sources below, outside the filter, do.",
            "warning",
        )
        return Turn(hidden_by_filter_markdown(hidden), note + sources_html(hidden), answer)
    return Turn(chat_markdown(answer), sources_html(answer), answer)


def question_problem(message: Any) -> str:
    """Why ``message`` cannot be asked (empty, too long), or ``""`` if it can."""
    from qa.questions import check_question

    try:
        check_question(message if isinstance(message, str) else "")
    except QAError as exc:
        return str(exc)
    return ""


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
        for key in (i, str(i)):  # str keys: the panels came back from the browser's storage
            if key in panels:
                return panels[key]
    return None


def last_panel(panels: dict[Any, str] | None) -> str:
    """The Sources panel of the latest answer (the empty panel for no answer)."""
    if not panels:
        return EMPTY_SOURCES
    return panels[max(panels, key=lambda k: int(k))]


def write_conversation(history: Any, folder: str | os.PathLike) -> str | None:
    """Write the chat as Markdown into a fresh subfolder of ``folder``; its path (``None``
    for an empty chat). A fresh folder per export: one user's file is never another's."""
    if not history:
        return None
    out = Path(folder) / "exports" / os.urandom(8).hex()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"conversation-{_dt.datetime.now():%Y%m%d-%H%M}.md"
    path.write_text(conversation_markdown(history), encoding="utf-8")
    return str(path)


def input_note(problem: str) -> str:
    """The line under the question box: why the question was not sent (kept in the box)."""
    if not problem:
        return ""
    return f'<div class="qa-input-note" role="alert">⚠️ {esc(problem)}</div>'


# --- documents --------------------------------------------------------------------------------


def status_line(index: Index) -> str:
    """What the reader needs to know about the collection, for the page header:
    ``5 articles, 2022–2025, from VNA, VOV · index built 2026-12-01 22:10``."""
    docs = list(index.documents)
    years = sorted({d.meta.date[:4] for d in docs if d.meta.date})
    span = "" if not years else years[0] if len(years) == 1 else f"{years[0]}–{years[-1]}"
    outlets = sorted({short_outlet(d.meta.source) for d in docs if d.meta.source})
    parts = [f"{len(docs)} article{'s' if len(docs) != 1 else ''}"]
    if span:
        parts.append(span)
    line = ", ".join(parts)
    if outlets:
        line += ", from " + ", ".join(outlets)
    created = str(index.manifest.get("created", ""))[:16].replace("T", " ")
    if created:
        line += f" · index built {created}"
    return line


def short_outlet(source: str) -> str:
    """An outlet's short name: ``VOV (VOV.VN)`` -> ``VOV``; "not named (byline: …)" stays."""
    s = source.strip()
    if s.lower().startswith("not named"):
        return "an unnamed outlet"
    return s.split(" (", 1)[0] or s


def progress_html(stage: str, done: int, total: int, seconds: float, error: str = "") -> str:
    """The header's start-up line: the stage, a progress bar with counts, or the error."""
    if error:
        return f'<div id="qa-status" class="qa-error" role="alert">⚠️ {esc(error)}</div>'
    pct = int(100 * done / total) if total else 0
    bar = (
        f'<progress id="qa-progress" max="{total}" value="{done}" '
        f'aria-label="{esc(stage)}">{pct}%</progress>'
        f' <span class="qa-count">{done:,} of {total:,} texts ({pct}%)</span>'
        if total
        else '<progress id="qa-progress" aria-label="Starting"></progress>'
    )
    return (
        f'<div id="qa-status" class="qa-building" role="status" aria-live="polite">'
        f"<strong>Preparing the articles…</strong> {esc(stage)} · {seconds:.0f} s {bar}"
        '<div class="qa-hint">The chat opens here as soon as the index is ready; a first '
        "run takes about half a minute.</div></div>"
    )


def ready_html(index: Index) -> str:
    """The header's status line once the index is ready."""
    return f'<div id="qa-status" data-ready="1">{esc(status_line(index))}</div>'


def articles_html(documents: Iterable[Document]) -> str:
    """The articles as a compact list for the Chat tab: date, outlet, title (oldest first)."""
    items = [
        f'<li><span class="qa-date">{esc(d.meta.date_label or "date unknown")}</span> · '
        f'<span class="qa-outlet">{esc(short_outlet(outlet(d.meta.source)))}</span> — '
        f"{esc(d.meta.title or d.doc_id)}</li>"
        for d in timeline(documents)
    ]
    if not items:
        return ""
    return f'<ol class="qa-articles">{"".join(items)}</ol>'


def filter_chip(
    selected: Sequence[str] | None,
    documents: Sequence[Document],
    date_from: str | None = "",
    date_to: str | None = "",
) -> str:
    """The label of the active-filter chip (``""``: no filter), e.g.
    ``Only 1 of 5 articles (2022-08-16) · from 2025-01-01 ✕``."""
    parts = []
    ids = [d.doc_id for d in documents]
    if selected is not None and ids:
        chosen = [d for d in timeline(documents) if d.doc_id in set(selected)]
        if len(chosen) < len(ids):
            dates = ", ".join(d.meta.date or "undated" for d in chosen[:3])
            more = "…" if len(chosen) > 3 else ""
            parts.append(
                f"Only {len(chosen)} of {len(ids)} articles"
                + (f" ({dates}{more})" if chosen else "")
            )
    start, end = (date_from or "").strip(), (date_to or "").strip()
    if start and end:
        parts.append(f"{start} to {end}")
    elif start:
        parts.append(f"from {start}")
    elif end:
        parts.append(f"up to {end}")
    return " · ".join(parts) + " ✕" if parts else ""


def hidden_by_filter_markdown(found: Answer) -> str:
    """The reply when the filters hide an answer the other articles hold."""
    where = "; ".join(
        dict.fromkeys(
            f"*{md_escape(p.title or p.doc_id)}* ({md_escape(short_outlet(outlet(p.source)))}, "
            f"{p.date_label or 'date unknown'})"
            for p in found.citations
        )
    )
    return (
        f"Not in the selected articles; found in {where}. "
        "Remove the filter (✕ next to the question box) to see the answer."
    )


def conversation_markdown(history: Any, title: str = "Conversation") -> str:
    """The chat as a Markdown document: each question as a heading, then its answer with
    its numbered sources, as shown in the chat."""
    lines = [f"# {title}", ""]
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines += [f"Exported {stamp}. Answers are quoted from the articles; [n] are the sources.", ""]
    for item in history if isinstance(history, (list, tuple)) else []:
        role = item.get("role") if isinstance(item, dict) else getattr(item, "role", None)
        text = message_text(item.get("content") if isinstance(item, dict) else None).strip()
        if not text:
            continue
        if role == "user":  # the bubble is escaped Markdown already: keep it so
            lines += [f"## Q: {' '.join(text.split())}", ""]
        elif role == "assistant":
            lines += [md_escape_keep(text), ""]
    return "\n".join(lines).rstrip() + "\n"


def md_escape_keep(text: str) -> str:
    """An answer's Markdown as the chat had it (already escaped where it quotes articles)."""
    return text.replace("<small><em>", "*").replace("</em></small>", "*")


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
            f'<li class="qa-tl-item" data-doc="{esc(d.doc_id)}">'
            f'<div class="qa-tl-btn" role="button" tabindex="0" title="Open this article">'
            f'<div class="qa-tl-date">{date_html(m.date, m.date_inferred)}</div>'
            f'<div class="qa-tl-body"><div class="qa-tl-title">{esc(m.title or d.doc_id)}</div>'
            f'<div class="qa-meta"><span class="qa-outlet">{esc(outlet(m.source))}'
            f'</span> · <span class="qa-file">{esc(d.doc_id)}</span></div>'
            f'<div class="qa-tl-lead">{esc(_lead(d, lead_chars))}</div></div></div></li>'
        )
    if not items:
        return notice_html("No documents are loaded.")
    return f'<ol class="qa-timeline">{"".join(items)}</ol>'


def document_choices(documents: Iterable[Document]) -> list[tuple[str, str]]:
    """``(label, doc_id)`` pairs in timeline order, for pickers."""
    return [
        (
            f"{d.meta.date_label or 'date unknown'} · {short_outlet(outlet(d.meta.source))} — "
            f"{d.meta.title or d.doc_id}",
            d.doc_id,
        )
        for d in timeline(documents)
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
        f'<div class="qa-doc" data-doc="{esc(doc.doc_id)}" tabindex="0" role="region" '
        'aria-label="Article text">'
        '<a class="qa-back" href="#qa-timeline">↑ Back to the list of articles</a>'
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


# Question files a session keeps at once: the one it is about to run and one or two it
# replaced; an older one is deleted when a newer one arrives.
MAX_UPLOADS_PER_SESSION = 3


class Uploads:
    """Which session uploaded which file: only that session may evaluate or delete it.

    The Evaluate tab's events are callable through ``/gradio_api/queue/join`` with any path
    under Gradio's upload folder, so a path sent by a client proves nothing. A session owns a
    file it names first, right after its own upload (the browser sends the upload event at
    once); a path another session owns is refused and never deleted.
    """

    def __init__(self, root: str | os.PathLike, per_session: int = MAX_UPLOADS_PER_SESSION):
        self.root = Path(root)
        self.per_session = per_session
        self._owner: dict[Path, str] = {}
        self._lock = threading.Lock()

    def _key(self, path: str | os.PathLike) -> Path | None:
        p = Path(os.path.realpath(path))
        base = Path(os.path.realpath(self.root))
        return p if p.is_relative_to(base) and p != base else None

    def claim(self, session: str, path: str | os.PathLike) -> bool:
        """Record ``path`` as ``session``'s; False when another session owns it (or it lies
        outside the upload folder). Beyond ``per_session`` files the oldest is deleted."""
        key = self._key(path)
        if key is None or not session:
            return False
        with self._lock:
            owner = self._owner.get(key)
            if owner is not None:
                return owner == session
            mine = [p for p, s in self._owner.items() if s == session]
            evicted = mine[: max(0, len(mine) + 1 - self.per_session)]
            for old in evicted:
                del self._owner[old]
            self._owner[key] = session
        for old in evicted:
            discard_upload(old, self.root)
        return True

    def owns(self, session: str, path: str | os.PathLike | None) -> bool:
        """Whether ``session`` uploaded ``path`` (and it has not been removed since)."""
        key = self._key(path) if path else None
        with self._lock:
            return key is not None and bool(session) and self._owner.get(key) == session

    def remove(self, session: str, path: str | os.PathLike | None) -> None:
        """Delete ``path`` if ``session`` owns it, and forget it; another's file is left alone."""
        key = self._key(path) if path else None
        with self._lock:
            if key is None or self._owner.get(key) != session:
                return
            del self._owner[key]
        discard_upload(key, self.root)

    def end_session(self, session: str) -> None:
        """Delete every file ``session`` still owns (its tab was closed)."""
        with self._lock:
            mine = [p for p, s in self._owner.items() if s == session]
            for p in mine:
                del self._owner[p]
        for p in mine:
            discard_upload(p, self.root)


# What each metric key means, in the words of the summary table (the key itself stays in
# the table's last column and in the JSON report).
METRIC_LABELS = {
    "n": "Questions",
    "n_answerable": "Answerable questions",
    "n_unanswerable": "Unanswerable questions",
    "n_retrieval": "Questions with a known passage",
    "n_answers": "Questions with an expected answer",
    "n_declined": "Questions declined",
    "hit@1": "Passage found first",
    "hit@3": "Passage found in the top 3",
    "hit@5": "Passage found in the top 5",
    "hit@10": "Passage found in the top 10",
    "recall@5": "Share of relevant passages in the top 5",
    "mrr@10": "Mean reciprocal rank (top 10)",
    "ndcg@10": "Ranking quality, nDCG (top 10)",
    "answer_containment": "Answer holds the expected text",
    "exact_match": "Answer is exactly the expected text",
    "answer_f1": "Word overlap with the expected answer (F1)",
    "citation_precision": "Citations that are right",
    "citation_hit": "A right passage is cited",
    "refusal_precision": "Declines that were right",
    "refusal_recall": "Unanswerable questions declined",
    "false_refusal_rate": "Answerable questions wrongly declined",
    "latency_p50_ms": "Time per question, median",
    "latency_p95_ms": "Time per question, 95th percentile",
}
SUMMARY_HEADERS = ["metric", "value", "key"]


def summary_rows(report: EvalReport) -> list[list[str]]:
    """``[label, value, key]`` rows of an evaluation report, in the report's display order."""
    from qa.evaluation import METRIC_KEYS, format_value

    keys = [k for k in METRIC_KEYS if k in report.metrics]
    keys += [k for k in report.metrics if k not in METRIC_KEYS]
    return [[METRIC_LABELS.get(k, k), format_value(k, report.metrics.get(k)), k] for k in keys]


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
    keep_upload: bool = False,
    owner: str | None = None,
    uploads: Uploads | None = None,
) -> EvalResult:
    """Evaluate an uploaded question file against ``index``; write the JSON report and plot
    into ``workdir``. The upload is deleted whatever happens, except that ``keep_upload``
    keeps a file that was run (so the run can be repeated; Gradio's cache expiry removes it).

    With ``uploads``, only a file the session ``owner`` uploaded is read (or deleted); a kept
    one stays that session's until a newer upload replaces it or the session ends."""
    if uploads is not None and not uploads.owns(owner or "", path):
        return EvalResult(warning_markdown(NOT_YOUR_UPLOAD), [], [])
    ran = False
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
        ran = True
    except (QAError, ValueError, UnicodeDecodeError) as exc:
        return EvalResult(warning_markdown(str(exc)), [], [])
    except Exception as exc:  # a bug must not leave the tab with a bare "Error"
        log.exception("evaluating %s failed", path)
        msg = f"Evaluation failed ({type(exc).__name__}). The details are in the server log."
        return EvalResult(warning_markdown(msg), [], [])
    finally:
        if keep_upload and ran:
            pass  # kept for another run; still owned, so nobody else can read or delete it
        elif uploads is not None:
            uploads.remove(owner or "", path)
        else:
            discard_upload(path, upload_root)
    out = Path(workdir)
    out.mkdir(parents=True, exist_ok=True)
    prune(out)
    stem = f"eval-{_dt.datetime.now():%Y%m%d-%H%M%S}-{os.urandom(3).hex()}"
    report_path = out / f"{stem}.json"
    report.write(json=report_path)
    plot_path: Path | None = out / f"{stem}.png"
    try:
        from qa.evaluation.charts import draw_grid

        draw_grid(report.to_dict(), plot_path)
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
