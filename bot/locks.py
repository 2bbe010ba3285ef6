"""One writer at a time: an ingest holds an exclusive lock on `data_dir/ingest.lock`; a marker file
records what a running ingest was asked to do, so a killed one can be finished by the next start."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from pathlib import Path


class IngestLock:
    """An flock: released by the kernel when its holder dies, so a killed ingest never blocks anyone."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "ingest.lock"
        self._fd: int | None = None

    def busy(self) -> bool:
        """Whether another holder has it now."""
        if self._fd is not None:
            return False
        if self.try_acquire():
            self.release()
            return False
        return True

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def acquire(self, on_wait: Callable[[str], None]) -> None:
        """Take the lock, saying once that another process has it and we wait."""
        if self.try_acquire():
            return
        on_wait("Another process is ingesting; waiting for it to finish…")
        while not self.try_acquire():
            time.sleep(0.2)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class Marker:
    """Present while an ingest runs, naming the extra paths it was given; found with the lock free,
    it means that ingest was killed."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "ingest-in-progress"

    def exists(self) -> bool:
        return self.path.exists()

    def write(self, paths: list[Path], follow_links: bool) -> None:
        data = {"pid": os.getpid(), "paths": [str(p.absolute()) for p in paths], "follow_links": follow_links}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)

    def paths(self) -> tuple[list[Path], bool]:
        """The paths the interrupted ingest was given (an unreadable marker: none)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [Path(p) for p in data.get("paths", [])], bool(data.get("follow_links", False))
        except (OSError, ValueError, AttributeError):
            return [], False

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
