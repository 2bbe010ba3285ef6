"""LLM backends against a real HTTP server that behaves like llama.cpp: keep-alive pings while it works, a
context window it enforces with HTTP 400, a follow-up rewrite that goes wrong; and fallbacks counted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.api import Bot
from bot.backends import CONDENSE_NOTICE
from bot.budget import estimate_tokens
from bot.evaluate import Question, below_llm_share, load_questions, run_eval
from bot.llm import CONTEXT_EXCEEDED
from bot.models import Answer
from bot.prompts import CANNOT_ANSWER
from tests.conftest import ROOT, ZHONGLOU_DOC
from tests.fake_openai import FakeOpenAI, Reply

CREDIT_Q = "哪些区县推行了信用+调解机制？"
CREDIT_REPLY = "环翠区推行了“信用+调解”工作机制[1]。"
JINYUN_HISTORY = [("缙云县有多少律师？", "全县现有律师103人[1]")]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _plain_server(fake: FakeOpenAI) -> Iterator[None]:
    yield
    fake.context, fake.report_context, fake.tokenizer = None, False, False


def _bot(bot: Bot, fake: FakeOpenAI, **update: object) -> Bot:
    settings = bot.settings.model_copy(
        update={"llm_backend": "openai", "openai_base_url": fake.url, "llm_timeout": 20.0, **update}
    )
    return Bot(settings)


def _max_tokens(request: dict) -> int:
    return request.get("max_completion_tokens") or request["max_tokens"]


def _passages(request: dict) -> list[str]:
    return re.findall(r"^\[\d+\] ", request["messages"][-1]["content"], re.M)


# The deadline ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "streamed"])
def test_deadline_holds_while_the_server_sends_keep_alive_pings(bot: Bot, fake: FakeOpenAI, streamed: bool) -> None:
    """A per-read timeout never fires here: the server pings every second for two minutes."""
    fake.script(Reply(CREDIT_REPLY, delay=120, ping_every=1.0))
    drafts: list[str] = []
    answer = _bot(bot, fake, llm_timeout=3.0).answer(CREDIT_Q, on_token=drafts.append if streamed else None)
    assert answer.backend == "extractive" and answer.fallback == "timed out"
    assert answer.answer.startswith("⚠") and "信用+调解" in answer.citations[0].text
    assert drafts == []  # nothing the model did not finish reached the reader
    assert fake.disconnects.wait(timeout=60), "the server never saw the client hang up"


def test_one_deadline_covers_the_rewrite_and_the_answer(bot: Bot, fake: FakeOpenAI) -> None:
    slow = {"delay": 120, "ping_every": 1.0}
    fake.script(Reply("钟楼区有多少律师？", **slow), Reply("钟楼区现有执业律师475名[1]。", **slow))
    answer = _bot(bot, fake, llm_timeout=3.0).answer("钟楼区呢？", history=JINYUN_HISTORY)
    assert len(fake.requests) == 2  # the rewrite gets a third of the time; the answer was still asked
    assert answer.fallback == "timed out" and CONDENSE_NOTICE in (answer.notice or "")
    assert "475" in answer.answer and answer.citations[0].doc_id == ZHONGLOU_DOC


# The token budget -----------------------------------------------------------------------------------------


def test_a_prompt_over_the_context_falls_back_and_says_why(bot: Bot, fake: FakeOpenAI) -> None:
    fake.context = 1500  # the server does not report it, and BOT_LLM_CONTEXT claims far more
    fake.script(Reply(CREDIT_REPLY))
    answer = _bot(bot, fake, llm_context=32768).answer(CREDIT_Q)
    assert answer.fallback == CONTEXT_EXCEEDED and CONTEXT_EXCEEDED in (answer.notice or "")
    assert "Requested tokens" not in answer.answer  # the server's own message is not passed on


@pytest.mark.parametrize("reported", [True, False], ids=["server-reports", "BOT_LLM_CONTEXT"])
def test_passages_fit_the_context(bot: Bot, fake: FakeOpenAI, reported: bool) -> None:
    fake.context, fake.report_context = 2000, reported
    fake.script(Reply(CREDIT_REPLY))
    answer = _bot(bot, fake, llm_context=4096 if reported else 2000).answer(CREDIT_Q)
    assert answer.backend == "openai" and answer.citations[0].text.count("信用+调解") >= 1
    request = fake.requests[0]
    assert fake.prompt_tokens(request) + _max_tokens(request) <= 2000
    assert 1 <= len(_passages(request)) < 6


def test_a_passage_cut_to_fit_keeps_its_evidence(bot: Bot, fake: FakeOpenAI) -> None:
    fake.context, fake.report_context = 1700, True
    fake.script(Reply(CREDIT_REPLY))
    _bot(bot, fake).answer(CREDIT_Q)
    sent = fake.requests[0]["messages"][-1]["content"]
    assert len(_passages(fake.requests[0])) == 1 and "推行“信用+调解”工作机制" in sent
    passage = sent.split("\n", 2)[2].rsplit("问题 Question", 1)[0].strip()
    assert passage[-1] in "。！？；" and len(passage) < 200  # whole sentences only


def test_the_servers_tokenizer_lets_more_passages_in(bot: Bot, fake: FakeOpenAI) -> None:
    fake.context, fake.report_context = 2500, True
    counts = []
    for tokenizer in (False, True):
        fake.tokenizer = tokenizer
        fake.script(Reply(CREDIT_REPLY))
        assert _bot(bot, fake).answer(CREDIT_Q).backend == "openai"
        request = fake.requests[0]
        assert fake.prompt_tokens(request) + _max_tokens(request) <= 2500
        counts.append(len(_passages(request)))
    assert counts[1] > counts[0]


def test_the_estimate_errs_high_for_chinese() -> None:
    text = (ROOT / "bot" / "prompts" / "system.md").read_text(encoding="utf-8")
    assert estimate_tokens("信用调解") == 8 and estimate_tokens(text) > len(text) * 0.9


# The follow-up rewrite ------------------------------------------------------------------------------------

_ECHO = "根据对话历史，把最后的追问改写成一个独立、完整的问题（保留地区、年份等信息），只输出改写后的问题，不要回答它。"


@pytest.mark.parametrize(
    "rewrite",
    [_ECHO, "缙云县有多少律师？", "钟楼区有多少律师？\n缙云县有多少律师？", "钟楼区的GDP是多少？", ""],
    ids=["echoes-its-prompt", "loses-the-region", "two-lines", "loses-the-topic", "empty"],
)
def test_a_rewrite_that_fails_its_check_is_not_trusted(bot: Bot, fake: FakeOpenAI, rewrite: str) -> None:
    def reply(request: dict) -> str:
        n = next(i for i, block in enumerate(request["messages"][-1]["content"].split("\n\n[")) if "475" in block)
        return f"钟楼区现有执业律师475名[{n + 1 if n else 1}]。"

    fake.script(Reply(rewrite), Reply(fn=reply))
    answer = _bot(bot, fake).answer("钟楼区呢？", history=JINYUN_HISTORY)
    assert CONDENSE_NOTICE in (answer.notice or "") and answer.answer.startswith("⚠")
    assert answer.backend == "openai" and "475" in answer.answer
    assert answer.citations[0].doc_id == ZHONGLOU_DOC


def test_a_good_rewrite_is_used_without_a_notice(bot: Bot, fake: FakeOpenAI) -> None:
    fake.script(Reply("独立问题：钟楼区有多少律师？"), Reply("钟楼区目前共有律所32家，执业律师475名[1]。"))
    answer = _bot(bot, fake).answer("钟楼区呢？", history=JINYUN_HISTORY)
    assert answer.notice is None and "475" in answer.answer


def test_the_prompt_and_verify_share_the_cannot_answer_phrase(bot: Bot, fake: FakeOpenAI) -> None:
    llm = _bot(bot, fake)
    assert CANNOT_ANSWER["zh"] in llm.backend("openai").prompts.system
    fake.script(Reply(CANNOT_ANSWER["zh"]))
    answer = llm.answer(CREDIT_Q)
    assert answer.refused and answer.backend == "openai" and answer.fallback is None


# Streaming: a draft, then the verified answer -------------------------------------------------------------


def test_stream_yields_the_draft_then_the_verified_answer(bot: Bot, fake: FakeOpenAI) -> None:
    text = "环翠区推行了“信用+调解”工作机制[1]。该机制化解纠纷55555起[1]。"
    fake.script(Reply(text))
    items = list(_bot(bot, fake).stream(CREDIT_Q))
    *drafts, final = items
    assert all(isinstance(d, str) for d in drafts) and "".join(drafts) == text
    assert isinstance(final, Answer) and "55555" not in final.answer and final.changes


def test_extractive_stream_is_one_chunk_and_the_answer(bot: Bot) -> None:
    chunk, final = bot.stream(CREDIT_Q, backend="extractive")
    assert isinstance(final, Answer) and chunk == final.answer


def test_no_request_when_a_plan_refuses(bot: Bot, fake: FakeOpenAI) -> None:
    fake.script(Reply("不该被调用"))
    answer = _bot(bot, fake).answer("杭州市西湖区有多少律师？")
    assert answer.refused and fake.requests == []


# Counting fallbacks ---------------------------------------------------------------------------------------


def _quote_first_sentence(request: dict) -> str:
    """A faithful answer: passage [1]'s first sentence, cited."""
    passage = request["messages"][-1]["content"].split("\n\n[2]")[0].split("\n", 2)[2]
    return passage.split("。")[0] + "[1]。"


def test_evaluation_counts_model_answers_and_fallbacks(bot: Bot, fake: FakeOpenAI, tmp_path: Path) -> None:
    wanted = {"f01": Reply(status=500), "f02": Reply(fn=_quote_first_sentence), "u01": Reply("不该被调用")}
    questions = [q for q in load_questions(ROOT / "eval" / "questions.jsonl") if q.id in wanted]
    llm = _bot(bot, fake)

    def answer(q: Question) -> Answer:
        fake.script(wanted[q.id])
        return llm.answer(q.question)

    summary = run_eval(answer, llm, questions, tmp_path, 8, lambda _: None, backend="openai")
    use = summary["llm"]["openai"]
    assert (use["from_model"], use["fallbacks"], use["no_model_call"]) == (1, 1, 1)
    assert use["fallback_reasons"] == {"server error (500)": 1} and use["llm_share"] == 0.5
    assert below_llm_share(summary, 0.5) is None and "server error (500)" in below_llm_share(summary, 0.6)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| openai | 3 | 1 | 1 | 1 | 0.5 | server error (500): 1 |" in report
