"""Incremental ingest: files are first taken into the bot's own copy of the corpus (`bot.sources`), then
the index is brought in line with that copy: unchanged reports cost nothing, changed ones are replaced,
seeds deleted from the seeds folder disappear. Run only under the ingest lock (`bot.locks`)."""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.catalog import CatalogWriter, ChunkRecord, DocRecord
from bot.chunking import Chunk, chunk_document
from bot.config import Settings
from bot.corpus import CorpusError, Document, doc_id_for, document_from_bytes, read_manifest, report_files
from bot.embeddings import EmbeddingCache
from bot.files import read_bounded
from bot.shared import SharedCatalog, push
from bot.sources import ADDED, SEED, Entry, Kept, assign_id, sha256
from bot.store import VectorStore
from bot.text import add_words, tokenize

log = logging.getLogger(__name__)
_IN_FLIGHT = 3  # reports submitted to the embedder and not yet committed
Progress = Callable[[str], None]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    notes: list[str] = field(default_factory=list)  # renamed ids, ignored manifest entries
    chunks: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged, {len(self.failed)} failed; {self.chunks} chunks indexed "
            f"in {self.seconds:.1f} s"
        )


@dataclass
class Prepared:
    """One report chunked and tokenised, waiting for its vectors."""

    doc: Document
    chunks: list[Chunk]
    metas: list[dict]
    records: list[ChunkRecord]

    @property
    def texts(self) -> list[str]:
        return [c.embed_text for c in self.chunks]


def kept_folder(settings: Settings) -> Path:
    return settings.data_dir / "reports"


