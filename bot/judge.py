"""Optional LLM-judged faithfulness and answer relevance (RAGAS-style) on our langchain chat model."""

from __future__ import annotations

import logging
import re

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from bot.config import Settings
from bot.evaluate import Judge, Question
from bot.llm import describe_failure, make_chat_model
from bot.models import Answer
from bot.prompts import load_prompt

log = logging.getLogger(__name__)
JUDGE_FIELDS = frozenset({"question", "answer", "passages"})


def make_judge(backend: str, settings: Settings) -> Judge:
    """A judge on the named LLM backend; a failed call scores nothing rather than stopping the run."""
    template = load_prompt(settings.prompts_dir, "judge", JUDGE_FIELDS)
    chain = (
        ChatPromptTemplate.from_messages([("human", template)]) | make_chat_model(backend, settings) | StrOutputParser()
    )

    def judge(q: Question, a: Answer) -> dict[str, float]:
        passages = "\n\n".join(f"[{c.n}] {c.text}" for c in a.citations)
        try:
            reply = chain.invoke({"question": q.question, "answer": a.answer, "passages": passages})
        except Exception as exc:
            log.warning("judge call failed for %s (%s)", q.id, describe_failure(exc))
            return {}
        return parse_scores(reply)

    return judge


def parse_scores(reply: str) -> dict[str, float]:
    scores = {}
    for name in ("faithfulness", "relevance"):
        match = re.search(rf'"?{name}"?\s*[:：=]\s*([01](?:\.\d+)?)', reply)
        if match:
            scores[name] = min(1.0, float(match.group(1)))
    return scores
