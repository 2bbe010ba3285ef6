"""HTML for the web app: answers with their own sources, drafts, the reports table, the figures chart.

Everything from a report or a user is escaped here: reports and questions are data, never markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from bot.answer import period_label
from bot.compare import Row
from bot.corpus import DocMeta
from bot.models import Answer, Citation
from bot.reports import ReportInfo
from bot.viewer import passage_url

WORKING = (
    '<div class="working" role="status"><span class="spinner" aria-hidden="true"></span>'
    "正在查找报告… Searching the reports…</div>"
)
STOPPED = '<div class="stopped" role="status">已停止 Stopped.</div>'
FAILED = '<div class="answer refusal">出错了，请重试。Something went wrong; please try again.</div>'


def viewer_link(doc_id: str, start: int, end: int, label: str, preview: str, css: str = "cite") -> str:
    """A link that opens the passage in the viewer; `preview` is shown on hover or first tap."""
    return (
        f'<a class="{css}" href="{passage_url(doc_id, start, end)}" target="viewer" '
        f'data-preview="{html.escape(preview[:400], quote=True)}">{label}</a>'
    )


def _cite(c: Citation) -> str:
    return viewer_link(c.doc_id, c.start, c.end, f"[{c.n}]", f"{c.title}：{c.text}")


def render_answer(answer: Answer) -> str:
    """Escaped answer text with [n] linked to the viewer; a refusal looks different."""
    by_n = {c.n: c for c in answer.citations}
    body = html.escape(answer.answer).replace("\n", "<br>")
    body = re.sub(r"\[(\d+)\]", lambda m: _cite(by_n[int(m.group(1))]) if int(m.group(1)) in by_n else m[0], body)
    css = "answer refusal" if answer.refused else "answer"
    return f'<div class="{css}">{body}</div>'


def render_sources(answer: Answer, metas: Mapping[str, DocMeta] | None = None) -> str:
    """The answer's own passages, collapsible under it: report, region, period, section and the quote."""
    if not answer.citations:
        return ""
    title = "可能相关的段落 Possibly related" if answer.refused else "来源 Sources"
    items = []
    for c in answer.citations:
        meta = (metas or {}).get(c.doc_id)
        period = period_label(meta, "zh") if meta else ""
        facts = " · ".join(html.escape(p) for p in (c.region, period, c.section or "—") if p)
        link = viewer_link(c.doc_id, c.start, c.end, f"[{c.n}] {html.escape(c.title)}", c.text)
        items.append(
            f'<div class="source">{link}<div class="facts">{facts}</div>'
            f"<blockquote>{html.escape(c.text)}</blockquote></div>"
        )
    return f'<details class="sources"><summary>{title} ({len(items)})</summary>{"".join(items)}</details>'


def render(answer: Answer, metas: Mapping[str, DocMeta] | None = None, header: str = "") -> str:
    """A whole answer message: the filters that applied, the answer, its sources."""
    top = f'<div class="scope">{html.escape(header)}</div>' if header else ""
    notice = f'<div class="notice">{html.escape(answer.notice)}</div>' if answer.notice else ""
    return top + render_answer(answer) + notice + render_sources(answer, metas)


def render_draft(header: str, text: str) -> str:
    """LLM text as it streams in: marked as an unverified draft until the verified answer replaces it."""
    return (
        f'<div class="scope">{html.escape(header)}</div><div class="draft">'
        '<div class="draft-label">草稿 · 核实中 Draft, being verified</div>'
        f"{html.escape(text).replace(chr(10), '<br>')}</div>"
    )


def render_reports(reports: list[ReportInfo]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(r.title)}</td><td>{html.escape(r.region)}</td><td>{html.escape(r.period)}</td>"
        f'<td class="num">{r.chunks}</td><td>{_origin(r)}</td><td>{html.escape(r.added)}</td></tr>'
        for r in reports
    )
    head = (
        "<tr><th>标题 Title</th><th>地区 Region</th><th>期间 Period</th><th>段落 Chunks</th>"
        "<th>来源 Source</th><th>加入 Added</th></tr>"
    )
    return f'<div class="table-wrap"><table class="reports"><thead>{head}</thead><tbody>{rows}</tbody></table></div>'


def _origin(r: ReportInfo) -> str:
    if r.uploaded:
        return f"上传 upload · {html.escape(r.file_name)}"
    return "内置 seed"


def render_chart(measure: str, rows: list[Row]) -> str:
    """One bar per figure, each a link to its passage; bars scale to the largest figure shown."""
    if not rows:
        return '<p class="empty">没有报告给出这个数字。No report gives this figure.</p>'
    top = max(r.value for r in rows) or 1.0
    bars = "".join(
        viewer_link(
            r.doc_id,
            r.start,
            r.end,
            f'<span class="bar-label">{html.escape(r.region)} {html.escape(r.period)}</span>'
            f'<span class="bar-track"><span class="bar" style="width:{max(r.value / top * 100, 0.5):.1f}%">'
            f'</span></span><span class="bar-value">{html.escape(r.shown)}</span>',
            r.phrase,
            css="bar-row",
        )
        for r in rows
    )
    return f'<div class="chart" role="list" aria-label="{html.escape(measure)}">{bars}</div>'


def render_figure_table(rows: list[Row]) -> str:
    body = "".join(
        f"<tr><td>{html.escape(r.region)}</td><td>{html.escape(r.period)}</td>"
        f'<td class="num">{viewer_link(r.doc_id, r.start, r.end, html.escape(r.shown), r.phrase, "cite value")}</td>'
        f"<td>{html.escape(r.phrase)}</td><td>{html.escape(r.report)}</td></tr>"
        for r in rows
    )
    head = (
        "<tr><th>地区 Region</th><th>期间 Period</th><th>数字 Figure</th><th>原文 Wording</th><th>报告 Report</th></tr>"
    )
    return f'<div class="table-wrap"><table class="figures"><thead>{head}</thead><tbody>{body}</tbody></table></div>'
