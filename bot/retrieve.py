"""Hybrid retrieval: BM25 over jieba tokens plus Chroma dense vectors, fused by reciprocal rank."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from bot.config import Settings
from bot.derived import written
from bot.embeddings import Embedder
from bot.query import QueryPlan
from bot.store import Catalog, ChunkRecord, StoreError, VectorStore
from bot.text import QUESTION_WORDS, tokenize

log = logging.getLogger(__name__)


@dataclass
class Hit:
    chunk: ChunkRecord
    score: float  # fused reciprocal-rank score
    bm25_rank: int | None = None
    dense_rank: int | None = None
    dense_sim: float = 0.0  # cosine of the chunk to the question (the lowest one seen when not ranked)
    by_figure: bool = False  # found by the figures' measures, not ranked: its rank says nothing


class Bm25Index:
    """BM25 over the catalog's stored tokens (jieba runs once, at ingest), saved beside the Chroma data
    so a process start loads it instead of rebuilding it."""

    def __init__(self, catalog: Catalog, folder: Path | None = None) -> None:
        self.ids: list[str] = []
        self.doc_of = np.array([], dtype=str)
        self._bm25 = self._load(folder, catalog) if folder else None
        if self._bm25 is None:
            self._owners(catalog.chunk_owners())
            self._bm25 = bm25s.BM25()
            corpus = [catalog.chunks[c].tokens or ["\u2400"] for c in self.ids]
            if corpus:
                self._bm25.index(corpus, show_progress=False)
                if folder:
                    self._save(folder, catalog.fingerprint())

    def _owners(self, owners: list[tuple[str, str]]) -> None:
        self.ids = [chunk_id for chunk_id, _ in owners]
        self.doc_of = np.array([doc_id for _, doc_id in owners])

    def _load(self, folder: Path, catalog: Catalog) -> bm25s.BM25 | None:
        """The saved index when it was built from this catalog state (its fingerprint, then no chunk is
        read), or from the same chunks."""
        try:
            saved = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
            if isinstance(saved, dict) and saved.get("catalog") == catalog.fingerprint():
                self._owners(list(zip(saved["ids"], saved["docs"], strict=True)))
            else:
                self._owners(catalog.chunk_owners())
                if (saved.get("ids") if isinstance(saved, dict) else saved) != self.ids:
                    return None
                self._write_listing(folder, catalog.fingerprint())
            return bm25s.BM25.load(str(folder), mmap=False, show_progress=False)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _save(self, folder: Path, fingerprint: str) -> None:
        """Index files first, the id list last: a half-written save never matches a catalog."""
        (folder / "ids.json").unlink(missing_ok=True)
        self._bm25.save(str(folder), show_progress=False)
        self._write_listing(folder, fingerprint)

    def _write_listing(self, folder: Path, fingerprint: str) -> None:
        listing = {"catalog": fingerprint, "ids": self.ids, "docs": self.doc_of.tolist()}
        with written(folder / "ids.json") as part:
            part.write_text(json.dumps(listing), encoding="utf-8")

    def search(self, tokens: list[str], n: int, doc_ids: list[str] | None) -> list[str]:
        if not self.ids or not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)
        if doc_ids is not None:
            scores = np.where(np.isin(self.doc_of, doc_ids), scores, 0.0)
        order = np.argsort(-scores, kind="stable")[:n]
        return [self.ids[i] for i in order if scores[i] > 0]


class HybridRetriever:
    def __init__(self, settings: Settings, catalog: Catalog, store: VectorStore, embedder: Embedder) -> None:
        self.settings = settings
        self.catalog = catalog
        self.store = store
        self.embedder = embedder
        self.bm25 = Bm25Index(catalog, settings.data_dir / f"bm25-{embedder.id}")

    def retrieve(self, plan: QueryPlan, k: int | None = None, vector: np.ndarray | None = None) -> list[Hit]:
        """Top chunks for the question; for list questions, the top few of every report."""
        k = k or self.settings.top_k
        depth = min(len(self.catalog.chunks), max(50, k * 6) if not plan.is_list else 400)
        bm25_ids = self.bm25.search(self._bm25_tokens(plan), depth, plan.doc_ids)
        hits = self._fuse(bm25_ids, self._dense(plan, depth, vector))
        return _per_doc(hits, max(3, k // 2)) if plan.is_list else hits[:k]

    def _bm25_tokens(self, plan: QueryPlan) -> list[str]:
        tokens = [t for t in tokenize(plan.question) if t not in QUESTION_WORDS]
        for alternatives in plan.terms:
            for alt in alternatives:
                tokens.extend(tokenize(alt))
        return list(dict.fromkeys(tokens))

    def _dense(self, plan: QueryPlan, depth: int, vector: np.ndarray | None) -> list[tuple[str, float]]:
        if not self.catalog.chunks:
            return []
        vector = self.embedder.embed_query(plan.question) if vector is None else vector
        try:
            found = self.store.query(vector, depth, plan.doc_ids)
        except StoreError as exc:  # the server is down: answer from BM25 alone until it is back
            log.warning("%s; answering from BM25 alone, retrying with the next question", exc)
            return []
        # Chroma may hold vectors of an ingest that never finished: only catalogued chunks count.
        return [(cid, sim) for cid, sim in found if cid in self.catalog.chunks]

    def _fuse(self, bm25_ids: list[str], dense: list[tuple[str, float]]) -> list[Hit]:
        s = self.settings
        hits: dict[str, Hit] = {}
        dense_ids = [cid for cid, _ in dense]
        for ranked, weight, attr in ((bm25_ids, s.bm25_weight, "bm25_rank"), (dense_ids, s.dense_weight, "dense_rank")):
            for rank, cid in enumerate(ranked, start=1):
                hit = hits.setdefault(cid, Hit(self.catalog.chunks[cid], 0.0))
                hit.score += weight / (s.rrf_k + rank)
                setattr(hit, attr, rank)
        sims = dict(dense)
        floor = min(sims.values(), default=0.0)
        for hit in hits.values():
            hit.dense_sim = sims.get(hit.chunk.chunk_id, floor)
        return sorted(hits.values(), key=lambda h: -h.score)


def _per_doc(hits: list[Hit], per_doc: int) -> list[Hit]:
    """Every report keeps its own best chunks, so a list answer can name each report with evidence."""
    by_doc: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        if len(by_doc[hit.chunk.doc_id]) < per_doc:
            by_doc[hit.chunk.doc_id].append(hit)
    return sorted((h for group in by_doc.values() for h in group), key=lambda h: -h.score)
