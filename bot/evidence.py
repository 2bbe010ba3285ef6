"""The one place that decides what answers a question, and whether to refuse: a fitted model over sentences.

Every sentence of the retrieved chunks is a candidate. `features.featurise` measures it; a logistic model
(weights fitted by `eval/fit_evidence.py` on the tuning questions, stored in `resources/evidence_model.json`)
turns that into the probability that the sentence answers the question. The decision then follows the
question's kind: quote the best sentences, name every report that has one, or compute with figures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from bot.chunking import Span, split_sentences
from bot.evidence_model import EvidenceModel
from bot.features import FEATURES, QuestionView, TermStats, featurise
from bot.figure_choice import (
    NO_KEY,
    FigureKey,
    echo,
    is_whole,
    like_units,
    one_unit,
    term_ends,
    unit_fits,
    unit_kind,
)
from bot.figures import Figure, measure_match
from bot.listing import best_quoting, natural_break, quoted_names
from bot.measures import names_a_measure
from bot.models import Evidence, Refusal
from bot.premises import negated, premise_missing
from bot.query import QueryPlan, aimed_at_the_bot
from bot.quotes import extend_short, joined, overlaps
from bot.retrieve import Hit
from bot.store import Catalog
from bot.text import is_word, normalise

# A figure whose measure word a question term only modifies (公证书 for 公证) ranks below any it names, above none.
MODIFIED = 0.5
FiguresOf = Callable[[str, int, int], list[Figure]]  # a report's figures in text[start:end]
_MEASURE = FEATURES.index("measure")
_TYPE = FEATURES.index("type_match")
_COVER = FEATURES.index("coverage_context")
_SENT_COVER = FEATURES.index("coverage")
_UNKNOWN = FEATURES.index("unknown")


@dataclass
class Candidate:
    evidence: Evidence
    features: np.ndarray
    figures: list[Figure]
    around: str  # the sentence with its heading and neighbours, normalised
    matches: list[float]  # how well each figure's measure names the question's terms
    by_figure: bool = False  # its chunk was found by the figure search (`with_figure_chunks`)


@dataclass
class Bars:
    """The thresholds the decision uses (settings fields; None there means the fitted value)."""

    answer: float
    listed: float
    quote_margin: float
    core_cover: float
    list_gap: float


@dataclass
class Decision:
    evidence: list[Evidence]  # what to quote; empty with a refusal
    related: list[Evidence]  # the closest passages, shown with a refusal
    refusal: Refusal | None = None
    figures: list[tuple[Figure, Evidence]] = field(default_factory=list)  # computed answers, one per report
    confidence: float = 0.0  # the best sentence's probability
    unanswered: list[str] = field(default_factory=list)  # reports a compare names that give no figure for it


SentenceSimilarity = Callable[[str, int], float]


def candidates(
    plan: QueryPlan,
    hits: list[Hit],
    catalog: Catalog,
    stats: TermStats,
    figures_of: FiguresOf,
    similarity: SentenceSimilarity,
    alignment: Callable[[str], float] = lambda sentence: 0.0,
) -> list[Candidate]:
    """Every sentence of the retrieved chunks, measured (probabilities are filled in by `score`)."""
    view = QuestionView.build(plan, hits, stats)
    raw = list(_sentences(plan, hits, catalog))
    by_chunk: dict[str, list[Figure]] = {}

    def figures_in(hit: Hit) -> list[Figure]:
        chunk = hit.chunk
        if chunk.chunk_id not in by_chunk:
            by_chunk[chunk.chunk_id] = figures_of(chunk.doc_id, chunk.start, chunk.end)
        return by_chunk[chunk.chunk_id]

    sims = [similarity(hit.chunk.doc_id, span.start) for hit, span, *_ in raw]
    best = max(sims, default=0.0)
    out: list[Candidate] = []
    for (hit, span, sentence, context), sim in zip(raw, sims, strict=True):
        mine = [f for f in figures_in(hit) if span.start <= f.start < span.end]
        ev = Evidence(hit.chunk.doc_id, hit.chunk.section, span.start, span.end, 0.0, hit.chunk.chunk_id)
        x = featurise(view, sentence, context, hit, mine, (sim, best), alignment(sentence))
        matches = [measure_match(f, view.measured, MODIFIED) for f in mine]
        out.append(Candidate(ev, x, mine, normalise(f"{sentence} {context}"), matches, hit.by_figure))
    return out


def _sentences(plan: QueryPlan, hits: list[Hit], catalog: Catalog) -> Iterator[tuple[Hit, Span, str, str]]:
    """(hit, sentence span, sentence, its heading and neighbours) for every sentence that may answer."""
    for hit in hits:
        text = catalog.docs[hit.chunk.doc_id].text
        spans = split_sentences(text, hit.chunk.start, hit.chunk.end)
        for i, span in enumerate(spans):
            sentence = text[span.start : span.end]
            if aimed_at_the_bot(sentence):
                continue  # a report's orders to the bot are data: shown in the viewer, never quoted as answers
            near = " ".join(text[s.start : s.end] for s in spans[max(0, i - 1) : i + 2] if s != span)
            context = f"{hit.chunk.section} {near}"
            if plan.year_in_text and str(plan.year) not in sentence + context:
                continue  # asked about 2022 in a 2023 report: only a passage that names 2022 can answer
            yield hit, span, sentence, context


def score(found: list[Candidate], model: EvidenceModel) -> list[Candidate]:
    """Probabilities filled in, best first."""
    if found:
        probs = model.probability(np.stack([c.features for c in found]))
        for c, p in zip(found, probs, strict=True):
            c.evidence.support = float(p)
    return sorted(found, key=lambda c: -c.evidence.support)


@dataclass
class _Ask:
    """What the decision needs besides the candidates."""

    plan: QueryPlan
    catalog: Catalog
    bars: Bars
    rarest: str  # the question's rarest content word, named when the reports lack it
    core: str  # the rarest word when the corpus names it only a few times (a programme's name), else ""
    unused: str  # the first question word the reports never use (预算), else ""
    # a term → the dictionary's other senses of the English it translates (certificates: 证书 → 证明)
    senses: Callable[[str], list[str]] = field(default=lambda term: [])
    core_words: tuple[str, ...] = field(init=False)  # the core in each of the question's words for it
    _first: str = field(init=False)  # the core as the question's term names it first (the glossary's word)

    def __post_init__(self) -> None:
        alts = next((alts for alts in self.plan.terms if normalise(alts[0]) == self.core), [self.core])
        self._first = alts[0]
        self.core_words = tuple(dict.fromkeys(normalise(a) for a in alts)) if self.core else ()

    @cached_property
    def sense_words(self) -> tuple[str, ...]:
        """Heard only where the core's own words are not found: the dictionary is opened on first use."""
        return tuple(normalise(s) for s in self.senses(self._first)) if self.core else ()


