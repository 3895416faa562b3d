"""The app in headless Chromium, as an analyst uses it: ask, open a citation, follow up, read
the documents timeline, evaluate a question file; and a hostile article must stay inert text.

Uses the system Chromium (``/usr/bin/chromium``; never ``playwright install``) with a fresh
profile and no background networking. Screenshots go to ``artifacts/`` (gitignored).
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.test_app_server import (
    NCA_TITLE,
    ROOT,
    XSS_FILE,
    XSS_QUESTION,
    AppServer,
    shared_app,
    stop_shared,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "artifacts"
DATES = ["2022-08-16", "2023-09-16", "2024-05-30", "2024-10-10", "2025-03-04"]
ANSWER_TIMEOUT = 120_000  # ms; the machine is shared


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (install it with: apt-get install -y chromium)")
    yield shared_app(tmp_path_factory)
    stop_shared()


@pytest.fixture(scope="module")
def page(server: AppServer, tmp_path_factory: pytest.TempPathFactory):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=ARGS,
            viewport={"width": 1400, "height": 950},
        )
        pg = context.new_page()
        pg.js_errors = []  # type: ignore[attr-defined]
        pg.on("pageerror", lambda exc: pg.js_errors.append(str(exc)))  # type: ignore[attr-defined]
        pg.goto(server.url)
        pg.wait_for_selector("#qa-input textarea", timeout=60_000)
        yield pg
        context.close()


def bot_messages(page) -> list[str]:
    return page.locator('#qa-chat [data-testid="bot"]').all_inner_texts()


def ask(page, question: str) -> str:
    """Type ``question``, press Enter, wait for the new answer; its visible text."""
    before = len(bot_messages(page))
    page.fill("#qa-input textarea", question)
    page.press("#qa-input textarea", "Enter")
    page.wait_for_function(
        f"document.querySelectorAll('#qa-chat [data-testid=\"bot\"]').length > {before}",
        timeout=ANSWER_TIMEOUT,
    )
    page.wait_for_selector("#qa-sources .qa-sources[data-state]", timeout=ANSWER_TIMEOUT)
    return bot_messages(page)[-1]


def assert_inert(page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src='x']").count() == 0
    # No injected element: a <script> whose code is the article's, or any onerror handler.
    # (The page's own config script mentions __xss inside escaped text; that is data.)
    assert page.evaluate(
        "[...document.querySelectorAll('script')]"
        ".every(s => !s.textContent.trim().startsWith('window.__xss'))"
    )
    assert page.locator("[onerror]").count() == 0


def test_answer_cites_and_opens_the_highlighted_passage(page) -> None:
    answer = ask(page, "Which agencies did Le Quoc Hung visit?")
    assert "NCA" in answer and "[1]" in answer and NCA_TITLE in answer
    links = page.locator('#qa-chat [data-testid="bot"] a.qa-cite-link')
    assert links.count() >= 2  # markers became links to the sources
    numbers = sorted({int(n) for n in links.evaluate_all("els => els.map(e => e.dataset.cite)")})
    assert numbers[0] == 1

    for n in reversed(numbers):  # open the last citation first: [1] starts open
        page.locator(f'#qa-chat [data-testid="bot"] a.qa-cite-link[data-cite="{n}"]').first.click()
        card = page.locator(f"#qa-sources details#qa-cite-{n}")
        page.wait_for_function(
            f"document.querySelector('#qa-sources details#qa-cite-{n}').open", timeout=10_000
        )
        others = page.locator("#qa-sources details.qa-cite[open]")
        assert others.count() == 1
        marked = card.locator("mark").all_inner_texts()
        assert marked, f"citation [{n}] has no highlighted sentence"
        flat = " ".join(answer.split())
        for sentence in marked:
            assert " ".join(sentence.split()) in flat  # the quoted sentence, verbatim
        summary = card.locator("summary").inner_text()
        assert f"[{n}]" in summary and "(inferred)" in summary and "paragraph" in summary

    page.locator('#qa-chat [data-testid="bot"] a.qa-cite-link[data-cite="1"]').first.click()
    page.wait_for_function("document.querySelector('#qa-sources details#qa-cite-1').open")
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)


def test_follow_up_shows_the_rewritten_query(page) -> None:
    answer = ask(page, "Who did he hold talks with?")
    last = page.locator('#qa-chat [data-testid="bot"]').last
    note = last.locator("small em")
    assert note.count() == 1 and "Searched for:" in note.inner_text()
    assert "Le Quoc Hung" in note.inner_text() and "Searched for:" in answer
    asked = page.locator("#qa-sources .qa-asked")
    assert "Who did he hold talks with?" in asked.inner_text()

    # A marker of the earlier answer brings back that answer's sources, opened at it.
    first = page.locator('#qa-chat [data-testid="bot"]').first
    first.locator('a.qa-cite-link[data-cite="2"]').first.click()
    page.wait_for_function(
        "document.querySelector('#qa-sources .qa-asked').innerText.includes('Which agencies')",
        timeout=10_000,
    )
    page.wait_for_function(
        "document.querySelector('#qa-sources details#qa-cite-2')?.open === true", timeout=10_000
    )


def test_declined_question_lists_related_passages(page) -> None:
    answer = ask(page, "Who is the president of France?")
    assert answer.startswith("The articles do not answer this question.")
    panel = page.locator("#qa-sources .qa-sources")
    assert panel.get_attribute("data-state") == "declined"
    assert "Not in the articles" in panel.inner_text()
    assert page.locator("#qa-sources details.qa-cite").count() >= 1


def test_bad_input_gets_a_reply_not_an_error(page) -> None:
    before = bot_messages(page)
    page.fill("#qa-input textarea", "")
    page.locator("button", has_text="Ask").first.click()
    page.wait_for_function(
        "document.querySelector('#qa-input-note').innerText.includes('The question is empty')",
        timeout=ANSWER_TIMEOUT,
    )
    assert bot_messages(page) == before  # the previous turn is left as it was
    assert page.locator(".toast-body, .error").count() == 0


def test_settings_restrict_documents_and_dates(page) -> None:
    date_from = page.get_by_label("From date")
    date_from.fill("16/08/2022")
    answer = ask(page, "Which agencies did Le Quoc Hung visit?")
    assert answer.startswith("⚠️") and "YYYY-MM-DD" in answer

    date_from.fill("2025-01-01")
    answer = ask(page, "Which agencies did Le Quoc Hung visit?")
    # The 2023 article answers it: the reply says the filter hid it, and where it is.
    assert answer.startswith("Not in the selected articles; found in "), answer
    assert NCA_TITLE in answer and "Remove the filter" in answer
    assert "outside the filter" in page.locator("#qa-sources .qa-sources").first.inner_text()
    dates = page.locator("#qa-sources details.qa-cite .qa-date").all_inner_texts()
    assert dates and all(d < "2025-01-01" for d in dates), dates
    ask(page, "What did Luong Tam Quang urge the UK Home Office to facilitate?")
    dates = page.locator("#qa-sources details.qa-cite .qa-date").all_inner_texts()
    assert dates and all(d >= "2025-01-01" for d in dates), dates
    date_from.fill("")

    # Only the 2022 article ticked: every source shown comes from it.
    labels = page.locator("#qa-docs label:has(input[type=checkbox])")
    documents = [labels.nth(i) for i in range(labels.count())]
    documents = [d for d in documents if re.search(r"\d{4}-\d\d-\d\d|date unknown", d.inner_text())]
    assert len(documents) == 6
    for label in documents:
        box = label.locator("input[type=checkbox]")
        box.set_checked("2022-08-16" in label.inner_text())
    ask(page, "Who hosted the reception?")
    dates = page.locator("#qa-sources details.qa-cite .qa-date").all_inner_texts()
    assert dates and set(dates) == {"2022-08-16"}, dates
    for label in documents:
        label.locator("input[type=checkbox]").check()


def test_hostile_article_stays_text_in_chat_and_sources(page) -> None:
    answer = ask(page, XSS_QUESTION)
    assert "seventeen lighthouses" in answer
    assert "<script>window.__xss=1</script>" in answer  # shown, as text
    panel = page.locator("#qa-sources .qa-sources").inner_text()
    assert "<script>window.__xss=1</script>" in panel
    assert_inert(page)


def test_clear_conversation(page) -> None:
    page.locator("button", has_text="Clear").first.click()
    page.wait_for_function(
        "document.querySelectorAll('#qa-chat [data-testid=\"bot\"]').length === 0",
        timeout=10_000,
    )
    assert page.locator("#qa-sources .qa-sources").get_attribute("data-state") == "empty"


def test_documents_timeline_and_reader(page) -> None:
    page.get_by_role("tab", name="Documents").click()
    page.locator("#qa-doc-views").get_by_role("tab", name="Articles", exact=True).click()
    items = page.locator("#qa-timeline li.qa-tl-item")
    items.first.wait_for(timeout=10_000)
    dates = page.locator("#qa-timeline .qa-tl-date .qa-date").all_inner_texts()
    assert dates == [*DATES, "date unknown"]
    labels = page.locator("#qa-timeline .qa-tl-date").all_inner_texts()
    assert [("(inferred)" in t) for t in labels] == [False, True, False, True, True, False]

    items.filter(has_text=XSS_FILE).click()
    page.wait_for_selector("#qa-doc .qa-doc", timeout=10_000)
    text = page.locator("#qa-doc").inner_text()
    assert "<script>window.__xss=1</script>" in text
    assert '<img src=x onerror="window.__xss=2">' in text
    assert "${window.__xss=3}" in text and "{{constructor.constructor(" in text
    assert_inert(page)

    items.nth(1).click()  # 2023-09-16: the NCA article
    title_js = "document.querySelector('#qa-doc .qa-doc-title').innerText"
    page.wait_for_function(f"{title_js}.includes({json.dumps(NCA_TITLE)})", timeout=10_000)
    numbers = page.locator("#qa-doc .qa-pn").all_inner_texts()
    assert numbers[:3] == ["¶1", "¶2", "¶3"]
    assert "National Crime Agency" in page.locator("#qa-doc-p2").inner_text()
    page.screenshot(path=str(ARTIFACTS / "documents.png"), full_page=True)


def test_evaluate_tab(page, server: AppServer, tmp_path: Path) -> None:
    page.get_by_role("tab", name="Evaluate").click()
    file_input = page.locator("#qa-upload input[type=file]")
    file_input.wait_for(state="attached", timeout=10_000)

    wrong = tmp_path / "notes.txt"
    wrong.write_text("not questions\n", encoding="utf-8")
    file_input.set_input_files(str(wrong))
    page.wait_for_timeout(3000)
    leftovers = (
        [p for p in server.upload_dir.rglob("notes.txt")] if server.upload_dir.exists() else []
    )
    assert leftovers == []  # refused uploads do not stay on the server
    message = page.locator("#qa-eval-msg").inner_text()
    toast = page.locator(".toast-body").all_inner_texts()
    assert "not a question file" in message or any("file" in t.lower() for t in toast), (
        message,
        toast,
    )

    dev = (ROOT / "tests" / "data" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    questions = tmp_path / "three.jsonl"
    questions.write_text("\n".join(dev[:3]) + "\n", encoding="utf-8")
    page.locator("#qa-upload input[type=file]").set_input_files(str(questions))
    page.wait_for_function(
        "document.querySelector('#qa-eval-msg').innerText.includes('Ready')", timeout=30_000
    )
    page.get_by_role("button", name="Run evaluation").click()
    page.wait_for_function(
        "document.querySelector('#qa-eval-msg').innerText.includes('answered from the top')",
        timeout=ANSWER_TIMEOUT,
    )
    msg = page.locator("#qa-eval-msg").inner_text()
    assert re.search(r"3 questions .* answered from the top 5 passages", msg), msg
    body = page.locator("body").inner_text()
    assert "hit@1" in body and "dev-001" in body
    report = page.locator("#qa-report")
    assert re.search(r"eval-[\w-]+\s*\.json", report.inner_text())
    href = report.locator("a[href]").first.get_attribute("href")
    assert href and "eval-" in href
    with urllib.request.urlopen(urllib.parse.urljoin(server.url, href), timeout=30) as resp:
        data = json.loads(resp.read())
    assert data["metrics"]["n"] == 3 and len(data["questions"]) == 3
    assert list(server.upload_dir.rglob("three.jsonl"))  # kept, so the run can be repeated
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "evaluate.png"), full_page=True)


def test_no_script_errors(page) -> None:
    assert page.js_errors == []
    assert_inert(page)
