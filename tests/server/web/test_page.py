"""The web page in a real browser: Playwright driving Debian's Chromium (scripts/test.sh
installs both) against the real server. Without a browser the tests skip with the reason,
except in CI, where that is a failure. Screenshots go to the test's temporary folder."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor

from ...engines import unavailable
from ..conftest import LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.integration]
QUESTION = "How many days do I have to submit my travel expenses?"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        unavailable("Chromium is not installed (scripts/test.sh installs Debian's chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    yield pg, errors
    context.close()


def shots(tmp_path: Path) -> Path:
    """Where screenshots go: the test's folder, or SCREENSHOTS_DIR (docs/ was made so)."""
    import os

    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def ask(pg, question: str) -> None:
    """Ask and wait for the answer's last state (its notes or sources), with locators only:
    the page's Content-Security-Policy forbids the eval that wait_for_function needs."""
    from playwright.sync_api import expect

    answers = pg.locator("#turns li.answer").count()
    pg.fill("#question", question)
    pg.click("#ask button[type=submit]")
    last = pg.locator("#turns li.answer").nth(answers)
    expect(last).to_have_attribute("data-done", "ok", timeout=60000)


@contextlib.contextmanager
def opened(pg, service, kb):
    """The sample knowledge base ingested, a live server, and the page loaded in it."""
    Ingestor(service).ingest_paths([kb])
    with LiveServer(service) as live:
        pg.goto(live.url + "/")
        pg.wait_for_selector("#model option", state="attached")
        yield live


def test_ask_see_sources_and_stay_safe(settings, service, kb, page, tmp_path):
    from playwright.sync_api import expect

    pg, errors = page
    with opened(pg, service, kb):
        ask(pg, QUESTION)
        answer = pg.locator("#turns li.answer").last
        assert "30 days" in answer.inner_text()
        verdict = answer.locator(".verdict")
        assert re.match(r"answered from \d+ sources?", verdict.inner_text())
        verdict.locator("summary").click()
        assert re.search(r"score [\d.-]+ against a bar of [\d.-]+", verdict.inner_text())
        link = answer.locator("a.cite").first
        assert link.inner_text() == "[1]" and "/v1/items/" in link.get_attribute("href")
        first = pg.locator("#source-list li").first
        assert "travel-expense-policy.md" in first.inner_text()
        assert "Submit every expense claim" in first.locator("mark").inner_text()
        pg.screenshot(path=str(shots(tmp_path) / "web-answer.png"))

        # a document with markup is shown as text and runs nothing
        hostile = tmp_path / "hostile.md"
        hostile.write_text("# Lunch menu\n\nThe canteen serves <img src=x onerror=alert(1)> "
                           "soup <script>alert(2)</script> on Fridays.")
        pg.set_input_files("#files", str(hostile))
        pg.click("#upload button[type=submit]")
        expect(pg.locator("#upload-status")).to_have_text(re.compile("^done"), timeout=60000)
        expect(pg.locator("#documents")).to_contain_text("hostile.md")
        ask(pg, "What does the canteen serve on Fridays?")
        assert "onerror" in pg.locator("#turns li.answer").last.inner_text()  # as text
        assert pg.locator("#turns img[src=x]").count() == 0
        assert errors == []  # no alert dialog, no script error

        # delete asks first: cancelled, the document stays
        pg.locator("#documents li", has_text="hostile.md").locator("button").click()
        expect(pg.locator("#confirm-dialog")).to_be_visible()
        assert "hostile.md" in pg.locator("#confirm-text").inner_text()
        pg.click("#confirm-cancel")
        expect(pg.locator("#confirm-dialog")).to_be_hidden()
        pg.wait_for_timeout(500)
        expect(pg.locator("#documents")).to_contain_text("hostile.md")
        # confirmed, it goes, and the next answer no longer cites it
        pg.locator("#documents li", has_text="hostile.md").locator("button").click()
        pg.click("#confirm-ok")
        expect(pg.locator("#documents")).not_to_contain_text("hostile.md", timeout=30000)
        ask(pg, "What does the canteen serve on Fridays?")
        assert "hostile.md" not in pg.locator("#source-list").inner_text()
        # a question the documents do not answer says so in words
        ask(pg, "Which moon of Jupiter has the thickest ice crust?")
        assert pg.locator("#turns li.answer").last.locator(".verdict").inner_text() \
            .startswith("not in these documents")
        # each answer keeps its sources: the first one shows its own again
        pg.locator("#turns li.answer").first.click()
        assert "travel-expense-policy.md" in pg.locator("#source-list li").first.inner_text()


