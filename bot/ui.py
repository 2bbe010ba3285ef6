"""The Gradio front end: a thin layer over the library (chat, sources, viewer, filters, upload, feedback)."""

from __future__ import annotations

import html
import json
import queue
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI

from bot.answer import period_label
from bot.api import Bot
from bot.models import Answer
from bot.query import Filters
from bot.uploads import UploadError
from bot.viewer import add_viewer_routes, passage_url

EXAMPLES = [
    "which counties piloted the credit plus mediation mechanism",
    "缙云县2023年办理了多少件法律援助案件？",
    "Which districts report a 100% court-appearance rate for agency heads?",
    "哪些区县推行了信用+调解机制？",
    "钟楼区三级调解组织共调解案件多少件？",
]
ALL = "全部 All"
CSS = """
.answer .cite{font-weight:600;text-decoration:none;color:#0969da}
.refusal{background:#fff8e1;border-left:4px solid #f0ad4e;padding:.5rem .75rem;border-radius:4px}
.sources blockquote{margin:.25rem 0 .5rem 0;padding-left:.6rem;border-left:3px solid #d0d7de;color:#444}
#viewer iframe{width:100%;height:70vh;border:1px solid #d0d7de;border-radius:6px;background:white}
"""
VIEWER = '<iframe name="viewer" title="报告原文 Report viewer" src="about:blank"></iframe>'


def _link(answer: Answer, n: int) -> str:
    c = next((c for c in answer.citations if c.n == n), None)
    if c is None:
        return f"[{n}]"
    return f'<a class="cite" href="{passage_url(c.doc_id, c.start, c.end)}" target="viewer">[{n}]</a>'


def render_answer(answer: Answer) -> str:
    """Escaped answer text (reports and questions are data, never markup) with [n] linked to the viewer."""
    body = html.escape(answer.answer).replace("\n", "<br>")
    body = re.sub(r"\[(\d+)\]", lambda m: _link(answer, int(m.group(1))), body)
    css = "answer refusal" if answer.refused else "answer"
    return f'<div class="{css}">{body}</div>'


def render_sources(answer: Answer) -> str:
    if not answer.citations:
        return ""
    title = "可能相关的段落 Possibly related" if answer.refused else "来源 Sources"
    items = "".join(
        f'<div class="source"><a class="cite" href="{passage_url(c.doc_id, c.start, c.end)}" target="viewer">'
        f"[{c.n}] {html.escape(c.title)}</a> · {html.escape(c.region)} · {html.escape(c.section or '—')}"
        f"<blockquote>{html.escape(c.text)}</blockquote></div>"
        for c in answer.citations
    )
    return f'<div class="sources"><b>{title}</b>{items}</div>'


def render(answer: Answer) -> str:
    return render_answer(answer) + render_sources(answer)


def _pairs(history: list[dict[str, Any]]) -> list[tuple[str, str]]:
    users = [_plain(m) for m in history if m.get("role") == "user"]
    bots = [_plain(m) for m in history if m.get("role") == "assistant"]
    return list(zip(users, bots, strict=False))


def _plain(message: dict[str, Any]) -> str:
    content = message.get("content", "")
    text = (
        content
        if isinstance(content, str)
        else " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
    )
    return html.unescape(re.sub(r"<[^>]+>", "", text))


