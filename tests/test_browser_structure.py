"""The Documents tab's structure views in headless Chromium: the events timeline, people and
organisations, the agreements tracker, citations opening the article at their paragraph,
document text kept as text, an axe-core scan (light and dark), and a phone-width layout.

Reuses the shared app of ``tests/test_app_server.py`` (the real corpus plus a hostile article).
Screenshots go to ``artifacts/views-*.png`` (gitignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.test_browser import ARGS, ARTIFACTS, CHROMIUM, assert_inert, server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.integration]

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
JOINT_STATEMENT = "Joint Statement of the third Vietnam-UK Migration and Immigration Dialogue"
BAD_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="module")
def browser(server, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    """A factory of pages on the Documents tab: ``with browser(viewport, dark) as page``."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:

        @contextmanager
        def open_page(viewport: dict = DESKTOP, dark: bool = False) -> Iterator:
            profile = tmp_path_factory.mktemp("chromium-profile")
            context = pw.chromium.launch_persistent_context(
                str(profile), executable_path=str(CHROMIUM), args=ARGS, viewport=viewport
            )
            try:
                pg = context.new_page()
                errors: list[str] = []
                pg.on("pageerror", lambda exc: errors.append(str(exc)))
                pg.goto(server.url + ("?__theme=dark" if dark else ""))
                pg.wait_for_selector("#qa-input textarea", timeout=60_000)
                pg.get_by_role("tab", name="Documents").click()
                pg.locator("#qa-events li.qa-ev").first.wait_for(timeout=10_000)
                yield pg
                assert errors == []
            finally:
                context.close()

        yield open_page


def sub_tab(page, name: str) -> None:
    page.locator("#qa-doc-views").get_by_role("tab", name=name, exact=True).click()


def open_and_check_citation(page, button) -> str:
    """Click an Open button; the reader shows its article with that paragraph focused and
    the quoted sentence marked. Returns the focused paragraph's text."""
    para = button.get_attribute("data-para")
    button.click()
    page.wait_for_selector(f"#qa-doc #qa-doc-p{para}.qa-focus", timeout=10_000)
    assert page.locator("#qa-doc .qa-focus").count() == 1
    return page.locator(f"#qa-doc #qa-doc-p{para}").inner_text()


def test_events_are_in_date_order_and_open_to_participants_and_citations(browser) -> None:
    with browser() as page:
        dates = page.locator("#qa-events li.qa-ev .qa-tl-date .qa-date").all_inner_texts()
        dated = [d for d in dates if d != "date unknown"]
        assert len(dates) >= 10 and dated == sorted(dated)
        assert dates[len(dated) :] == ["date unknown"] * (len(dates) - len(dated))
        assert dated[0] == "2021-11" and dated[-1] == "2025-03-04"

        call = page.locator("#qa-events li.qa-ev").filter(has_text="2024-04-15")
        assert call.count() == 1
        assert call.locator(".qa-kind").inner_text().lower() == "phone call"
        call.locator("summary").click()
        rows = call.locator("table.qa-ev-people tbody tr").all_inner_texts()
        flat = [" ".join(r.split()) for r in rows]
        assert "To Lam Minister of Public Security Vietnam" in flat
        assert any(r.startswith("James Cleverly") and r.endswith("United Kingdom") for r in flat)
        deals = call.locator("ul.qa-ev-agreements li").all_inner_texts()
        assert any(
            "Memorandum of Understanding on Human Trafficking Prevention" in d for d in deals
        )

        cite = call.locator("li.qa-ev-cite").first
        quote = cite.locator("q.qa-quote").inner_text()
        meta = cite.locator(".qa-meta").inner_text()
        assert re.search(r" · \d{4}-\d\d-\d\d · paragraph \d+ Open ¶\d+$", meta), meta
        text = open_and_check_citation(page, cite.locator("button.qa-open"))
        assert " ".join(quote.split()) in " ".join(text.split())
        marked = page.locator("#qa-doc .qa-focus mark").all_inner_texts()
        assert [" ".join(m.split()) for m in marked] == [" ".join(quote.split())]

        # A dot of the plot opens its event in the timeline.
        dot = page.locator("#qa-events circle.qa-plot-dot").last
        target = dot.get_attribute("data-goto")
        dot.click()
        page.wait_for_function(
            f"document.querySelector('#qa-events li[data-event=\"{target}\"] details').open",
            timeout=5_000,
        )
        page.screenshot(path=str(ARTIFACTS / "views-events-light-1400.png"))


