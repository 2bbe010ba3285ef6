"""The catalog of indexed documents and chunks, in SQLite: opened in O(1), read as one consistent snapshot.

A `Catalog` holds a read transaction open on a WAL database, so what it shows never changes under a
reader while an ingest (a `CatalogWriter`, in this or another process) commits; rows are loaded when
asked for. Every commit bumps a generation number, which a running process polls to know it is stale.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.corpus import DocMeta

CATALOG_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (doc_id TEXT PRIMARY KEY, meta TEXT NOT NULL, text TEXT NOT NULL,
                                 content_hash TEXT NOT NULL, origin TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, section TEXT NOT NULL,
                                   start INTEGER NOT NULL, "end" INTEGER NOT NULL, tokens TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks (doc_id, start);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_TABLES = {"docs", "chunks", "state"}


class CatalogDamaged(RuntimeError):
    """The catalog file is not a catalog of this version (corrupt, foreign, or of the wrong shape)."""


@dataclass
class ChunkRecord:
    chunk_id: str
    doc_id: str
    section: str
    start: int
    end: int
    tokens: list[str] = field(default_factory=list)


class _StoredChunk(ChunkRecord):
    """A chunk read from the catalog: its tokens (needed only to rebuild BM25) are decoded on first use."""

    @property  # type: ignore[override]
    def tokens(self) -> list[str]:
        if isinstance(self._tokens, str):
            self._tokens = json.loads(self._tokens)
        return self._tokens

    @tokens.setter
    def tokens(self, value: list[str] | str) -> None:
        self._tokens = value


class DocRecord:
    """A report as indexed: metadata, cleaned text (loaded on first use) and its chunk ids."""

    def __init__(
        self,
        meta: DocMeta,
        text: str | Callable[[], str],
        content_hash: str,
        origin: str,
        chunk_ids: list[str] | Callable[[], list[str]] | None = None,
    ) -> None:
        self.meta = meta
        self.content_hash = content_hash
        self.origin = origin  # the corpus entry (or file) it came from
        self._text = text
        self._chunk_ids = chunk_ids if chunk_ids is not None else []

    @property
    def text(self) -> str:
        if callable(self._text):
            self._text = self._text()
        return self._text

    @property
    def chunk_ids(self) -> list[str]:
        if callable(self._chunk_ids):
            self._chunk_ids = self._chunk_ids()
        return self._chunk_ids

    @chunk_ids.setter
    def chunk_ids(self, value: list[str]) -> None:
        self._chunk_ids = value


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, usable from any thread."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=60)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def check_shape(db: sqlite3.Connection, thorough: bool = False) -> None:
    """Raise CatalogDamaged unless this is a catalog of this version (empty files become one).

    `thorough` adds `PRAGMA quick_check` (it reads every page): the writer does it, readers open in O(1).
    """
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if not tables:
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={CATALOG_VERSION}")
            return
        if tables != _TABLES or version != CATALOG_VERSION:
            raise CatalogDamaged(f"tables {sorted(tables)}, version {version}")
        if thorough and db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise CatalogDamaged("quick_check failed")
        db.execute("SELECT doc_id, meta, text, content_hash, origin FROM docs LIMIT 1").fetchall()
        db.execute('SELECT chunk_id, doc_id, section, start, "end", tokens FROM chunks LIMIT 1').fetchall()
    except sqlite3.DatabaseError as exc:
        raise CatalogDamaged(str(exc)) from exc


def move_aside(path: Path) -> Path:
    """A damaged catalog is kept for inspection, never deleted; returns where it went."""
    broken = path.with_name(f"{path.name}.broken-{int(time.time() * 1000)}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(str(path) + suffix)
        if part.exists():
            part.replace(Path(str(broken) + suffix))
    return broken


def read_generation(path: Path) -> int:
    """The generation committed in the catalog at `path` (0 when there is none yet)."""
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            row = db.execute("SELECT value FROM state WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0
    except sqlite3.Error:
        return -1


class _Rows:
    """Shared reader state: one connection holding one snapshot, guarded by a lock."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.lock = threading.Lock()

    def all(self, sql: str, *args: object) -> list[tuple]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()


