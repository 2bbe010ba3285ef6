"""The report viewer: one shareable URL per citation that opens the report with the passage highlighted."""

from __future__ import annotations

import html
from collections.abc import Callable
from urllib.parse import quote

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse

from bot.answer import period_label
from bot.store import Catalog

PAGE_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC",sans-serif;max-width:52rem;margin:1.5rem auto;
padding:0 1rem;line-height:1.8;color:#1f2328}
header{border-bottom:1px solid #d0d7de;margin-bottom:1rem}
h1{font-size:1.3rem;margin:.2rem 0} .meta{color:#57606a;font-size:.9rem}
.report{white-space:pre-wrap} mark#hit{background:#ffe58f;color:#1f2328;padding:.1rem 0;outline:2px solid #faad14;
scroll-margin-top:30vh}
@media (prefers-color-scheme: dark){body{background:#0d1117;color:#e6edf3} .meta{color:#b1bac4}
header{border-color:#3d444d}}
"""


def passage_url(doc_id: str, start: int | None = None, end: int | None = None) -> str:
    """The deep link for a citation: /passage/<doc id>?start=…&end=…#hit."""
    base = f"/passage/{quote(doc_id, safe='')}"
    return f"{base}?start={start}&end={end}#hit" if start is not None and end is not None else base


def render_page(catalog: Catalog, doc_id: str, start: int | None, end: int | None) -> str:
    """The report as HTML, escaped, with text[start:end] in <mark id="hit">; unknown ids are an error."""
    record = catalog.docs.get(doc_id)
    if record is None:  # ids are looked up, never used as paths
        raise KeyError(doc_id)
    text, meta = record.text, record.meta
    body = html.escape(text)
    if start is not None and end is not None and 0 <= start < end <= len(text):
        body = (
            html.escape(text[:start])
            + '<mark id="hit">'
            + html.escape(text[start:end])
            + "</mark>"
            + html.escape(text[end:])
        )
    parts = (meta.region, meta.region_en, period_label(meta, "zh"), meta.publisher, meta.published)
    facts = " · ".join(p for p in parts if p)
    return (
        f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{html.escape(meta.title)}</title>'
        f"<style>{PAGE_CSS}</style></head><body><header><h1>{html.escape(meta.title)}</h1>"
        f'<div class="meta">{html.escape(facts)} · {html.escape(doc_id)}</div></header>'
        f'<div class="report">{body}</div></body></html>'
    )


def add_viewer_routes(app: FastAPI, catalog_of: Callable[[], Catalog]) -> None:
    """`catalog_of()` returns the current catalog, so reports uploaded later can be shown at once."""

    @app.get("/passage/{doc_id}", response_class=HTMLResponse)
    def passage(doc_id: str, start: int | None = None, end: int | None = None) -> HTMLResponse:
        try:
            page = render_page(catalog_of(), doc_id, start, end)
        except KeyError:
            raise HTTPException(status_code=404, detail="no such report") from None
        headers = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
        return HTMLResponse(page, headers=headers)