def test_a_key_is_asked_for_and_sees_only_its_collections(settings, service, kb, page,
                                                          tmp_path):
    from playwright.sync_api import expect

    pg, errors = page
    Ingestor(service).ingest_paths([kb])  # into default
    Ingestor(service).ingest_paths([kb / "office-guide.md"], "hr")
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"keys": [{"key": "hr-key", "collections": ["hr"]}]}))
    settings.api_keys_file = keys
    with LiveServer(service) as live:
        pg.goto(live.url + "/")
        pg.wait_for_selector("#key-dialog[open]")
        assert pg.locator("#key-error").is_hidden()  # asked, not yet refused
        pg.fill("#key", "wrong-key")
        pg.click("#key-form button")
        expect(pg.locator("#key-error")).to_be_visible()  # the dialog says why it is back
        assert "refused" in pg.locator("#key-error").inner_text()
        pg.fill("#key", "hr-key")
        pg.click("#key-form button")
        pg.wait_for_selector("#collection option", state="attached")
        assert pg.locator("#collection option").all_inner_texts() == ["hr"]
        expect(pg.locator("#documents")).to_contain_text("office-guide.md")
        ask(pg, QUESTION)
        assert "travel-expense-policy.md" not in pg.locator("#source-list").inner_text()
        assert not [e for e in errors if "dialog" in e]


def test_search_by_image_shows_the_picture_and_why(settings, service, kb, page, tmp_path):
    from playwright.sync_api import expect

    pg, errors = page
    with opened(pg, service, kb):
        pg.set_input_files("#image", str(kb / "img" / "green.jpg"))
        ask(pg, "")
        first = pg.locator("#source-list li").first
        assert "green.jpg" in first.inner_text()
        thumb = pg.locator("#turns li.answer").last.locator("img").first
        expect(thumb).to_be_visible()
        assert thumb.evaluate("img => img.naturalWidth") > 0  # really loaded
        first.locator("details.why summary").click()
        assert "the identical picture" in first.locator("details.why").inner_text()
        mine = pg.locator("#turns li.question").last.locator("img")  # the person's picture
        expect(mine).to_be_visible()
        assert mine.evaluate("img => img.naturalWidth") > 0
        verdict = pg.locator("#turns li.answer").last.locator(".verdict")
        assert verdict.inner_text().startswith("answered from 1 source")
        # the basics: every image has alt text, the controls are reachable by keyboard
        assert pg.locator("img:not([alt])").count() == 0
        reached = set()
        for _ in range(60):  # once around the page, from wherever focus is
            pg.keyboard.press("Tab")
            focused = pg.locator(":focus")
            if focused.count():
                reached.add(focused.first.get_attribute("id") or "")
        assert {"question", "image"} <= reached
        pg.screenshot(path=str(shots(tmp_path) / "web-picture.png"))
        assert errors == []


