"""The Gradio front end: a thin layer over the library (chat, its sources, viewer, filters, reports, figures)."""

from __future__ import annotations

import html
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import gradio as gr
from fastapi import FastAPI

from bot.api import Bot
from bot.chat import ALL, describe_filters, filters_from, history_for
from bot.feedback import record_feedback
from bot.models import Answer
from bot.ui_assets import CONFIRM_DELETE_JS, CSS, JS, NEW_CHAT_JS
from bot.ui_render import FAILED, STOPPED, WORKING, render, render_answer, render_draft, render_sources
from bot.ui_tabs import Library, figures_tab, reports_tab
from bot.uploads import MAX_UPLOAD_BYTES
from bot.viewer import add_viewer_routes

__all__ = ["ChatUI", "build_app", "make_server_app", "render", "render_answer", "render_sources", "serve"]
log = logging.getLogger(__name__)
EXAMPLES = [
    "缙云县2023年办理了多少件法律援助案件？",
    "哪些区县推行了信用+调解机制？",
    "which counties piloted the credit plus mediation mechanism",
    "Which districts report a 100% court-appearance rate for agency heads?",
    "钟楼区三级调解组织共调解案件多少件？",
]
# What the empty viewer says until a citation is opened (and again after New chat), in either colour scheme.
_VIEWER_HINT = html.escape(
    '<meta name="color-scheme" content="light dark"><body style="font:15px/1.6 system-ui,sans-serif;'
    'color:GrayText;padding:1.5rem">点击回答中的 [1] 等引用，在这里查看报告原文，引用的段落会高亮显示。<br>'
    "Click a citation such as [1] in an answer to read the report here, with the cited passage highlighted.</body>"
)
VIEWER = (
    '<button id="viewer-back" type="button">← 返回回答 Back to the answer</button>'
    f'<iframe name="viewer" title="报告原文 Report viewer" src="about:blank"'
    f' srcdoc="{_VIEWER_HINT}" data-hint="{_VIEWER_HINT}"></iframe>'
)
Chat = list[dict[str, Any]]
Turns = dict[str, dict[str, Any]]  # assistant message index → the answer it shows, for history and ratings


def _assistant(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}