def test_tracker_shows_the_joint_statement_signed_at_the_dialogue(browser) -> None:
    with browser() as page:
        sub_tab(page, "Agreements")
        table = page.locator("#qa-tracker table.qa-tracker")
        table.wait_for(timeout=10_000)
        heads = table.locator("thead th").all_inner_texts()
        assert heads[0] == "Agreement"
        row = table.locator("tbody tr").filter(has_text=JOINT_STATEMENT)
        assert row.count() == 1
        cells = row.locator("td").all_inner_texts()
        column = [" ".join(h.split()) for h in heads[1:]]
        signed = [i for i, c in enumerate(cells) if c.strip().lower().startswith("signed")]
        assert len(signed) == 1 and column[signed[0]].startswith("2025-03-04")
        assert "dialogue" in column[signed[0]]
        text = open_and_check_citation(page, row.locator("td").nth(signed[0]).locator("button"))
        assert "Joint Statement" in text
        page.screenshot(path=str(ARTIFACTS / "views-agreements-light-1400.png"))


def test_people_view_lists_variants_roles_and_mentions(browser) -> None:
    with browser() as page:
        sub_tab(page, "People")
        person = page.locator("#qa-people li.qa-ent").filter(has_text="Lương Tam Quang").first
        summary = person.locator("summary").inner_text()
        assert "Vietnam" in summary and "Minister of Public Security" in summary
        n = int(person.locator(".qa-ent-count").inner_text().split()[0])
        person.locator("summary").click()
        assert "Luong Tam Quang" in person.locator(".qa-ent-line").first.inner_text()
        assert person.locator("li.qa-ev-cite").count() == n >= 2
        open_and_check_citation(page, person.locator("button.qa-open").first)
        assert "Quang" in page.locator("#qa-doc .qa-focus mark").inner_text()
        page.screenshot(path=str(ARTIFACTS / "views-people-light-1400.png"))


def test_document_text_stays_text_in_the_views(browser) -> None:
    with browser() as page:
        page.evaluate(
            "document.querySelectorAll('#qa-documents details').forEach(d => d.open = true)"
        )
        for name in ("Events", "People", "Agreements", "Articles"):
            sub_tab(page, name)
        # Quotes, names and roles are text nodes only: no element came from a document.
        assert page.evaluate(
            "[...document.querySelectorAll('#qa-documents q.qa-quote, #qa-documents "
            ".qa-ev-people td:not(:last-child), #qa-documents .qa-ent-name, "
            "#qa-documents .qa-ag-name')].every(e => e.children.length === 0)"
        )
        assert (
            page.locator("#qa-documents script, #qa-documents img, #qa-documents iframe").count()
            == 0
        )
        sub_tab(page, "Articles")
        page.locator("#qa-timeline li.qa-tl-item").filter(has_text="900_harbour").click()
        page.wait_for_selector("#qa-doc .qa-doc", timeout=10_000)
        assert "<script>window.__xss=1</script>" in page.locator("#qa-doc").inner_text()
        assert_inert(page)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_axe_finds_no_serious_violations_in_the_documents_tab(browser, dark: bool) -> None:
    from axe_playwright_python.sync_playwright import Axe

    with browser(dark=dark) as page:
        found = []
        for name in ("Events", "People", "Agreements", "Articles"):
            sub_tab(page, name)
            page.evaluate(
                "document.querySelectorAll('#qa-documents details').forEach(d => d.open = true)"
            )
            if name == "Events":
                open_and_check_citation(page, page.locator("#qa-events button.qa-open").nth(2))
            page.wait_for_timeout(300)
            result = Axe().run(page, context="#qa-documents")
            found += [
                (name, v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]])
                for v in result.response["violations"]
                if v["impact"] in BAD_IMPACTS
            ]
        assert found == []


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_phone_width_scrolls_tables_inside_their_box(browser, dark: bool) -> None:
    theme = "dark" if dark else "light"
    with browser(PHONE, dark) as page:
        page.screenshot(path=str(ARTIFACTS / f"views-events-{theme}-390.png"))
        tabs = page.locator("#qa-doc-views [role=tab]").all_inner_texts()
        assert tabs == ["Events", "People", "Agreements", "Articles"]  # none folded into "…"
        for name in ("Events", "People", "Agreements"):
            sub_tab(page, name)
            page.evaluate(
                "document.querySelectorAll('#qa-documents details').forEach(d => d.open = true)"
            )
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (name, width)
        box = page.locator("#qa-tracker .qa-scroll")
        assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # the table scrolls, in its box
        button = page.locator("#qa-tracker button.qa-cell-btn").first
        open_and_check_citation(page, button)
        page.wait_for_timeout(500)
        focus = page.locator("#qa-doc .qa-focus").bounding_box()
        assert focus and 0 <= focus["y"] < PHONE["height"]  # the reader came into view
        page.screenshot(path=str(ARTIFACTS / f"views-agreements-{theme}-390.png"))