def _background(pg) -> float:
    """The page background's luminance, 0 (black) to 1 (white)."""
    rgb = pg.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    r, g, b = (int(x) for x in re.findall(r"\d+", rgb)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_dark_mode_follows_the_system_and_a_switch(settings, service, kb, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, color_scheme="dark")
    pg = context.new_page()
    try:
        with opened(pg, service, kb):
            assert _background(pg) < 0.2  # dark, as the system asks
            ask(pg, QUESTION)
            pg.screenshot(path=str(shots(tmp_path) / "web-dark.png"))
            pg.click("#theme")  # auto -> dark
            assert _background(pg) < 0.2
            pg.click("#theme")  # dark -> light
            assert _background(pg) > 0.8
            pg.reload()
            pg.wait_for_selector("#model option", state="attached")
            assert _background(pg) > 0.8  # the choice is kept
    finally:
        context.close()


def test_a_phone_sized_page_fits_and_works_by_touch(settings, service, kb, browser, tmp_path):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=3)
    pg = context.new_page()
    try:
        with opened(pg, service, kb):
            wide, room = pg.locator("html").evaluate(
                "h => [h.scrollWidth, window.innerWidth]")
            assert wide <= room, (wide, room)  # no sideways scrolling
            pg.fill("#question", QUESTION)
            pg.tap("#ask button[type=submit]")
            answer = pg.locator("#turns li.answer").last
            expect(answer).to_have_attribute("data-done", "ok", timeout=60000)
            assert "30 days" in answer.inner_text()
            source = pg.locator("#source-list li a").first
            source.scroll_into_view_if_needed()
            expect(source).to_be_visible()
            wide, room = pg.locator("html").evaluate(
                "h => [h.scrollWidth, window.innerWidth]")
            assert wide <= room, (wide, room)
            pg.screenshot(path=str(shots(tmp_path) / "web-phone.png"))
    finally:
        context.close()


def test_conversations_survive_a_reload_and_switching(settings, service, kb, page, tmp_path):
    from playwright.sync_api import expect

    pg, errors = page
    with opened(pg, service, kb):
        ask(pg, QUESTION)
        ask(pg, "And how late can they be submitted at all?")
        pg.reload()
        pg.wait_for_selector("#model option", state="attached")
        expect(pg.locator("#turns li.question")).to_have_count(2)  # the chat came back
        assert "30 days" in pg.locator("#turns li.answer").first.inner_text()
        assert pg.locator("#chat-list li").count() == 1

        pg.click("#new-chat")
        expect(pg.locator("#turns li")).to_have_count(0)
        ask(pg, "Where do visitors park?")
        expect(pg.locator("#chat-list li")).to_have_count(2)
        pg.locator("#chat-list .chat-title", has_text="How many days").click()
        expect(pg.locator("#turns li.question")).to_have_count(2)
        ask(pg, "And in which tool?")  # a follow-up continues the chosen chat
        expect(pg.locator("#turns li.question")).to_have_count(3)

        first = pg.locator("#chat-list li", has_text="How many days")
        first.get_by_role("button", name=re.compile("^rename")).click()
        pg.fill("#chat-list input", "Expenses")
        pg.keyboard.press("Enter")
        expect(pg.locator("#chat-list .chat-title", has_text="Expenses")).to_have_count(1)
        pg.reload()
        pg.wait_for_selector("#model option", state="attached")
        expect(pg.locator("#chat-list .chat-title", has_text="Expenses")).to_have_count(1)
        pg.locator("#chat-list li", has_text="Where do visitors").get_by_role(
            "button", name=re.compile("^delete chat")).click()
        pg.click("#confirm-ok")
        expect(pg.locator("#chat-list li")).to_have_count(1)
        assert errors == []


