"""A token budget for the LLM prompt: the model's context size, a token count, passages fitted best-first."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

from bot.passages import Passage
from bot.store import Catalog

# Without the model's tokenizer: generous per-character costs. Chinese costs 0.6-1 token a character in
# tokenizers trained on Chinese (Qwen, GLM, DeepSeek) and about 1.7 in SmolLM2's (inferred: six passages and the
# prompts, ~2,300-2,650 Chinese and ~1,100 ASCII characters, were 4,253-4,672 tokens); English about 0.25.
_OTHER_TOKENS_PER_CHAR = 2.0
_ASCII_TOKENS_PER_CHAR = 0.5
_MARGIN = 1.05  # counts from a tokenizer endpoint are per piece; joining pieces can shift a few tokens
_SENTENCE = re.compile(r"[^。！？；!?\n]*(?:[。！？；!?\n]+|$)")


def estimate_tokens(text: str) -> int:
    """A count without a tokenizer that errs on the high side for the tokenizers above."""
    ascii_chars = sum(1 for ch in text if ch.isascii())
    return math.ceil(ascii_chars * _ASCII_TOKENS_PER_CHAR + (len(text) - ascii_chars) * _OTHER_TOKENS_PER_CHAR)


@dataclass
class TokenCounter:
    """Counts with the model's own tokenizer when one is reachable, else with the conservative estimate."""

    exact: Callable[[str], int] | None = None

    def __call__(self, text: str) -> int:
        if self.exact is not None:
            try:
                return math.ceil(self.exact(text) * _MARGIN)
            except Exception:  # the endpoint went away: the estimate is safe
                self.exact = None
        return estimate_tokens(text)


def server_root(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base[:-3] if base.endswith("/v1") else base


def probe_context(base_url: str, headers: dict[str, str], timeout: float) -> int | None:
    """The context size an OpenAI-compatible server reports: llama.cpp `/props`, vLLM-style `/v1/models`."""
    if timeout <= 0:
        return None
    root = server_root(base_url)
    for url, pick in ((f"{root}/props", _props_context), (f"{root}/v1/models", _models_context)):
        data = _get_json(url, headers, timeout)
        found = pick(data) if data is not None else None
        if isinstance(found, int) and found > 0:
            return found
    return None


def _props_context(data: Any) -> int | None:
    if not isinstance(data, dict):
        return None
    settings = data.get("default_generation_settings")
    if isinstance(settings, dict) and settings.get("n_ctx"):
        return settings["n_ctx"]
    return data.get("n_ctx")


def _models_context(data: Any) -> int | None:
    models = data.get("data") if isinstance(data, dict) else None
    for model in models if isinstance(models, list) else []:
        if not isinstance(model, dict):
            continue
        for key in ("max_model_len", "context_length", "context_window", "n_ctx"):
            if isinstance(model.get(key), int):
                return model[key]
    return None


def _get_json(url: str, headers: dict[str, str], timeout: float) -> Any:
    try:
        response = httpx.get(url, headers=headers, timeout=timeout)
        return response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


# Tokenizer endpoints: llama.cpp's llama-server, then llama-cpp-python's server.
_TOKENIZERS = (
    ("/tokenize", lambda text: {"content": text}, lambda data: len(data["tokens"])),
    ("/extras/tokenize/count", lambda text: {"input": text}, lambda data: int(data["count"])),
)


def probe_counter(base_url: str, headers: dict[str, str], timeout: float) -> TokenCounter | None:
    """A counter on the server's own tokenizer, when it offers one."""
    if timeout <= 0:
        return None
    root = server_root(base_url)
    for path, body, read in _TOKENIZERS:

        def count(text: str, url: str = root + path, body: Any = body, read: Any = read) -> int:
            response = httpx.post(url, json=body(text), headers=headers, timeout=max(timeout, 1.0))
            response.raise_for_status()
            return read(response.json())

        try:
            if count("测试 test") > 0:
                return TokenCounter(exact=count)
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            continue
    return None


Block = Callable[[int, Passage], str]  # passage number and passage → its text in the prompt


def fit_passages(passages: list[Passage], block: Block, room: int, count: TokenCounter, catalog: Catalog) -> list:
    """Passages best-first while they fit in `room` tokens; the first that does not fit is cut at sentence
    ends (keeping its evidence), and nothing after it is added."""
    kept: list[Passage] = []
    for passage in passages:
        cost = count(block(len(kept) + 1, passage))
        if cost <= room:
            kept.append(passage)
            room -= cost
            continue
        cut = _trim(passage, partial(_cost, block, count, len(kept) + 1), room, passage.text(catalog))
        if cut is not None:
            kept.append(cut)
        break
    return kept


def _cost(block: Block, count: TokenCounter, number: int, passage: Passage) -> int:
    return count(block(number, passage))


def _trim(passage: Passage, cost: Callable[[Passage], int], room: int, text: str) -> Passage | None:
    """The longest run of whole sentences around the passage's evidence that fits in `room`."""
    spans = [(passage.start + m.start(), passage.start + m.end()) for m in _SENTENCE.finditer(text) if m.group()]
    if not spans:
        return None
    focus = passage.focus or (passage.start, passage.start + 1)
    first = next((i for i, (s, e) in enumerate(spans) if e > focus[0]), 0)
    best: Passage | None = None
    lo = hi = first
    while True:
        candidate = Passage(passage.doc_id, passage.section, spans[lo][0], spans[hi][1])
        if cost(candidate) > room:
            return best
        best = candidate
        if hi + 1 < len(spans):
            hi += 1
        elif lo > 0:
            lo -= 1
        else:
            return best
