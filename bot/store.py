"""Persistence: the Chroma collection of chunk vectors and the catalog of documents and chunks beside it."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

from bot.config import Settings
from bot.corpus import DocMeta
from bot.embeddings import Embedder

log = logging.getLogger(__name__)
CATALOG_VERSION = 1


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
        raise StoreError(f"cannot reach the Chroma server at {server}: {exc}") from exc


class VectorStore:
    """Chunk vectors in one cosine-space collection per embedder, so two embedders never mix."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.name = f"reports-{embedder.id}"
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

    def upsert(self, ids: list[str], vectors: np.ndarray, texts: list[str], metas: list[dict]) -> None:
        for lo in range(0, len(ids), 1000):
            hi = lo + 1000
            self._collection.upsert(
                ids=ids[lo:hi], embeddings=vectors[lo:hi], documents=texts[lo:hi], metadatas=metas[lo:hi]
            )

    def delete(self, ids: list[str]) -> None:
        for lo in range(0, len(ids), 1000):
            self._collection.delete(ids=ids[lo : lo + 1000])

    def ids(self) -> set[str]:
        return set(self._collection.get(include=[])["ids"])

    def count(self) -> int:
        return self._collection.count()

    def query(self, vector: np.ndarray, n: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) best first, optionally only within some documents."""
        where = None
        if doc_ids is not None and not doc_ids:
            return []
        if doc_ids is not None:
            where = {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": doc_ids}}
        n = min(n, max(self.count(), 1))
        res = self._collection.query(query_embeddings=[vector], n_results=n, where=where, include=["distances"])
        return [(cid, 1.0 - dist) for cid, dist in zip(res["ids"][0], res["distances"][0], strict=True)]


@dataclass
class ChunkRecord:
    chunk_id: str
    doc_id: str
    section: str
    start: int
    end: int
    tokens: list[str] = field(default_factory=list)


@dataclass
class DocRecord:
    meta: DocMeta
    text: str
    content_hash: str
    origin: str  # the file it came from, so removed files can leave the index
    chunk_ids: list[str] = field(default_factory=list)


class Catalog:
    """Documents (cleaned text, metadata) and chunk records: the source of truth for what is indexed.

    Written atomically after Chroma has the vectors, so an interrupted ingest never exposes a
    half-ingested document: chunks are visible only once the catalog names them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.docs: dict[str, DocRecord] = {}
        self.chunks: dict[str, ChunkRecord] = {}

    @classmethod
    def load(cls, path: Path) -> Catalog:
        catalog = cls(path)
        if not path.exists():
            return catalog
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != CATALOG_VERSION:
                raise ValueError(f"catalog version {data.get('version')}")
            catalog._fill(data)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("index catalog %s is unreadable (%s); it will be rebuilt from the reports", path, exc)
            return cls(path)
        return catalog

    def _fill(self, data: dict) -> None:
        for d in data["docs"]:
            self.docs[d["meta"]["doc_id"]] = DocRecord(
                DocMeta(**d["meta"]), d["text"], d["content_hash"], d["origin"], d["chunk_ids"]
            )
        for c in data["chunks"]:
            self.chunks[c["chunk_id"]] = ChunkRecord(**c)

    def save(self) -> None:
        data = {
            "version": CATALOG_VERSION,
            "docs": [
                {
                    "meta": d.meta.model_dump(),
                    "text": d.text,
                    "content_hash": d.content_hash,
                    "origin": d.origin,
                    "chunk_ids": d.chunk_ids,
                }
                for d in self.docs.values()
            ],
            "chunks": [asdict(c) for c in self.chunks.values()],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".catalog-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def copy(self) -> Catalog:
        """A catalog an ingest can change while questions are answered from this one."""
        other = Catalog(self.path)
        other.docs, other.chunks = dict(self.docs), dict(self.chunks)
        return other

    def put(self, doc: DocRecord, chunks: list[ChunkRecord]) -> None:
        self.remove(doc.meta.doc_id)
        doc.chunk_ids = [c.chunk_id for c in chunks]
        self.docs[doc.meta.doc_id] = doc
        self.chunks.update({c.chunk_id: c for c in chunks})

    def remove(self, doc_id: str) -> list[str]:
        old = self.docs.pop(doc_id, None)
        if old is None:
            return []
        for cid in old.chunk_ids:
            self.chunks.pop(cid, None)
        return old.chunk_ids

    def chunk_text(self, chunk: ChunkRecord) -> str:
        return self.docs[chunk.doc_id].text[chunk.start : chunk.end]
