"""The web app as a user meets it, in a real browser: desktop 1366×768 and phone 390×844, light and dark.

Each scenario saves a screenshot under tests/artifacts/. Timings are measured inside the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from bot.api import Bot
from bot.config import Settings
from tests.documents import make_docx, make_pdf
from tests.servers import running_app
from tests.test_browser import ARTIFACTS, VIEWER_SETTLED

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
ANSWERED = "缙云县有多少律师？"
FOLLOW_UP = "那法律援助案件呢？"
REFUSED = "缙云县2023年的财政预算总额是多少？"

# WCAG contrast of an element's text against the background it is painted on (alpha layers composited).
CONTRAST = """(el) => {
  const rgba = (s) => { const v = s.match(/[\\d.]+/g).map(Number); return v.length === 3 ? [...v, 1] : v; };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const layers = []; let n = el;
  while (n) { const c = rgba(getComputedStyle(n).backgroundColor); if (c[3] > 0) layers.push(c);
    if (c[3] >= 1) break; n = n.parentElement; }
  let bg = [255, 255, 255, 1];
  for (const layer of layers.reverse()) bg = over(layer, bg);
  const fg = over(rgba(getComputedStyle(el).color), bg);
  const lum = (c) => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""
# Stamp when Enter is pressed and when the question first shows in the chat, both on the page's clock.
TIMING = """(q) => { window.__t = {};
  document.querySelector('#question textarea').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !window.__t.sent) window.__t.sent = performance.now(); }, true);
  const chat = document.querySelector('#chat');
  new MutationObserver(() => { if (!window.__t.shown && chat.innerText.includes(q)) {
    window.__t.shown = performance.now(); window.__t.working = !!chat.querySelector('.working'); } })
    .observe(chat, {subtree: true, childList: true, characterData: true}); }"""


@pytest.fixture(scope="module")
def app_url(bot: Bot) -> Iterator[str]:
    with running_app(bot) as url:
        yield url


def _context(browser: Browser, viewport: dict[str, int], scheme: str) -> BrowserContext:
    phone = viewport["width"] < 500
    return browser.new_context(viewport=viewport, color_scheme=scheme, has_touch=phone, is_mobile=phone)


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _send(page: Page, question: str, answers_before: int) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('#chat .answer').length > {answers_before}", timeout=90_000)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_three_questions_each_with_its_sources_and_ratings_of_the_first_and_second(
    browser: Browser, app_url: str, bot: Bot, viewport: dict[str, int], scheme: str
) -> None:
    context = _context(browser, viewport, scheme)
    page = context.new_page()
    page.goto(app_url)
    page.locator("#question textarea").wait_for()
    page.evaluate(TIMING, ANSWERED)
    _send(page, ANSWERED, 0)
    timing = page.evaluate("window.__t")
    assert timing["shown"] - timing["sent"] < 300 and timing["working"]  # shown at once, with a working state
    _send(page, FOLLOW_UP, 1)
    _send(page, REFUSED, 2)
    bots = page.locator("#chat .message-row.bot-row, #chat .bot-row")
    answers = page.locator("#chat .answer")
    assert answers.count() == 3
    for i in range(3):  # each answer has its own sources, under it
        message = answers.nth(i).locator("xpath=ancestor::div[contains(@class,'message-content')]")
        sources = message.locator("details.sources")
        assert sources.count() == 1 and sources.locator(".source").count() >= 1
    first_sources = answers.nth(0).locator("xpath=..").locator("details.sources blockquote").all_text_contents()
    second_sources = answers.nth(1).locator("xpath=..").locator("details.sources blockquote").all_text_contents()
    assert any("103" in t for t in first_sources) and any("469" in t for t in second_sources)
    assert bots.count() >= 3
    _shot(page, f"chat-{viewport['width']}-{scheme}")

    page.locator("#comment textarea").fill(f"第一条 {scheme}")
    page.locator("#chat").get_by_role("button", name="Like", exact=True).first.click()
    page.wait_for_function("document.querySelector('#feedback-status').innerText.includes('第 1 个回答')")
    assert page.locator("#comment textarea").input_value() == ""
    page.locator("#chat").get_by_role("button", name="Dislike", exact=True).first.click()
    page.wait_for_function("document.querySelector('#feedback-status').innerText.includes('replaces')")
    lines = (bot.settings.data_dir / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    rated = [e for e in map(json.loads, lines) if e["question"] == ANSWERED]
    assert len({e["message_id"] for e in rated}) == len(rated)  # one line per answer: the second rating replaced it
    assert rated[-1]["rating"] == "down" and rated[-1]["turn"] == 1 and rated[-1]["message_index"] == 1
    assert rated[-1]["comment"] == f"第一条 {scheme}"  # the comment went with the first rating and was kept
    assert "103" in rated[-1]["answer"]
    page.locator("#comment textarea").fill(f"补充 {scheme}")  # a comment typed after rating is sent on its own
    page.locator("#send-comment").click()
    page.wait_for_function("document.querySelector('#feedback-status').innerText.includes('comment attached')")
    lines = (bot.settings.data_dir / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    rated = [e for e in map(json.loads, lines) if e["question"] == ANSWERED]
    assert rated[-1]["rating"] == "down" and rated[-1]["comment"] == f"补充 {scheme}"
    page.locator("#chat").get_by_role("button", name="Like", exact=True).nth(1).click()  # the second answer
    page.wait_for_function("document.querySelector('#feedback-status').innerText.includes('第 2 个回答')")
    lines = (bot.settings.data_dir / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    second = [e for e in map(json.loads, lines) if e["turn"] == 2 and e["question"] == FOLLOW_UP]
    assert second and second[-1]["rating"] == "up" and second[-1]["message_index"] == 3

    page.locator("#new-chat").click()
    page.wait_for_function("document.querySelectorAll('#chat .answer').length === 0")
    assert page.locator("#feedback-status").inner_text().strip() == ""
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_layout_and_contrast(browser: Browser, app_url: str, viewport: dict[str, int], scheme: str) -> None:
    context = _context(browser, viewport, scheme)
    page = context.new_page()
    page.goto(app_url)
    page.locator("#question textarea").wait_for()
    phone = viewport["width"] < 500
    if not phone:  # every example is on screen without scrolling
        bottoms = page.locator("#examples button").evaluate_all("bs => bs.map(b => b.getBoundingClientRect().bottom)")
        assert bottoms and max(bottoms) <= viewport["height"]
    page.locator("#examples button").first.click()  # an example asks itself
    page.wait_for_function("document.querySelectorAll('#chat .answer').length === 1", timeout=90_000)
    _send(page, REFUSED, 1)
    page.locator("#chat details.sources summary").first.click()
    checks = {
        "answer": page.locator("#chat .answer:not(.refusal)").first,
        "refusal": page.locator("#chat .answer.refusal").first,
        "source": page.locator("#chat details.sources blockquote").first,
        "source link": page.locator("#chat details.sources a.cite").first,
        "filters": page.locator("#chat .scope").first,
    }
    ratios = {name: el.evaluate(CONTRAST) for name, el in checks.items()}
    assert all(r >= 4.5 for r in ratios.values()), ratios
    for label in ("提问 Ask", "停止 Stop", "新对话 New chat"):  # buttons say what they do, in words
        assert page.get_by_role("button", name=label).count() >= 1
    _shot(page, f"layout-{viewport['width']}-{scheme}")

    cite = page.locator("#chat .answer a.cite").first
    if phone:  # a tap previews; opening shows the viewer over the chat with a way back
        assert not page.locator("#viewer-panel").is_visible()
        cite.tap()
        preview = page.locator("#fz-preview")
        preview.wait_for()
        assert "103" in preview.inner_text() or "律师" in preview.inner_text()
        preview.get_by_role("button").tap()
        page.wait_for_function(VIEWER_SETTLED, timeout=30_000)
        box = page.locator("#viewer-panel").bounding_box()
        assert box and box["width"] >= viewport["width"] - 2 and box["height"] >= viewport["height"] - 2
        _shot(page, f"viewer-{viewport['width']}-{scheme}")
        page.locator("#viewer-back").tap()
        page.wait_for_function("!document.querySelector('#viewer-panel').classList.contains('open')")
        assert not page.locator("#viewer-panel").is_visible() and cite.is_visible()
        url = page.url
        cite.tap()  # the phone's own Back closes the viewer too, and stays in the app with the chat
        preview.get_by_role("button").tap()
        page.wait_for_function("document.querySelector('#viewer-panel').classList.contains('open')")
        page.go_back()
        page.wait_for_function("!document.querySelector('#viewer-panel').classList.contains('open')")
        assert page.url == url and cite.is_visible()
        sizes = page.locator("#chat button.icon-button").evaluate_all(
            "bs => bs.map(b => Math.min(b.getBoundingClientRect().width, b.getBoundingClientRect().height))"
        )
        assert sizes and min(sizes) >= 32, sizes  # copy, 👍, 👎 are fingertip-sized, not 18 px
        page.get_by_role("tab", name="报告 Reports").click()  # titles stay readable; the table scrolls, not the page
        title = page.locator("table.reports td").first
        title.wait_for()
        assert title.bounding_box()["width"] >= 150  # type: ignore[index]
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    else:  # hovering previews the passage before it is opened
        cite.hover()
        page.locator("#fz-preview").wait_for()
        cite.click()
        page.wait_for_function(VIEWER_SETTLED, timeout=30_000)
        _shot(page, f"viewer-{viewport['width']}-{scheme}")
    context.close()


def test_figures_tab_charts_a_measure_and_opens_each_figure(browser: Browser, app_url: str) -> None:
    context = _context(browser, DESKTOP, "light")
    page = context.new_page()
    page.goto(app_url)
    page.get_by_role("tab", name="数字 Figures").click()
    assert page.locator("#measure input").input_value() == "法律援助案件"
    bars = page.locator("#chart a.bar-row")
    bars.first.wait_for(timeout=30_000)
    labels = bars.all_inner_texts()
    for region in ("缙云县", "浈江区", "环翠区", "临海市"):  # one bar per report that gives the figure
        assert sum(region in label for label in labels) == 1, labels
    assert page.locator("#figure-table a.cite").count() == bars.count()
    _shot(page, "figures-1366-light")
    bars.filter(has_text="缙云县").click()
    page.wait_for_function(VIEWER_SETTLED, timeout=30_000)
    assert "469件" in page.frame(name="viewer").locator("mark#hit").inner_text()
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    data = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert data.startswith("measure,region") and "缙云县" in data and ",469," in data
    context.close()


def test_oversized_file_is_refused_before_it_is_sent(browser: Browser, app_url: str) -> None:
    import gradio as gr

    context = _context(browser, DESKTOP, "light")
    page = context.new_page()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "upload" in r.url and r.method == "POST" else None)
    page.goto(app_url)
    page.get_by_role("tab", name="报告 Reports").click()
    big = {"name": "toolarge-report.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + b"0" * 25 * 2**20}
    page.locator("#upload input[type=file]").set_input_files(big)
    page.get_by_text("toolarge-report.pdf", exact=False).first.wait_for(timeout=10_000)
    page.wait_for_timeout(1000)
    _shot(page, "oversized-1366-light")
    assert sent == []
    assert not list(Path(gr.utils.get_upload_folder()).rglob("toolarge-report.pdf"))
    context.close()


def test_uploads_show_progress_and_stay_after_reload_and_restart(browser: Browser, fresh_settings: Settings) -> None:
    import gradio as gr

    pdf = make_pdf(["2021年,西湖区司法局法治政府建设年度报告。", "全年办理法律援助案件88件,调处矛盾纠纷420件。"])
    docx = make_docx(["2021年,滨江区司法局法治政府建设年度报告。", "全年办理法律援助案件66件。"])
    files = [
        {"name": "西湖区报告.pdf", "mimeType": "application/pdf", "buffer": pdf},
        {"name": "滨江区报告.docx", "mimeType": "application/octet-stream", "buffer": docx},
        {"name": "坏文件.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00 not a pdf"},
    ]
    context = _context(browser, DESKTOP, "light")
    with running_app(Bot(fresh_settings)) as url:
        page = context.new_page()
        page.goto(url)
        page.get_by_role("tab", name="报告 Reports").click()
        page.locator("#upload input[type=file]").set_input_files(files)
        page.wait_for_function("document.querySelector('#upload').innerText.includes('收录中')", timeout=30_000)
        _shot(page, "upload-progress-1366-light")
        status = page.locator("#upload-status")
        page.wait_for_function(
            "document.querySelector('#upload-status').innerText.includes('坏文件.pdf')", timeout=120_000
        )
        text = status.inner_text()
        assert "已收录 Added: 西湖区报告.pdf" in text and "已收录 Added: 滨江区报告.docx" in text
        assert "未收录 Not added: 坏文件.pdf" in text and "不是 .pdf" in text and "upload_" not in text
        assert "西湖区报告.pdf" in page.locator("#reports-table").inner_text()
        for name in ("西湖区报告.pdf", "滨江区报告.docx", "坏文件.pdf"):  # no copy left in Gradio's folder
            assert not list(Path(gr.utils.get_upload_folder()).rglob(name))
        page.reload()
        assert {"西湖区", "滨江区"} <= _region_options(page)
        _shot(page, "upload-after-reload-1366-light")
    with running_app(Bot(fresh_settings)) as url:  # a restart reads the same kept reports
        page = context.new_page()
        page.goto(url)
        assert {"西湖区", "滨江区"} <= _region_options(page)
        page.get_by_role("tab", name="报告 Reports").click()
        _delete(page, "滨江区报告.docx", accept=False, says="Cancelled")  # a cancelled dialog deletes nothing
        assert "滨江区报告.docx" in page.locator("#reports-table").inner_text()
        _delete(page, "滨江区报告.docx", accept=True, says="已删除 Deleted")
        page.wait_for_function("!document.querySelector('#reports-table').innerText.includes('滨江区报告.docx')")
    context.close()


def _delete(page: Page, name: str, accept: bool, says: str) -> None:
    """Waits for the status to say `says`: Gradio first shows a progress timer there, so any change is too early."""
    page.locator("#delete-pick input").click()
    page.get_by_role("option", name=name).first.click()
    page.once("dialog", lambda d: d.accept() if accept else d.dismiss())
    page.locator("#delete").click()
    page.wait_for_function(f"document.querySelector('#upload-status').innerText.includes({says!r})", timeout=30_000)


def _region_options(page: Page) -> set[str]:
    page.locator("#question textarea").wait_for()
    page.wait_for_timeout(500)  # the page's load event refreshes the lists
    page.locator("#region input").click()
    page.get_by_role("option").first.wait_for(timeout=10_000)
    options = [o.replace("✓", "") for o in page.get_by_role("option").all_inner_texts()]
    page.keyboard.press("Escape")
    return {o.split()[0] for o in options if o.strip()}
