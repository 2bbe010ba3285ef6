"""Opening the index safely: the data folder checked, damaged parts moved aside (never deleted) and
rebuilt, and a watcher that reloads a running bot when another process commits an ingest."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from bot.catalog import Catalog, CatalogDamaged, CatalogWriter, move_aside, read_generation
from bot.config import Settings
from bot.embeddings import Embedder
from bot.locks import IngestLock
from bot.store import StoreError, VectorStore, index_is_sound, mark_sound, stamped

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


def catalog_path(settings: Settings, embedder: Embedder) -> Path:
    return settings.data_dir / f"catalog-{embedder.id}.sqlite"


def check_data_dir(settings: Settings) -> None:
    """A data folder that is a file or cannot be written is said so, not taken for a damaged index."""
    folder = settings.data_dir
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"the data folder {folder} is a file, not a folder (BOT_DATA_DIR)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the data folder {folder} ({exc.strerror or exc}) (BOT_DATA_DIR)") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(f"the data folder {folder} is not writable (BOT_DATA_DIR)")


def open_store(settings: Settings, embedder: Embedder, progress: Progress) -> VectorStore:
    """A fresh client on the Chroma collection; a damaged embedded index is moved aside and rebuilt."""
    if settings.chroma_server:
        return VectorStore(settings, embedder)
    check_data_dir(settings)
    folder = settings.data_dir / "chroma"
    trusted = stamped(folder)
    if trusted or index_is_sound(folder, f"reports-{embedder.id}"):
        try:
            store = VectorStore(settings, embedder)
        except StoreError:
            pass
        else:
            store.trusted = trusted
            return store
    broken = settings.data_dir / f"chroma.broken-{int(time.time() * 1000)}"
    progress(f"The index at {folder} is unreadable; moved to {broken}, rebuilding.")
    shutil.move(str(folder), broken)
    return VectorStore(settings, embedder)


def ingest_done(settings: Settings) -> None:
    """After our own complete ingest, the embedded index need not be checked at the next start."""
    if not settings.chroma_server:
        mark_sound(settings.data_dir / "chroma")


def open_catalog(settings: Settings, embedder: Embedder, progress: Progress) -> Catalog:
    path = catalog_path(settings, embedder)
    try:
        return Catalog.load(path)
    except (CatalogDamaged, sqlite3.DatabaseError) as exc:
        _set_aside(path, exc, progress)
        return Catalog.load(path)


def open_writer(settings: Settings, embedder: Embedder, progress: Progress) -> CatalogWriter:
    path = catalog_path(settings, embedder)
    try:
        return CatalogWriter(path)
    except (CatalogDamaged, sqlite3.DatabaseError) as exc:
        _set_aside(path, exc, progress)
        return CatalogWriter(path)


def _set_aside(path: Path, exc: Exception, progress: Progress) -> None:
    broken = move_aside(path)
    progress(f"The catalog {path.name} is damaged ({exc}); moved to {broken.name}, rebuilding from the kept reports.")


def legacy_origins(settings: Settings, embedder: Embedder) -> list[Path]:
    """Files an older version indexed (its JSON catalog named them) that are not seeds: taken in once."""
    old = settings.data_dir / f"catalog-{embedder.id}.json"
    if not old.exists():
        return []
    try:
        docs = json.loads(old.read_text(encoding="utf-8"))["docs"]
        paths = [Path(d["origin"]) for d in docs]
    except (OSError, ValueError, KeyError, TypeError):
        paths = []
    old.replace(old.with_suffix(".json.migrated"))
    seeds = settings.seeds_dir.absolute()
    return [p for p in paths if p.is_file() and p.absolute().parent != seeds]


class Reloadable(Protocol):
    settings: Settings
    catalog: Catalog

    def refresh(self) -> bool: ...


def watch(bot: Reloadable) -> None:
    """Poll the committed generation every `watch_s` seconds; the thread ends with the bot."""
    if bot.settings.watch_s <= 0:
        return
    ref = weakref.ref(bot)
    interval = bot.settings.watch_s

    def loop() -> None:
        said = ""
        while (target := ref()) is not None:
            try:
                target.refresh()
                said = ""
            except Exception as exc:  # a watcher must never die: the next round tries again
                line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                if line != said:  # one line per outage, not one per poll
                    log.warning("%s, retrying", line)
                said = line
            del target
            time.sleep(interval)

    threading.Thread(target=loop, name="bot-index-watch", daemon=True).start()


def is_stale(settings: Settings, embedder: Embedder, generation: int) -> bool:
    """Another process committed an ingest (and has finished) since `generation` was read."""
    current = read_generation(catalog_path(settings, embedder))
    return current > generation and not IngestLock(settings.data_dir).busy()
