"""A thin Gradio chat over the library: answers with their cited passages underneath."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from bot.api import Bot
from bot.models import Answer

EXAMPLES = [
    "which counties piloted the credit plus mediation mechanism",
    "缙云县2023年办理了多少件法律援助案件？",
    "Which districts report a 100% court-appearance rate for agency heads?",
    "哪些区县推行了信用+调解机制？",
]


def render(answer: Answer) -> str:
    """Answer text (escaped: reports and questions are data, never markup) and its sources."""
    head = "⚠️ " if answer.refused else ""
    body = html.escape(answer.answer).replace("\n", "<br>")
    sources = "".join(
        f"<details><summary>[{c.n}] {html.escape(c.title)} · {html.escape(c.section or '—')}</summary>"
        f"<blockquote>{html.escape(c.text)}</blockquote></details>"
        for c in answer.citations
    )
    return f"{head}{body}" + (f"<hr><b>来源 Sources</b>{sources}" if sources else "")


def _pairs(history: list[dict[str, Any]]) -> list[tuple[str, str]]:
    users = [m for m in history if m.get("role") == "user"]
    bots = [m for m in history if m.get("role") == "assistant"]
    return [(str(u.get("content", "")), str(a.get("content", ""))) for u, a in zip(users, bots, strict=False)]


def build_app(bot: Bot) -> gr.Blocks:
    def respond(message: str, history: list[dict[str, Any]]) -> str:
        return render(bot.answer(message, history=_pairs(history)))

    return gr.ChatInterface(
        respond,
        title="法治报告问答 · Rule-of-law report assistant",
        description="基于县区司法局法治政府建设年度报告回答问题，每句都附出处。Answers quote the reports.",
        examples=EXAMPLES,
        cache_examples=False,
    )
