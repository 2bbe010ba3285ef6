"""What the evidence model sees of one candidate sentence: a fixed vector of features, each in about [0, 1].

The features are measurements (how much of the question the sentence holds, how well retrieval ranked its
chunk, whether the kind of answer asked for is there); how much each counts is learned, in
`eval/fit_evidence.py`, from the tuning questions.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Container
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot import derived
from bot.figures import Figure, MeasureTerm, measure_match
from bot.query import QueryPlan
from bot.retrieve import Hit
from bot.text import CJK, is_word, names_a_thing, normalise, normalise_numbers, parts, words_in

FEATURES = (
    "coverage",  # IDF-weighted share of the question's terms in the sentence (terms the corpus has)
    "unknown",  # share of the question's term weight the corpus never uses (GDP, or a paraphrase)
    "coverage_context",  # ... in the sentence, its heading and its neighbours
    "parts",  # share of the words inside compound terms (调解 and 机制 of 调解机制)
    "mapped",  # share of embedder-mapped English words found (0 when none were mapped)
    "rarest",  # the question's rarest term is in the sentence
    "bigrams",  # share of the question's Chinese character pairs in the sentence
    "rrf",  # the chunk's fused retrieval score relative to the best chunk
    "dense",  # the chunk's cosine to the question minus the best chunk's (cross-lingual)
    "sentence",  # the sentence's cosine to the question minus the best candidate sentence's
    "sentence_level",  # the sentence's cosine to the question itself: how close anything is
    "wants_number_has",  # asks for a figure and the sentence has one
    "wants_number_lacks",  # asks for a figure and the sentence has none
    "measure",  # how well the best figure's measure phrase names the question's terms
    "type_match",  # asks for a name / date / place / reason and the sentence has that kind of thing
    "short",  # a heading or an item title: says what, not how much
    "english",
    "aligned",  # how well the sentence's own words stand for the unlisted English words (0 when none)
)
_DATE = re.compile(r"\d{1,2}月(?:\d{1,2}日)?|\d{4}年\d{1,2}月")
_NAME = re.compile(r"《[^》]{2,40}》|“[^”]{2,30}”|\"[^\"]{2,30}\"")
# A reason as reports give one: a purpose clause (为进一步规范…，), or a cause or aim said outright.
_REASON = re.compile(
    r"(?:^|[，,。；;：:\n])为了?[^，,。；;]{2,30}[，,]|为了|旨在|目的|以便|因为|由于|原因|鉴于|为此|导致|致使"
)
_PLACE = re.compile(r"[\u4e00-\u9fff]{2,8}(?:省|市|县|区|镇|乡|街道|村|社区|中心|大厅|基地|园区)")
_CJK_PAIR = re.compile(r"(?=([\u4e00-\u9fff]{2}))")


class TermStats:
    """Chunk frequencies of question terms, so rare terms (信用+调解) weigh more than common ones (工作)."""

    def __init__(self, texts: list[str], normalised: bool = False) -> None:
        self._texts = texts if normalised else [normalise_numbers(normalise(t)) for t in texts]
        self._cache: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def open(cls, texts: Callable[[], list[str]], folder: Path) -> TermStats:
        """The chunk texts, normalised once per catalog state and saved, so a start reads one file instead of
        slicing and normalising every chunk of every report."""
        saved = folder / "stats.txt"
        try:
            return cls(saved.read_text(encoding="utf-8").split("\0"), normalised=True)
        except OSError:
            pass
        made = cls(texts())
        with derived.written(saved) as part:
            part.write_text("\0".join(t.replace("\0", " ") for t in made._texts), encoding="utf-8")
        return made

    def weight(self, alternatives: list[str]) -> float:
        n = max(len(self._texts), 1)
        return math.log(1 + (n + 1) / (self.df(alternatives) + 0.5))

    def df(self, alternatives: list[str]) -> int:
        """Chunks holding any of the alternatives (the most frequent one's count)."""
        return max(self._df(a) for a in alternatives)

    def _df(self, term: str) -> int:
        if term not in self._cache:
            needle = normalise(term)
            count = sum(needle in t for t in self._texts)
            with self._lock:
                if len(self._cache) > 50_000:
                    self._cache.clear()
                self._cache[term] = count
        return self._cache[term]


@dataclass
class QuestionView:
    """The question, measured once, against which every candidate sentence is scored."""

    plan: QueryPlan
    terms: list[tuple[list[str], float]]  # (normalised alternatives, IDF weight) of terms the corpus uses
    unknown: float  # share of the question's term weight in terms the corpus never uses
    measured: list[MeasureTerm]  # terms and mapped English words, for matching figures' measures
    pieces: list[str]
    mapped: list[list[str]]
    rarest: list[str]
    pairs: set[str]
    best_rrf: float
    best_dense: float

    @classmethod
    def build(cls, plan: QueryPlan, hits: list[Hit], stats: TermStats) -> QuestionView:
        weighted = _weighted(plan, stats)
        terms = [(alts, w) for alts, w, df in weighted if df]
        total = sum(w for _, w, _ in weighted)
        unknown = sum(w for _, w, df in weighted if not df) / total if total else 0.0
        pieces = [p for alts, _ in terms for p in parts(alts[0])]
        best_rrf = max((h.score for h in hits), default=1.0) or 1.0
        best_dense = max((h.dense_sim for h in hits), default=0.0)
        mapped = _mapped(plan)
        measured = _measured(terms, mapped)
        # An English word the glossary lacks counts by the corpus terms the embedder maps it to, weighted as rare
        # as they are: “abnormal death” is what tells 非正常死亡案件71起 from the other mediation figures.
        terms += [(alts, stats.weight(alts)) for alts in mapped if stats.df(alts)]
        rarest = max(terms, key=lambda t: t[1])[0] if terms else []
        pairs = {m for alts, _ in terms for m in _CJK_PAIR.findall(alts[0])}
        return cls(plan, terms, unknown, measured, pieces, mapped, rarest, pairs, best_rrf, best_dense)


def measured_terms(plan: QueryPlan, stats: TermStats) -> list[MeasureTerm]:
    """What a figure's measure phrase is matched against: the question's weighted terms (as `QuestionView`)."""
    return _measured([(alts, w) for alts, w, df in _weighted(plan, stats) if df], _mapped(plan))


def _weighted(plan: QueryPlan, stats: TermStats) -> list[tuple[list[str], float, int]]:
    """(normalised alternatives, IDF weight, chunk frequency) of each of the question's terms."""
    return [
        ([normalise(a) for a in alts], stats.weight(alts), stats.df(alts)) for alts in split_unused(plan.terms, stats)
    ]


def _mapped(plan: QueryPlan) -> list[list[str]]:
    return [[normalise(a) for a in alts] for alts in plan.mapped]


def _measured(terms: list[tuple[list[str], float]], mapped: list[list[str]]) -> list[MeasureTerm]:
    # A figure's measure may name a compound's parts (调处…纠纷 for 调解纠纷) or a mapped English word.
    return [(alts, w, parts(alts[0])) for alts, w in terms] + [(alts, 1.0, ()) for alts in mapped]


def split_unused(terms: list[list[str]], stats: TermStats) -> list[list[str]]:
    """A question word the reports never use counts as its words when they use any: 调解纠纷 as 调解 and 纠纷,
    and 立案就 (a lone character glued on) as 立案. Its unused words stay, and count as unknown."""
    out: list[list[str]] = []
    for alts in terms:
        pieces = words_in(alts[0]) or parts(alts[0])
        if not stats.df(alts) and pieces and any(stats.df([p]) for p in pieces):
            out.extend([p] for p in pieces)
        else:
            out.append(alts)
    return out


def key_words(plan: QueryPlan, stats: TermStats, text_of: Callable[[str], str], max_df: int) -> tuple[str, str, str]:
    """The question's rarest word; its core, the rarest word that names a thing (拥有 or 在册 in one chunk is
    rare, but names nothing) when the corpus names it at most `max_df` times or no report the question names
    uses it at all (公证 asked of Zhonglou), else ""; and the first of its words the reports never use, else ""."""
    terms = split_unused(plan.terms, stats)
    unused = next((t[0] for t in terms if not stats.df(t)), "")
    known = [t for t in terms if stats.df(t)]
    if not known:
        return (plan.terms[0][0] if plan.terms else ""), "", unused
    rarest = max(known, key=stats.weight)
    thing = max((t for t in known if names_a_thing(normalise(t[0]))), key=stats.weight, default=None)
    if thing is None:
        return rarest[0], "", unused
    core = normalise(thing[0]) if stats.df(thing) <= max_df or _unused_in(plan.doc_ids, thing, text_of) else ""
    return (thing[0] if core else rarest[0]), core, unused


def _unused_in(doc_ids: list[str] | None, term: list[str], text_of: Callable[[str], str]) -> bool:
    """No report the question names uses the term at all."""
    if not doc_ids:
        return False
    texts = [normalise(text_of(d)) for d in doc_ids]
    return not any(normalise(a) in t for t in texts for a in term)


def featurise(
    q: QuestionView,
    sentence: str,
    context: str,
    hit: Hit,
    figures: list[Figure],
    sims: tuple[float, float],
    aligned: float = 0.0,
) -> np.ndarray:
    """The feature vector of one sentence, in the order of FEATURES; `sims` is (its cosine, the best one)."""
    body = normalise_numbers(normalise(sentence))
    around = body + " " + normalise(context)
    plan = q.plan
    wants_number = plan.wants == "number"
    return np.array(
        [
            _share(q.terms, body),
            q.unknown,
            _share(q.terms, around),
            _found(q.pieces, body),
            _found_groups(q.mapped, body),
            float(any(a in body for a in q.rarest)),
            _found(sorted(q.pairs), body),
            hit.score / q.best_rrf,
            hit.dense_sim - q.best_dense,
            sims[0] - sims[1],
            sims[0],
            float(wants_number and bool(figures)),
            float(wants_number and not figures),
            max((measure_match(f, q.measured) for f in figures), default=0.0) if wants_number else 0.0,
            _type_match(plan.wants, sentence),
            float(len(sentence) < 25),
            float(plan.lang == "en"),
            aligned,
        ],
        dtype=np.float64,
    )


def _share(terms: list[tuple[list[str], float]], text: str) -> float:
    total = sum(w for _, w in terms)
    return sum(w for alts, w in terms if any(a in text for a in alts)) / total if total else 0.0


def _found(words: list[str], text: str) -> float:
    return sum(w in text for w in words) / len(words) if words else 0.0


def _found_groups(groups: list[list[str]], text: str) -> float:
    return sum(any(a in text for a in g) for g in groups) / len(groups) if groups else 0.0


def _type_match(wants: str | None, sentence: str) -> float:
    pattern = {"date": _DATE, "name": _NAME, "place": _PLACE, "reason": _REASON}.get(wants or "")
    return float(bool(pattern and pattern.search(sentence)))


def with_abbreviations(terms: list[list[str]], vocabulary: Container[str]) -> list[list[str]]:
    """Chinese shortens a two-word term to one character of each word, the first of the first and the first or
    last of the second (解除矫正 → 解矫, 法律援助 → 法援, 律师事务所 → 律所); where the reports use that short form
    as a word (it is in their vocabulary, not just their characters: 及时解决 holds 时解) and it is no dictionary
    word of its own (公法 is), it is one more way to say the term. For two terms in a row (解除了矫正, 律师事务所
    cut as 律师/事务所) the short form joins both."""
    out = [list(alts) for alts in terms]
    # only real words shorten: not a fragment glued from lone characters (人能 in 每一万人能摊到)
    heads = [a[0] if 2 <= len(a[0]) <= 4 and CJK.match(a[0]) and is_word(a[0]) else "" for a in terms]
    for i, head in enumerate(heads):
        if len(head) == 4:
            _add_short(head[0] + head[2], [out[i]], vocabulary)
        nxt = heads[i + 1] if i + 1 < len(heads) else ""
        if len(head) in (2, 3) and len(nxt) in (2, 3):
            for short in dict.fromkeys((head[0] + nxt[0], head[0] + nxt[-1])):
                _add_short(short, [out[i], out[i + 1]], vocabulary)
    return out


def _add_short(short: str, groups: list[list[str]], vocabulary: Container[str]) -> None:
    if short in vocabulary and not is_word(short):
        for alts in groups:
            if short not in alts:
                alts.append(short)
