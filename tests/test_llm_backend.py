"""The openai backend against a real HTTP server speaking the OpenAI protocol, inside the tests."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.api import Bot
from bot.cli import DRAFT_HEAD, VERIFIED_HEAD
from bot.prompts import PromptError, load_prompts
from tests.conftest import CREDIT_DOC, ROOT
from tests.fake_openai import FakeOpenAI, Reply

SECRET = "sk-test-SECRET-0123456789"
CREDIT_Q = "哪些区县推行了信用+调解机制？"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture
def llm_bot(bot: Bot, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Bot:
    settings = bot.settings.model_copy(
        update={"llm_backend": "openai", "openai_base_url": fake.url, "llm_timeout": 20.0}
    )
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    return Bot(settings)


def _passage_numbers(request: dict) -> str:
    return request["messages"][-1]["content"]


def test_well_cited_answer_verifies(llm_bot: Bot, fake: FakeOpenAI) -> None:
    fake.script(Reply("环翠区推行了“信用+调解”工作机制，在全区各级调解组织中引入信用管理手段[1]。"))
    answer = llm_bot.answer(CREDIT_Q)
    assert answer.backend == "openai" and not answer.refused
    assert answer.answer.endswith("[1]。") and not answer.changes
    assert [c.doc_id for c in answer.citations] == [CREDIT_DOC]
    assert "信用+调解" in answer.citations[0].text
    assert (
        answer.citations[0].text
        == llm_bot.catalog.docs[CREDIT_DOC].text[answer.citations[0].start : answer.citations[0].end]
    )
    sent = _passage_numbers(fake.requests[0])
    assert "[1]" in sent and "信用+调解" in sent and CREDIT_Q in sent
    assert fake.headers[0]["authorization"] == f"Bearer {SECRET}"


def test_citation_to_missing_passage_is_removed(llm_bot: Bot, fake: FakeOpenAI) -> None:
    fake.script(Reply("环翠区推行了“信用+调解”工作机制[1][9]。"))
    answer = llm_bot.answer(CREDIT_Q)
    assert "[9]" not in answer.answer and "[1]" in answer.answer
    assert any("[9]" in change for change in answer.changes)
    assert [c.n for c in answer.citations] == [1]


def test_unsupported_number_is_dropped(llm_bot: Bot, fake: FakeOpenAI) -> None:
    fake.script(Reply("环翠区推行了“信用+调解”工作机制[1]。该机制已化解纠纷98765起[1]。"))
    answer = llm_bot.answer(CREDIT_Q)
    assert "98765" not in answer.answer and "信用+调解" in answer.answer
    assert any("98765" in change for change in answer.changes)


def _number_of(request: dict, region: str) -> int:
    return int(re.search(rf"\[(\d+)\] {region}", _passage_numbers(request)).group(1))


def test_citations_are_renumbered_as_cited(llm_bot: Bot, fake: FakeOpenAI) -> None:
    def reply(request: dict) -> str:
        zl, zj = _number_of(request, "钟楼区"), _number_of(request, "浈江区")
        return f"浈江区实现行政机关负责人出庭应诉率100%[{zj}]。钟楼区连续七年行政机关负责人出庭应诉率100%[{zl}]。"

    fake.script(Reply(fn=reply))
    answer = llm_bot.answer("哪些区县行政机关负责人出庭应诉率达到100%？")
    assert not answer.refused and not answer.changes, answer.answer
    assert answer.answer.index("[1]") < answer.answer.index("[2]")
    assert [c.doc_id[:3] for c in answer.citations] == ["001", "004"]


def test_claim_about_one_region_citing_another_is_dropped(llm_bot: Bot, fake: FakeOpenAI) -> None:
    def reply(request: dict) -> str:
        _zl, zj = _number_of(request, "钟楼区"), _number_of(request, "浈江区")
        return f"浈江区出庭应诉率100%[{zj}]。钟楼区连续七年出庭应诉率100%[{zj}]。"

    fake.script(Reply(fn=reply))
    answer = llm_bot.answer("哪些区县行政机关负责人出庭应诉率达到100%？")
    assert "钟楼" not in answer.answer and any("钟楼" in c for c in answer.changes)


def test_streaming_passes_tokens_as_they_come(llm_bot: Bot, fake: FakeOpenAI) -> None:
    text = "环翠区推行了“信用+调解”工作机制，提高调解协议履行效率[1]。"
    fake.script(Reply(text))
    tokens: list[str] = []
    answer = llm_bot.answer(CREDIT_Q, on_token=tokens.append)
    assert fake.requests[0]["stream"] is True
    assert len(tokens) > 3 and "".join(tokens) == text
    assert answer.answer == text.replace("[1]。", "[1]。") and answer.citations


def test_no_evidence_never_calls_the_model(llm_bot: Bot, fake: FakeOpenAI) -> None:
    fake.script(Reply("不该被调用"))
    answer = llm_bot.answer("缙云县2023年的财政预算总额是多少？")
    assert answer.refused and fake.requests == []


def test_followup_is_condensed_by_the_model(llm_bot: Bot, fake: FakeOpenAI) -> None:
    fake.script(Reply("钟楼区有多少律师？"), Reply("钟楼区目前共有律所32家，执业律师475名[1]。"))
    answer = llm_bot.answer("钟楼区呢？", history=[("缙云县有多少律师？", "全县现有律师103人[1]")])
    assert len(fake.requests) == 2 and "缙云县有多少律师" in _passage_numbers(fake.requests[0])
    assert "475" in answer.answer and answer.citations[0].doc_id.startswith("004")


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(status=401), "authentication failed (401)"),
        (Reply(status=429), "rate limited (429)"),
        (Reply(status=500), "server error (500)"),
        (Reply(status=503), "server error (503)"),
        (Reply(raw=b"data: {not json\n\n"), "JSONDecodeError"),
        (Reply(text=""), "empty answer"),
        (Reply(text="我不确定，也许吧。"), "no verifiable citations"),
    ],
)
def test_failures_fall_back_to_extractive_with_a_notice(
    llm_bot: Bot, fake: FakeOpenAI, caplog: pytest.LogCaptureFixture, reply: Reply, reason: str
) -> None:
    fake.script(reply)
    with caplog.at_level(logging.DEBUG):
        answer = llm_bot.answer(CREDIT_Q)
    assert answer.backend == "extractive" and not answer.refused
    assert answer.notice and reason in answer.notice
    assert answer.answer.splitlines()[0] == f"⚠ {answer.notice}"
    assert "信用+调解" in answer.citations[0].text
    assert SECRET not in answer.answer + answer.notice + caplog.text


def test_connection_refused_falls_back(bot: Bot) -> None:
    settings = bot.settings.model_copy(update={"llm_backend": "openai", "openai_base_url": _closed_port_url()})
    answer = Bot(settings).answer(CREDIT_Q)
    assert answer.backend == "extractive" and "connection failed" in (answer.notice or "")


def test_server_dying_mid_stream_falls_back(llm_bot: Bot, fake: FakeOpenAI) -> None:
    fake.script(Reply("环翠区推行了“信用+调解”工作机制，提高调解协议履行效率[1]。", die_after=2))
    answer = llm_bot.answer(CREDIT_Q, on_token=lambda _: None)
    assert answer.backend == "extractive" and answer.notice
    assert answer.citations and "信用+调解" in answer.citations[0].text


def _cli(fake: FakeOpenAI, bot: Bot, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BOT_DATA_DIR": str(bot.settings.data_dir),
        "BOT_LLM_BACKEND": "openai",
        "BOT_OPENAI_BASE_URL": fake.url,
        "OPENAI_API_KEY": SECRET,
    }
    exe = Path(sys.executable).parent / "bot"
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=300)


def test_cli_with_openai_backend(fake: FakeOpenAI, bot: Bot) -> None:
    fake.script(Reply("环翠区推行了“信用+调解”工作机制[1]。"))
    result = _cli(fake, bot, "ask", CREDIT_Q, "--json")
    data = json.loads(result.stdout)
    assert data["backend"] == "openai" and data["citations"][0]["doc_id"] == CREDIT_DOC
    assert data["notice"] is None and data["changes"] == [] and data["fallback"] is None
    assert SECRET not in result.stdout + result.stderr


def test_cli_json_says_why_it_fell_back(fake: FakeOpenAI, bot: Bot) -> None:
    fake.script(Reply("环翠区推行了“信用+调解”工作机制[1]。该机制化解纠纷55555起[1]。"), Reply(status=503))
    changed = json.loads(_cli(fake, bot, "ask", CREDIT_Q, "--json").stdout)
    assert changed["backend"] == "openai" and any("55555" in c for c in changed["changes"])
    failed = json.loads(_cli(fake, bot, "ask", CREDIT_Q, "--json").stdout)
    assert failed["backend"] == "extractive" and failed["fallback"] == "server error (503)"
    assert "server error (503)" in failed["notice"] and failed["answer"].startswith("⚠")


def test_broken_prompt_fails_at_load(tmp_path: Path) -> None:
    for name in ("system", "answer", "condense"):
        (tmp_path / f"{name}.md").write_text((ROOT / "bot" / "prompts" / f"{name}.md").read_text(encoding="utf-8"))
    load_prompts(tmp_path)  # the shipped prompts load
    (tmp_path / "answer.md").write_text("段落：{passages}\n问题：{questoin}", encoding="utf-8")
    with pytest.raises(PromptError, match="unknown placeholders \\['questoin'\\]"):
        load_prompts(tmp_path)
    (tmp_path / "answer.md").write_text("段落：{passages}", encoding="utf-8")
    with pytest.raises(PromptError, match="missing placeholders \\['question'\\]"):
        load_prompts(tmp_path)
    (tmp_path / "answer.md").write_text("{passages} {question} {", encoding="utf-8")
    with pytest.raises(PromptError):
        load_prompts(tmp_path)


def test_broken_prompt_stops_the_backend_before_any_question(bot: Bot, tmp_path: Path, fake: FakeOpenAI) -> None:
    (tmp_path / "system.md").write_text("{oops}", encoding="utf-8")
    settings = bot.settings.model_copy(
        update={"llm_backend": "openai", "openai_base_url": fake.url, "prompts_dir": tmp_path}
    )
    with pytest.raises(PromptError):
        Bot(settings).backend("openai")


def test_hybrid_retriever_as_langchain_retriever(bot: Bot) -> None:
    docs = bot.as_retriever().invoke(CREDIT_Q)
    assert docs and docs[0].metadata["doc_id"] == CREDIT_DOC and "信用+调解" in docs[0].page_content
    meta = docs[0].metadata
    assert docs[0].page_content == bot.catalog.docs[meta["doc_id"]].text[meta["start"] : meta["end"]]
    assert bot.as_retriever().invoke("缙云县2023年的财政预算总额是多少？") == []


def test_cli_streams_a_marked_draft_then_the_verified_answer(fake: FakeOpenAI, bot: Bot) -> None:
    fake.script(Reply("环翠区推行了“信用+调解”工作机制[1]。该机制化解纠纷55555起[1]。"))
    out = _cli(fake, bot, "ask", CREDIT_Q).stdout
    assert fake.requests[0]["stream"] is True
    before, draft = out.split(DRAFT_HEAD)
    streamed, verified = draft.split(VERIFIED_HEAD)
    assert not before.strip() and "55555" in streamed
    assert "55555" not in verified and "信用+调解" in verified
