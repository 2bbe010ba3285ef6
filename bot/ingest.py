"""Incremental ingest: unchanged reports cost nothing, changed ones are replaced, removed ones disappear."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.chunking import chunk_document
from bot.config import Settings
from bot.corpus import CorpusError, Document, load_manifest, read_document, report_files
from bot.embeddings import Embedder, EmbeddingCache
from bot.store import Catalog, ChunkRecord, DocRecord, StoreError, VectorStore
from bot.text import add_words, tokenize

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    chunks: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged, {len(self.failed)} failed; {self.chunks} chunks indexed "
            f"in {self.seconds:.1f} s"
        )


def interrupted_marker(settings: Settings) -> Path:
    """Present while an ingest runs; found at start, it means the last one was killed."""
    return settings.data_dir / "ingest-in-progress"


def catalog_path(settings: Settings, embedder: Embedder) -> Path:
    return settings.data_dir / f"catalog-{embedder.id}.json"


def open_store(settings: Settings, embedder: Embedder, progress: Progress) -> VectorStore:
    """Open the Chroma collection; an unreadable embedded index is moved aside and rebuilt."""
    try:
        return VectorStore(settings, embedder)
    except StoreError:
        if settings.chroma_server:
            raise
        broken = settings.data_dir / f"chroma.broken-{int(time.time())}"
        progress(f"The index at {settings.data_dir / 'chroma'} is unreadable; moved to {broken}, rebuilding.")
        shutil.move(str(settings.data_dir / "chroma"), broken)
        catalog_path(settings, embedder).unlink(missing_ok=True)
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()  # the failed open left a broken client cached for this path
        return VectorStore(settings, embedder)


class Ingestor:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: VectorStore,
        catalog: Catalog,
        progress: Progress = log.info,
    ) -> None:
        self.settings = settings
        self.store = store
        self.catalog = catalog
        self.cache = EmbeddingCache(settings.data_dir / "embeddings.sqlite", embedder)
        self.progress = progress
        self._last_save = time.monotonic()
        self._dirty = False
        self._manifests: dict[Path, dict[str, dict]] = {}

    def sync(self, extra: list[Path] | None = None) -> IngestReport:
        """Bring the index in line with the seeds folder, earlier extra files, and `extra`."""
        marker = interrupted_marker(self.settings)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(os.getpid()), encoding="utf-8")
        report = self._sync(extra)
        marker.unlink(missing_ok=True)
        return report

    def _sync(self, extra: list[Path] | None) -> IngestReport:
        started = time.monotonic()
        report = IngestReport()
        docs = self._read_sources(extra or [], report)
        add_words(sorted({w for d in docs for w in (d.meta.county, d.meta.city)}))
        stale_vectors = self._docs_missing_vectors()
        for i, doc in enumerate(docs, start=1):
            self._ingest_one(doc, doc.doc_id in stale_vectors, report)
            self.progress(f"[{i}/{len(docs)}] {doc.doc_id}")
        self._remove_absent({d.doc_id for d in docs}, report)
        self._save(force=True)
        self._drop_orphans()
        report.seconds = time.monotonic() - started
        return report

    def _read_sources(self, extra: list[Path], report: IngestReport) -> list[Document]:
        files = report_files([self.settings.seeds_dir]) if self.settings.seeds_dir.exists() else []
        known = [Path(d.origin) for d in self.catalog.docs.values()]
        files += [p for p in known if p.exists() and p not in files]
        files += [p for p in report_files([Path(p) for p in extra]) if p.resolve() not in {f.resolve() for f in files}]
        docs: dict[str, Document] = {}
        by_text: dict[str, str] = {}
        for path in files:
            doc = self._read_one(path, report)
            if doc is None:
                continue
            if doc.text in by_text:
                report.failed.append((path.name, f"same text as {by_text[doc.text]}; not indexed twice"))
                continue
            docs[doc.doc_id], by_text[doc.text] = doc, doc.doc_id
        return list(docs.values())

    def _read_one(self, path: Path, report: IngestReport) -> Document | None:
        try:
            if not path.is_file():
                raise CorpusError(f"{path}: no such file")
            doc = read_document(path, self._manifest(path.parent))
            limit = self.settings.max_report_chars
            if len(doc.text) > limit:
                raise CorpusError(
                    f"{path.name}: {len(doc.text):,} characters is over the limit of {limit:,} (BOT_MAX_REPORT_CHARS)"
                )
        except (CorpusError, OSError) as exc:
            report.failed.append((path.name, str(exc)))
            self.progress(f"skipped {exc}")
            return None
        doc.meta.source = str(path.resolve())
        return doc

    def _manifest(self, folder: Path) -> dict[str, dict]:
        if folder not in self._manifests:
            self._manifests[folder] = load_manifest(folder)
        return self._manifests[folder]

    def _docs_missing_vectors(self) -> set[str]:
        """Documents the catalog lists but Chroma lacks vectors for (index dir lost, server reset)."""
        have = self.store.ids()
        return {c.doc_id for cid, c in self.catalog.chunks.items() if cid not in have}

    def _ingest_one(self, doc: Document, force: bool, report: IngestReport) -> None:
        old = self.catalog.docs.get(doc.doc_id)
        if old is not None and old.content_hash == doc.content_hash and not force:
            report.unchanged.append(doc.doc_id)
            return
        chunks = chunk_document(doc.doc_id, doc.text, self.settings.chunk_chars)
        vectors = self.cache.embed([c.embed_text for c in chunks])
        metas = [_chroma_meta(doc, c.section, c.start, c.end) for c in chunks]
        self.store.upsert([c.chunk_id for c in chunks], vectors, [c.text for c in chunks], metas)
        records = [
            ChunkRecord(c.chunk_id, doc.doc_id, c.section, c.start, c.end, tokenize(c.embed_text)) for c in chunks
        ]
        stale = [cid for cid in (old.chunk_ids if old else []) if cid not in {r.chunk_id for r in records}]
        self.catalog.put(DocRecord(doc.meta, doc.text, doc.content_hash, doc.meta.source), records)
        self.store.delete(stale)
        self._dirty = True
        (report.updated if old else report.added).append(doc.doc_id)
        report.chunks += len(chunks)
        self._save()

    def _remove_absent(self, present: set[str], report: IngestReport) -> None:
        for doc_id in [d for d in self.catalog.docs if d not in present]:
            self.store.delete(self.catalog.remove(doc_id))
            report.removed.append(doc_id)
            self._dirty = True

    def _save(self, force: bool = False) -> None:
        if self._dirty and (force or time.monotonic() - self._last_save > self.settings.ingest_save_every_s):
            self.catalog.save()
            self._last_save = time.monotonic()
            self._dirty = False

    def _drop_orphans(self) -> None:
        """Vectors of an interrupted ingest that the catalog never adopted."""
        orphans = sorted(self.store.ids() - set(self.catalog.chunks))
        if orphans:
            self.store.delete(orphans)


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