class ChatUI:
    """Event handlers; every one calls the library and formats what it returns."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def region_choices(self) -> list[str]:
        metas = sorted((d.meta for d in self.bot.catalog.docs.values()), key=lambda m: m.doc_id)
        return [ALL, *dict.fromkeys(f"{m.county} {m.label_en}".strip() for m in metas if m.county)]

    def year_choices(self) -> list[str]:
        return [ALL, *sorted({str(d.meta.year) for d in self.bot.catalog.docs.values() if d.meta.year})]

    def respond(self, message: str, history: list[dict], region: str, year: str, backend: str) -> Iterator[tuple]:
        history = [*history, {"role": "user", "content": html.escape(message)}]
        filters = Filters(region=None if region == ALL else region.split()[0], year=None if year == ALL else int(year))
        tokens: queue.Queue[str | None] = queue.Queue()
        result: dict[str, Answer] = {}

        def work() -> None:
            try:
                result["answer"] = self.bot.answer(message, _pairs(history[:-1]), backend, filters, tokens.put)
            finally:
                tokens.put(None)

        threading.Thread(target=work, daemon=True).start()
        streamed = ""
        while (token := tokens.get()) is not None:
            streamed += token
            yield [*history, {"role": "assistant", "content": html.escape(streamed)}], "", None
        answer = result.get("answer") or Answer(
            answer="出错了，请重试。Something went wrong.", refused=True, backend=""
        )
        final = [*history, {"role": "assistant", "content": render_answer(answer)}]
        yield final, render_sources(answer), {"question": message, **answer.model_dump()}

    def upload(self, file: str | None, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
        if not file:
            return "请选择文件。Choose a file.", gr.update(), gr.update()
        path = Path(file)
        try:
            progress(0.1, desc="索引中 Indexing…")
            report = self.bot.add_upload(path.name, path.read_bytes(), lambda m: progress(0.5, desc=m))
        except UploadError as exc:
            return f"❌ {exc}", gr.update(), gr.update()
        doc = self.bot.catalog.docs[(report.added or report.updated)[0]]
        msg = f"✅ 已加入 Added: {doc.meta.title} ({doc.meta.county or '?'} {period_label(doc.meta, 'zh')})"
        return msg, gr.update(choices=self.region_choices()), gr.update(choices=self.year_choices())

    def feedback(self, last: dict | None, rating: str, comment: str) -> str:
        if not last:
            return "先提一个问题。Ask a question first."
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "rating": rating, "comment": comment[:2000], **last}
        path = self.bot.settings.data_dir / "feedback.jsonl"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return "谢谢反馈！Thanks for the feedback."


def _sidebar(ui: ChatUI, settings: Any) -> tuple[gr.Dropdown, gr.Dropdown, gr.Radio, gr.File, gr.Markdown]:
    with gr.Sidebar():
        gr.Markdown("### 筛选 Filters")
        region = gr.Dropdown(ui.region_choices(), value=ALL, label="地区 Region")
        year = gr.Dropdown(ui.year_choices(), value=ALL, label="年份 Year")
        backends = settings.configured_backends()
        default = settings.llm_backend if settings.llm_backend in backends else backends[0]
        backend = gr.Radio(backends, value=default, label="回答方式 Backend")
        gr.Markdown("### 上传报告 Upload a report")
        upload = gr.File(
            label=".txt .md .html .pdf .docx (≤ 20 MB)",
            type="filepath",
            file_types=[".txt", ".md", ".html", ".htm", ".pdf", ".docx"],
        )
        status = gr.Markdown()
    return region, year, backend, upload, status


def build_app(bot: Bot) -> gr.Blocks:
    ui = ChatUI(bot)
    with gr.Blocks(title="法治报告问答 · Rule-of-law report assistant") as demo:
        last = gr.State(None)
        region, year, backend, upload, upload_status = _sidebar(ui, bot.settings)
        gr.Markdown(
            "## 法治报告问答 · Rule-of-law report assistant\n基于县区司法局法治政府建设年度报告回答，"
            "每句附出处。Answers quote the reports; click [n] to open the passage."
        )
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="对话 Chat", height=460, sanitize_html=False, elem_id="chat")
                question = gr.Textbox(
                    label="问题 Question",
                    placeholder="例如：哪些区县推行了信用+调解机制？",
                    max_length=bot.settings.max_question_chars,
                    elem_id="question",
                )
                ask = gr.Button("提问 Ask", variant="primary", elem_id="ask")
                gr.Examples(EXAMPLES, inputs=question, label="示例 Examples")
                sources = gr.HTML(elem_classes=["sources"], elem_id="sources")
                with gr.Row():
                    up, down = gr.Button("👍"), gr.Button("👎")
                    comment = gr.Textbox(label="意见（可选）Comment (optional)", scale=3)
                feedback_status = gr.Markdown()
            with gr.Column(scale=2):
                gr.Markdown("### 原文 Report viewer")
                gr.HTML(VIEWER, elem_id="viewer")
        for trigger in (ask.click, question.submit):
            trigger(ui.respond, [question, chat, region, year, backend], [chat, sources, last], api_name=False).then(
                lambda: "", None, question
            )
        upload.upload(ui.upload, upload, [upload_status, region, year], api_name=False)
        up.click(lambda last_, c: ui.feedback(last_, "up", c), [last, comment], feedback_status, api_name=False)
        down.click(lambda last_, c: ui.feedback(last_, "down", c), [last, comment], feedback_status, api_name=False)
        gr.Button(visible=False).click(
            lambda q: bot.answer(q).model_dump(), gr.Textbox(visible=False), gr.JSON(visible=False), api_name="ask"
        )
    return demo


def serve(bot: Bot, host: str, port: int) -> None:
    """Run the app until interrupted (app.py and `bot serve`)."""
    import uvicorn

    print(f"法治报告问答 ready: http://{host}:{port}")
    uvicorn.run(make_server_app(bot), host=host, port=port, log_level="warning")


def make_server_app(bot: Bot) -> FastAPI:
    """FastAPI with the viewer routes and the Gradio app mounted at /."""
    app = FastAPI()
    add_viewer_routes(app, lambda: bot.catalog)
    return gr.mount_gradio_app(app, build_app(bot), path="", css=CSS, allowed_paths=[])
