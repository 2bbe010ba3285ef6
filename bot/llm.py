"""Chat models for the LLM backends, each call cut off at the answer's deadline, and failures described
without secrets."""

from __future__ import annotations

import os
import socket
import threading
from typing import Any, Protocol

import httpx
from langchain_core.language_models import BaseChatModel

from bot.budget import TokenCounter, probe_context, probe_counter
from bot.config import Settings
from bot.deadline import Abort, Deadline, DeadlineExceeded


class BackendUnavailable(RuntimeError):
    """A backend that is named but cannot run here (no endpoint, no model file, extra not installed)."""


class ChatProvider(Protocol):
    """A chat model per call (aborted through `abort`), and what the token budget needs to know."""

    def model(self, abort: Abort, deadline: Deadline) -> BaseChatModel: ...

    def context_size(self, deadline: Deadline) -> int: ...

    def counter(self, deadline: Deadline) -> TokenCounter: ...


def make_provider(name: str, settings: Settings) -> ChatProvider:
    """The one place that turns a backend name into a source of chat models."""
    if name == "openai":
        return OpenAIProvider(settings)
    if name == "llamacpp":
        return LlamaCppProvider(settings)
    raise ValueError(f"no chat model for backend {name!r}")


def make_chat_model(name: str, settings: Settings) -> BaseChatModel:
    """A plain chat model (the evaluation judge), limited by BOT_LLM_TIMEOUT per call."""
    return make_provider(name, settings).model(Abort(), Deadline(settings.llm_timeout))


class OpenAIProvider:
    """Any OpenAI-compatible endpoint; each call gets its own HTTP client so it can be cut off alone."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._context: int | None = None
        self._counter: TokenCounter | None = None

    def model(self, abort: Abort, deadline: Deadline) -> BaseChatModel:
        from langchain_openai import ChatOpenAI

        left = max(deadline.remaining(), 0.05)
        client = httpx.Client(
            timeout=httpx.Timeout(left, connect=min(left, 10.0)),
            event_hooks={"response": [lambda response: _on_response(response, abort)]},
        )
        abort.hooks.append(client.close)
        return ChatOpenAI(
            model=self.settings.openai_model,
            base_url=self.settings.openai_base_url,
            api_key=self.settings.api_key(),
            timeout=left,  # per request, for the openai client; the deadline itself is enforced by the caller
            max_retries=0,  # a failure falls back to the extractive answer at once instead of retrying for minutes
            temperature=self.settings.llm_temperature,
            max_tokens=answer_room(self.settings, self.context_size(deadline)),
            http_client=client,
        )

    def context_size(self, deadline: Deadline) -> int:
        """What the server says (llama.cpp `/props`, vLLM `/v1/models`), else BOT_LLM_CONTEXT; asked once."""
        with self._lock:
            if self._context is None:
                found = probe_context(self._base(), self._headers(), min(2.0, deadline.remaining()))
                self._context = found or self.settings.llm_context
            return self._context

    def counter(self, deadline: Deadline) -> TokenCounter:
        """Tokens as the server's tokenizer counts them where it has an endpoint for it, else a safe estimate."""
        with self._lock:
            if self._counter is None:
                probed = probe_counter(self._base(), self._headers(), min(2.0, deadline.remaining()))
                self._counter = probed or TokenCounter()
            return self._counter

    def _base(self) -> str:
        return (self.settings.openai_base_url or "https://api.openai.com/v1").rstrip("/")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.api_key()}"}


def _on_response(response: httpx.Response, abort: Abort) -> None:
    """Remember the response's socket: shutting it down wakes a read blocked between keep-alive pings."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is None:
        return

    def shutdown() -> None:
        sock.shutdown(socket.SHUT_RDWR)

    abort.hooks.append(shutdown)
    if abort.is_set():
        shutdown()


class LlamaCppProvider:
    """A local GGUF in-process through llama-cpp-python, loaded once and used by one question at a time."""

    def __init__(self, settings: Settings) -> None:
        path = settings.llamacpp_model_path
        if path is None or not path.is_file():
            raise BackendUnavailable(f"llamacpp backend: set BOT_LLAMACPP_MODEL_PATH to a GGUF file (got {path})")
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise BackendUnavailable("llamacpp backend: pip install -e '.[llamacpp]' first") from exc
        self.settings = settings
        self.llama = Llama(model_path=str(path), verbose=False, **llama_params(settings))
        self._busy = threading.Lock()

    def model(self, abort: Abort, deadline: Deadline) -> BaseChatModel:
        from bot.llamacpp import LlamaChat

        return LlamaChat(
            llama=self.llama,
            busy=self._busy,
            stop_when=abort.is_set,
            wait_s=deadline.remaining(),
            temperature=self.settings.llm_temperature,
            max_tokens=answer_room(self.settings, self.context_size(deadline)),
        )

    def context_size(self, deadline: Deadline) -> int:
        return int(self.llama.n_ctx())

    def counter(self, deadline: Deadline) -> TokenCounter:
        return TokenCounter(exact=lambda text: len(self.llama.tokenize(text.encode("utf-8"), add_bos=False)))


def llama_params(settings: Settings) -> dict[str, Any]:
    """Context, batch and threads set for prompt evaluation: llama-cpp defaults evaluate 8 tokens at a time
    in some wrappers, which makes a 3,000-token prompt take minutes."""
    threads = settings.llamacpp_threads or max(1, (os.cpu_count() or 2) // 2)
    return {
        "n_ctx": settings.llm_context,
        "n_batch": settings.llamacpp_batch,
        "n_ubatch": settings.llamacpp_batch,
        "n_threads": threads,
        "n_threads_batch": settings.llamacpp_threads or os.cpu_count() or 1,
    }


def answer_room(settings: Settings, context: int) -> int:
    """Tokens kept free for the answer: BOT_LLM_MAX_TOKENS, but never more than a quarter of the context."""
    return max(16, min(settings.llm_max_tokens, context // 4))


_BY_NAME = {
    "APIConnectionError": "connection failed",
    "ConnectError": "connection failed",
    "RemoteProtocolError": "connection lost",
    "APITimeoutError": "timed out",
    "ReadTimeout": "timed out",
    "TimeoutException": "timed out",
}
_BY_STATUS = {
    401: "authentication failed (401)",
    403: "permission denied (403)",
    404: "model or endpoint not found (404)",
    429: "rate limited (429)",
}
CONTEXT_EXCEEDED = "prompt longer than the model's context (HTTP 400)"


def describe_failure(exc: BaseException) -> str:
    """A short reason built from the error's type and status only: messages may echo keys or URLs."""
    if isinstance(exc, DeadlineExceeded):
        return "timed out"
    status = getattr(exc, "status_code", None)
    if status == 400 and "context" in f"{getattr(exc, 'body', '')} {getattr(exc, 'message', '')}".lower():
        return CONTEXT_EXCEEDED  # a fixed phrase: the server's own message is not repeated
    if isinstance(status, int):
        return _BY_STATUS.get(status) or (f"server error ({status})" if status >= 500 else f"HTTP {status}")
    name = type(exc).__name__
    if name in _BY_NAME:
        return _BY_NAME[name]
    if "Timeout" in name:
        return "timed out"
    return "connection failed" if "Connection" in name else name