def decide(
    plan: QueryPlan,
    ranked: list[Candidate],
    catalog: Catalog,
    bars: Bars,
    rarest: tuple[str, str, str],
    senses: Callable[[str], list[str]] = lambda term: [],
) -> Decision:
    """Answer or refuse, by the question's kind; every refusal is decided here, with its reason."""
    related = [c.evidence for c in ranked if c.evidence.end - c.evidence.start >= 20][:2]
    best = ranked[0].evidence.support if ranked else 0.0
    if plan.refusal:
        return Decision([], related, plan.refusal, confidence=best)
    ask = _Ask(plan, catalog, bars, *rarest, senses)
    if plan.kind in ("compare", "rank", "sum", "each"):
        decision = _computed(ask, ranked)
    elif plan.kind in ("list", "count"):
        decision = _listed(ask, ranked)
    else:
        decision = _single(ask, ranked)
    decision.related, decision.confidence = related, best
    return decision


def _absent(ask: _Ask, ranked: list[Candidate]) -> Refusal | None:
    """The question's core is nowhere in scope, or an English question's words mostly are not: said by name."""
    if _core_missing(ask, ranked):
        return Refusal("absent", ask.rarest)
    return Refusal("absent", ask.unused) if _mostly_unused(ask, ranked) else None


def _single(ask: _Ask, ranked: list[Candidate]) -> Decision:
    plan, catalog, bars = ask.plan, ask.catalog, ask.bars
    good = [c for c in ranked if c.evidence.support >= bars.answer]
    absent = _absent(ask, ranked)
    if absent:
        return Decision([], [], absent)
    if plan.wants == "date":  # names are rarely marked (浙江工商大学): only dates are told by their form
        good = [c for c in good if c.features[_TYPE] > 0] or good
    if plan.wants == "number" and good:
        counted = [c for c in good if _counts_what_was_asked(ask, c, ranked[0])]
        if not counted:
            return _no_figure(ask, good)
        good = counted
    if not good:
        return Decision([], [], _unsure(ask, ranked))
    premise = _denied(ask, good[0])
    if premise:
        return Decision([extend_short(good[0].evidence, catalog)], [], premise)
    if plan.wants == "reason":  # the passage on what was asked shows what the reports say, and that no reason
        reasons = [c for c in good if c.features[_TYPE] > 0]
        if not reasons:
            return Decision([extend_short(good[0].evidence, catalog)], [], Refusal("no_reason"))
        good = reasons
    chosen = [good[0]]
    for c in good[1:]:
        if len(chosen) >= 3 or c.evidence.support < good[0].evidence.support - bars.quote_margin:
            break
        if not any(overlaps(c.evidence, o.evidence, touching=False) for o in chosen):
            chosen.append(c)
    if plan.wants == "number":  # “现有律师103人” before “4家律师事务所”: the figure right after what was asked
        chosen.sort(key=lambda c: not _figure_follows_term(plan, c))
    return Decision(joined([extend_short(c.evidence, catalog) for c in chosen]), [])