class ChatUI:
    """Chat event handlers; every one calls the library and formats what it returns."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def start(self, message: str, chat: Chat) -> tuple[Chat, str, str]:
        """Show the question and a working state at once (no queue): the answer streams in after."""
        if not message or not message.strip():
            return chat, message, ""
        shown = [*chat, {"role": "user", "content": html.escape(message)}, _assistant(WORKING)]
        return shown, "", message

    def respond(
        self, message: str, chat: Chat, turns: Turns, region: str, year: str, backend: str
    ) -> Iterator[tuple[Chat, Turns]]:
        """Stream the draft (LLM backends) into the last message, then replace it with the verified answer."""
        if not message:
            yield chat, turns
            return
        filters = filters_from(region, year)
        earlier = [(t["question"], t["answer"]) for _, t in sorted(turns.items(), key=lambda kv: int(kv[0]))]
        try:
            history, dropped = history_for(self.bot, message, earlier, filters)
            header = describe_filters(filters, dropped)
            draft = ""
            for item in self.bot.stream(message, history, backend, filters):
                if isinstance(item, Answer):
                    yield self._final(message, chat, turns, item, header)
                    return
                if not item:
                    continue  # an empty token changes nothing on screen
                draft += item
                yield [*chat[:-1], _assistant(render_draft(header, draft))], turns
        except Exception:  # the user sees a short message; the log keeps the traceback
            log.exception("answering %r failed", message[:200])
        yield [*chat[:-1], _assistant(FAILED)], turns

    def _final(self, message: str, chat: Chat, turns: Turns, answer: Answer, header: str) -> tuple[Chat, Turns]:
        metas = {
            c.doc_id: self.bot.catalog.docs[c.doc_id].meta
            for c in answer.citations
            if c.doc_id in self.bot.catalog.docs
        }
        index = len(chat) - 1
        record = {
            "id": uuid.uuid4().hex[:12],
            "turn": len(turns) + 1,
            "question": message,
            "answer": answer.answer,
            "refused": answer.refused,
            "backend": answer.backend,
            "filters": header,
            "citations": [c.model_dump() for c in answer.citations],
        }
        return [*chat[:-1], _assistant(render(answer, metas, header))], {**turns, str(index): record}

    def stopped(self, chat: Chat) -> Chat:
        """After Stop: the unfinished message says so (a draft stays visible but is not taken as an answer)."""
        if not chat or chat[-1].get("role") != "assistant":
            return chat
        content = chat[-1].get("content")
        text = content if isinstance(content, str) else ""
        if 'class="working"' in text or 'class="draft"' in text:
            return [*chat[:-1], _assistant(text.replace(WORKING, "") + STOPPED)]
        return chat

    def rate(self, turns: Turns, comment: str, like: gr.LikeData) -> tuple[str, str, dict]:
        """One rating per answer: rating it again replaces the earlier line; the comment box empties."""
        index = like.index if isinstance(like.index, int) else like.index[0]
        if str(index) not in turns:
            return "这条消息还不能评价，请等回答完成。Wait for the answer before rating it.", comment, {}
        rating = {True: "up", False: "down"}.get(like.liked, "withdrawn")  # type: ignore[call-overload]
        rated = {"index": index, "rating": rating}
        return self._record(turns, rated, comment), "", rated

    def send_comment(self, turns: Turns, rated: dict, comment: str) -> tuple[str, str]:
        """A comment typed after rating goes with that rating (the line for that answer is replaced)."""
        if not rated or not comment.strip():
            return "请先用 👍/👎 评价一个回答，再写意见。Rate an answer with 👍/👎, then add a comment.", comment
        return self._record(turns, rated, comment, attaching=True), ""

    def _record(self, turns: Turns, rated: dict, comment: str, attaching: bool = False) -> str:
        index, rating = rated["index"], rated["rating"]
        record = turns[str(index)]
        kept = {k: record[k] for k in ("turn", "question", "answer", "refused", "backend", "filters", "citations")}
        entry = record_feedback(
            self.bot.settings.data_dir / "feedback.jsonl",
            record["id"],
            rating,
            comment or "",
            {**kept, "message_index": index},
        )
        turn, question = record["turn"], html.escape(record["question"][:60])
        if rating == "withdrawn":
            return f"已撤销对第 {turn} 个回答（{question}）的评价。Rating of answer {turn} withdrawn."
        # a comment sent after its rating rewrites that rating's line: it replaces no earlier rating of the user's
        again = "（已替换之前的评价 replaces your earlier rating）" if entry["replaced"] and not attaching else ""
        said = "，意见已附上 comment attached" if comment.strip() else ""
        return f"谢谢反馈！已记录对第 {turn} 个回答（{question}）的评价{said}。Thanks: answer {turn} rated. {again}"

    @staticmethod
    def reset() -> tuple[Chat, Turns, str, str, dict]:
        return [], {}, "", "", {}


def _chat_tab(ui: ChatUI, lib: Library) -> dict[str, Any]:
    settings = ui.bot.settings
    with gr.Tab("对话 Chat", id="chat-tab"):
        with gr.Row(elem_id="filters"):
            region = gr.Dropdown(lib.region_choices(), value=ALL, label="地区 Region", min_width=120, elem_id="region")
            year = gr.Dropdown(lib.year_choices(), value=ALL, label="年份 Year", min_width=90, elem_id="year")
            backends = settings.configured_backends()
            default = settings.llm_backend if settings.llm_backend in backends else backends[0]
            backend = gr.Dropdown(backends, value=default, label="回答方式 Backend", min_width=110)
        chat = gr.Chatbot(
            label="对话 Chat",
            height="calc(100vh - 28rem)",
            min_height=240,
            sanitize_html=False,
            elem_id="chat",
            feedback_options=("Like", "Dislike"),
            buttons=["copy"],
            autoscroll=True,
        )
        with gr.Row(equal_height=True, elem_id="ask-row"):
            question = gr.Textbox(
                show_label=False,
                placeholder="输入问题，回车发送 Ask a question, press Enter",
                max_length=settings.max_question_chars,
                elem_id="question",
                scale=6,
                min_width=180,
                lines=1,
                container=False,
            )
            ask = gr.Button("提问 Ask", variant="primary", elem_id="ask", scale=1, min_width=70, size="md")
            stop = gr.Button("停止 Stop", elem_id="stop", scale=1, min_width=70, size="md")
            new = gr.Button("新对话 New chat", elem_id="new-chat", scale=1, min_width=120, size="md")
        examples = gr.Dataset(
            components=[question],
            samples=[[e] for e in EXAMPLES],
            label="示例（点击提问）Examples",
            type="values",
            elem_id="examples",
            samples_per_page=10,
        )
        with gr.Row():
            comment = gr.Textbox(
                label="意见（可选，随 👍/👎 或评价后发送）Comment (optional: sent with a rating, or after it)",
                elem_id="comment",
                scale=3,
                min_width=200,
            )
            send = gr.Button("发送意见 Send comment", elem_id="send-comment", scale=1, min_width=120, size="md")
            status = gr.Markdown(elem_id="feedback-status")
    return {
        "region": region,
        "year": year,
        "backend": backend,
        "chat": chat,
        "question": question,
        "ask": ask,
        "stop": stop,
        "new": new,
        "examples": examples,
        "comment": comment,
        "send": send,
        "status": status,
    }


def _wire_chat(ui: ChatUI, c: dict[str, Any], turns: gr.State, pending: gr.State) -> None:
    quick = {"queue": False, "show_progress": "hidden", "api_name": False}
    answer_in = [pending, c["chat"], turns, c["region"], c["year"], c["backend"]]
    runs = []
    for trigger in (c["ask"].click, c["question"].submit):
        started = trigger(ui.start, [c["question"], c["chat"]], [c["chat"], c["question"], pending], **quick)
        runs.append(started.then(ui.respond, answer_in, [c["chat"], turns], show_progress="hidden", api_name=False))
    picked = c["examples"].click(
        lambda sample, chat: ui.start(sample[0], chat),
        [c["examples"], c["chat"]],
        [c["chat"], c["question"], pending],
        **quick,
    )
    runs.append(picked.then(ui.respond, answer_in, [c["chat"], turns], show_progress="hidden", api_name=False))
    c["stop"].click(ui.stopped, c["chat"], c["chat"], cancels=runs, **quick)
    rated = gr.State({})
    c["chat"].like(ui.rate, [turns, c["comment"]], [c["status"], c["comment"], rated], **quick)
    for sent in (c["send"].click, c["comment"].submit):
        sent(ui.send_comment, [turns, rated, c["comment"]], [c["status"], c["comment"]], **quick)
    resets = [c["chat"], turns, c["comment"], c["status"], rated]
    c["new"].click(ui.reset, None, resets, js=NEW_CHAT_JS, cancels=runs, **quick)
    c["chat"].clear(ui.reset, None, resets, js=NEW_CHAT_JS, cancels=runs, **quick)


def build_app(bot: Bot) -> gr.Blocks:
    ui, lib = ChatUI(bot), Library(bot)
    with gr.Blocks(title="法治报告问答 · Rule-of-law report assistant") as demo:
        turns, pending = gr.State({}), gr.State("")
        gr.Markdown(
            "## 法治报告问答 · Rule-of-law report assistant\n基于县区司法局法治政府建设年度报告回答，每句附出处。"
            "Answers quote the reports; hover or tap [n] to preview, click to open the passage.",
            elem_id="title",
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320), gr.Tabs():
                c = _chat_tab(ui, lib)
                r = reports_tab(lib)
                f = figures_tab(lib)
            with gr.Column(scale=2, min_width=300, elem_id="viewer-panel"):
                gr.HTML(VIEWER, elem_id="viewer")
        _wire_chat(ui, c, turns, pending)
        lists = [c["region"], c["year"], r["table"], r["choice"]]
        r["upload"].upload(
            lib.upload, r["upload"], [r["upload"], r["status"], *lists], show_progress_on=[r["upload"]], api_name=False
        )
        r["delete"].click(
            lib.delete, [r["choice"], r["cancelled"]], [r["status"], *lists], js=CONFIRM_DELETE_JS, api_name=False
        )
        f["measure"].change(lib.figures, f["measure"], [f["chart"], f["table"], f["csv"]], api_name=False)
        demo.load(lib.refreshed, None, lists, api_name=False)
        demo.load(lib.figures, f["measure"], [f["chart"], f["table"], f["csv"]], api_name=False)
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
    """FastAPI with the viewer routes and the Gradio app mounted at /; uploads over the limit are refused by
    the browser before they are sent (max_file_size), and by the server should one be sent anyway."""
    app = FastAPI()
    add_viewer_routes(app, lambda: bot.catalog)
    return gr.mount_gradio_app(
        app, build_app(bot), path="", css=CSS, head=JS, allowed_paths=[], max_file_size=MAX_UPLOAD_BYTES
    )
