"""The app's structure views as plain HTML functions (qa.structure_views): exact cells, escaping."""

from __future__ import annotations

from dataclasses import replace

from qa.render import outlet
from qa.structure import AgreementRef, Citation, Entity, Event, Participant
from qa.structure_views import (
    cite_html,
    dated_roles,
    entities_html,
    event_html,
    event_summary,
    events_html,
    events_plot_html,
    open_citation_html,
    open_cited_html,
    structure_views,
    tracker,
    tracker_html,
)
from qa.ui import notice_html


def test_the_tracker_grid_has_agreements_down_and_events_across(fake_index):
    t = tracker(fake_index.agreements(), fake_index.timeline())
    assert [(e.date, e.kind) for e in t.events] == [
        ("2022-08-16", "reception"),
        ("2023-09-16", "talks"),
        ("2023-09-16", "visit"),
        ("2023-09-16", "working session"),
        ("2024-04-15", "phone call"),
        ("2024-10-10", "phone call"),
        ("2025-03-04", "dialogue"),
        ("2025-03-04", "reception"),
    ]
    names = [a.name for a in t.agreements]
    mou = t.cells[names.index("Memorandum of Understanding on Human Trafficking Prevention")]
    assert [c.status for c in mou] == [
        "reaffirmed", "", "", "", "implemented", "reaffirmed", "", "reaffirmed",
    ]  # fmt: skip
    assert mou[0].by == "Hoang Xuan Chien" and mou[0].citation.paragraph == 6
    html = tracker_html(t)
    assert html.count("<tr>") == 1 + len(t.agreements)
    assert html.count('<td class="qa-cell-empty">') == sum(
        1 for row in t.cells for c in row if not c.status
    )
    first = mou[0].citation
    assert (
        '<td class="qa-cell"><button type="button" class="qa-open qa-cell-btn '
        f'qa-status-reaffirmed" data-cite="{first.passage_id}" data-doc="{first.doc_id}" '
        'data-para="6" title="'
    ) in html
    assert (
        'aria-label="reaffirmed: Memorandum of Understanding on Human Trafficking Prevention, '
        f'reception 2022-08-16. Open {outlet(first.source)} at paragraph 6">reaffirmed</button>'
    ) in html
    assert '<span class="qa-by">by Hoang Xuan Chien</span></td>' in html


def test_events_open_to_participants_agreements_and_citations(fake_index):
    html = events_html(fake_index.timeline(kind="phone call"))
    assert html.count('<li class="qa-ev" ') == 2
    assert "<summary>" in html and "To Lam" in html and "Minister of Public Security" in html
    assert html.count('class="qa-ev-cite"') == sum(
        len(e.citations) for e in fake_index.timeline(kind="phone call")
    )
    assert event_summary(fake_index.timeline(kind="phone call")[0]) == (
        "Phone call — To Lam and James Cleverly, Hanoi"
    )


def test_document_text_in_the_views_is_escaped():
    cite = Citation.of("a.txt", "T", "<b>Outlet</b>", "2024-01-02", False, 1, 0, 9, "<script>x")
    ev = Event(id="e1", kind="meeting", date="2024-01-02", date_inferred=False,
               participants=(Participant("<img src=x>", "${role}", "UK"),), citations=(cite,))  # fmt: skip
    html = events_html([ev]) + events_plot_html([ev])
    assert "<script>" not in html and "<img" not in html and "${" not in html
    assert "&lt;script&gt;x" in html and "&lt;b&gt;Outlet&lt;/b&gt;" in html
    person = Entity(id="p", name="<i>Name</i>", kind="person", mentions=(cite,))
    people = entities_html([person, replace(person, id="q", mentions=())])
    assert "<i>" not in people and people.count('<li class="qa-ent"') == 2
    assert people.count("&lt;i&gt;Name&lt;/i&gt;") == 2


def test_a_citation_renders_as_quote_meta_and_open_button():
    cite = Citation.of("a.txt", "T", "VNA", "2024-01-02", True, 3, 10, 20, "They met.")
    assert cite_html(cite) == (
        '<li class="qa-ev-cite"><q class="qa-quote">They met.</q> <span class="qa-meta">VNA · '
        '<span class="qa-date">2024-01-02</span> <span class="qa-inferred" title="The article '
        'does not state the year; it is inferred from who held which office at the time.">'
        "(inferred)</span> · paragraph 3 "
        f'<button type="button" class="qa-open" data-cite="{cite.passage_id}" data-doc="a.txt" '
        'data-para="3" aria-label="Open VNA article at paragraph 3">Open ¶3</button></span></li>'
    )


def test_an_event_opens_to_a_participants_table_agreements_and_citations():
    cite = Citation.of("a.txt", "T", "VNA", "2024-01-02", False, 2, 0, 9, "They met.")
    ev = Event(
        id="e1", kind="phone call", date="2024-04-15", date_inferred=False, place="Hanoi",
        participants=(Participant("To Lam", "Minister", "VN"), Participant("Ann", "", "UK")),
        agreements=(AgreementRef("a1", "MoU on X", "reaffirmed", "To Lam"),), citations=(cite,),
    )  # fmt: skip
    html = event_html(ev)
    assert html.startswith(
        '<li class="qa-ev" id="qa-ev-e1" data-event="e1"><details><summary><span class="qa-tl-'
        'date"><span class="qa-date">2024-04-15</span></span> <span class="qa-kind">phone call'
        '</span> <span class="qa-ev-title">To Lam and Ann</span><span class="qa-ev-sub">in Hanoi'
        " · 2 participants · 1 agreement · 1 article</span></summary>"
    )
    assert (
        "<tbody><tr><td>To Lam</td><td>Minister</td><td>"
        '<span class="qa-side qa-side-VN">Vietnam</span></td></tr><tr><td>Ann</td><td></td><td>'
        '<span class="qa-side qa-side-UK">United Kingdom</span></td></tr></tbody>'
    ) in html
    assert (
        '<ul class="qa-ev-agreements"><li><span class="qa-status qa-status-reaffirmed">'
        'reaffirmed</span> MoU on X <span class="qa-by">(by To Lam)</span></li></ul>'
    ) in html
    assert html.count('<li class="qa-ev-cite">') == 1
    bare = event_html(Event(id="e2", kind="visit", date="", date_inferred=False))
    assert "No participants are named." in bare and "No agreement is recorded" in bare
    assert '<span class="qa-ev-title">Visit</span>' in bare and "date unknown" in bare


