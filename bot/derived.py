"""Arrays derived from one committed catalog generation (sentence vectors, the English term map), saved
beside the index so a start maps them from disk instead of re-reading and re-hashing every report.

One folder per generation; a new generation's arrays replace the old folder once they are complete, so a
reader never maps half a save.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

Arrays = dict[str, np.ndarray]


def generation_folder(data_dir: Path, embedder_id: str, fingerprint: str) -> Path:
    return data_dir / f"derived-{embedder_id}" / f"g{fingerprint}"


def load(folder: Path, name: str, fields: tuple[str, ...]) -> Arrays | None:
    """The arrays saved under `name`, memory-mapped; None when any is missing or unreadable."""
    try:
        return {f: np.load(folder / f"{name}.{f}.npy", mmap_mode="r", allow_pickle=False) for f in fields}
    except (OSError, ValueError):
        return None


@contextmanager
def written(final: Path) -> Iterator[Path]:
    """A path to write `final` at, beside it; renamed into place only once the writing succeeded. The part's
    name is the writer's own (process and thread), so two writers of one file never share it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(f".{os.getpid()}.{threading.get_ident()}.{final.name}")
    try:
        yield part
        os.replace(part, final)
    finally:
        part.unlink(missing_ok=True)


def save(folder: Path, name: str, arrays: Arrays) -> None:
    """Each array written beside, then renamed into place; older generations' folders go once this one is
    complete."""
    for field, array in arrays.items():
        with written(folder / f"{name}.{field}.npy") as part, part.open("wb") as fh:
            np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
    for other in folder.parent.glob("g*"):
        if other != folder and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
