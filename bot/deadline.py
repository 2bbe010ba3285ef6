"""A wall-clock deadline for one answer, and model calls that end at it whatever the server sends meanwhile.

A per-read HTTP timeout never fires while a server sends keep-alive pings (llama.cpp sends `: ping` every
15 s while it evaluates a prompt), and an in-process model has no timeout at all. So the call runs in a
worker thread, the caller waits on a queue no longer than the deadline, and at the deadline the call is
aborted: the HTTP connection shut down (the server sees the client go away), the local model told to stop.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


class DeadlineExceeded(TimeoutError):
    """The answer's time (BOT_LLM_TIMEOUT, from the question to the last token) ran out."""


class Deadline:
    """Seconds left until a fixed moment; created once per question and shared by every step."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0


@dataclass
class Abort:
    """How to stop one model call from another thread: a flag to poll, and hooks that cut it off."""

    event: threading.Event = field(default_factory=threading.Event)
    hooks: list[Callable[[], None]] = field(default_factory=list)

    def is_set(self) -> bool:
        return self.event.is_set()

    def __call__(self) -> None:
        self.event.set()
        for hook in list(self.hooks):
            with contextlib.suppress(Exception):
                hook()


_DONE = object()


def stream_within(produce: Callable[[Abort], Iterator[str]], deadline: Deadline) -> Iterator[str]:
    """Pieces of text from `produce`, which runs in a worker thread; DeadlineExceeded when time runs out.

    Closing this generator early (the reader went away) aborts the call too.
    """
    if deadline.expired():
        raise DeadlineExceeded("no time left")
    abort = Abort()
    pieces: queue.Queue[object] = queue.Queue()
    worker = threading.Thread(target=_work, args=(produce, abort, pieces), daemon=True, name="llm-call")
    worker.start()
    try:
        while True:
            try:
                item = pieces.get(timeout=deadline.remaining())
            except queue.Empty:
                raise DeadlineExceeded(f"no answer within {deadline.seconds:g} s") from None
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield str(item)
    finally:
        abort()


def _work(produce: Callable[[Abort], Iterator[str]], abort: Abort, pieces: queue.Queue[object]) -> None:
    try:
        for piece in produce(abort):
            if abort.is_set():
                return  # leaving the loop closes the stream, and with it the connection
            pieces.put(piece)
        pieces.put(_DONE)
    except BaseException as exc:  # handed to the caller, who decides what a failure means
        pieces.put(exc)


def collect_within(produce: Callable[[Abort], Iterator[str]], deadline: Deadline) -> str:
    return "".join(stream_within(produce, deadline))
