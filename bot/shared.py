"""Server mode: the catalog lives on the Chroma server beside the vectors, so replicas stay in step.

Each report is one record of the collection `catalog-<embedder>` (its cleaned text as the document,
metadata and content hash as metadata); chunk offsets and BM25 tokens are metadata of the vectors. A
record `__generation__` counts committed ingests. A replica's local SQLite catalog is only a cache: it is
brought in line with the server at start, before an ingest, and whenever the generation moves.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from bot.catalog import CatalogWriter, ChunkRecord, DocRecord
from bot.config import Settings
from bot.corpus import DocMeta
from bot.embeddings import Embedder
from bot.store import StoreError, VectorStore, make_client
from bot.text import tokenize

log = logging.getLogger(__name__)
T = TypeVar("T")
GENERATION = "__generation__"
_NO_VECTOR = [0.0]  # catalog records are looked up by id, never by similarity


class SharedCatalog:
    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self._server = settings.chroma_server or ""
        self._collection = self._call(
            lambda: make_client(settings).get_or_create_collection(f"catalog-{embedder.id}", embedding_function=None)
        )

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot reach the Chroma server at {self._server}") from exc

    def generation(self) -> int:
        got = self._call(lambda: self._collection.get(ids=[GENERATION], include=["metadatas"]))
        return int(got["metadatas"][0]["generation"]) if got["ids"] else 0

    def bump(self) -> None:
        value = self.generation() + 1
        self._call(
            lambda: self._collection.upsert(
                ids=[GENERATION], embeddings=[_NO_VECTOR], metadatas=[{"generation": value}], documents=[""]
            )
        )

    def hashes(self) -> dict[str, str]:
        got = self._call(lambda: self._collection.get(include=["metadatas"]))
        return {i: m["content_hash"] for i, m in zip(got["ids"], got["metadatas"], strict=True) if i != GENERATION}

    def put(self, doc: DocRecord) -> None:
        meta = {"meta": doc.meta.model_dump_json(), "content_hash": doc.content_hash, "origin": doc.origin}
        self._call(
            lambda: self._collection.upsert(
                ids=[doc.meta.doc_id], embeddings=[_NO_VECTOR], metadatas=[meta], documents=[doc.text]
            )
        )

    def remove(self, doc_id: str) -> None:
        self._call(lambda: self._collection.delete(ids=[doc_id]))

    def doc(self, doc_id: str) -> DocRecord | None:
        got = self._call(lambda: self._collection.get(ids=[doc_id], include=["metadatas", "documents"]))
        if not got["ids"]:
            return None
        m = got["metadatas"][0]
        return DocRecord(DocMeta.model_validate_json(m["meta"]), got["documents"][0], m["content_hash"], m["origin"])


def push(shared: SharedCatalog, writer: CatalogWriter) -> int:
    """Publish every local report the server lacks or holds in another version, and drop what the local
    catalog removed; returns how many records changed (the generation moves when any did)."""
    remote, local = shared.hashes(), writer.hashes()
    changed = 0
    for doc_id, content_hash in local.items():
        if remote.get(doc_id) != content_hash:
            shared.put(writer.doc(doc_id))
            changed += 1
    return changed


def pull(shared: SharedCatalog, writer: CatalogWriter, store: VectorStore) -> int:
    """Bring the local catalog cache in line with the server; returns how many reports changed."""
    remote, local = shared.hashes(), writer.hashes()
    changed = 0
    for doc_id in sorted(set(local) - set(remote)):
        writer.remove(doc_id)
        changed += 1
    for doc_id, content_hash in sorted(remote.items()):
        if local.get(doc_id) == content_hash:
            continue
        doc = shared.doc(doc_id)
        if doc is not None:
            writer.put(doc, [_chunk(r) for r in store.records(doc_id)])
            changed += 1
    return changed


def _chunk(record: dict[str, Any]) -> ChunkRecord:
    m = record["metadata"]
    tokens = json.loads(m["tokens"]) if "tokens" in m else tokenize(f"{m['section']}\n{record['text']}")
    return ChunkRecord(record["id"], m["doc_id"], m["section"], int(m["start"]), int(m["end"]), tokens)
