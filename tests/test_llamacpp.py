"""The in-process llama.cpp backend: llama-cpp-python called directly, with a deadline and a sane batch size.

CI has no llama-cpp-python (it compiles for half an hour), so a stand-in `llama_cpp` module with the same
calls runs the real backend code; the test on a real GGUF runs when BOT_TEST_GGUF names one.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bot.api import Bot
from tests.conftest import CREDIT_DOC

CREDIT_Q = "哪些区县推行了信用+调解机制？"
REPLY = "环翠区推行了“信用+调解”工作机制[1]。"


class FakeLlama:
    """llama_cpp.Llama's calls the backend uses; `evaluating` seconds pass before the first token."""

    made: ClassVar[list[dict[str, Any]]] = []
    evaluating = 0.0

    def __init__(self, model_path: str, verbose: bool, **params: Any) -> None:
        self.params = params
        self.made.append(params)
        self.generated = 0
        self.done = threading.Event()

    def n_ctx(self) -> int:
        return self.params["n_ctx"]

    def tokenize(self, data: bytes, add_bos: bool = True) -> list[int]:
        return list(range(len(data.decode("utf-8"))))

    def create_chat_completion(self, messages: list[dict], stream: bool, **kwargs: Any) -> Iterator[dict]:
        assert stream and [m["role"] for m in messages] == ["system", "user"]
        return self._tokens()

    def _tokens(self) -> Iterator[dict]:
        try:
            time.sleep(self.evaluating)  # the prompt is evaluated: nothing can interrupt this
            for i in range(0, len(REPLY), 2):
                self.generated += 1
                yield {"choices": [{"delta": {"content": REPLY[i : i + 2]}}]}
        finally:
            self.done.set()


@pytest.fixture
def llama(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bot: Bot) -> Iterator[Bot]:
    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=FakeLlama))
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    FakeLlama.made.clear()
    FakeLlama.evaluating = 0.0
    settings = bot.settings.model_copy(
        update={"llm_backend": "llamacpp", "llamacpp_model_path": gguf, "llm_timeout": 20.0}
    )
    yield Bot(settings)


def test_answers_with_context_batch_and_threads_set(llama: Bot) -> None:
    answer = llama.answer(CREDIT_Q)
    assert answer.backend == "llamacpp" and answer.notice is None
    assert answer.citations[0].doc_id == CREDIT_DOC
    (params,) = FakeLlama.made
    assert params["n_ctx"] == 4096 and params["n_batch"] >= 256 and params["n_threads"] >= 1


def test_deadline_stops_the_local_model(llama: Bot) -> None:
    backend = llama.backend("llamacpp")
    model = backend.provider.llama
    llama.answer(CREDIT_Q)  # warm: on a loaded machine a cold search alone could outlast the deadline below
    model.done.clear()
    model.generated = 0
    FakeLlama.evaluating = 6.0
    llama.settings = llama.settings.model_copy(update={"llm_timeout": 2.0})
    first = llama.answer(CREDIT_Q)
    assert first.fallback == "timed out" and first.citations  # the extractive answer, at the deadline
    second = llama.answer(CREDIT_Q)  # the model is still busy with the first: this one does not queue
    assert second.fallback == "timed out"
    assert model.done.wait(timeout=60)
    assert model.generated <= 1  # the abandoned answer stopped at its first token


@pytest.mark.skipif(not os.environ.get("BOT_TEST_GGUF"), reason="set BOT_TEST_GGUF to a GGUF file to run llamacpp")
def test_llamacpp_backend_for_real(bot: Bot) -> None:
    settings = bot.settings.model_copy(
        update={"llm_backend": "llamacpp", "llamacpp_model_path": Path(os.environ["BOT_TEST_GGUF"])}
    )
    answer = Bot(settings).answer(CREDIT_Q)
    assert answer.backend == "llamacpp" and answer.notice is None, answer.notice
    assert answer.citations