class Ingestor:
    def __init__(
        self,
        settings: Settings,
        store: VectorStore,
        writer: CatalogWriter,
        cache: EmbeddingCache,
        progress: Progress = log.info,
        follow_links: bool = False,
        shared: SharedCatalog | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.writer = writer
        self.cache = cache
        self.progress = progress
        self.follow_links = follow_links
        self.shared = shared  # server mode: reports are published there, and others' reports are kept
        self.kept = Kept(kept_folder(settings))
        self._manifests: dict[Path, dict[str, dict]] = {}
        self._forgotten: list[Entry] = []

    def sync(self, extra: list[Path] | None = None) -> IngestReport:
        """Take in the seeds folder and `extra`, then index everything the bot keeps."""
        started = time.monotonic()
        report = IngestReport()
        entries = self._take_in(extra or [], report)
        self._index(entries, report)
        if self.shared is None:  # on a server, another machine's uncommitted vectors are not orphans
            self._drop_orphans()
        if self.shared is not None and (
            push(self.shared, self.writer) or report.added or report.updated or report.removed
        ):
            self.shared.bump()
        report.seconds = time.monotonic() - started
        return report

    # -- taking files in ---------------------------------------------------------------------------
    def _take_in(self, extra: list[Path], report: IngestReport) -> dict[str, Entry]:
        entries = self.kept.entries()
        seeds = self.settings.seeds_dir
        files = [(p, SEED) for p in report_files([seeds], self.follow_links)] if seeds.is_dir() else []
        if not seeds.is_dir():
            self._note(report, f"the seeds folder {seeds} is missing; indexing the {len(entries)} reports kept")
        seen = {p.absolute() for p, _ in files}
        for path in report_files(extra, self.follow_links):
            if path.absolute() not in seen:
                seen.add(path.absolute())
                files.append((path, SEED if _inside(path, seeds) else ADDED))
        for path, kind in files:
            self._take_one(path, kind, entries, report)
        if seeds.is_dir():
            self._forget_deleted_seeds(entries)
        return entries

    def _take_one(self, path: Path, kind: str, entries: dict[str, Entry], report: IngestReport) -> None:
        origin = str(path.absolute())
        by_origin = next((e for e in entries.values() if e.origin == origin), None)
        try:
            data = read_bounded(path, self.follow_links)
            sha = sha256(data)
            override = self._override(path, report)
            if by_origin and by_origin.sha == sha and by_origin.override == override:
                return
            doc_id = by_origin.doc_id if by_origin else assign_id(path, sha, set(entries))
            doc = self._parse(data, path.name, doc_id, override)
        except (CorpusError, OSError) as exc:
            self._fail(report, path.name, str(exc))
            return
        text_sha = sha256(doc.text)
        twin = next((e for e in entries.values() if e.text_sha == text_sha and e.doc_id != doc_id), None)
        if twin is not None:
            self._fail(report, path.name, f"same text as {twin.doc_id}; not indexed twice")
            return
        base = doc_id_for(path)
        if by_origin is None and doc_id != base:
            other = entries[base]
            note = f"{path.name}: the id {base} belongs to another report ({other.name}); added as {doc_id}"
            self._note(report, note)
        entries[doc_id] = Entry(doc_id, path.name, origin, kind, sha, text_sha, override)
        self.kept.put(entries[doc_id], data)

    def _parse(self, data: bytes, name: str, doc_id: str, override: dict) -> Document:
        doc = document_from_bytes(data, name, doc_id, override)
        limit = self.settings.max_report_chars
        if len(doc.text) > limit:
            raise CorpusError(
                f"{name}: {len(doc.text):,} characters is over the limit of {limit:,} (BOT_MAX_REPORT_CHARS)"
            )
        return doc

    def _override(self, path: Path, report: IngestReport) -> dict:
        folder = path.parent
        if folder not in self._manifests:
            entries, problems = read_manifest(folder)
            for problem in problems:
                self._note(report, f"{folder}/{problem}")
            self._manifests[folder] = entries
        return self._manifests[folder].get(doc_id_for(path), {})

    def _forget_deleted_seeds(self, entries: dict[str, Entry]) -> None:
        """A seed whose file is gone from the (present) seeds folder leaves the corpus."""
        for doc_id, entry in list(entries.items()):
            if entry.kind == SEED and not Path(entry.origin).exists() and Path(entry.origin).parent.is_dir():
                self.kept.remove(doc_id)
                self._forgotten.append(entries.pop(doc_id))

    # -- indexing ----------------------------------------------------------------------------------
    def _index(self, entries: dict[str, Entry], report: IngestReport) -> None:
        committed = self.writer.hashes()
        missing = self.writer.docs_missing(self.store.ids())
        todo: dict[str, Document] = {}
        for entry in entries.values():
            if committed.get(entry.doc_id) != entry.version or entry.doc_id in missing:
                doc = self._reparse(entry, report)
                if doc is not None:
                    todo[entry.doc_id] = doc
        # Region names are jieba words before any chunk is tokenised, so tokens never depend on order.
        metas = [d.meta for d in todo.values()] + self.writer.metas()
        add_words(sorted({w for m in metas for w in (m.county, m.city) if w}))
        self._embed_and_commit(entries, todo, committed, report)
        for doc_id in sorted(set(committed) - set(entries) - self._others(committed)):
            self.store.delete(self.writer.remove(doc_id))
            if self.shared is not None:
                self.shared.remove(doc_id)
            report.removed.append(doc_id)

    def _embed_and_commit(
        self, entries: dict[str, Entry], todo: dict[str, Document], committed: dict[str, str], report: IngestReport
    ) -> None:
        # The embedder is the bottleneck: it works on one report in its own thread (its native code releases
        # the GIL) while this thread chunks and tokenises the next ones and commits the one before. Reports
        # queued ahead keep it busy through a slow commit (0.84 → 0.90 of its bare speed at 300 reports).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") as embedder:
            ahead: deque[tuple[Entry, Prepared, Future[np.ndarray]]] = deque()
            for i, entry in enumerate(sorted(entries.values(), key=lambda e: e.doc_id), start=1):
                if entry.doc_id in todo:
                    prepared = self._prepare(todo[entry.doc_id])
                    ahead.append((entry, prepared, embedder.submit(self.cache.embed, prepared.texts)))
                elif committed.get(entry.doc_id) == entry.version:
                    report.unchanged.append(entry.doc_id)
                while len(ahead) > _IN_FLIGHT:
                    self._commit(*ahead.popleft(), committed, report)
                self.progress(f"[{i}/{len(entries)}] {entry.doc_id}")
            while ahead:
                self._commit(*ahead.popleft(), committed, report)

    def _others(self, committed: dict[str, str]) -> set[str]:
        """Server mode: reports another machine published are not this machine's to remove."""
        if self.shared is None:
            return set()
        forgotten = {e.doc_id for e in self._forgotten}
        return set(committed) - forgotten

    def _reparse(self, entry: Entry, report: IngestReport) -> Document | None:
        try:
            doc = self._parse(self.kept.data(entry), entry.name, entry.doc_id, entry.override)
        except (CorpusError, OSError) as exc:
            self._fail(report, entry.name, str(exc))
            return None
        doc.meta.source = entry.origin
        return doc

    def _prepare(self, doc: Document) -> Prepared:
        chunks = chunk_document(doc.doc_id, doc.text, self.settings.chunk_chars)
        metas = [_chroma_meta(doc, c.section, c.start, c.end) for c in chunks]
        records = [
            ChunkRecord(c.chunk_id, doc.doc_id, c.section, c.start, c.end, tokenize(c.embed_text)) for c in chunks
        ]
        if self.shared is not None:  # replicas read chunk tokens from the server
            for meta, record in zip(metas, records, strict=True):
                meta["tokens"] = json.dumps(record.tokens, ensure_ascii=False)
        return Prepared(doc, chunks, metas, records)

    def _commit(
        self,
        entry: Entry,
        prepared: Prepared,
        vectors: Future[np.ndarray],
        committed: dict[str, str],
        report: IngestReport,
    ) -> None:
        doc, chunks = prepared.doc, prepared.chunks
        self.store.upsert([c.chunk_id for c in chunks], vectors.result(), [c.text for c in chunks], prepared.metas)
        record = DocRecord(doc.meta, doc.text, entry.version, entry.origin)
        stale = self.writer.put(record, prepared.records)
        if self.shared is not None:
            self.shared.put(record)
        self.store.delete(stale)  # only after the commit: the committed catalog never names a missing vector
        (report.updated if entry.doc_id in committed else report.added).append(doc.doc_id)
        report.chunks += len(chunks)

    def _drop_orphans(self) -> None:
        """Vectors of an interrupted ingest that the catalog never adopted."""
        orphans = sorted(self.store.ids() - self.writer.chunk_ids())
        if orphans:
            self.store.delete(orphans)

    def _fail(self, report: IngestReport, name: str, reason: str) -> None:
        reason = reason.removeprefix(f"{name}: ")
        report.failed.append((name, reason))
        self.progress(f"skipped {name}: {reason}")

    def _note(self, report: IngestReport, note: str) -> None:
        report.notes.append(note)
        self.progress(note)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.absolute().parent == folder.absolute()
    except OSError:
        return False


def _chroma_meta(doc: Document, section: str, start: int, end: int) -> dict:
    m = doc.meta
    return {
        "doc_id": m.doc_id,
        "section": section,
        "start": start,
        "end": end,
        "county": m.county,
        "city": m.city,
        "province": m.province,
        "year": m.year or 0,
    }
