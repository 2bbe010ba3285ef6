"""The Reports and Figures tabs: uploads, the list of reports, comparing counties on one measure."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from bot.api import Bot
from bot.chat import ALL
from bot.compare import measures, rows_for, to_csv
from bot.corpus import SUPPORTED_SUFFIXES
from bot.derived import written
from bot.reports import NotRemovable, list_reports, remove_upload
from bot.ui_render import render_chart, render_figure_table, render_reports
from bot.uploads import MAX_UPLOAD_BYTES, UploadError, explain

log = logging.getLogger(__name__)
FILE_TYPES = list(SUPPORTED_SUFFIXES)


class Library:
    """What the tabs show, read from the bot on every call so uploads and other processes' ingests show up."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        # One folder for every CSV export, removed with the app: a folder per click filled /tmp on a server.
        self._exports = tempfile.TemporaryDirectory(prefix="fazhi-figures-")

    def region_choices(self) -> list[str]:
        metas = sorted((d.meta for d in self.bot.catalog.docs.values()), key=lambda m: m.doc_id)
        labels = (m.county if m.label_en in (m.county, m.label_zh) else f"{m.county} {m.label_en}" for m in metas)
        return [ALL, *dict.fromkeys(label for label, m in zip(labels, metas, strict=True) if m.county)]

    def year_choices(self) -> list[str]:
        return [ALL, *sorted({str(d.meta.year) for d in self.bot.catalog.docs.values() if d.meta.year})]

    def upload_choices(self) -> list[tuple[str, str]]:
        return [(f"{r.title} ({r.file_name})", r.doc_id) for r in list_reports(self.bot) if r.uploaded]

    def measure_choices(self) -> list[str]:
        return measures(self.bot.figures)

    def refreshed(self) -> tuple[Any, Any, str, Any]:
        """Filters, reports table and delete list as they are now (page load, after an upload or a delete)."""
        self.bot.refresh()
        return (
            gr.update(choices=self.region_choices()),
            gr.update(choices=self.year_choices()),
            render_reports(list_reports(self.bot)),
            gr.update(choices=self.upload_choices(), value=None),
        )

    def upload(self, files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
        """Index each file in turn, naming it by the user's file name; every temporary copy is deleted after."""
        paths = [Path(f) for f in files or []]
        lines = []
        for i, path in enumerate(paths):
            progress(i / len(paths), desc=f"{path.name}: 收录中 indexing ({i + 1}/{len(paths)})…")
            lines.append(self._take(path))
        return (None, "\n\n".join(lines) or "请选择文件。Choose a file.", *self.refreshed())

    def _take(self, path: Path) -> str:
        name = path.name
        try:
            report = self.bot.add_upload(name, path.read_bytes(), lambda _: None)
        except UploadError as exc:
            titles = {d: r.meta.title for d, r in self.bot.catalog.docs.items()}
            return f"❌ {explain(name, str(exc), titles)}"
        except OSError as exc:
            log.warning("upload %s unreadable: %s", name, exc)
            return f"❌ 未收录 Not added: {name} — 文件无法读取 the file could not be read."
        finally:
            _discard(path)
        doc = self.bot.catalog.docs[(report.added or report.updated)[0]].meta
        return f"✅ 已收录 Added: {name} — 《{doc.title}》 {doc.county or ''} {doc.period or ''}".rstrip()

    def delete(self, doc_id: str | None, cancelled: str = "") -> tuple:
        if cancelled:
            return ("已取消，未删除。Cancelled: nothing deleted.", *self.refreshed())
        if not doc_id:
            return ("未删除：请先选择要删除的上传报告。Nothing deleted: choose an uploaded report.", *self.refreshed())
        try:
            info = remove_upload(self.bot, doc_id)
        except NotRemovable:
            return ("只能删除上传的报告。Only uploaded reports can be deleted.", *self.refreshed())
        return (f"🗑 已删除 Deleted: 《{info.title}》 ({info.file_name})", *self.refreshed())

    def figures(self, measure: str | None) -> tuple[str, str, str | None]:
        """Chart, table and a CSV file for one measure."""
        if not measure:
            return '<p class="empty">请选择一个指标。Pick a measure.</p>', "", None
        metas = {d: r.meta for d, r in self.bot.catalog.docs.items()}
        rows = rows_for(self.bot.figures, metas, measure)
        return render_chart(measure, rows), render_figure_table(rows), self._export(measure, to_csv(measure, rows))

    def _export(self, measure: str, text: str) -> str:
        """The measure's CSV, written beside and renamed into place, so a download never sees half a file."""
        path = Path(self._exports.name) / f"{measure.replace('/', '_').replace(chr(92), '_')}.csv"
        with written(path) as part:
            part.write_text(text, encoding="utf-8")
        return str(path)


def _discard(path: Path) -> None:
    """Gradio keeps each upload in its cache folder (and would serve it); ours is read, so it goes."""
    cache = Path(gr.utils.get_upload_folder()).resolve()
    try:
        if cache in path.resolve().parents:
            path.unlink(missing_ok=True)
            if path.parent != cache and not any(path.parent.iterdir()):
                path.parent.rmdir()
    except OSError as exc:
        log.warning("could not remove the temporary upload %s: %s", path, exc)


def reports_tab(lib: Library) -> dict[str, Any]:
    with gr.Tab("报告 Reports", id="reports"):
        limit = MAX_UPLOAD_BYTES // 2**20
        upload = gr.File(
            label=f"上传报告 Upload reports ({' '.join(FILE_TYPES)}, ≤ {limit} MB each; several at once)",
            file_count="multiple",
            type="filepath",
            file_types=FILE_TYPES,
            elem_id="upload",
            height=140,
        )
        status = gr.Markdown(elem_id="upload-status")
        table = gr.HTML(render_reports(list_reports(lib.bot)), elem_id="reports-table")
        with gr.Row():
            choice = gr.Dropdown(
                lib.upload_choices(), label="上传的报告 Uploaded report", scale=3, elem_id="delete-pick"
            )
            delete = gr.Button("🗑 删除 Delete", variant="stop", scale=1, elem_id="delete")
            cancelled = gr.Textbox(visible=False)  # set by the confirm dialog's JS when the user cancels
    return {
        "upload": upload,
        "status": status,
        "table": table,
        "choice": choice,
        "delete": delete,
        "cancelled": cancelled,
    }


def figures_tab(lib: Library) -> dict[str, Any]:
    with gr.Tab("数字 Figures", id="figures"):
        choices = lib.measure_choices()
        measure = gr.Dropdown(
            choices,
            value=choices[0] if choices else None,
            label="指标 Measure",
            allow_custom_value=False,
            elem_id="measure",
        )
        chart = gr.HTML(elem_id="chart")
        table = gr.HTML(elem_id="figure-table")
        csv = gr.DownloadButton("⬇ 导出 CSV Export CSV", elem_id="export-csv")
    return {"measure": measure, "chart": chart, "table": table, "csv": csv}
