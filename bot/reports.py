"""The reports a bot answers from, as a user manages them: what is indexed, where it came from, removing an upload."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.answer import period_label
from bot.ingest import kept_folder
from bot.sources import ADDED, Kept
from bot.uploads import discard_upload, original_name

if TYPE_CHECKING:
    from bot.api import Bot


@dataclass(frozen=True)
class ReportInfo:
    doc_id: str
    title: str
    region: str  # the county-level unit with its city: 环翠区（威海市）
    period: str
    chunks: int
    uploaded: bool  # added by a user (removable) rather than shipped as a seed
    file_name: str  # the name the file had when it was taken in
    added: str  # when it was taken in, local time


def list_reports(bot: Bot) -> list[ReportInfo]:
    """Every indexed report, seeds first then uploads, each in id order."""
    kept = Kept(kept_folder(bot.settings))
    entries = kept.entries()
    out = []
    for doc_id, record in bot.catalog.docs.items():
        meta, entry = record.meta, entries.get(doc_id)
        stamp = kept.folder / f"{doc_id}.json"
        added = time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp.stat().st_mtime)) if stamp.exists() else ""
        out.append(
            ReportInfo(
                doc_id,
                meta.title,
                meta.label_zh,
                period_label(meta, "zh"),
                len(record.chunk_ids),
                bool(entry and entry.kind == ADDED),
                original_name(Path(entry.origin)) if entry and entry.kind == ADDED else (entry.name if entry else ""),
                added,
            )
        )
    return sorted(out, key=lambda r: (r.uploaded, r.doc_id))


class NotRemovable(ValueError):
    """Only uploads can be removed from the app; seeds follow the seeds folder."""


def remove_upload(bot: Bot, doc_id: str) -> ReportInfo:
    """Forget an uploaded report: its kept copy, its stored upload and its index entries."""
    info = next((r for r in list_reports(bot) if r.doc_id == doc_id), None)
    if info is None or not info.uploaded:
        raise NotRemovable(doc_id)
    kept = Kept(kept_folder(bot.settings))
    entry = kept.entries().get(doc_id)
    kept.remove(doc_id)
    uploads = (bot.settings.data_dir / "uploads").absolute()
    if entry is not None and Path(entry.origin).parent == uploads:  # never a file outside the bot's own folder
        discard_upload(Path(entry.origin))
    bot.ingest()  # the index follows the kept reports: the removed one leaves the catalog and the vectors
    return info
