"""Persistence: the Chroma collection of chunk vectors and the catalog of documents and chunks beside it."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

from bot.catalog import Catalog, ChunkRecord, DocRecord
from bot.config import Settings
from bot.embeddings import Embedder

__all__ = [
    "Catalog",
    "ChunkRecord",
    "DocRecord",
    "StoreError",
    "VectorStore",
    "index_is_sound",
    "mark_sound",
    "stamped",
]
log = logging.getLogger(__name__)
T = TypeVar("T")


class StoreError(RuntimeError):
    """The index cannot be reached or read; the message says where and what to do."""


class BotEmbeddingFunction(EmbeddingFunction[Documents]):
    """Our embedder as Chroma sees it, so Chroma never falls back to its downloading default."""

    def __init__(self, embedder: Embedder, spec: str) -> None:
        self._embedder = embedder
        self._spec = spec  # the configured name (e5-small, sentence-transformers:…), rebuildable

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._embedder.embed_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return [self._embedder.embed_query(text) for text in input]

    @staticmethod
    def name() -> str:
        return "fazhi-bot"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self._spec}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> BotEmbeddingFunction:
        from bot.embeddings import make_embedder

        return BotEmbeddingFunction(make_embedder(config["embedder"]), config["embedder"])


def make_client(settings: Settings) -> chromadb.api.ClientAPI:
    """Embedded PersistentClient by default; HttpClient when a server is configured."""
    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    server = settings.chroma_server
    if not server:
        path = settings.data_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        from chromadb.api.shared_system_client import SharedSystemClient

        # A fresh client sees what other processes wrote (a cached one keeps its own in-memory index).
        SharedSystemClient._identifier_to_system.pop(str(path), None)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    url = urlparse(server)
    try:
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    except Exception as exc:
        raise StoreError(f"cannot reach the Chroma server at {server}") from exc


class VectorStore:
    """Chunk vectors in one cosine-space collection per embedder, so two embedders never mix."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.trusted = False  # as we last left it, complete: a start need not count its vectors
        self.name = f"reports-{embedder.id}"
        self._remote = bool(settings.chroma_server)
        self._server = settings.chroma_server or str(settings.data_dir / "chroma")
        try:
            self._collection = make_client(settings).get_or_create_collection(
                name=self.name,
                embedding_function=BotEmbeddingFunction(embedder, settings.embedder),
                configuration={"hnsw": {"space": "cosine"}},
            )
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma index at {self._server}: {exc}") from exc

    def warm(self) -> None:
        """Load the vector index in a thread (Chroma reads it on the first query, a third of a second at
        45,000 chunks, without holding the GIL), so the start's other work overlaps it."""
        if self._remote:
            return

        def first_query() -> None:
            try:
                found = self._collection.peek(1)["embeddings"]
                if found is not None and len(found):
                    self._collection.query(query_embeddings=[found[0]], n_results=1, include=[])
            except Exception as exc:  # the real query reports the problem; this was only a warm-up
                log.debug("warm-up query failed: %s", exc)

        threading.Thread(target=first_query, name="chroma-warm").start()

    def _call(self, fn: Callable[[], T]) -> T:
        """One line instead of a traceback when the store goes away mid-session."""
        try:
            return fn()
        except Exception as exc:
            if self._remote:
                raise StoreError(f"cannot reach the Chroma server at {self._server}") from exc
            raise StoreError(f"the Chroma index at {self._server} failed: {_first_line(exc)}") from exc

    def upsert(self, ids: list[str], vectors: np.ndarray, texts: list[str], metas: list[dict]) -> None:
        """Chunk texts go to Chroma only for a server, whose replicas read them; embedded, the catalog holds
        them, and Chroma's full-text index of them tripled the cost of every write."""
        for lo in range(0, len(ids), 1000):
            hi = lo + 1000
            documents = texts[lo:hi] if self._remote else None
            self._call(
                lambda lo=lo, hi=hi, documents=documents: self._collection.upsert(
                    ids=ids[lo:hi], embeddings=vectors[lo:hi], documents=documents, metadatas=metas[lo:hi]
                )
            )

    def delete(self, ids: list[str]) -> None:
        for lo in range(0, len(ids), 1000):
            self._call(lambda lo=lo: self._collection.delete(ids=ids[lo : lo + 1000]))

    def ids(self) -> set[str]:
        return set(self._call(lambda: self._collection.get(include=[]))["ids"])

    def records(self, doc_id: str) -> list[dict[str, Any]]:
        """The chunks of one report as stored: id, text and metadata (offsets, section, tokens)."""
        got = self._call(lambda: self._collection.get(where={"doc_id": doc_id}, include=["metadatas", "documents"]))
        rows = zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        return [{"id": i, "text": t, "metadata": m} for i, t, m in rows]

    def count(self) -> int:
        return self._call(self._collection.count)

    def query(self, vector: np.ndarray, n: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) best first, optionally only within some documents."""
        where = None
        if doc_ids is not None and not doc_ids:
            return []
        if doc_ids is not None:
            where = {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": doc_ids}}
        n = max(n, 1)  # Chroma 1.5 returns what there is when asked for more: no count (O(n)) per question
        res = self._call(
            lambda: self._collection.query(query_embeddings=[vector], n_results=n, where=where, include=["distances"])
        )
        return [(cid, 1.0 - dist) for cid, dist in zip(res["ids"][0], res["distances"][0], strict=True)]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_CHECK = """
import sqlite3, sys
folder = sys.argv[1]
db = sqlite3.connect("file:" + folder + "/chroma.sqlite3?mode=ro", uri=True)
if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
    sys.exit(3)
for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
    for _ in db.execute('SELECT * FROM "' + table.replace('"', '""') + '"'):  # text columns decode strictly
        pass
db.close()
import chromadb
client = chromadb.PersistentClient(path=folder, settings=chromadb.Settings(anonymized_telemetry=False))
for name in sys.argv[2:]:
    try:
        col = client.get_collection(name)
    except Exception:
        continue
    n = col.count()
    col.get(include=["metadatas", "documents"])
    if n:
        vector = col.peek(1)["embeddings"][0]
        col.query(query_embeddings=[vector], n_results=min(n, 10))
"""


def _stamp(folder: Path) -> str:
    parts = [folder / "chroma.sqlite3", folder / "chroma.sqlite3-wal"]
    return ";".join(f"{p.stat().st_mtime_ns}:{p.stat().st_size}" for p in parts if p.exists())


def mark_sound(folder: Path) -> None:
    """Record that the index as it is now was written by us (a later check only runs if it changes)."""
    if (folder / "chroma.sqlite3").exists():
        (folder / ".bot-checked").write_text(_stamp(folder), encoding="utf-8")


def stamped(folder: Path) -> bool:
    """The index is exactly as we last left it complete and checked (see `mark_sound`)."""
    stamp = folder / ".bot-checked"
    try:
        return stamp.read_text(encoding="utf-8") == _stamp(folder)
    except OSError:
        return False


def index_is_sound(folder: Path, collection: str) -> bool:
    """Chroma's files read end to end in a child process: sqlite's quick_check, every row, and a query.
    Damage that makes Chroma's Rust core panic (an abort, not an exception) only fails the child."""
    if not (folder / "chroma.sqlite3").exists():
        return True
    if stamped(folder):
        return True
    try:
        result = subprocess.run(
            [sys.executable, "-c", _CHECK, str(folder), collection], capture_output=True, timeout=600
        )
    except subprocess.TimeoutExpired:
        return False
    if result.returncode == 0:
        mark_sound(folder)
    return result.returncode == 0