def test_people_are_grouped_most_mentioned_first_with_dated_roles():
    c = Citation.of("a.txt", "T", "VNA", "2024-01-02", False, 1, 0, 3, "Hi.")
    quang = Entity(id="q", name="Lương Tam Quang", kind="person", side="VN",
                   variants=("Luong Tam Quang", "Lương Tam Quang", "Quang"),
                   roles=(("Minister", "2025-03-04"), ("Minister", "2024-10-10"), ("General", "")),
                   mentions=(c, c))  # fmt: skip
    assert dated_roles(quang) == [("Minister", ["2024-10-10", "2025-03-04"]), ("General", [])]
    other = Entity(id="o", name="Ann", kind="person", side="UK", mentions=(c,))
    org = Entity(id="h", name="Home Office", kind="org", side="UK", mentions=(c,) * 3)
    place = Entity(id="p", name="Hanoi", kind="place", mentions=(c,))
    html = entities_html([other, place, org, quang])
    assert "Hanoi" not in html
    assert html.index("People (2)") < html.index("Lương Tam Quang") < html.index("Ann")
    assert html.index("Ann") < html.index("Organisations (1)") < html.index("Home Office")
    assert (
        '<summary><span class="qa-ent-name">Lương Tam Quang</span> <span class="qa-side '
        'qa-side-VN">Vietnam</span> <span class="qa-ent-count">2 mentions</span><span '
        'class="qa-ent-roles">Minister (2024-10-10, 2025-03-04); General</span></summary>'
    ) in html
    assert "Also written</span> Luong Tam Quang; Quang</p>" in html
    assert '<span class="qa-ent-count">1 mention</span>' in html


def test_the_plot_places_each_dated_event_on_its_kind_row():
    evs = [
        Event(id="a", kind="visit", date="2022-01", date_inferred=False),
        Event(id="b", kind="visit", date="2023-07-16", date_inferred=True),
        Event(id="c", kind="call", date="2022-07-01", date_inferred=False),
        Event(id="d", kind="call", date="", date_inferred=False),
    ]
    html = events_plot_html(evs)
    assert html.count("<circle") == 3 and 'data-goto="d"' not in html
    assert ">visit (2)</text>" in html and ">call (1)</text>" in html
    assert html.index(">visit (2)") < html.index(">call (1)")  # most frequent first
    # 2022-2024 spans PLOT_WIDTH - PLOT_LEFT - 16 = 594 px: mid-January 2022 sits at
    # 150 + (14/31 / 24) * 594.
    assert 'class="qa-plot-dot" cx="161.2" cy="19.0" r="6" data-goto="a"' in html
    assert 'class="qa-plot-dot qa-plot-inferred" cx="' in html
    assert ">2022</text>" in html and ">2023</text>" in html and ">2024</text>" not in html
    assert "1 undated event is listed at the end of the timeline." in html
    assert events_plot_html([evs[-1]]) == ""


def test_a_citation_opens_its_article_at_the_paragraph_with_the_sentence_marked(fake_index):
    views = structure_views(fake_index)
    c = next(c for c in views.citations.values() if c.paragraph > 1)
    html = open_citation_html(fake_index, views.citations, c.passage_id)
    assert html.count(" qa-focus") == 1
    assert f'<p class="qa-para qa-focus" id="qa-doc-p{c.paragraph}">' in html
    assert html.count("<mark>") == 1
    assert "Choose a cited sentence" in open_citation_html(fake_index, views.citations, "nope")
    assert "Choose a cited sentence" in open_citation_html(None, views.citations, c.passage_id)
    assert set(views.citations) >= {
        x.passage_id for e in fake_index.timeline() for x in e.citations
    }
    broken = structure_views(None, "The index is not loaded.")
    assert "The index is not loaded." in broken.events and broken.citations == {}


def test_the_app_opens_a_citation_from_the_index_and_fills_the_tab_in_order(fake_index):
    """The app keeps no citations in the page (the index may not be ready at layout time):
    ``open_cited_html`` finds them in the index itself."""
    views = structure_views(fake_index)
    c = next(c for c in views.citations.values() if c.paragraph > 1)
    expected = open_citation_html(fake_index, views.citations, c.passage_id)
    assert open_cited_html(fake_index, c.passage_id) == expected
    assert open_cited_html(None, c.passage_id, "Still indexing.") == notice_html(
        "Still indexing.", "error"
    )
    assert views.tab_html == (views.plot + views.events, views.people, views.tracker)


def test_empty_views_say_so():
    assert "No events were found" in events_html([])
    assert "No agreements were found" in tracker_html(tracker([], []))
