"""llama-cpp-python called directly behind langchain's chat-model interface (langchain-community's wrapper is
being sunset, and its defaults evaluate the prompt a few tokens at a time)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from bot.deadline import DeadlineExceeded

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class LlamaChat(BaseChatModel):
    """One call on a shared `llama_cpp.Llama`: waits its turn (the model serves one question at a time) no
    longer than `wait_s`, and stops generating as soon as `stop_when()` says the caller gave up."""

    llama: Any
    busy: Any  # a threading.Lock held while the model generates
    stop_when: Callable[[], bool] = lambda: False
    wait_s: float = 60.0
    temperature: float = 0.1
    max_tokens: int = 800

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-python"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(str(chunk.message.content) for chunk in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        if not self.busy.acquire(timeout=max(self.wait_s, 0.0)):
            raise DeadlineExceeded("the local model is still busy with another question")
        chunks: Any = None
        try:
            chunks = self.llama.create_chat_completion(
                messages=[{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages],
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                stop=stop,
                stream=True,
            )
            for chunk in chunks:
                if self.stop_when():
                    break
                piece = chunk["choices"][0].get("delta", {}).get("content") or ""
                if piece:
                    out = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                    if run_manager is not None:
                        run_manager.on_llm_new_token(piece, chunk=out)
                    yield out
        finally:
            if hasattr(chunks, "close"):
                chunks.close()  # the model stops before its next token and is free for the next question
            self.busy.release()
