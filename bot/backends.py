"""Answer backends, chosen in one factory: adding a backend touches only this file (and llm.py for its model;
the LLM backend itself lives in chain.py, loaded only when chosen).

Every backend answers in two steps that `Bot` calls in order: `standalone` (a follow-up made into a question
of its own, before retrieval) and `respond` (draft text as it is written, then the final, verified Answer),
from evidence that `Bot` searched once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from bot.answer import EXTRACTIVE, compose
from bot.config import KNOWN_BACKENDS, Settings
from bot.deadline import Deadline
from bot.evidence import Decision
from bot.models import Answer, Evidence, Retrieved
from bot.query import Filters, QueryPlan
from bot.retrieve import Hit
from bot.store import Catalog

log = logging.getLogger(__name__)
Draft = Iterator[str | Answer]  # pieces of draft text, then exactly one Answer, last
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


def make_backend(name: str, settings: Settings) -> Backend:
    """The one place that maps a backend name to an implementation."""
    if name == EXTRACTIVE:
        return ExtractiveBackend()
    if name in KNOWN_BACKENDS:
        from bot.chain import LLMBackend  # langchain loads only when a model is asked

        return LLMBackend(name, settings)
    raise ValueError(f"unknown LLM backend {name!r}; known: {', '.join(KNOWN_BACKENDS)}")
