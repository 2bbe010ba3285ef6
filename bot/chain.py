"""The LLM answer chain (langchain runnables): condense → retrieve → numbered passages → prompt → model → verify.
Imported only when an LLM backend is chosen, so the extractive path never loads langchain."""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable
from pydantic import Field

from bot.backends import (
    CONDENSE_NOTICE,
    Draft,
    Found,
    Library,
    Request,
    Turn,
    extractive_answer,
    retrieved,
)
from bot.budget import fit_passages
from bot.config import Settings
from bot.deadline import Abort, Deadline, collect_within, stream_within
from bot.llm import ChatProvider, answer_room, describe_failure, make_provider
from bot.models import Answer
from bot.passages import (
    MAX_PASSAGES,
    Passage,
    citations_from,
    history_text,
    passage_block,
    passages_for,
    render_passages,
)
from bot.prompts import load_prompts
from bot.store import Catalog
from bot.verify import Source, check_condensed, verify

log = logging.getLogger(__name__)
REWRITE_SHARE = 1 / 3  # of BOT_LLM_TIMEOUT, at most, for rewriting a follow-up


class ReportRetriever(BaseRetriever):
    """The hybrid retriever and the relevance gate as a langchain retriever: no documents means refuse.

    `bot` is anything with the bot's `search(question, history, filters) -> Found`, so this wrapper and
    the answerers never disagree on what is relevant. `k` (here or as `invoke(query, k=…)`) caps the documents.
    """

    bot: Any
    filters: Any = None
    k: int = Field(MAX_PASSAGES, ge=1)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        found = self.bot.search(query, [], self.filters)
        if not found.relevant:
            return []
        passages = passages_for(found.grounds, found.hits, k or self.k)
        return [passage_document(p, self.bot.catalog) for p in passages]


def passage_document(passage: Passage, catalog: Catalog) -> Document:
    meta = {"doc_id": passage.doc_id, "section": passage.section, "start": passage.start, "end": passage.end}
    return Document(page_content=passage.text(catalog), metadata=meta)


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
