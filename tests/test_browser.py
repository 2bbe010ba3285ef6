"""A real browser (Debian's headless chromium, driven by Playwright) against the running app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from bot.api import Bot
from tests.servers import running_app

CREDIT_Q = "which counties piloted the credit plus mediation mechanism"
ARTIFACTS = Path(__file__).parent / "artifacts"
# The viewer has scrolled to the highlight once the highlight is no longer at the top of the page.
VIEWER_SETTLED = """() => { const f = document.querySelector('#viewer iframe'); const d = f && f.contentDocument;
  const m = d && d.getElementById('hit'); return !!m && (d.scrollingElement.scrollTop > 0); }"""


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """Screenshots kept after the run (CI uploads the folder); git ignores it."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def app_url(bot: Bot) -> Iterator[str]:
    with running_app(bot) as url:
        yield url


def _ask(page: Page, url: str, question: str) -> None:
    page.goto(url)
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()


def test_ask_click_citation_and_land_on_the_highlighted_passage(
    browser: Browser, app_url: str, artifacts: Path
) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    _ask(page, app_url, CREDIT_Q)
    # until a citation is opened, the viewer says what it is for rather than standing blank
    assert "Click a citation" in page.frame_locator("#viewer iframe").locator("body").inner_text(timeout=30_000)
    answer = page.locator("#chat .answer").last
    answer.locator("a.cite").first.wait_for(timeout=60_000)
    assert "环翠" in answer.inner_text()
    scrolled = page.evaluate("scrollY")
    with page.expect_response(lambda r: "/passage/" in r.url):
        answer.locator("a.cite", has_text="[1]").click()
    viewer = page.frame(name="viewer")
    mark = viewer.locator("mark#hit")
    mark.wait_for(timeout=30_000)
    assert "信用+调解" in mark.inner_text()
    page.wait_for_function(VIEWER_SETTLED, timeout=10_000)
    # The viewer scrolled itself, not the page, and left context above the highlight.
    top = mark.evaluate("e => e.getBoundingClientRect().top")
    height = viewer.evaluate("innerHeight")
    assert page.evaluate("scrollY") == scrolled
    assert 0.15 * height <= top < 0.6 * height
    assert "环翠区" in viewer.locator("header").inner_text()
    page.screenshot(path=str(artifacts / "credit-plus-mediation.png"))
    assert (artifacts / "credit-plus-mediation.png").stat().st_size > 10_000
    page.close()


def test_script_in_a_question_renders_as_text(browser: Browser, app_url: str) -> None:
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _ask(page, app_url, "<script>alert('x')</script><img src=x onerror=alert(2)>哪些区县推行了信用+调解机制？")
    page.locator("#chat .answer").last.wait_for(timeout=60_000)
    chat = page.locator("#chat").inner_text()
    assert "<script>alert('x')</script>" in chat
    assert page.locator("#chat script").count() == 0 and page.locator("#chat img[src='x']").count() == 0
    page.wait_for_timeout(500)
    assert dialogs == []
    page.close()
