"""From retrieved chunks to scored sentences, and the refusal decision made on them."""

from __future__ import annotations

import math
import re
import threading

from bot.chunking import heading_level, split_sentences
from bot.models import Evidence
from bot.query import QueryPlan, aimed_at_the_bot
from bot.retrieve import Hit
from bot.store import Catalog
from bot.text import normalise, normalise_numbers, parts, synonyms

_QUANTITY = re.compile(r"多少|几|数量|比例|率|how many|how much|number|rate|percent", re.I)
_SHORT = 40  # a sentence this short (an item title) is quoted with what follows it,
_EXTEND_TO = 100  # up to about this many characters
_EXTEND_MAX = 4  # and at most this many more sentences


class TermStats:
    """Chunk frequencies of question terms, so rare terms (信用+调解) weigh more than common ones (工作).

    One per catalog: the normalised chunk texts are computed once, and each term is counted once.
    """

    def __init__(self, catalog: Catalog) -> None:
        self._texts = [normalise_numbers(normalise(catalog.chunk_text(c))) for c in catalog.chunks.values()]
        self._cache: dict[str, int] = {}
        self._lock = threading.Lock()

    def weight(self, alternatives: list[str]) -> float:
        n = max(len(self._texts), 1)
        df = max(self._df(a) for a in alternatives)
        return math.log(1 + (n + 1) / (df + 0.5))

    def _df(self, term: str) -> int:
        if term not in self._cache:
            needle = normalise(term)
            count = sum(needle in t for t in self._texts)
            with self._lock:
                if len(self._cache) > 50_000:
                    self._cache.clear()
                self._cache[term] = count
        return self._cache[term]


def support(plan: QueryPlan, text: str, context: str, stats: TermStats) -> float:
    """Weighted share of key terms found in the passage (full credit) or its heading and neighbours (part)."""
    if not plan.terms:
        return 0.0
    body, around = normalise_numbers(normalise(text)), normalise(context)
    got = total = 0.0
    for alternatives in plan.terms:
        weight = stats.weight(alternatives)
        total += weight
        got += weight * _credit([normalise(a) for a in alternatives], body, around)
    if any(_is_number(alts[0]) and not any(normalise(a) in body for a in alts) for alts in plan.terms):
        got *= 0.5  # a number the question names must be in the passage itself
    if plan.weak_terms:
        total += 0.35 * len(plan.weak_terms) * total / len(plan.terms)
    share = got / total
    if plan.year_in_text and str(plan.year) not in body + around:
        share *= 0.4
    return share


def _is_number(term: str) -> bool:
    return bool(re.fullmatch(r"\d+(\.\d+)?%?", term))


def _number_next_to_term(plan: QueryPlan, sentence: str) -> bool:
    """“现有律师103人”: a figure right after a key term answers “how many” better than one far away."""
    body = normalise(sentence)
    for alts in plan.terms:
        for word in [*alts, *parts(alts[0])]:
            if re.search(re.escape(normalise(word)) + r".{0,2}?\d", body):
                return True
    return False


def _credit(alts: list[str], body: str, around: str) -> float:
    """1 for a term in the passage, part credit for its words or for the heading/neighbours holding it."""
    if any(a in body for a in alts):
        return 1.0
    pieces = parts(alts[0])
    found = sum(_any_synonym(p, body) for p in pieces)
    if pieces and found == len(pieces):
        return 0.8
    if any(a in around for a in alts):
        return 0.5
    return 0.4 * found / len(pieces) if pieces else 0.0


def _any_synonym(word: str, text: str) -> bool:
    return any(w in text for w in synonyms().get(word, [word]))


def score_sentences(plan: QueryPlan, hits: list[Hit], catalog: Catalog, stats: TermStats) -> list[Evidence]:
    """Every sentence of the retrieved chunks as candidate evidence, best first."""
    if not hits:
        return []
    top = hits[0].score
    wants_number = bool(_QUANTITY.search(plan.question))
    out: list[Evidence] = []
    for hit in hits:
        text = catalog.docs[hit.chunk.doc_id].text
        spans = split_sentences(text, hit.chunk.start, hit.chunk.end)
        for i, span in enumerate(spans):
            sentence = text[span.start : span.end]
            neighbours = " ".join(text[s.start : s.end] for s in spans[max(0, i - 1) : i + 2] if s != span)
            value = support(plan, sentence, f"{hit.chunk.section} {neighbours}", stats)
            if aimed_at_the_bot(sentence):
                value = 0.0  # a report's orders to the bot are data: shown in the viewer, never quoted as answers
            bonus = 0.15 * hit.score / top
            if wants_number and re.search(r"\d", sentence):
                bonus += 0.1 + (0.1 if _number_next_to_term(plan, sentence) else 0.0)
            out.append(Evidence(hit.chunk.doc_id, hit.chunk.section, span.start, span.end, value, value + bonus))
    return sorted(out, key=lambda e: -e.rank)


def extend_short(ev: Evidence, catalog: Catalog) -> Evidence:
    """“二是推行“信用+调解”工作机制。” names a measure but not what it did: quote what follows too."""
    text = catalog.docs[ev.doc_id].text
    sentence = text[ev.start : ev.end]
    heading = heading_level(sentence, ev.start == 0 or text[ev.start - 1] == "\n") is not None
    if not heading and (len(sentence) >= _SHORT or re.search(r"\d", sentence)):
        return ev
    end = ev.end
    for span in split_sentences(text, ev.end, min(len(text), ev.end + 600))[:_EXTEND_MAX]:
        if "\n\n" in text[end : span.start] or end - ev.start >= _EXTEND_TO:
            break
        end = span.end
    return Evidence(ev.doc_id, ev.section, ev.start, end, ev.support, ev.rank)


def pick(evidence: list[Evidence], plan: QueryPlan, threshold: float, limit: int = 3) -> list[Evidence]:
    """The passages to quote: the best one, plus near-equals that do not overlap it."""
    good = [e for e in evidence if e.support >= threshold]
    if not good:
        return []
    best = good[0]
    chosen = [best]
    for ev in good[1:]:
        if len(chosen) >= limit or ev.support < best.support - 0.1 or ev.rank < best.rank - 0.08:
            break
        if not any(_overlaps(ev, c) for c in chosen) and (plan.doc_ids is None or ev.doc_id in plan.doc_ids):
            chosen.append(ev)
    return chosen


def _overlaps(a: Evidence, b: Evidence) -> bool:
    return a.doc_id == b.doc_id and a.start < b.end + 1 and b.start < a.end + 1


def best_per_doc(evidence: list[Evidence], threshold: float) -> list[Evidence]:
    """For list questions: each report's best passage, when it clears the bar."""
    seen: dict[str, Evidence] = {}
    for ev in evidence:
        if ev.support >= threshold and ev.doc_id not in seen:
            seen[ev.doc_id] = ev
    return sorted(seen.values(), key=lambda e: -e.support)
