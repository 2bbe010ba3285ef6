"""The library entry point: `Bot(settings).answer(question, history)` and a module-level `answer()`."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bot.backends import Backend, Found, Request, make_backend, with_notices
from bot.config import Settings, get_settings
from bot.crosslingual import TermMap
from bot.deadline import Deadline
from bot.derived import generation_folder
from bot.embeddings import Embedder, EmbeddingCache, make_embedder
from bot.evidence import (
    Bars,
    Candidate,
    candidates,
    decide,
    score,
)
from bot.evidence_model import EvidenceModel, default_model
from bot.features import TermStats, key_words, measured_terms, with_abbreviations
from bot.figure_choice import with_figure_chunks
from bot.figures import SAVED_NAME, Figure, FigureTable
from bot.index import ingest_done, is_stale, legacy_origins, open_catalog, open_store, open_writer, watch
from bot.ingest import Ingestor, IngestReport, Progress, kept_folder
from bot.lexicon import Lexicon
from bot.locks import IngestLock, Marker
from bot.models import Answer
from bot.passages import MAX_PASSAGES
from bot.places import unnamed_place
from bot.query import Filters, QueryPlan, RegionIndex, plan_query
from bot.retrieve import Hit, HybridRetriever
from bot.sentence_vectors import SentenceVectors
from bot.shared import SharedCatalog, pull
from bot.store import Catalog
from bot.text import add_words, clean_question, glossed, in_other_latin, tokenize
from bot.uploads import UploadError, discard_upload, store_upload

if TYPE_CHECKING:
    from bot.chain import ReportRetriever

log = logging.getLogger(__name__)
History = list[tuple[str, str]] | list[list[str]] | None


class Bot:
    """Holds the index in memory; builds it on first use when it is missing."""

    def __init__(self, settings: Settings | None = None, progress: Progress = log.info) -> None:
        self.settings = settings or get_settings()
        self.progress = progress
        self._backends: dict[str, Backend] = {}
        self._ingest_lock = threading.Lock()
        self._words: dict[str, np.ndarray] = {}
        self._lexicon: tuple[TermMap, Lexicon] | None = None
        self.embedder = make_embedder(self.settings.embedder, self.settings.data_dir / "models", warm=True)
        self.word_embedder = self._word_embedder()
        self.store = open_store(self.settings, self.embedder, progress)
        self.store.warm()
        self.shared = SharedCatalog(self.settings, self.embedder) if self.settings.chroma_server else None
        self._shared_generation = -1
        self.built: IngestReport | None = None  # what opening the bot had to index (first run, repair)
        self.catalog = open_catalog(self.settings, self.embedder, progress)
        self._start()
        watch(self)

    def _start(self) -> None:
        """Open what is committed; build, finish or wait for an ingest as the state on disk says."""
        data, say = self.settings.data_dir, self.progress
        if IngestLock(data).busy():
            if not self.catalog.docs:
                say("Another process is building the index; waiting for it…")
                self.built = self.ingest()
            else:
                say("Another process is ingesting; answering from the last committed index meanwhile.")
                self._reload()
            return
        if Marker(data).exists():
            paths, follow = Marker(data).paths()
            say("The last ingest was interrupted; finishing it…")
            self._reload()
            self.built = self.ingest(paths, follow_links=follow)
            return
        if self.shared is not None and self._pull():
            self._reload(open_catalog(self.settings, self.embedder, say))
            return
        legacy = legacy_origins(self.settings, self.embedder)
        kept = len(list(kept_folder(self.settings).glob("*.json")))
        if legacy or not self.catalog.docs or kept != len(self.catalog.docs) or self._vectors_missing():
            say("Building the index from the reports (first run, or the index is incomplete)…")
            self.built = self.ingest(legacy)
        else:
            self._reload()
            ingest_done(self.settings)  # complete as it is now (opening rewrote Chroma's files): trusted next time

    def _vectors_missing(self) -> bool:
        """Counting 45,000 vectors takes a third of a second: not done when the index is as we left it complete."""
        return not self.store.trusted and self.store.count() < len(self.catalog.chunks)

    def ingest(
        self, paths: list[Path] | None = None, progress: Progress | None = None, follow_links: bool = False
    ) -> IngestReport:
        """Take in `paths` and sync the index, one writer at a time (across processes too); questions
        asked meanwhile are answered from the last committed state."""
        say = progress or self.progress
        with self._ingest_lock:
            lock, marker = IngestLock(self.settings.data_dir), Marker(self.settings.data_dir)
            lock.acquire(say)
            try:
                marker.write(list(paths or []), follow_links)
                self.store = open_store(self.settings, self.embedder, say)  # sees other processes' writes
                writer = open_writer(self.settings, self.embedder, say)
                cache = EmbeddingCache(self.settings.data_dir / "embeddings.sqlite", self.embedder, say)
                try:
                    if self.shared is not None:
                        self._shared_generation = self.shared.generation()
                        pull(self.shared, writer, self.store)
                    ingestor = Ingestor(self.settings, self.store, writer, cache, say, follow_links, self.shared)
                    report = ingestor.sync(paths)
                    if self.shared is not None:
                        self._shared_generation = self.shared.generation()
                finally:
                    writer.close()
                    cache.close()
                marker.clear()
                ingest_done(self.settings)
            finally:
                lock.release()
            self._reload(open_catalog(self.settings, self.embedder, say))
        return report

    def _pull(self) -> bool:
        """Server mode: copy what the server holds into the local catalog cache; False when it holds nothing."""
        assert self.shared is not None
        generation = self.shared.generation()
        if generation == 0:
            return False
        lock = IngestLock(self.settings.data_dir)
        lock.acquire(self.progress)
        try:
            writer = open_writer(self.settings, self.embedder, self.progress)
            try:
                pull(self.shared, writer, self.store)
            finally:
                writer.close()
        finally:
            lock.release()
        self._shared_generation = generation
        return True

    def _stale(self) -> bool:
        if self.shared is not None:
            return self.shared.generation() != self._shared_generation
        return is_stale(self.settings, self.embedder, self.catalog.generation)

    def refresh(self) -> bool:
        """Reload when another process (or replica) has committed an ingest since this bot's catalog was read."""
        if self._ingest_lock.locked() or not self._stale():
            return False
        if self.shared is not None:
            self._pull()
        with self._ingest_lock:
            store = open_store(self.settings, self.embedder, self.progress)
            catalog = open_catalog(self.settings, self.embedder, self.progress)
            self.store = store
            self._reload(catalog)
        self.progress(f"The index changed in another process; reloaded (generation {catalog.generation}).")
        return True

    def add_upload(self, name: str, data: bytes, progress: Progress | None = None) -> IngestReport:
        """Store an uploaded report under a generated name and index it; a refused file is removed again."""
        path = store_upload(self.settings.data_dir / "uploads", name, data)
        report = self.ingest([path], progress)
        failed = dict(report.failed).get(path.name)
        if failed or not (report.added or report.updated):
            discard_upload(path)
            raise UploadError(f"{name}: {failed or 'nothing new to index'}".replace(path.name, name))
        return report

    def _reload(self, catalog: Catalog | None = None) -> None:
        catalog = catalog or self.catalog
        metas = [d.meta for d in catalog.docs.values()]
        add_words(sorted({w for m in metas for w in (m.county, m.city)}))
        regions = RegionIndex.build(metas)
        retriever = HybridRetriever(self.settings, catalog, self.store, self.embedder)
        cache, saved = self.settings.data_dir / "embeddings.sqlite", self._derived(catalog)
        stats = TermStats.open(lambda: [catalog.chunk_text(c) for c in catalog.chunks.values()], saved)
        figures = FigureTable(catalog.docs, saved / SAVED_NAME)
        tokens = lambda: [c.tokens for c in catalog.chunks.values()]  # noqa: E731  (read only when not saved)
        terms = TermMap.open(tokens, self.word_embedder, cache, self.settings.term_map_vocab, saved)
        sentences = SentenceVectors.open(catalog, self.embedder, cache, self.settings.sentence_vectors_max, saved)
        # All at once, once all are built: a question asked meanwhile sees the old state whole, never a new
        # catalog beside the old figures table (a report it names, unknown to the table)
        self.catalog, self.regions, self.retriever, self.stats = catalog, regions, retriever, stats
        self.figures, self.terms, self.sentences = figures, terms, sentences

    def _word_embedder(self) -> Embedder:
        """What maps English words to corpus terms; loaded at its first use, as most questions need none."""
        name = self.settings.term_embedder
        if not name or name == self.embedder.id:
            return self.embedder
        # One BLAS thread: it embeds a few words, and two left spinning after each call starve the main
        # embedder's threads on the next question (an e5 query took 29 ms right after a USE call, 10 alone).
        return make_embedder(name, self.settings.data_dir / "models", threads=1)

    def _derived(self, catalog: Catalog) -> Path:
        return generation_folder(self.settings.data_dir, self.embedder.id, catalog.fingerprint())

    def answer(
        self,
        question: str,
        history: History = None,
        backend: str | None = None,
        filters: Filters | None = None,
        on_token: Callable[[str], None] | None = None,
        deadline: Deadline | None = None,
    ) -> Answer:
        """Answer from the reports, citing passages; `filters` narrow the reports searched.

        With `on_token`, draft text is passed on as it is produced (LLM backends stream tokens); the draft is
        unverified, and the returned Answer is what may be shown as the answer.
        """
        for item in self.stream(question, history, backend, filters, deadline):
            if isinstance(item, Answer):
                return item
            if on_token is not None:
                on_token(item)
        raise RuntimeError("a backend ended without an answer")

    def stream(
        self,
        question: str,
        history: History = None,
        backend: str | None = None,
        filters: Filters | None = None,
        deadline: Deadline | None = None,
    ) -> Iterator[str | Answer]:
        """Draft text as it is written (str), then, last, the verified Answer that replaces the draft.

        LLM backends: the follow-up is rewritten first, then the evidence is searched once and handed to the
        model; all of it within `deadline` (default BOT_LLM_TIMEOUT from now). Extractive: one chunk.
        """
        started = time.perf_counter()
        deadline = deadline or Deadline(self.settings.llm_timeout)
        engine = self.backend(backend or self.settings.llm_backend)
        problem = self._check(question)
        if problem:
            yield Answer(answer=problem, refused=True, backend=engine.name)
            return
        pairs = [(clean_question(str(u)), str(a)) for u, a in (history or [])]
        turn = engine.standalone(Request(clean_question(question), pairs, filters), self, deadline)
        found = self.search(turn.question, turn.history, filters)
        for item in engine.respond(found, self, deadline):
            if isinstance(item, Answer):
                result = with_notices(item, turn.notice)
                result.latency_ms = round((time.perf_counter() - started) * 1000, 1)
                yield result
                return
            yield item

    def search(self, question: str, history: list[tuple[str, str]], filters: Filters | None = None) -> Found:
        """Plan, retrieve and decide: the evidence every backend answers from (a refusal says why not)."""
        plan = self.plan(question, history, filters)
        vector = self.embedder.embed_query(plan.question)
        hits = self.retrieve(plan, vector)
        ranked = score(self.candidates(plan, hits, vector), self.model)
        decision = decide(plan, ranked, self.catalog, self.bars, self._rarest(plan), partial(self._senses, plan))
        gate = self.settings.llm_gate if self.settings.llm_gate is not None else self.bars.answer / 2
        return Found(plan, hits, decision, relevant=decision.confidence >= gate)

    def plan(self, question: str, history: list[tuple[str, str]], filters: Filters | None = None) -> QueryPlan:
        """The question understood: regions, period, kind, answer type; English words mapped to corpus terms."""
        metas = {d: r.meta for d, r in self.catalog.docs.items()}
        plan = plan_query(question, history, self.regions, metas, filters)
        size, margin = self.settings.term_map_size, self.settings.term_map_margin
        if plan.unmapped and size:
            plan.mapped = [self._map_word(w, size, margin) for w in plan.unmapped]
        plan.terms = with_abbreviations(plan.terms, self.terms.vocabulary)
        # a place is the question's scope, not its topic, unless it asks across the reports (which mention 北京…)
        if plan.refusal is None and plan.doc_ids is None and not plan.is_list:
            plan.refusal = unnamed_place(plan.question, plan.regions, self.lexicon.place)
        return plan

    def _senses(self, plan: QueryPlan, term: str) -> list[str]:
        """The dictionary's other senses of the English that an English question's `term` translates."""
        english = glossed(plan.question).get(term) if plan.lang == "en" and self.settings.term_lexicon else None
        return self.lexicon.other_senses(term, english, self.settings.term_map_size) if english else []

    def _map_word(self, word: str, size: int, margin: float) -> list[str]:
        """The dictionary's corpus terms for an English word, else the word embedder's nearest."""
        found = self.lexicon.lookup(word, size) if self.settings.term_lexicon else []
        return found or [t for t, _ in self.terms.nearest(self._word_vector(word), size, margin)]

    @property
    def lexicon(self) -> Lexicon:
        """Opened at the first English word to map, for the corpus vocabulary of now."""
        lexicon = self._lexicon
        if lexicon is None or lexicon[0] is not self.terms:
            lexicon = self._lexicon = (self.terms, Lexicon.open(self.terms.terms, self._derived(self.catalog)))
        return lexicon[1]

    def retrieve(self, plan: QueryPlan, vector: np.ndarray) -> list[Hit]:
        """The ranked chunks, and for a figure question the chunks of each report's best-matching figures."""
        hits = self.retriever.retrieve(plan, vector=vector)
        return with_figure_chunks(plan, hits, self.catalog, self.figures, measured_terms(plan, self.stats))

    def candidates(self, plan: QueryPlan, hits: list[Hit], vector: np.ndarray) -> list[Candidate]:
        """Every sentence of the retrieved chunks with its features (the evidence model's input)."""

        def similarity(doc_id: str, start: int) -> float:
            return self.sentences.similarity(doc_id, start, vector)

        found = partial(candidates, plan, hits, self.catalog, self.stats, self.figures_of, similarity)
        if not plan.unmapped:
            return found()
        align = self.terms.aligner(np.stack([self._word_vector(w) for w in plan.unmapped]))
        return found(lambda sentence: align(tokenize(sentence)))

    def _word_vector(self, word: str) -> np.ndarray:
        """An English word's vector, kept: the plan maps it and every candidate sentence is aligned to it."""
        if word not in self._words:
            if len(self._words) > 10_000:
                self._words.clear()
            self._words[word] = self.word_embedder.embed_query(word)
        return self._words[word]

    def figures_of(self, doc_id: str, start: int, end: int) -> list[Figure]:
        return self.figures.within(doc_id, start, end)

    @property
    def model(self) -> EvidenceModel:
        return default_model()

    @property
    def bars(self) -> Bars:
        s = self.settings
        answer = s.answer_bar if s.answer_bar is not None else self.model.answer_bar
        listed = s.list_bar if s.list_bar is not None else self.model.list_bar
        return Bars(answer, listed, s.quote_margin, s.core_term_cover, s.list_gap)

    def _rarest(self, plan: QueryPlan) -> tuple[str, str, str]:
        docs = self.catalog.docs
        return key_words(plan, self.stats, lambda d: docs[d].text if d in docs else "", self.settings.core_term_max_df)

    def rewrite(self, question: str, history: list[tuple[str, str]]) -> str:
        """The rule-based standalone form of a follow-up (what retrieval uses when no model rewrote it)."""
        metas = {d: r.meta for d, r in self.catalog.docs.items()}
        return plan_query(question, history, self.regions, metas).question

    def chunk_text(self, chunk_id: str) -> str:
        chunk = self.catalog.chunks.get(chunk_id)
        return self.catalog.chunk_text(chunk) if chunk else ""

    def doc_label(self, doc_id: str) -> str:
        doc = self.catalog.docs.get(doc_id)
        return f"{doc.meta.title} {doc.meta.region} {doc.meta.region_en}" if doc else ""

    def regions_named(self, text: str) -> set[str]:
        """Ids of the reports whose region a text names (缙云, Zhonglou District, 威海…)."""
        return self.regions.find(text)[0]

    def backend(self, name: str) -> Backend:
        """Backends are built once per bot (an LLM client, loaded prompts) and reused."""
        if name not in self._backends:
            self._backends[name] = make_backend(name, self.settings)
        return self._backends[name]

    def as_retriever(self, filters: Filters | None = None, k: int = MAX_PASSAGES) -> ReportRetriever:
        """The hybrid retriever and relevance gate as a langchain retriever: up to `k` passages as Documents,
        evidence first; none when nothing relevant was found."""
        from bot.chain import ReportRetriever  # langchain loads only for callers that want a retriever

        return ReportRetriever(bot=self, filters=filters, k=k)

    def _check(self, question: str) -> str | None:
        if not re.search(r"\w", clean_question(question or "")):  # “？？？” asks nothing, after any turn
            return "请输入问题。Please enter a question."
        if len(question) > self.settings.max_question_chars:
            limit = self.settings.max_question_chars
            return f"问题太长（上限 {limit} 字）。The question is too long (limit {limit} characters)."
        if in_other_latin(question):
            return "请用中文或英文提问。Please ask in Chinese or English."
        return None


@lru_cache(maxsize=1)
def default_bot() -> Bot:
    return Bot()


def answer(
    question: str, history: History = None, backend: str | None = None, filters: Filters | None = None
) -> Answer:
    """Answer a question over the default index (built on first use)."""
    return default_bot().answer(question, history=history, backend=backend, filters=filters)
