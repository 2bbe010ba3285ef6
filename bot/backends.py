"""Answer backends, chosen in one factory: adding a backend touches only this file (and llm.py for its model)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from bot.answer import EXTRACTIVE, compose
from bot.chain import (
    TokenSink,
    answer_chain,
    citations_from,
    condense_chain,
    history_text,
    passages_for,
    render_passages,
    run,
)
from bot.config import KNOWN_BACKENDS, Settings
from bot.evidence import Decision
from bot.llm import describe_failure, make_chat_model
from bot.models import Answer, Evidence, Retrieved
from bot.prompts import load_prompts
from bot.query import Filters, QueryPlan
from bot.retrieve import Hit
from bot.store import Catalog
from bot.verify import Source, verify

log = logging.getLogger(__name__)


@dataclass
class Found:
    """What retrieval and the evidence model decided for one question."""

    plan: QueryPlan
    hits: list[Hit]
    decision: Decision
    relevant: bool  # the reports hold something on the question: an LLM may be asked even if the extractive bar refuses

    @property
    def evidence(self) -> list[Evidence]:  # empty: refuse
        return self.decision.evidence if not self.decision.refusal else []

    @property
    def related(self) -> list[Evidence]:
        return self.decision.related


@dataclass
class Request:
    question: str
    history: list[tuple[str, str]] = field(default_factory=list)
    filters: Filters | None = None


class Searcher(Protocol):
    catalog: Catalog

    def regions_named(self, text: str) -> set[str]: ...

    def search(self, question: str, history: list[tuple[str, str]], filters: Filters | None) -> Found: ...


class Backend(Protocol):
    name: str

    def respond(self, request: Request, bot: Searcher, on_token: TokenSink | None) -> Answer: ...


def extractive_answer(found: Found, catalog: Catalog, notice: str | None = None) -> Answer:
    text, citations, refused = compose(found.plan, found.decision, catalog)
    if notice:
        text = f"⚠ {notice}\n{text}"
    return Answer(
        answer=text,
        refused=refused,
        backend=EXTRACTIVE,
        citations=citations,
        retrieved=retrieved(found.hits),
        notice=notice,
    )


def retrieved(hits: list[Hit]) -> list[Retrieved]:
    return [Retrieved(doc_id=h.chunk.doc_id, chunk_id=h.chunk.chunk_id, score=round(h.score, 6)) for h in hits]


class ExtractiveBackend:
    """No model: quotes the evidence sentences themselves."""

    name = EXTRACTIVE

    def respond(self, request: Request, bot: Searcher, on_token: TokenSink | None) -> Answer:
        found = bot.search(request.question, request.history, request.filters)
        answer = extractive_answer(found, bot.catalog)
        if on_token:
            on_token(answer.answer)
        return answer


class LLMBackend:
    """A chat model writes the answer from numbered passages; verification keeps it honest."""

    def __init__(self, name: str, settings: Settings) -> None:
        self.name = name
        model = make_chat_model(name, settings)
        prompts = load_prompts(settings.prompts_dir)
        self._answer = answer_chain(model, prompts)
        self._condense = condense_chain(model, prompts)

    def respond(self, request: Request, bot: Searcher, on_token: TokenSink | None) -> Answer:
        question, history = self._standalone(request)
        found = bot.search(question, history, request.filters)
        if not found.relevant or found.plan.refusal:  # refuse without calling the model
            return extractive_answer(found, bot.catalog)
        passages = passages_for(found.evidence or found.related, found.hits)
        inputs = {"passages": render_passages(passages, bot.catalog, found.plan.lang), "question": found.plan.question}
        try:
            reply = run(self._answer, inputs, on_token)
        except Exception as exc:  # any failure of the model or its transport: fall back, never crash
            return self._fallback(found, bot.catalog, describe_failure(exc))
        sources = [Source(p.text(bot.catalog), p.doc_id) for p in passages]
        verified = verify(reply, sources, bot.regions_named)
        if verified.refused:
            return Answer(answer=verified.text, refused=True, backend=self.name, retrieved=retrieved(found.hits))
        if not verified.used:
            reason = "empty answer" if not reply.strip() else "no verifiable citations in the answer"
            return self._fallback(found, bot.catalog, reason)
        return Answer(
            answer=verified.text,
            refused=False,
            backend=self.name,
            citations=citations_from(verified, passages, bot.catalog),
            retrieved=retrieved(found.hits),
            changes=verified.changes,
        )

    def _standalone(self, request: Request) -> tuple[str, list[tuple[str, str]]]:
        """With history, the model rewrites the follow-up; if it cannot, the rule-based rewrite still applies."""
        if not request.history:
            return request.question, []
        try:
            inputs = {"history": history_text(request.history), "question": request.question}
            rewritten = self._condense.invoke(inputs).strip().splitlines()
        except Exception as exc:
            log.warning("condensing the question failed (%s); using the rule-based rewrite", describe_failure(exc))
            return request.question, request.history
        first = rewritten[0].strip() if rewritten else ""
        return (first, []) if 2 <= len(first) <= 500 else (request.question, request.history)

    def _fallback(self, found: Found, catalog: Catalog, reason: str) -> Answer:
        log.warning("%s backend failed (%s); answering extractively", self.name, reason)
        notice = (
            f"LLM 后端（{self.name}）不可用：{reason}；以下为摘录式回答。"
            f"LLM backend failed ({reason}); extractive answer below."
        )
        return extractive_answer(found, catalog, notice)


def make_backend(name: str, settings: Settings) -> Backend:
    """The one place that maps a backend name to an implementation."""
    if name == EXTRACTIVE:
        return ExtractiveBackend()
    if name in KNOWN_BACKENDS:
        return LLMBackend(name, settings)
    raise ValueError(f"unknown LLM backend {name!r}; known: {', '.join(KNOWN_BACKENDS)}")
