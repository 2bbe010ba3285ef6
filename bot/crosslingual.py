"""English question words → the corpus's own Chinese terms, through the multilingual embedder.

The corpus vocabulary (jieba words of the indexed chunks) is embedded once, cached with the other embeddings,
and an English word or phrase maps to its nearest Chinese terms. Nearest by CSLS, not raw cosine: words such as
全文 or 提供 sit close to everything in e5's space, and subtracting each term's mean similarity to its own
neighbours keeps those hubs from winning. The glossary stays as an override for phrases it lists.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot import derived
from bot.embeddings import Embedder, EmbeddingCache

_CJK_TERM = re.compile(r"^[\u4e00-\u9fff]{2,8}$")
_HUB_NEIGHBOURS = 10


class _AsQueries:
    """Terms embedded the way questions are (e5's “query:” side), so a word and a term compare like for like."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self.id = f"{embedder.id}-term"

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not getattr(self._embedder, "asymmetric", False):
            return self._embedder.embed_passages(texts)  # one side for both: a batch is the same, and faster
        return np.stack([self._embedder.embed_query(t) for t in texts]) if texts else np.zeros((0, 0))

    def embed_query(self, text: str) -> np.ndarray:
        return self._embedder.embed_query(text)


@dataclass
class TermMap:
    terms: list[str]
    vectors: np.ndarray  # (n, d), normalised
    hubness: np.ndarray  # (n,) mean cosine of each term to its nearest other terms
    _index: dict[str, int] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(cls, token_lists: list[list[str]], embedder: Embedder, cache: Path, limit: int) -> TermMap:
        counts = Counter(t for tokens in token_lists for t in set(tokens) if _CJK_TERM.match(t))
        terms = sorted(t for t, _ in counts.most_common(limit))
        if not terms:
            return cls([], np.zeros((0, 1), dtype=np.float32), np.zeros(0, dtype=np.float32))
        store = EmbeddingCache(cache, _AsQueries(embedder))
        try:
            vectors = store.embed(terms).astype(np.float32)
        finally:
            store.close()
        return cls(terms, vectors, _hubness(vectors))

    @classmethod
    def open(
        cls, token_lists: Callable[[], list[list[str]]], embedder: Embedder, cache: Path, limit: int, folder: Path
    ) -> TermMap:
        """Saved for this catalog generation, or built from the chunks' tokens and saved."""
        name = f"terms-{embedder.id}-{limit}"
        arrays = derived.load(folder, name, ("terms", "vectors", "hubness"))
        if arrays is not None:
            return cls(arrays["terms"].tolist(), arrays["vectors"], arrays["hubness"])
        made = cls.build(token_lists(), embedder, cache, limit)
        terms = np.array(made.terms, dtype=str) if made.terms else np.zeros(0, dtype="<U1")
        derived.save(folder, name, {"terms": terms, "vectors": made.vectors, "hubness": made.hubness})
        return made

    def aligner(self, words: np.ndarray) -> Callable[[list[str]], float]:
        """How well a sentence's own words stand for the question's unlisted English words: per word, the best
        CSLS score among the sentence's terms over the best among all terms (1: the sentence holds the word's
        nearest term), averaged. Among a sentence's few words the nearest is far surer than among 20,000."""
        if not len(words) or not self.terms:
            return lambda tokens: 0.0
        # One matrix-vector product per word, not one product with the whole word matrix: a multi-threaded
        # BLAS product leaves its threads spinning against the embedder's for the next question (p50 ×3).
        best = np.maximum([float(np.max(2 * (self.vectors @ w) - self.hubness)) for w in words], 1e-6)
        rows_of = self._rows()

        def align(tokens: list[str]) -> float:
            rows = [rows_of[t] for t in set(tokens) if t in rows_of]
            if not rows:
                return 0.0
            scores = 2 * (self.vectors[rows] @ words.T) - self.hubness[rows, None]
            return float(np.clip(scores.max(axis=0) / best, 0.0, 1.0).mean())

        return align

    @property
    def vocabulary(self) -> Container[str]:
        """The corpus's words (as its chunks were segmented), for asking whether the reports use a word as one."""
        return self._rows()

    def _rows(self) -> dict[str, int]:
        if self._index is None:
            self._index = {t: i for i, t in enumerate(self.terms)}
        return self._index

    def nearest(self, vector: np.ndarray, n: int, margin: float) -> list[tuple[str, float]]:
        """The best `n` terms within `margin` of the best CSLS score, best first."""
        if not self.terms:
            return []
        scores = 2 * (self.vectors @ vector) - self.hubness
        order = np.argsort(-scores)[:n]
        best = float(scores[order[0]])
        return [(self.terms[i], float(scores[i])) for i in order if scores[i] >= best - margin]


def _hubness(vectors: np.ndarray) -> np.ndarray:
    out = np.empty(len(vectors), dtype=np.float32)
    k = min(_HUB_NEIGHBOURS, max(len(vectors) - 1, 1))
    for lo in range(0, len(vectors), 1024):
        sims = vectors[lo : lo + 1024] @ vectors.T
        top = np.partition(sims, -k - 1, axis=1)[:, -k - 1 :]  # includes the term itself (cosine 1)
        out[lo : lo + 1024] = (top.sum(axis=1) - 1.0) / k
    return out