def _no_figure(ask: _Ask, good: list[Candidate]) -> Decision:
    """No figure counts what was asked; a passage that says there was none of it (无败诉案件) answers how many."""
    for c in good:
        none = negated(ask.plan, _sentence(ask, c))
        if none:
            return Decision([extend_short(c.evidence, ask.catalog)], [], none)
    return Decision([], [], Refusal("no_figure", ask.rarest))


def _denied(ask: _Ask, c: Candidate) -> Refusal | None:
    """The best passage does not bear out what the question assumes: it never says so, or says the opposite."""
    return premise_missing(ask.plan, c.around) or negated(ask.plan, _sentence(ask, c))


def _sentence(ask: _Ask, c: Candidate) -> str:
    ev = c.evidence
    return ask.catalog.docs[ev.doc_id].text[ev.start : ev.end]


def _mostly_unused(ask: _Ask, ranked: list[Candidate]) -> bool:
    """An English question's Chinese terms are translations (the glossary's; mapped words are corpus terms by
    construction): when most of its weight is in terms the reports never use (annual budget → 预算), they do
    not cover it. Not for Chinese questions, whose everyday words (村里, 回头) the reports rarely use."""
    return ask.plan.lang == "en" and bool(ranked) and ranked[0].features[_UNKNOWN] >= ask.bars.core_cover


def _counts_what_was_asked(ask: _Ask, c: Candidate, top: Candidate) -> bool:
    """A figure whose measure names the question's terms, or any figure beside the one thing the question
    names. An English question's words reach a measure only through mapped terms, which miss (inspections →
    检测, not 执法): there the model's best sentence, if it holds a figure, counts, unless the question has
    words the reports never use (traffic accidents)."""
    if ask.plan.unit and not any(unit_fits(ask.plan.unit, f.unit) for f in c.figures):
        return False  # “多少人” is not answered by 5个
    if c.features[_MEASURE] > 0 or (_says_core(ask, c) and _unnamed(c)):
        return True
    return ask.plan.lang == "en" and c is top and bool(c.figures) and not c.features[_UNKNOWN]


def _unnamed(c: Candidate) -> bool:
    """A figure whose measure names nothing counts what its sentence is about (“…清单,共214项”); one whose
    measure names something else counts that (在编人员中,公职律师有4名 does not count 在编人员)."""
    return any(not names_a_measure(f) for f in c.figures)


def _core_missing(ask: _Ask, ranked: list[Candidate]) -> bool:
    """“信用+调解” is nowhere in scope, and what is in scope holds too little of the rest of the question for
    the missing word to be a passing one (回头 in “回头复查”, beside a passage on 复议…案件)."""
    return bool(ask.core) and all(_lacks_core(ask, c) for c in ranked)


def _lacks_core(ask: _Ask, c: Candidate) -> bool:
    """The sentence neither says the core nor holds enough of the rest of the question to do without it."""
    return bool(ask.core) and not _says_core(ask, c) and c.features[_COVER] < ask.bars.core_cover


def _says_core(ask: _Ask, c: Candidate) -> bool:
    """The sentence (with its neighbours) says the core word, in any of the question's words for it."""
    return any(w in c.around for w in ask.core_words) or any(w in c.around for w in ask.sense_words)


def _figure_follows_term(plan: QueryPlan, c: Candidate) -> bool:
    return any(term_ends(plan, f) for f in c.figures)


def _listed(ask: _Ask, ranked: list[Candidate]) -> Decision:
    """Every report whose best sentence passes the list bar or stands with the top one, and no other."""
    best: dict[str, Candidate] = {}
    for c in ranked:
        if c.evidence.doc_id not in best and not premise_missing(ask.plan, c.around):
            best[c.evidence.doc_id] = c
    absent = _absent(ask, ranked)
    if absent:
        return Decision([], [], absent)
    quoted = quoted_names(ask.plan)
    if quoted:  # “哪些报告提到了“述法”？”: the words as quoted, in whatever report says them
        named = [c for c in best_quoting(ranked, quoted).values() if not premise_missing(ask.plan, c.around)]
    else:
        cut = natural_break([c.evidence.support for c in best.values()], ask.bars.answer, ask.bars.list_gap)
        named = [c for c in best.values() if c.evidence.support >= min(ask.bars.listed, cut)]
        named += _covering_as_well(ask, ranked, named)
    if not named:  # no report passes the list bar: the best passages still answer if they pass the answer bar
        return _single(ask, ranked)
    return Decision([extend_short(c.evidence, ask.catalog) for c in named], [])


