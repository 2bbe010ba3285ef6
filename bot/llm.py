"""Chat models for the LLM backends, and failures described without secrets."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from bot.config import Settings


class BackendUnavailable(RuntimeError):
    """A backend that is named but cannot run here (no endpoint, no model file, extra not installed)."""


def make_chat_model(name: str, settings: Settings) -> BaseChatModel:
    """The one place that turns a backend name into a langchain chat model."""
    if name == "openai":
        return _openai(settings)
    if name == "llamacpp":
        return _llamacpp(settings)
    raise ValueError(f"no chat model for backend {name!r}")


def _openai(settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.openai_model,
        base_url=settings.openai_base_url,
        api_key=settings.api_key(),
        timeout=settings.llm_timeout,
        max_retries=0,  # a failure falls back to the extractive answer at once instead of retrying for minutes
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
    )


def _llamacpp(settings: Settings) -> BaseChatModel:
    path = settings.llamacpp_model_path
    if path is None or not path.is_file():
        raise BackendUnavailable(f"llamacpp backend: set BOT_LLAMACPP_MODEL_PATH to a GGUF file (got {path})")
    try:
        from langchain_community.chat_models import ChatLlamaCpp
    except ImportError as exc:
        raise BackendUnavailable("llamacpp backend: pip install -e '.[llamacpp]' first") from exc
    return ChatLlamaCpp(
        model_path=str(path),
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        n_ctx=8192,
        verbose=False,
    )


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


def describe_failure(exc: BaseException) -> str:
    """A short reason built from the error's type and status only: messages may echo keys or URLs."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return _BY_STATUS.get(status) or (f"server error ({status})" if status >= 500 else f"HTTP {status}")
    name = type(exc).__name__
    if name in _BY_NAME:
        return _BY_NAME[name]
    if "Timeout" in name:
        return "timed out"
    return "connection failed" if "Connection" in name else name
