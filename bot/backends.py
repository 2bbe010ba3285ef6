"""Answer backends, chosen in one factory: adding a backend touches only this file (and llm.py for its model).

Every backend answers in two steps that `Bot` calls in order: `standalone` (a follow-up made into a question
of its own, before retrieval) and `respond` (draft text as it is written, then the final, verified Answer),
from evidence that `Bot` searched once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from bot.answer import EXTRACTIVE, compose
from bot.budget import fit_passages
from bot.chain import (
    Passage,
    citations_from,
    history_text,
    passage_block,
    passages_for,
    render_passages,
)
from bot.config import KNOWN_BACKENDS, Settings
from bot.deadline import Abort, Deadline, collect_within, stream_within
from bot.evidence import Decision
from bot.llm import ChatProvider, answer_room, describe_failure, make_provider
from bot.models import Answer, Evidence, Retrieved
from bot.prompts import load_prompts
from bot.query import Filters, QueryPlan
from bot.retrieve import Hit
from bot.store import Catalog
from bot.verify import Source, check_condensed, verify

log = logging.getLogger(__name__)
Draft = Iterator[str | Answer]  # pieces of draft text, then exactly one Answer, last
REWRITE_SHARE = 1 / 3  # of BOT_LLM_TIMEOUT, at most, for rewriting a follow-up
CONDENSE_NOTICE = (
    "追问改写未通过检查，已按规则改写。"
    "The model's rewrite of the follow-up failed its check; a rule-based rewrite was used."
)


@dataclass
class Found:
    """What retrieval and the evidence model decided for one question."""

    plan: QueryPlan
    hits: list[Hit]
    decision: Decision
    relevant: bool  # the reports hold something on it: an LLM is asked even where the extractive bar refuses

    @property
    def evidence(self) -> list[Evidence]:  # empty: refuse
        return self.decision.evidence if not self.decision.refusal else []

    @property
    def related(self) -> list[Evidence]:
        return self.decision.related

    @property
    def grounds(self) -> list[Evidence]:
        """What a model is given first: the evidence, or, where the extractive bar refused, the closest passages."""
        return self.evidence or self.related


@dataclass
class Request:
    question: str
    history: list[tuple[str, str]] = field(default_factory=list)
    filters: Filters | None = None


@dataclass
class Turn:
    """The question to search for, the history retrieval still needs (none once rewritten), and a notice."""

    question: str
    history: list[tuple[str, str]]
    notice: str | None = None


class Library(Protocol):
    """What a backend may ask of the bot: the reports, which regions a text names, the rule-based rewrite."""

    catalog: Catalog

    def regions_named(self, text: str) -> set[str]: ...

    def rewrite(self, question: str, history: list[tuple[str, str]]) -> str: ...


class Backend(Protocol):
    name: str

    def standalone(self, request: Request, library: Library, deadline: Deadline) -> Turn: ...

    def respond(self, found: Found, library: Library, deadline: Deadline) -> Draft: ...


def extractive_answer(found: Found, catalog: Catalog, notice: str | None = None, fallback: str | None = None) -> Answer:
    text, citations, refused = compose(found.plan, found.decision, catalog)
    return Answer(
        answer=text,
        refused=refused,
        backend=EXTRACTIVE,
        citations=citations,
        retrieved=retrieved(found.hits),
        notice=notice,
        fallback=fallback,
    )


def with_notices(answer: Answer, *notices: str | None) -> Answer:
    """Every notice in `notice` and as a first line of the text, so no reader misses it."""
    said = [n for n in (*notices, answer.notice) if n]
    if said:
        answer.notice = " ".join(dict.fromkeys(said))
        answer.answer = f"⚠ {answer.notice}\n{answer.answer}"
    return answer


def retrieved(hits: list[Hit]) -> list[Retrieved]:
    return [Retrieved(doc_id=h.chunk.doc_id, chunk_id=h.chunk.chunk_id, score=round(h.score, 6)) for h in hits]


class ExtractiveBackend:
    """No model: quotes the evidence sentences themselves (the rule-based rewrite handles follow-ups)."""

    name = EXTRACTIVE

    def standalone(self, request: Request, library: Library, deadline: Deadline) -> Turn:
        return Turn(request.question, request.history)

    def respond(self, found: Found, library: Library, deadline: Deadline) -> Draft:
        answer = extractive_answer(found, library.catalog)
        yield answer.answer
        yield answer


class LLMBackend:
    """A chat model writes the answer from numbered passages that fit its context; verification keeps it
    honest; any failure, the deadline included, gives the extractive answer with a notice."""

    def __init__(self, name: str, settings: Settings) -> None:
        self.name = name
        self.settings = settings
        self.prompts = load_prompts(settings.prompts_dir)
        self.provider: ChatProvider = make_provider(name, settings)

    def _chain(self, template: str, abort: Abort, deadline: Deadline) -> Runnable:
        prompt = ChatPromptTemplate.from_messages([("system", self.prompts.system), ("human", template)])
        return prompt | self.provider.model(abort, deadline) | StrOutputParser()

    def standalone(self, request: Request, library: Library, deadline: Deadline) -> Turn:
        """With history, the model rewrites the follow-up; a rewrite that fails its check is not trusted."""
        if not request.history:
            return Turn(request.question, [])
        inputs = {"history": history_text(request.history), "question": request.question}
        own = Deadline(min(deadline.remaining(), deadline.seconds * REWRITE_SHARE))  # the rest is the answer's
        try:
            reply = collect_within(lambda abort: self._chain(self.prompts.condense, abort, own).stream(inputs), own)
        except Exception as exc:
            log.warning("condensing the question failed (%s); using the rule-based rewrite", describe_failure(exc))
            return Turn(request.question, request.history, CONDENSE_NOTICE)
        rule = library.rewrite(request.question, request.history)
        question = check_condensed(reply, request.question, rule, library.regions_named)
        if question is None:
            log.warning("the model's rewrite of the follow-up failed its check; using the rule-based rewrite")
            return Turn(request.question, request.history, CONDENSE_NOTICE)
        return Turn(question, [])

    def respond(self, found: Found, library: Library, deadline: Deadline) -> Draft:
        catalog = library.catalog
        if found.plan.refusal or not found.relevant:  # refuse without calling the model
            yield extractive_answer(found, catalog)
            return
        passages = self._fit(found, catalog, deadline)
        if not passages:
            yield self._fallback(found, catalog, "the passages do not fit the model's context")
            return
        inputs = {"passages": render_passages(passages, catalog, found.plan.lang), "question": found.plan.question}
        parts: list[str] = []
        try:
            for piece in stream_within(
                lambda abort: self._chain(self.prompts.answer, abort, deadline).stream(inputs), deadline
            ):
                parts.append(piece)
                yield piece
        except Exception as exc:  # any failure of the model or its transport: fall back, never crash
            yield self._fallback(found, catalog, describe_failure(exc))
            return
        yield self._verified("".join(parts), found, passages, library)

    def _fit(self, found: Found, catalog: Catalog, deadline: Deadline) -> list[Passage]:
        """As many passages, best first, as fit the model's context beside the prompts and the answer."""
        context = self.provider.context_size(deadline)
        count = self.provider.counter(deadline)
        fixed = count(self.prompts.system) + count(
            self.prompts.answer.format(passages="", question=found.plan.question)
        )
        room = context - answer_room(self.settings, context) - fixed - 64  # 64: the chat template's own tokens
        lang = found.plan.lang
        candidates = passages_for(found.grounds, found.hits)
        return fit_passages(candidates, lambda n, p: passage_block(n, p, catalog, lang) + "\n\n", room, count, catalog)

    def _verified(self, reply: str, found: Found, passages: list[Passage], library: Library) -> Answer:
        catalog = library.catalog
        sources = [Source(p.text(catalog), p.doc_id) for p in passages]
        verified = verify(reply, sources, library.regions_named)
        if verified.refused:
            return Answer(answer=verified.text, refused=True, backend=self.name, retrieved=retrieved(found.hits))
        if not verified.used:
            reason = "empty answer" if not reply.strip() else "no verifiable citations in the answer"
            return self._fallback(found, catalog, reason)
        return Answer(
            answer=verified.text,
            refused=False,
            backend=self.name,
            citations=citations_from(verified, passages, catalog),
            retrieved=retrieved(found.hits),
            changes=verified.changes,
        )

    def _fallback(self, found: Found, catalog: Catalog, reason: str) -> Answer:
        log.warning("%s backend failed (%s); answering extractively", self.name, reason)
        notice = (
            f"LLM 后端（{self.name}）不可用：{reason}；以下为摘录式回答。"
            f"LLM backend failed ({reason}); extractive answer below."
        )
        return extractive_answer(found, catalog, notice, fallback=reason)


def make_backend(name: str, settings: Settings) -> Backend:
    """The one place that maps a backend name to an implementation."""
    if name == EXTRACTIVE:
        return ExtractiveBackend()
    if name in KNOWN_BACKENDS:
        return LLMBackend(name, settings)
    raise ValueError(f"unknown LLM backend {name!r}; known: {', '.join(KNOWN_BACKENDS)}")