def _covering_as_well(ask: _Ask, ranked: list[Candidate], named: list[Candidate]) -> list[Candidate]:
    """Reports not yet named whose sentence holds the question's terms as fully as a named report's does: they
    say the same thing, though the embedder likes their sentence less (“12348热线接待咨询3584人次”, in a long
    sentence, beside “12348热线受理申请2宗”)."""
    if not named:
        return []
    bar = min(c.features[_SENT_COVER] for c in named)
    done = {c.evidence.doc_id for c in named}
    more: dict[str, Candidate] = {}
    for c in ranked:
        doc, passes = c.evidence.doc_id, c.evidence.support >= ask.bars.answer
        if doc in done or doc in more or not passes or not c.features[_SENT_COVER] >= bar > 0:
            continue
        if not premise_missing(ask.plan, c.around):
            more[doc] = c
    return list(more.values())


def _computed(ask: _Ask, ranked: list[Candidate]) -> Decision:
    """Compare, rank, sum or list figures: each report's best-matching figure, or the parts of one report's."""
    plan = ask.plan
    if not plan.across_reports:
        return _summed_parts(ask, ranked)
    if not ranked or ranked[0].evidence.support < ask.bars.answer:
        return Decision([], [], Refusal("no_figure", ask.rarest))
    best: dict[tuple[str, str], tuple[FigureKey, Figure, Evidence]] = {}
    for c in ranked:
        # below the bar, a sentence counts only for a report the question names, or found by its figure:
        # its measure then says enough (“浈江2024年…各多少” needs Zhenjiang's figure though its sentence ranks low)
        named = plan.doc_ids is not None and c.evidence.doc_id in plan.doc_ids
        if c.evidence.support < ask.bars.answer and not (c.by_figure or named):
            continue
        for fig, match in zip(c.figures, c.matches, strict=True):
            key = (match, term_ends(plan, fig), fig.value, c.evidence.support, echo(plan, fig))
            at = (unit_kind(fig.unit), fig.doc_id)
            if unit_fits(plan.unit, fig.unit) and match > 0 and key > best.get(at, (NO_KEY,))[0]:
                best[at] = (key, fig, c.evidence)
    picked = like_units(best)
    if not picked:
        return Decision([], [], Refusal("no_figure", ask.rarest))
    if len(picked) < 2:  # one report has the figure: say it as a fact, and in which named ones none was found
        decision = _single(ask, ranked)
        if not decision.refusal:
            quoted = {ev.doc_id for ev in decision.evidence}
            decision.unanswered = [d for d in plan.doc_ids or [] if d not in quoted]
        return decision
    return Decision([ev for _, ev in picked], [], figures=picked)


def _summed_parts(ask: _Ask, ranked: list[Candidate]) -> Decision:
    """“A加上B一共多少”: the figures of the best sentence that name what was asked, less a total they split.
    Only sentences about as good as the best: a lone figure there (18个律所党支部) answers “一共多少”."""
    if not ranked:
        return _single(ask, ranked)
    top = ranked[0]
    premise = _denied(ask, top) if top.evidence.support >= ask.bars.answer else None
    if premise:
        return Decision([extend_short(top.evidence, ask.catalog)], [], premise)
    floor = max(ask.bars.answer, top.evidence.support - ask.bars.quote_margin)
    for c in ranked:
        if c.evidence.support < floor:
            break
        if _lacks_core(ask, c):  # parts of something else: 援助案件 do not add up to 公证
            continue
        parts = [f for f, m in zip(c.figures, c.matches, strict=True) if m > 0 and unit_fits(ask.plan.unit, f.unit)]
        parts = one_unit(parts)
        if len(parts) == 2 and (any(is_whole(f, ask.catalog) for f in parts) or "其中" in parts[1].measure):
            break  # “调处纠纷7068件,协议金额…,其中…69件”: a whole and its own part are not two things to add
        parts = [f for f in parts if not is_whole(f, ask.catalog)] if len(parts) > 2 else parts
        if len(parts) >= 2:
            return Decision([c.evidence], [], figures=[(f, c.evidence) for f in parts])
    return _single(ask, ranked)


def _unsure(ask: _Ask, ranked: list[Candidate]) -> Refusal:
    """Name the missing word only when it is a real word no retrieved passage has (GDP, 预算)."""
    word = normalise(ask.rarest)
    absent = is_word(word) and not any(word in c.around for c in ranked)
    return Refusal("absent", ask.rarest) if absent else Refusal("unsure")
