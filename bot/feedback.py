"""Ratings of answers, one line per answer in `feedback.jsonl`: rating an answer again replaces its line."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()
MAX_COMMENT = 2000


def record_feedback(path: Path, message_id: str, rating: str, comment: str, rated: dict[str, Any]) -> dict[str, Any]:
    """Log `rating` ("up"/"down") of the answer `message_id`; `rated` says which one (turn, question, answer)."""
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "message_id": message_id,
        "rating": rating,
        "comment": comment.strip()[:MAX_COMMENT],
        **rated,
    }
    with _LOCK:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        kept = [line for line in lines if _id_of(line) != message_id]
        replaced = len(kept) != len(lines)
        earlier = [json.loads(line) for line in lines if _id_of(line) == message_id]
        if earlier and not entry["comment"]:  # changing one's mind about the rating does not take back the comment
            entry["comment"] = earlier[-1].get("comment", "")
        _write_atomic(path, "".join(f"{line}\n" for line in [*kept, json.dumps(entry, ensure_ascii=False)]))
    return {**entry, "replaced": replaced}


def _id_of(line: str) -> str | None:
    try:
        return json.loads(line).get("message_id")
    except (ValueError, AttributeError):
        return None  # a line another version wrote: kept as it is


def _write_atomic(path: Path, text: str) -> None:
    """A crash while writing leaves the old log, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".feedback-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