class _Docs(Mapping[str, DocRecord]):
    def __init__(self, rows: _Rows) -> None:
        self._rows = rows
        self._cache: dict[str, DocRecord] = {}
        self._ids: list[str] | None = None

    def _record(self, doc_id: str, meta: str, content_hash: str, origin: str) -> DocRecord:
        rows = self._rows
        return DocRecord(
            DocMeta.model_validate_json(meta),
            lambda: rows.all("SELECT text FROM docs WHERE doc_id=?", doc_id)[0][0],
            content_hash,
            origin,
            lambda: [r[0] for r in rows.all("SELECT chunk_id FROM chunks WHERE doc_id=? ORDER BY start", doc_id)],
        )

    def __getitem__(self, doc_id: str) -> DocRecord:
        if doc_id not in self._cache:
            found = self._rows.all("SELECT doc_id, meta, content_hash, origin FROM docs WHERE doc_id=?", doc_id)
            if not found:
                raise KeyError(doc_id)
            self._cache[doc_id] = self._record(*found[0])
        return self._cache[doc_id]

    def _load_all(self) -> None:
        if self._ids is None:
            rows = self._rows.all("SELECT doc_id, meta, content_hash, origin FROM docs ORDER BY doc_id")
            for row in rows:
                self._cache.setdefault(row[0], self._record(*row))
            self._ids = [r[0] for r in rows]

    def __iter__(self) -> Iterator[str]:
        self._load_all()
        return iter(self._ids or [])

    def __len__(self) -> int:
        self._load_all()
        return len(self._ids or [])

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and self.get(doc_id) is not None


class _Chunks(Mapping[str, ChunkRecord]):
    def __init__(self, rows: _Rows) -> None:
        self._rows = rows
        self._cache: dict[str, ChunkRecord] = {}
        self._ids: list[str] | None = None

    @staticmethod
    def _record(row: tuple) -> ChunkRecord:
        chunk_id, doc_id, section, start, end, tokens = row
        return _StoredChunk(chunk_id, doc_id, section, start, end, tokens)

    def __getitem__(self, chunk_id: str) -> ChunkRecord:
        if chunk_id not in self._cache:
            sql = 'SELECT chunk_id, doc_id, section, start, "end", tokens FROM chunks WHERE chunk_id=?'
            found = self._rows.all(sql, chunk_id)
            if not found:
                raise KeyError(chunk_id)
            self._cache[chunk_id] = self._record(found[0])
        return self._cache[chunk_id]

    def _load_all(self) -> None:
        """Whole-corpus consumers (BM25, term statistics) read every chunk: one query, then cached."""
        if self._ids is None:
            rows = self._rows.all('SELECT chunk_id, doc_id, section, start, "end", tokens FROM chunks ORDER BY rowid')
            for row in rows:
                self._cache.setdefault(row[0], self._record(row))
            self._ids = [r[0] for r in rows]

    def __iter__(self) -> Iterator[str]:
        self._load_all()
        return iter(self._ids or [])

    def __len__(self) -> int:
        if self._ids is None:
            return self._rows.all("SELECT count(*) FROM chunks")[0][0]
        return len(self._ids)

    def __contains__(self, chunk_id: object) -> bool:
        return isinstance(chunk_id, str) and self.get(chunk_id) is not None


