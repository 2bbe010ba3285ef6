"""The bot's own copy of every report it has taken in: the one source of truth an index is built from.

Each report is kept under `data_dir/reports/` as its original bytes plus a small JSON record (its id,
file name, where it came from, whether it is a seed, its hashes and manifest fields). A rebuild reads
this folder, never `seeds/` alone, so reports added with `bot ingest PATH` or uploaded survive it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.corpus import doc_id_for

log = logging.getLogger(__name__)
SEED, ADDED = "seed", "added"


@dataclass
class Entry:
    doc_id: str
    name: str  # the file name it had, for messages
    origin: str  # the absolute path it was read from
    kind: str  # SEED (mirrors the seeds folder) or ADDED (kept until removed by hand)
    sha: str  # of the original bytes
    text_sha: str  # of the cleaned text, so the same report under another name is noticed
    override: dict = field(default_factory=dict)  # manifest fields

    @property
    def version(self) -> str:
        """Changes whenever the bytes or the manifest fields do: what the catalog compares against."""
        fields = hashlib.sha256(json.dumps(self.override, sort_keys=True, default=str).encode()).hexdigest()
        return f"{self.sha[:20]}-{fields[:8]}"


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


class Kept:
    """The folder of kept reports. Bytes are written first and the record last, each atomically,
    so a record always names complete bytes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def entries(self) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        if not self.folder.is_dir():
            return found
        for path in sorted(self.folder.glob("*.json")):
            try:
                entry = Entry(**json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("kept report record %s is unreadable (%s); ignored", path.name, exc)
                continue
            if entry.doc_id == path.stem and self._data_path(entry.doc_id).exists():
                found[entry.doc_id] = entry
        return found

    def data(self, entry: Entry) -> bytes:
        return self._data_path(entry.doc_id).read_bytes()

    def put(self, entry: Entry, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(self._data_path(entry.doc_id), data)
        _write_atomic(self.folder / f"{entry.doc_id}.json", json.dumps(asdict(entry), ensure_ascii=False).encode())

    def remove(self, doc_id: str) -> None:
        (self.folder / f"{doc_id}.json").unlink(missing_ok=True)
        self._data_path(doc_id).unlink(missing_ok=True)

    def _data_path(self, doc_id: str) -> Path:
        return self.folder / f"{doc_id}.data"


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def assign_id(path: Path, sha: str, taken: set[str]) -> str:
    """The file stem, unless another report has it: then stem plus a content hash, never a silent replace."""
    base = doc_id_for(path)
    if base not in taken:
        return base
    candidate = f"{base}-{sha[:8]}"
    n = 2
    while candidate in taken:
        candidate, n = f"{base}-{sha[:8]}-{n}", n + 1
    return candidate
