"""What the web app shows (``qa.ui``), checked on constructed passages and answers: no model,
no server, no browser."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from qa import launch, ui
from qa.types import Answer, DocMeta, Document, Paragraph, Passage

XSS = '<script>window.__xss=1</script> and <img src=x onerror="window.__xss=2">'


def P(  # noqa: N802 - reads like a constructor
    text: str,
    *,
    doc_id: str = "004_3d375005956adc1b.txt",
    title: str = "Vietnam, UK enhance cooperation in law enforcement",
    source: str = "VNA",
    date: str = "2023-09-16",
    inferred: bool = True,
    paragraph: int = 2,
    paragraph_end: int | None = None,
) -> Passage:
    return Passage(
        passage_id=f"{doc_id}:{paragraph}",
        text=text,
        doc_id=doc_id,
        title=title,
        source=source,
        date=date,
        paragraph=paragraph,
        paragraph_end=paragraph if paragraph_end is None else paragraph_end,
        start=0,
        end=len(text),
        date_inferred=inferred,
        score=0.9,
    )


NCA = P(
    "The delegation held talks with Robert Jenrick, visited the UK's National Crime Agency "
    "(NCA), worked with the Metropolitan Police (Met) and visited several Met units."
)
SENTENCE = "visited the UK's National Crime Agency (NCA)"


def A(  # noqa: N802
    citations: tuple[Passage, ...] = (NCA,),
    *,
    answerable: bool = True,
    sentences: tuple[str, ...] = (NCA.text,),
    supports: tuple[tuple[int, ...], ...] = ((1,),),
    rewritten: bool = False,
    query: str = "",
    text: str = "x [1]",
    passages: tuple[Passage, ...] | None = None,
) -> Answer:
    return Answer(
        question="Which agencies did Le Quoc Hung visit?",
        text=text,
        citations=citations if answerable else (),
        passages=citations if passages is None else passages,
        answerable=answerable,
        confidence=0.91,
        query=query or "Which agencies did Le Quoc Hung visit?",
        rewritten=rewritten,
        sentences=sentences if answerable else (),
        supports=supports if answerable else (),
    )


def D(doc_id: str, date: str, *, inferred: bool = False, title: str = "") -> Document:  # noqa: N802
    return Document(
        doc_id=doc_id,
        meta=DocMeta(
            title=title or f"Title {doc_id}", source="VOV", date=date, date_inferred=inferred
        ),
        paragraphs=(
            Paragraph(1, f"Lead sentence of {doc_id}. Second sentence.", 0, 40),
            Paragraph(2, "Another paragraph.", 42, 60),
        ),
    )


# --- escaping ---------------------------------------------------------------------------------


def test_esc_neutralises_html_and_template_syntax() -> None:
    assert ui.esc("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert ui.esc('<img src=x onerror="a">') == "&lt;img src=x onerror=&quot;a&quot;&gt;"
    assert ui.esc("${x} {{y}} `z` & 'q'") == (
        "&#36;&#123;x&#125; &#123;&#123;y&#125;&#125; &#96;z&#96; &amp; &#x27;q&#x27;"
    )


def test_md_escape_round_trip() -> None:
    raw = "[1](javascript:x) <b>*bold*</b> $x$ #h"
    escaped = ui.md_escape(raw)
    assert escaped == r"\[1\]\(javascript:x\) \<b\>\*bold\*\</b\> \$x\$ \#h"
    assert ui.md_unescape(escaped) == raw


# --- sources panel ----------------------------------------------------------------------------


def test_highlight_marks_the_sentence_and_escapes_everything() -> None:
    text = f"Before. {XSS} The key sentence here. After."
    out = ui.highlight(text, ["The key sentence here."])
    assert out == (
        "Before. &lt;script&gt;window.__xss=1&lt;/script&gt; and &lt;img src=x "
        "onerror=&quot;window.__xss=2&quot;&gt; <mark>The key sentence here.</mark> After."
    )


def test_highlight_tolerates_different_whitespace_and_misses() -> None:
    assert ui.highlight("One  two\nthree. Four.", ["One two three."]) == (
        "<mark>One  two\nthree.</mark> Four."
    )
    assert ui.highlight("Nothing here.", ["Absent sentence."]) == "Nothing here."


def test_passage_body_numbers_paragraphs_and_clips_marks() -> None:
    p = P("First para sentence.\n\nSecond para <b>bold</b>.", paragraph=5, paragraph_end=6)
    out = ui.passage_body(p, ["Second para <b>bold</b>."])
    assert out == (
        '<p class="qa-para"><span class="qa-pn" title="paragraph 5">¶5</span> '
        "First para sentence.</p>"
        '<p class="qa-para"><span class="qa-pn" title="paragraph 6">¶6</span> '
        "<mark>Second para &lt;b&gt;bold&lt;/b&gt;.</mark></p>"
    )


def test_date_label_marks_inferred_dates() -> None:
    assert ui.date_html("2023-09-16", False) == '<span class="qa-date">2023-09-16</span>'
    inferred = ui.date_html("2023-09-16", True)
    assert inferred.startswith('<span class="qa-date">2023-09-16</span> <span class="qa-inferred"')
    assert inferred.endswith(">(inferred)</span>")
    assert ui.date_html("", False) == '<span class="qa-date">date unknown</span>'


def test_sources_html_card_per_citation_with_highlight() -> None:
    other = P(
        "Quang met Cooper by phone on October 10.",
        doc_id="001.txt",
        title="Phone talks",
        source="VNS",
        date="2024-10-10",
        paragraph=1,
    )
    answer = A(
        (NCA, other),
        sentences=(SENTENCE, "Quang met Cooper by phone on October 10."),
        supports=((1,), (2,)),
    )
    html = ui.sources_html(answer)
    assert html.count('<details class="qa-cite"') == 2
    assert '<details class="qa-cite" id="qa-cite-1" open>' in html
    assert '<details class="qa-cite" id="qa-cite-2">' in html
    assert "<mark>visited the UK&#x27;s National Crime Agency (NCA)</mark>" in html
    assert "<mark>Quang met Cooper by phone on October 10.</mark>" in html
    assert 'VNA</span> · <span class="qa-date">2023-09-16</span> <span class="qa-inferred"' in html
    assert '<span class="qa-loc">paragraph 2</span>' in html
    assert "confidence 0.91" in html
    # Each sentence is marked only in the passage its citation points to.
    card1 = html.split('id="qa-cite-2"')[0]
    assert "Quang met Cooper" not in card1


def test_sources_html_escapes_document_text_and_metadata() -> None:
    evil = P(f"Intro {XSS} end.", title="<b>T</b>", source='"><svg onload=x>')
    html = ui.sources_html(A((evil,), sentences=(f"Intro {XSS} end.",)))
    assert "<script" not in html and "<img" not in html and "<svg" not in html and "<b>" not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "&lt;b&gt;T&lt;/b&gt;" in html


def test_sources_html_declined_lists_related_passages_without_marks() -> None:
    related = tuple(P(f"Related passage {i}.", paragraph=i) for i in range(1, 5))
    html = ui.sources_html(A(answerable=False, passages=related))
    assert 'data-state="declined"' in html
    assert "Not in the articles" in html
    assert html.count('<details class="qa-cite"') == 3  # the three closest only
    assert "<mark>" not in html


def test_sources_html_closest_match_shows_its_quoted_passage_and_what_is_missing() -> None:
    from dataclasses import replace

    closest = replace(
        A(answerable=False), citations=(NCA,), sentences=(SENTENCE,), supports=((1,),),
        missing=("the first dialogue",),
    )  # fmt: skip
    html = ui.sources_html(closest)
    assert 'data-state="declined"' in html
    assert "Closest match only: the articles do not mention the first dialogue." in html
    assert html.count('<details class="qa-cite"') == 1
    assert f"<mark>{ui.esc(SENTENCE)}</mark>" in html


def test_citation_sentences_fall_back_to_text_match_without_supports() -> None:
    answer = A(sentences=(SENTENCE, "Not in the passage."), supports=())
    assert ui.citation_sentences(answer, 1) == [SENTENCE]


# --- chat -------------------------------------------------------------------------------------


def test_chat_markdown_shows_rewritten_query_discreetly() -> None:
    plain = A(text="Answer [1]")
    assert ui.chat_markdown(plain) == "Answer [1]"
    rewritten = A(text="Answer [1]", rewritten=True, query="What did they agree? (Le Quoc Hung)")
    assert ui.chat_markdown(rewritten) == (
        "Answer [1]\n\n<small><em>Searched for: What did they agree? \\(Le Quoc Hung\\)"
        "</em></small>"
    )


def test_message_text_and_history_accept_gradio_and_api_shapes() -> None:
    assert ui.message_text([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]) == "a\nb"
    assert ui.message_text({"text": "c"}) == "c"
    assert ui.message_text(None) == ""
    history = [
        {"role": "user", "content": [{"type": "text", "text": r"Who met \(Quang\)?"}]},
        {"role": "assistant", "content": "Cooper [1]", "metadata": None},
        {"role": "system", "content": "ignored"},
        {"role": "user", "content": "   "},
    ]
    assert ui.normalize_history(history) == [
        {"role": "user", "content": "Who met (Quang)?"},
        {"role": "assistant", "content": "Cooper [1]"},
    ]
    assert ui.normalize_history(None) == []
    assert len(ui.normalize_history([{"role": "user", "content": "q"}] * 30)) == 12


def test_user_bubble_escapes_and_shortens() -> None:
    assert ui.user_bubble("<b>hi</b>") == r"\<b\>hi\</b\>"
    long = "word " * 200
    bubble = ui.user_bubble(long)
    assert bubble.endswith("… (1,000 characters)") and len(bubble) < 450


def test_append_and_prior_history() -> None:
    h = ui.append_user([], "  ")
    assert h == []
    h = ui.append_user([], "Who?")
    assert h == [{"role": "user", "content": "Who?"}]
    assert ui.prior_history(h, "Who?") == []
    assert ui.prior_history(h, "") == h
    turn = ui.Turn("reply", "<div></div>")
    assert ui.append_reply(h, "Who?", turn)[-1] == {"role": "assistant", "content": "reply"}


def test_panel_for_message_or_its_answer() -> None:
    panels = {1: "first", 3: "second"}
    assert ui.panel_for(panels, 1) == "first"
    assert ui.panel_for(panels, 2) == "second"  # a question shows its answer's sources
    assert ui.panel_for(panels, 7) is None
    assert ui.panel_for({}, 0) is None


class FakeIndex:
    """Records how it was asked; answers with a fixed Answer."""

    def __init__(self) -> None:
        self.documents = [D("a.txt", "2024-01-01"), D("b.txt", "2023-01-01")]
        self.passages = [NCA]
        self.model_id = "fake-model"
        self.calls: list[dict[str, Any]] = []

    def answer(self, question: str, history: Any = None, **kw: Any) -> Answer:
        self.calls.append({"question": question, "history": history, **kw})
        return A(text="Quoted [1]")


def test_respond_passes_history_and_settings() -> None:
    index = FakeIndex()
    history = [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}]
    turn = ui.respond(
        index,
        " Which  agencies? ",
        history,
        k=3,
        selected=["b.txt"],
        date_from="2023-01-01",
        date_to="",
    )
    assert turn.reply == "Quoted [1]"
    assert turn.answer is not None and 'id="qa-cite-1"' in turn.sources
    assert index.calls == [
        {
            "question": "Which agencies?",
            "history": history,
            "k": 3,
            "doc_ids": ("b.txt",),
            "date_from": "2023-01-01",
            "date_to": None,
        }
    ]
    ui.respond(index, "Q", [], selected=["a.txt", "b.txt"])
    assert index.calls[-1]["doc_ids"] is None and index.calls[-1]["history"] is None


@pytest.mark.parametrize(
    ("message", "kwargs", "expected"),
    [
        ("", {}, "The question is empty"),
        ("x" * 2001, {}, "limit is 2,000"),
        ("Q", {"selected": []}, "No document is ticked"),
        ("Q", {"date_from": "16/08/2022"}, "is not a date. Use YYYY-MM-DD"),
        ("Q", {"date_from": "2024-02-30"}, "is not a date"),
        ("Q", {"date_from": "2025-01-01", "date_to": "2024-01-01"}, "Swap them"),
    ],
)
def test_respond_turns_bad_input_into_a_reply(message: str, kwargs: dict, expected: str) -> None:
    index = FakeIndex()
    turn = ui.respond(index, message, [], **kwargs)
    assert turn.reply.startswith("⚠️ ") and expected in ui.md_unescape(turn.reply)
    assert turn.answer is None and "qa-warning" in turn.sources
    assert index.calls == []


def test_respond_without_index_repeats_the_startup_error() -> None:
    turn = ui.respond(None, "Q", [], startup_error="Index 'x' is damaged. Fix: run `qa index`.")
    assert ui.md_unescape(turn.reply) == "⚠️ Index 'x' is damaged. Fix: run `qa index`."
    assert "qa-error" in turn.sources


def test_respond_survives_a_bug_in_answering() -> None:
    class Broken(FakeIndex):
        def answer(self, *a: Any, **kw: Any) -> Answer:
            raise RuntimeError("boom")

    turn = ui.respond(Broken(), "Q", [])
    assert "Answering failed (RuntimeError)" in ui.md_unescape(turn.reply)


# --- documents --------------------------------------------------------------------------------


def test_timeline_is_oldest_first_with_undated_last() -> None:
    docs = [
        D("001.txt", "2024-10-10", inferred=True),
        D("zz.txt", ""),
        D("003.txt", "2022-08-16"),
        D("002.txt", "2025-03-04", inferred=True),
        D("000.txt", "2024-05-30"),
        D("004.txt", "2023-09-16", inferred=True),
    ]
    html = ui.timeline_html(docs)
    dates = re.findall(r'<div class="qa-tl-date"><span class="qa-date">([^<]+)</span>', html)
    assert dates == [
        "2022-08-16",
        "2023-09-16",
        "2024-05-30",
        "2024-10-10",
        "2025-03-04",
        "date unknown",
    ]
    assert [d.doc_id for d in ui.timeline(docs)] == [
        "003.txt",
        "004.txt",
        "000.txt",
        "001.txt",
        "002.txt",
        "zz.txt",
    ]
    assert html.count(">(inferred)</span>") == 3
    assert html.startswith(
        '<ol class="qa-timeline"><li class="qa-tl-item" data-doc="003.txt"><div '
        'class="qa-tl-btn" role="button" tabindex="0" title="Open this article"><div '
        'class="qa-tl-date"><span class="qa-date">'
        '2022-08-16</span></div><div class="qa-tl-body"><div class="qa-tl-title">Title 003.txt'
        '</div><div class="qa-meta"><span class="qa-outlet">VOV</span> · <span class="qa-file">'
        '003.txt</span></div><div class="qa-tl-lead">Lead sentence of 003.txt.</div></div>'
        "</div></li>"
    )
    assert [c[1] for c in ui.document_choices(docs)][:2] == ["003.txt", "004.txt"]
    assert ui.document_choices(docs)[1][0] == "2023-09-16 (inferred) · VOV — Title 004.txt"
    assert ui.document_choices(docs)[-1][0] == "date unknown · VOV — Title zz.txt"


def test_timeline_escapes_titles_and_ids() -> None:
    doc = D('x".txt', "2024-01-01", title=XSS)
    html = ui.timeline_html([doc])
    assert "<script" not in html and "<img" not in html
    assert 'data-doc="x&quot;.txt"' in html
    assert ui.timeline_html([]) == ui.notice_html("No documents are loaded.")


def test_document_html_numbers_paragraphs_and_escapes() -> None:
    doc = Document(
        doc_id="x.txt",
        meta=DocMeta(
            title="T",
            source="VOV",
            date="2025-03-04",
            date_inferred=True,
            date_note="year inferred",
            title_inferred=True,
        ),
        paragraphs=(Paragraph(1, "Plain.", 0, 6), Paragraph(2, XSS, 8, 80)),
    )
    html = ui.document_html(doc)
    assert '<p class="qa-para" id="qa-doc-p1"><span class="qa-pn">¶1</span> Plain.</p>' in html
    assert (
        '<p class="qa-para" id="qa-doc-p2"><span class="qa-pn">¶2</span> '
        "&lt;script&gt;window.__xss=1&lt;/script&gt; and &lt;img src=x "
        "onerror=&quot;window.__xss=2&quot;&gt;</p>"
    ) in html
    assert "(title taken from the text)" in html and "year inferred" in html
    assert ">(inferred)</span>" in html


def test_status_line_says_what_a_reader_cares_about() -> None:
    index = FakeIndex()
    index.manifest = {"created": "2026-12-01T22:10:05+0000"}
    assert ui.status_line(index) == "2 articles, 2023–2024, from VOV · index built 2026-12-01 22:10"
    assert ui.short_outlet("VOV (VOV.VN)") == "VOV"
    assert ui.short_outlet("not named (byline: Hoang Thanh)") == "an unnamed outlet"


def test_progress_html_shows_stage_counts_and_errors() -> None:
    html = ui.progress_html("Embedding the articles' sentences", 64, 256, 3.2)
    assert '<progress id="qa-progress" max="256" value="64"' in html
    assert "64 of 256 texts (25%)" in html and "Embedding the articles&#x27; sentences" in html
    assert "<progress" in ui.progress_html("Loading the index", 0, 0, 0.4)
    err = ui.progress_html("Failed", 0, 0, 1.0, "No index at 'x' <b>")
    assert 'role="alert"' in err and "&lt;b&gt;" in err and "<progress" not in err


def test_articles_and_filter_chip() -> None:
    docs = [D("a.txt", "2024-01-01"), D("b.txt", "2023-01-01"), D("c.txt", "")]
    assert ui.articles_html(docs).count("<li>") == 3
    assert ui.filter_chip(None, docs) == ""
    assert ui.filter_chip(["a.txt", "b.txt", "c.txt"], docs) == ""
    assert ui.filter_chip(["a.txt"], docs) == "Only 1 of 3 articles (2024-01-01) ✕"
    assert ui.filter_chip(["a.txt", "c.txt"], docs, "2023-05-01", "") == (
        "Only 2 of 3 articles (2024-01-01, undated) · from 2023-05-01 ✕"
    )
    assert ui.filter_chip(None, docs, "", "2024-01-01") == "up to 2024-01-01 ✕"
    assert ui.filter_chip(None, docs, "2023-01-01", "2024-01-01") == "2023-01-01 to 2024-01-01 ✕"


def test_filter_hiding_the_answer_is_said_with_where_it_is() -> None:
    class Filtered(FakeIndex):
        def answer(self, question: str, history: Any = None, **kw: Any) -> Answer:
            self.calls.append(kw)
            if kw.get("doc_ids"):
                return A(answerable=False, text="The articles do not answer this question.")
            return A(text="Quoted [1]")

    index = Filtered()
    turn = ui.respond(index, "Which agencies?", [], selected=["a.txt"])
    assert turn.reply == (
        "Not in the selected articles; found in *Vietnam, UK enhance cooperation in law "
        "enforcement* (VNA, 2023-09-16 (inferred)). Remove the filter (✕ next to the question "
        "box) to see the answer."
    )
    assert "outside the filter" in turn.sources and 'id="qa-cite-1"' in turn.sources
    assert [c.get("doc_ids") for c in index.calls] == [("a.txt",), None]
    plain = ui.respond(Filtered(), "Which agencies?", [])  # no filter: no second search
    assert plain.reply == "Quoted [1]"


def test_question_problem_and_input_note() -> None:
    assert ui.question_problem("Who?") == ""
    assert ui.question_problem("  ").startswith("The question is empty")
    assert "the limit is 2,000" in ui.question_problem("why " * 600)
    assert ui.input_note("") == ""
    assert 'role="alert"' in ui.input_note("bad <x>") and "&lt;x&gt;" in ui.input_note("bad <x>")


def test_conversation_markdown_and_export(tmp_path: Path) -> None:
    history = [
        {"role": "user", "content": "Which agencies?"},
        {"role": "assistant", "content": "Quoted \\<b\\> [1]\n\n**Sources**\n[1] T — VNA"},
        {"role": "user", "content": [{"type": "text", "text": "And then?"}]},
        {"role": "assistant", "content": "More [1]\n\n<small><em>Searched for: x</em></small>"},
    ]
    md = ui.conversation_markdown(history)
    assert md.startswith("# Conversation\n")
    assert "## Q: Which agencies?\n\nQuoted \\<b\\> [1]\n\n**Sources**\n[1] T — VNA" in md
    assert "## Q: And then?" in md and "*Searched for: x*" in md and "<small>" not in md
    assert ui.write_conversation([], tmp_path) is None
    path = Path(ui.write_conversation(history, tmp_path) or "")
    other = Path(ui.write_conversation(history, tmp_path) or "")
    assert path.read_text(encoding="utf-8") == md and path.name.startswith("conversation-")
    assert path.parent != other.parent  # one export's folder is never another's


def test_panels_from_the_browser_have_string_keys() -> None:
    panels = {"1": "first", "3": "second"}
    assert ui.panel_for(panels, 2) == "second" and ui.last_panel(panels) == "second"
    assert ui.last_panel({}) == ui.EMPTY_SOURCES


def test_summary_rows_label_the_metrics_and_keep_the_key() -> None:
    from qa.evaluation import METRIC_KEYS

    assert set(METRIC_KEYS) <= set(ui.METRIC_LABELS)
    assert ui.METRIC_LABELS["hit@5"] == "Passage found in the top 5"


# --- settings and launch policy ---------------------------------------------------------------


def test_parse_filters() -> None:
    ids = ["a", "b", "c"]
    assert ui.parse_filters(None, ids) == ui.Filters()
    assert ui.parse_filters(["c", "a", "b"], ids) == ui.Filters()  # all ticked: no filter
    assert ui.parse_filters(["c", "a"], ids, " 2024-01-01 ", "") == ui.Filters(
        ("a", "c"), "2024-01-01", None
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert launch.is_loopback(host) is loopback


def test_auth_and_exposure_policy() -> None:
    assert launch.parse_auth("ana:s3:cret") == ("ana", "s3:cret")
    assert launch.parse_auth(None) is None
    for bad in ("ana", ":pw", "ana:"):
        with pytest.raises(ValueError, match="user:password"):
            launch.parse_auth(bad)
    assert launch.exposure_error("127.0.0.1", False, None) == ""
    assert "needs --auth" in launch.exposure_error("0.0.0.0", False, None)
    assert "--share" in launch.exposure_error("127.0.0.1", True, None)
    assert launch.exposure_error("0.0.0.0", True, ("a", "b")) == ""


# --- evaluation -------------------------------------------------------------------------------


def test_check_upload_type_and_size(tmp_path: Path) -> None:
    good = tmp_path / "q.JSONL"
    good.write_text('{"question": "q"}\n')
    assert ui.check_upload(good) == good
    bad = tmp_path / "q.txt"
    bad.write_text("x")
    with pytest.raises(ui.InputError, match="not a question file"):
        ui.check_upload(bad)
    with pytest.raises(ui.InputError, match="limit is 0 MB"):
        ui.check_upload(good, max_bytes=3)
    with pytest.raises(ui.InputError, match="Upload a question file"):
        ui.check_upload(None)


def test_discard_upload_only_inside_root(tmp_path: Path) -> None:
    root = tmp_path / "gradio"
    f = root / "abc123" / "q.txt"
    f.parent.mkdir(parents=True)
    f.write_text("x")
    outside = tmp_path / "keep.txt"
    outside.write_text("x")
    ui.discard_upload(outside, root)
    assert outside.exists()
    ui.discard_upload(f, root)
    assert not f.exists() and not f.parent.exists() and root.exists()


def test_run_evaluation_rejects_wrong_type_and_leaves_no_file(tmp_path: Path) -> None:
    root = tmp_path / "gradio"
    f = root / "h" / "questions.csv"
    f.parent.mkdir(parents=True)
    f.write_text("question,answer\n")
    result = ui.run_evaluation(FakeIndex(), f, tmp_path / "out", upload_root=root)
    assert "not a question file" in ui.md_unescape(result.message)
    assert result.rows == [] and result.report is None
    assert not f.exists()


def test_run_evaluation_reports_a_crash_and_still_deletes_the_upload(tmp_path: Path) -> None:
    class NoSearch(FakeIndex):
        def answer(self, *a: Any, **kw: Any) -> Answer:
            raise RuntimeError("index exploded")

        def retrieve(self, *a: Any, **kw: Any) -> list[Passage]:
            raise RuntimeError("index exploded")

    root = tmp_path / "gradio"
    f = root / "h" / "q.jsonl"
    f.parent.mkdir(parents=True)
    f.write_text('{"question": "Who?", "answers": ["x"]}\n', encoding="utf-8")
    result = ui.run_evaluation(NoSearch(), f, tmp_path / "out", upload_root=root, keep_upload=True)
    assert "Evaluation failed (RuntimeError)" in ui.md_unescape(result.message)
    assert not f.exists()  # kept only after a run that happened


def test_question_rows_put_failures_first() -> None:
    from qa.evaluation import EvalReport

    def row(i: str, declined: bool, answerable: bool) -> dict[str, Any]:
        return {
            "id": i,
            "kind": "fact",
            "question": f"q{i}",
            "answerable": answerable,
            "declined": declined,
            "confidence": 0.5,
            "rank": 1,
            "hit@5": True,
            "answer": "Quote \\(x\\) [1]\n\n**Sources**\n[1] T",
            "answer_containment": 1.0,
        }

    report = EvalReport.from_rows(
        [row("1", False, True), row("2", True, True), row("3", False, False)]
    )
    rows = ui.question_rows(report)
    assert [r[1] for r in rows] == ["2", "3", "1"]
    assert rows[0][0] == "FAIL" and rows[0][4] == "declined an answerable question"
    assert rows[2][0] == "ok" and rows[2][7] == "Quote (x) [1]"
    summary = {key: (label, value) for label, value, key in ui.summary_rows(report)}
    assert summary["n"] == ("Questions", "3")
    assert summary["hit@5"][0] == "Passage found in the top 5"
    json.dumps(rows)  # the Dataframe gets plain JSON values


def test_app_options_honour_gradio_and_qa_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("qa_app", Path(__file__).parent.parent / "app.py")
    assert spec and spec.loader
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    for key in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "QA_AUTH"):
        monkeypatch.delenv(key, raising=False)
    args = app.parse_args([])
    assert (args.host, args.port, args.auth, args.share) == ("127.0.0.1", "7860", None, False)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8123")
    monkeypatch.setenv("QA_AUTH", "ana:pw")
    args = app.parse_args([])
    assert (args.host, args.port, args.auth) == ("0.0.0.0", "8123", "ana:pw")
    args = app.parse_args(["--host", "127.0.0.1", "--port", "9000", "--auth", "b:c", "--share"])
    assert (args.host, args.port, args.auth, args.share) == ("127.0.0.1", "9000", "b:c", True)
    assert app.main(["--port", "http"]) == 2
    assert app.main(["--host", "0.0.0.0", "--auth", "ana:"]) == 2


def test_the_page_has_exactly_its_three_tabs(tmp_path: Path) -> None:
    # A gr.State created inside gr.Tabs (outside any gr.Tab) renders as a phantom fourth tab.
    import importlib.util

    import gradio as gr

    spec = importlib.util.spec_from_file_location("qa_app", Path(__file__).parent.parent / "app.py")
    assert spec and spec.loader
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    from qa.startup import Startup

    demo = app.build_demo(Startup(None, str(tmp_path / "none")), tmp_path)
    tabs, views = [b for b in demo.blocks.values() if isinstance(b, gr.Tabs)]
    assert [(type(c).__name__, c.label) for c in tabs.children] == [
        ("Tab", "Chat"),
        ("Tab", "Documents"),
        ("Tab", "Evaluate"),
    ]
    assert views.elem_id == "qa-doc-views"  # the Documents tab's own views
    assert [c.label for c in views.children] == ["Events", "People", "Agreements", "Articles"]
    # No index at layout time: each view waits for the start-up's ready handler to fill it.
    html = {b.elem_id: b.value for b in demo.blocks.values() if isinstance(b, gr.HTML)}
    wait = ui.notice_html(app.VIEWS_WAIT)
    assert [html[k] for k in ("qa-events", "qa-people", "qa-tracker")] == [wait] * 3


def test_startup_builds_a_missing_index_in_the_background(tmp_path: Path, monkeypatch) -> None:
    """``--index DIR`` alone with nothing at DIR builds there from the known corpus, with
    progress; a missing corpus too gives the exact command."""
    import shutil

    from qa.startup import Startup, build_command

    monkeypatch.setenv("QA_BACKEND", "fake")
    corpus = tmp_path / "corpus"
    shutil.copytree(Path(__file__).parent.parent / "corpus", corpus)
    monkeypatch.setenv("QA_CORPUS", str(corpus))
    (tmp_path / "idx").mkdir()  # an empty folder is no index, not a damaged one
    seen = []
    s = Startup(None, str(tmp_path / "idx"), warm=False)
    real = s._on_embed
    s._on_embed = lambda done, total: (seen.append((done, total)), real(done, total))
    p = s.start().wait(120)
    assert p.ready and p.error == "" and p.stage == "Ready", p
    assert s.index is not None and len(s.index.documents) == 5
    assert seen and seen[-1][0] == seen[-1][1] > 0
    assert (tmp_path / "idx" / "CURRENT").exists()

    monkeypatch.setenv("QA_CORPUS", str(tmp_path / "no-corpus"))
    p = Startup(None, str(tmp_path / "idx2"), warm=False).start().wait(60)
    assert not p.ready and s.index is not None
    assert f"`{build_command(Path('CORPUS_FOLDER'), tmp_path / 'idx2')}`" in p.error
    assert p.error.startswith(f"No index at '{tmp_path / 'idx2'}' and no corpus at ")


def test_starting_page_answers_at_once_and_only_with_the_stage() -> None:
    import urllib.error
    import urllib.request

    from qa.placeholder import Placeholder
    from tests.test_app_server import free_port

    port = free_port()
    early = Placeholder("127.0.0.1", port, lambda: ("Embedding <b>", 3, 8)).start()
    try:
        base = f"http://127.0.0.1:{port}/"
        with urllib.request.urlopen(base, timeout=10) as resp:
            page = resp.read().decode()
        assert resp.status == 200 and "Starting the app…" in page and "Embedding &lt;b&gt;" in page
        with urllib.request.urlopen(base + "startup.json", timeout=10) as resp:
            assert json.loads(resp.read()) == {"stage": "Embedding <b>", "done": 3, "total": 8}
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + "config", timeout=10)
        assert err.value.code == 503
    finally:
        early.stop()
