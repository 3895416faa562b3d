"""The app's structure views as plain HTML functions (qa.structure_views): exact cells, escaping."""

from __future__ import annotations

from dataclasses import replace

from qa.structure import Citation, Entity, Event, Participant
from qa.structure_views import entities_html, event_summary, events_html, tracker, tracker_html


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
    assert 'data-para="6"' in html and 'class="qa-status qa-status-implemented"' in html


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
    html = events_html([ev])
    assert "<script>" not in html and "<img" not in html and "${" not in html
    assert "&lt;script&gt;x" in html and "&lt;b&gt;Outlet&lt;/b&gt;" in html
    person = Entity(id="p", name="<i>Name</i>", kind="person", mentions=(cite,))
    table = entities_html([person, replace(person, id="q", mentions=())])
    assert "<i>" not in table and table.count("<tr>") == 3


def test_empty_views_say_so():
    assert "No events were found" in events_html([])
    assert "No agreements were found" in tracker_html(tracker([], []))