def test_a_markdown_answer_renders_and_runs_nothing(settings, service, kb, page, tmp_path):
    """An LLM's answer in Markdown: a table, a list and code render as such; HTML in it
    (an <img onerror>, a <script>) shows as text and runs nothing; [n] stays a link."""
    from tests.rag.openai_server import FakeOpenAI, Reply, stream_events

    pg, errors = page
    settings.openai.api_key = "sk-test"
    settings.openai.max_retries = 0
    answer = ("Travel allowances [1]:\n\n| day | euros |\n|---|---|\n| full | **45** |\n"
              "| departure | 25 |\n\n- claims within `30 days`\n- receipts over 25 EUR\n\n"
              "```\nmmrag ask \"per diem\"\n```\n\nNote <img src=x onerror=alert(1)> and "
              "<script>alert(2)</script> are text.")
    with FakeOpenAI() as api:
        settings.openai.base_url = api.base_url
        pieces = [answer[i:i + 40] for i in range(0, len(answer), 40)]  # streamed in pieces
        for _ in range(3):
            api.replies.append(Reply(stream=stream_events(pieces)))
        with opened(pg, service, kb):
            pg.select_option("#model", "openai")
            ask(pg, QUESTION)
            turn = pg.locator("#turns li.answer").last
            assert turn.locator("table th").all_inner_texts() == ["day", "euros"]
            assert turn.locator("table td strong").inner_text() == "45"
            assert turn.locator("ul li").count() == 2 and turn.locator("li code").inner_text() \
                == "30 days"
            assert 'mmrag ask "per diem"' in turn.locator("pre code").inner_text()
            assert turn.locator("a.cite").first.inner_text() == "[1]"
            assert "<img src=x onerror=alert(1)>" in turn.inner_text()
            assert pg.locator("#turns img[src=x], #turns script").count() == 0
            pg.screenshot(path=str(shots(tmp_path) / "web-markdown.png"))
            assert errors == []


def test_the_page_speaks_chinese_to_a_chinese_browser_and_switches(settings, service, kb,
                                                                    browser, tmp_path):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN",
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    pg = context.new_page()
    try:
        with opened(pg, service, kb):
            assert pg.locator("html").get_attribute("lang") == "zh-CN"
            assert pg.locator("#ask button[type=submit]").inner_text() == "提问"
            assert pg.locator("#question").get_attribute("placeholder").startswith("输入问题")
            assert pg.locator("#sources h2").inner_text() == "来源"
            ask(pg, QUESTION)
            verdict = pg.locator("#turns li.answer").last.locator(".verdict")
            assert verdict.inner_text().startswith("根据 1 个来源回答")
            pg.screenshot(path=str(shots(tmp_path) / "web-zh.png"))
            pg.click("#lang")  # to English, and kept
            expect(pg.locator("#ask button[type=submit]")).to_have_text("Ask")
            assert pg.locator("#turns li.answer .verdict").last.inner_text().startswith(
                "answered from")
            pg.reload()
            pg.wait_for_selector("#model option", state="attached")
            assert pg.locator("html").get_attribute("lang") == "en"
    finally:
        context.close()


def _serious(pg) -> list[str]:
    """axe-core's serious and critical violations on what the page shows now."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(pg).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} - "
            + "; ".join(n["target"][0] for n in v["nodes"][:3] if n.get("target"))
            for v in found if v["impact"] in ("serious", "critical")]


def test_axe_finds_no_serious_violations_on_the_main_views(settings, service, kb, browser,
                                                          tmp_path):
    try:
        import axe_playwright_python  # noqa: F401
    except ImportError:
        unavailable("axe-playwright-python is not installed (pip install -e '.[test]')")
    problems: dict[str, list[str]] = {}
    for scheme, size in (("light", (1200, 900)), ("dark", (390, 844))):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                      color_scheme=scheme, bypass_csp=True)  # axe's script
        pg = context.new_page()
        try:
            with opened(pg, service, kb):
                problems[f"{scheme} empty"] = _serious(pg)
                ask(pg, QUESTION)
                problems[f"{scheme} answer"] = _serious(pg)
                pg.locator("#documents li button").first.click()  # the confirm dialog
                problems[f"{scheme} confirm"] = _serious(pg)
                pg.click("#confirm-cancel")
        finally:
            context.close()
    assert not any(problems.values()), problems


def test_the_first_load_is_small(settings, service, kb, browser):
    """Under 50 KB and 10 requests, the page's data (models, collections, documents) with it."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    seen: list[tuple[str, int]] = []
    pg.on("requestfinished", lambda r: seen.append((r.url, r.sizes()["responseBodySize"])))
    try:
        with opened(pg, service, kb):
            pg.wait_for_load_state("networkidle")
            total = sum(size for _, size in seen)
            assert len(seen) < 10, seen
            assert total < 50 * 1024, seen
    finally:
        context.close()
