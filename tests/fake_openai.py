"""A real HTTP server that speaks the OpenAI chat-completions protocol (JSON and SSE) with scripted replies."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    delay: float = 0.0
    raw: bytes | None = None  # sent as the body instead of a well-formed completion
    die_after: int | None = None  # streaming: drop the connection after this many chunks
    fn: Callable[[dict[str, Any]], str] | None = None  # builds the text from the request
    ping_every: float | None = None  # streaming: during `delay`, send `: ping` keep-alives (llama.cpp does, 15 s)


def fake_tokens(text: str) -> int:
    """The fake model's tokenizer: one token per Chinese (non-ASCII) character, one per 4 ASCII characters."""
    ascii_chars = sum(ch.isascii() for ch in text)
    return (len(text) - ascii_chars) + -(-ascii_chars // 4)


class FakeOpenAI:
    """`context`: prompts longer than this (in `fake_tokens`) get llama.cpp's HTTP 400; `/props` reports it
    when `report_context`, `/tokenize` counts when `tokenizer`. `disconnects` is set when a client hangs up
    on a request the server is still working on."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.context: int | None = None
        self.report_context = False
        self.tokenizer = False
        self.disconnects = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: Reply) -> None:
        self.replies.clear()
        self.replies.extend(replies)
        self.requests.clear()
        self.disconnects.clear()

    def prompt_tokens(self, body: dict[str, Any]) -> int:
        return sum(fake_tokens(m.get("content") or "") + 4 for m in body.get("messages", []))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self) -> Reply:
        return self.replies.popleft() if self.replies else Reply("（没有脚本回复）")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/props" and fake.report_context and fake.context:
                    self._send(200, {"default_generation_settings": {"n_ctx": fake.context}})
                elif self.path == "/v1/models":
                    self._send(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path == "/tokenize":
                    if not fake.tokenizer:
                        return self._send(404, {"error": "not found"})
                    return self._send(200, {"tokens": list(range(fake_tokens(body.get("content", ""))))})
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": "not found"})
                fake.requests.append(body)
                if fake.context and fake.prompt_tokens(body) >= fake.context:
                    n = fake.prompt_tokens(body)
                    message = f"Requested tokens ({n}) exceed context window of {fake.context}"
                    return self._send(400, {"error": {"message": message, "type": "invalid_request_error"}})
                fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                reply = fake._next()
                if reply.fn is not None:
                    reply = Reply(text=reply.fn(body))
                if reply.ping_every is not None and body.get("stream"):
                    return self._stream(reply, body.get("model", "fake"))
                time.sleep(reply.delay)
                if reply.status != 200:
                    self._send(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}})
                elif reply.raw is not None:
                    self._send_bytes(200, reply.raw)
                elif body.get("stream"):
                    self._stream(reply, body.get("model", "fake"))
                else:
                    self._send(200, _completion(reply.text, body.get("model", "fake")))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                self._send_bytes(status, json.dumps(payload, ensure_ascii=False).encode())

            def _send_bytes(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Reply, model: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                if reply.ping_every is not None and not self._keep_alive(reply.delay, reply.ping_every):
                    return
                pieces = [reply.text[i : i + 4] for i in range(0, len(reply.text), 4)]
                for i, piece in enumerate(pieces):
                    if reply.die_after is not None and i >= reply.die_after:
                        self.connection.close()  # the server goes away mid-answer
                        return
                    self._event(_chunk(piece, model, None))
                self._event(_chunk("", model, "stop"))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _keep_alive(self, seconds: float, every: float) -> bool:
                """Ping like llama.cpp while "evaluating the prompt"; False when the client hung up."""
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    try:
                        self.wfile.write(b": ping\n\n")
                        self.wfile.flush()
                    except OSError:
                        fake.disconnects.set()
                        return False
                    time.sleep(min(every, max(0.0, end - time.monotonic())))
                return True

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n")
                self.wfile.flush()

        return Handler


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(piece: str, model: str, finish: str | None) -> dict[str, Any]:
    delta = {"content": piece} if piece else {}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