class Catalog:
    """Documents (cleaned text, metadata) and chunk records as of one committed generation.

    Chunks become visible only once their document is committed, after Chroma holds their vectors,
    so a reader never sees half a document.
    """

    def __init__(self, path: Path, db: sqlite3.Connection | None = None) -> None:
        self.path = path
        rows = _Rows(db if db is not None else sqlite3.connect(":memory:", check_same_thread=False))
        if db is None:
            rows.db.executescript(_SCHEMA)
        self._rows = rows
        self.docs: Mapping[str, DocRecord] = _Docs(rows)
        self.chunks: Mapping[str, ChunkRecord] = _Chunks(rows)
        found = rows.all("SELECT value FROM state WHERE key='generation'")
        self.generation = int(found[0][0]) if found else 0
        self._fingerprint: str | None = None  # a snapshot never changes: computed once

    @classmethod
    def load(cls, path: Path) -> Catalog:
        """Open a snapshot of the catalog at `path`; raises CatalogDamaged for a file of the wrong shape."""
        db = connect(path)
        try:
            check_shape(db)
            db.execute("BEGIN")  # the snapshot starts at the first read and lasts as long as this object
        except (CatalogDamaged, sqlite3.DatabaseError):
            db.close()
            raise
        return cls(path, db)

    def copy(self) -> Catalog:
        """A fresh snapshot of the same catalog (the latest committed state)."""
        return Catalog.load(self.path)

    def chunk_owners(self) -> list[tuple[str, str]]:
        """(chunk id, doc id) of every chunk in `chunks`' order, without reading 45,000 token lists."""
        return self._rows.all("SELECT chunk_id, doc_id FROM chunks ORDER BY rowid")

    def chunk_text(self, chunk: ChunkRecord) -> str:
        return self.docs[chunk.doc_id].text[chunk.start : chunk.end]

    def fingerprint(self) -> str:
        """What the committed reports and chunks are, in a few bytes: generation numbers restart when a
        damaged catalog is rebuilt, so arrays derived from it are keyed by this as well. The chunk part reads
        only the (doc_id, start) index: re-chunking writes new rows, so their largest rowid moves."""
        if self._fingerprint is None:
            docs = self._rows.all("SELECT doc_id, content_hash FROM docs ORDER BY doc_id")
            chunks = self._rows.all("SELECT count(*), max(rowid), coalesce(sum(start), 0) FROM chunks")
            self._fingerprint = hashlib.sha256(repr((self.generation, docs, chunks)).encode()).hexdigest()[:16]
        return self._fingerprint

    def close(self) -> None:
        with self._rows.lock:
            self._rows.db.close()


class CatalogWriter:
    """The one writer (under the ingest lock): each document is committed in its own transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect(path)
        try:
            check_shape(self._db, thorough=True)
        except CatalogDamaged:
            self._db.close()
            raise

    def hashes(self) -> dict[str, str]:
        """doc id → content hash of what is committed."""
        return dict(self._db.execute("SELECT doc_id, content_hash FROM docs").fetchall())

    def chunk_ids(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT chunk_id FROM chunks")}

    def docs_missing(self, have: set[str]) -> set[str]:
        """Documents with a chunk whose vector is not in `have` (index dir lost, server reset)."""
        return {d for c, d in self._db.execute("SELECT chunk_id, doc_id FROM chunks") if c not in have}

    def doc(self, doc_id: str) -> DocRecord:
        meta, text, content_hash, origin = self._db.execute(
            "SELECT meta, text, content_hash, origin FROM docs WHERE doc_id=?", (doc_id,)
        ).fetchone()
        return DocRecord(DocMeta.model_validate_json(meta), text, content_hash, origin)

    def metas(self) -> list[DocMeta]:
        return [DocMeta.model_validate_json(r[0]) for r in self._db.execute("SELECT meta FROM docs")]

    def doc_chunk_ids(self, doc_id: str) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))]

    def put(self, doc: DocRecord, chunks: list[ChunkRecord]) -> list[str]:
        """Replace one document and its chunks atomically; returns the chunk ids no longer used."""
        old = set(self.doc_chunk_ids(doc.meta.doc_id))
        rows = [(c.chunk_id, c.doc_id, c.section, c.start, c.end, json.dumps(c.tokens)) for c in chunks]
        with self._transaction():
            self._db.execute("DELETE FROM chunks WHERE doc_id=?", (doc.meta.doc_id,))
            self._db.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?)", rows)
            self._db.execute(
                "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?)",
                (doc.meta.doc_id, doc.meta.model_dump_json(), doc.text, doc.content_hash, doc.origin),
            )
        return sorted(old - {c.chunk_id for c in chunks})

    def remove(self, doc_id: str) -> list[str]:
        old = self.doc_chunk_ids(doc_id)
        with self._transaction():
            self._db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            self._db.execute("DELETE FROM docs WHERE doc_id=?", (doc_id,))
        return old

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()


class _Transaction:
    """BEGIN IMMEDIATE … bump the generation … COMMIT; ROLLBACK on any error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type | None, *_: object) -> None:
        if kind is not None:
            self._db.execute("ROLLBACK")
            return
        self._db.execute("INSERT INTO state VALUES ('generation', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1")
        self._db.execute("COMMIT")
