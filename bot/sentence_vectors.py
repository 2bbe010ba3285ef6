"""One vector per sentence of every report, so the evidence model can ask how close a sentence is in meaning.

Chunk vectors find the passage; inside it, the sentence that answers a paraphrased or English question is
the one nearest the question in the embedder's space. Cached by text hash with the chunk embeddings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot import derived
from bot.chunking import split_sentences
from bot.embeddings import Embedder, EmbeddingCache
from bot.store import Catalog


class SentenceVectors:
    def __init__(self, keys: dict[tuple[str, int], int], vectors: np.ndarray) -> None:
        self._row = keys
        self._vectors = vectors

    @classmethod
    def open(cls, catalog: Catalog, embedder: Embedder, cache: Path, limit: int, folder: Path) -> SentenceVectors:
        """Saved for this catalog generation, or embedded (through the cache) and saved."""
        arrays = derived.load(folder, "sentences", ("doc", "start", "vectors"))
        if arrays is None:
            arrays = _compute(catalog, embedder, cache, limit)
            derived.save(folder, "sentences", arrays)
        rows = zip(arrays["doc"].tolist(), arrays["start"].tolist(), strict=True)
        return cls({key: row for row, key in enumerate(rows)}, arrays["vectors"])

    def similarity(self, doc_id: str, start: int, question: np.ndarray) -> float:
        row = self._row.get((doc_id, start))
        return float(self._vectors[row] @ question) if row is not None else 0.0


def _compute(catalog: Catalog, embedder: Embedder, cache: Path, limit: int) -> derived.Arrays:
    keys: list[tuple[str, int]] = []
    texts: list[str] = []
    for doc_id, doc in catalog.docs.items():
        for span in split_sentences(doc.text):
            keys.append((doc_id, span.start))
            texts.append(doc.text[span.start : span.end])
    if len(texts) > limit:  # too many to embed up front: the feature reads 0 and the model leans on the rest
        keys, texts = [], []
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # like lengths batch with little padding
    vectors = _embed(cache, embedder, [texts[i] for i in order]) if texts else np.zeros((0, 1), dtype=np.float32)
    return {
        "doc": np.array([keys[i][0] for i in order], dtype=str),
        "start": np.array([keys[i][1] for i in order], dtype=np.int64),
        "vectors": np.asarray(vectors, dtype=np.float32),
    }


def _embed(cache: Path, embedder: Embedder, texts: list[str]) -> np.ndarray:
    store = EmbeddingCache(cache, embedder)
    try:
        return store.embed(texts)
    finally:
        store.close()
