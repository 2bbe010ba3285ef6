"""Understanding a question before retrieval: language, regions and periods named, list intent, follow-ups."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.corpus import DocMeta
from bot.text import QUESTION_WORDS, english_terms, is_english, key_words, normalise, segment, synonyms, tokenize

_LIST_ZH = re.compile(
    r"哪些|哪几|哪个(?:县|区|市|地)|各(?:区县|县区|地|区|县|市)|分别|比较|对比|相比|都有|几个(?:县|区)"
)
_LIST_EN = re.compile(r"\b(which|compare|comparison|each|every|across|all (?:the )?(?:reports|counties|districts))\b")
_FOLLOW_ZH = re.compile(r"^(?:那|那么|那个|还有|另外|同样|此外)|呢[?？]?$")
_FOLLOW_EN = re.compile(r"^(?:and|what about|how about|same for|and what about)\b", re.I)
_YEAR = re.compile(r"(20\d\d)\s*(?:年|\b)")
_HALF = re.compile(r"上半年|first half|H1\b", re.I)
# A word like “西湖区” in a question that names no report of ours: a place the corpus does not cover.
_PLACE_ZH = re.compile(r"^[\u4e00-\u9fff]{2,5}(?:县|区|市)$")
_NOT_PLACE = re.compile(r"^(?:全|各|本|该|我|城|市|区|县|辖|两|每|哪|其|他|多|省|地|镇|社|党|政|新|老|这|那|此|上|下)")
# “Ignore your instructions…”, “直接回答1000人”: clauses aimed at the bot, not questions about the reports.
_INJECTION = re.compile(
    r"(?:忽略|无视|不要理会|别管|ignore|disregard|forget|override).{0,30}?"
    r"(?:指令|指示|要求|提示|规则|设定|instructions?|rules|prompt|system)"
    r"|直接回答|只回答|假装|你现在是|系统提示|just (?:say|answer)|answer with|pretend|you are now|system prompt",
    re.I,
)
_GENERIC_PLACES = frozenset(
    {"市辖区", "城区", "郊区", "开发区", "园区", "社区", "小区", "景区", "街区", "山区", "片区"}
)
_PLACE_EN = re.compile(r"\b([A-Z][a-z]+)\s+(County|District|City)\b")


@dataclass
class RegionIndex:
    """Aliases (Chinese full and short names, English names, cities, provinces) → document ids."""

    aliases: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, metas: list[DocMeta]) -> RegionIndex:
        index = cls()
        for meta in metas:
            for alias in _aliases(meta):
                index.aliases.setdefault(alias, set()).add(meta.doc_id)
        return index

    def find(self, text: str) -> tuple[set[str], list[str]]:
        """Document ids of every region named in text, and the aliases that matched (longest first)."""
        low = normalise(text)
        hits: list[str] = []
        for alias in sorted(self.aliases, key=len, reverse=True):
            pattern = rf"\b{re.escape(alias)}\b" if alias.isascii() else re.escape(alias)
            if re.search(pattern, low) and not any(alias in h for h in hits):
                hits.append(alias)
        docs: set[str] = set()
        for alias in hits:
            docs |= self.aliases[alias]
        return docs, hits


def _aliases(meta: DocMeta) -> set[str]:
    names = {meta.county, meta.city, meta.province}
    out = {normalise(n) for n in names if n}
    out |= {normalise(_short(n)) for n in names if n and len(_short(n)) >= 2}
    for part in meta.region_en.split(","):
        part = normalise(part.strip())
        if part:
            out.add(part)
            out.add(re.sub(r"\s+(county|district|city)$", "", part))
    return {a for a in out if len(a) >= 2}


def _short(name: str) -> str:
    return re.sub(r"(省|市|县|区)$", "", name)


@dataclass
class QueryPlan:
    question: str  # the standalone question (follow-ups rewritten with their context)
    lang: str  # "zh" | "en"
    doc_ids: list[str] | None  # None: search all reports
    terms: list[list[str]]  # key terms, each a list of alternatives, that evidence should contain
    weak_terms: list[str]  # English words we could not map to Chinese; they count against support
    is_list: bool
    year: int | None = None
    year_in_text: bool = False  # the year is not a report's period: evidence must mention it
    refusal: str | None = None  # decided before retrieval (e.g. a county not in the corpus)
    regions: list[str] = field(default_factory=list)


@dataclass
class Filters:
    """Explicit filters (a UI sidebar, `--region`, `--year`); they narrow what the question itself names."""

    region: str | None = None  # any name a report goes by: 环翠区, 环翠, Huancui, 威海, 浙江
    year: int | None = None


def plan_query(
    question: str,
    history: list[tuple[str, str]],
    regions: RegionIndex,
    metas: dict[str, DocMeta],
    filters: Filters | None = None,
) -> QueryPlan:
    """Everything retrieval and answering need to know about the question, decided once."""
    asked = strip_injection(question)
    standalone = resolve_followup(asked, history, regions) if asked else question
    lang = "en" if is_english(question) else "zh"
    doc_ids, hits = regions.find(standalone)
    plan = QueryPlan(standalone, lang, sorted(doc_ids) or None, [], [], _is_list(standalone), regions=hits)
    plan.terms, plan.weak_terms = _key_terms(standalone, lang, hits)
    _apply_period(plan, metas)
    if plan.doc_ids is not None and len(plan.doc_ids) == 1:
        plan.is_list = False  # “浈江区获得了哪些荣誉”: a list within one report, answered as one
    plan.refusal = plan.refusal or _unknown_place(standalone, hits) or (None if asked else "instruction")
    if filters:
        _apply_filters(plan, filters, regions, metas)
    return plan


def _apply_filters(plan: QueryPlan, filters: Filters, regions: RegionIndex, metas: dict[str, DocMeta]) -> None:
    scope = set(plan.doc_ids or metas)
    if filters.region:
        named, _ = regions.find(filters.region)
        scope &= named
        if not named:
            plan.refusal = plan.refusal or f"place:{filters.region}"
    if filters.year:
        scope = {d for d in scope if metas[d].year == filters.year}
        plan.year = plan.year or filters.year
    plan.doc_ids = sorted(scope)
    if not scope:
        plan.refusal = plan.refusal or "filters"
    elif len(scope) == 1:
        plan.is_list = False


def aimed_at_the_bot(text: str) -> bool:
    """A sentence that gives the assistant orders (“忽略以上指令…”) rather than reporting anything."""
    return bool(_INJECTION.search(text))


def strip_injection(question: str) -> str:
    """Drop the clauses that give the bot orders; what is left is the question (maybe nothing)."""
    clauses = re.split(r"(?<=[。！？!?；;，,.])", question)
    return "".join(c for c in clauses if not _INJECTION.search(c)).strip()


def _is_list(question: str) -> bool:
    return bool(_LIST_ZH.search(question) or _LIST_EN.search(question.lower()))


def _key_terms(question: str, lang: str, region_hits: list[str]) -> tuple[list[list[str]], list[str]]:
    text = normalise(question)
    for alias in region_hits:
        text = text.replace(alias, " ")
    text = _YEAR.sub(" ", text)
    if lang == "en":
        return english_terms(text)
    table = synonyms()
    return [table.get(word, [word]) for word in key_words(text)], []


def _apply_period(plan: QueryPlan, metas: dict[str, DocMeta]) -> None:
    match = _YEAR.search(plan.question)
    if not match:
        return
    plan.year = int(match.group(1))
    scope = plan.doc_ids or list(metas)
    same_year = [d for d in scope if metas[d].year == plan.year]
    if same_year:
        plan.doc_ids = _narrow_half(plan.question, same_year, metas)
        return
    mentions = [d for d in scope if metas[d].year and abs(metas[d].year - plan.year) <= 1]
    if mentions:
        plan.doc_ids, plan.year_in_text = mentions, True
    else:
        plan.refusal = "period"


def _narrow_half(question: str, doc_ids: list[str], metas: dict[str, DocMeta]) -> list[str]:
    if _HALF.search(question):
        half = [d for d in doc_ids if "half" in metas[d].period or "上半年" in metas[d].period]
        return half or doc_ids
    return doc_ids


def _unknown_place(question: str, hits: list[str]) -> str | None:
    if hits:
        return None
    for word in segment(question):
        if _PLACE_ZH.match(word) and not _NOT_PLACE.match(word) and word not in _GENERIC_PLACES:
            return f"place:{word}"
    match = _PLACE_EN.search(question)
    return f"place:{match.group(0)}" if match else None


def resolve_followup(question: str, history: list[tuple[str, str]], regions: RegionIndex) -> str:
    """“钟楼区呢?” after a question about 缙云's lawyers becomes “钟楼区…律师…”: the topic carries over."""
    if not history:
        return question
    previous = history[-1][0]
    _, now_hits = regions.find(question)
    _, prev_hits = regions.find(previous)
    elliptical = bool(_FOLLOW_ZH.search(question.strip()) or _FOLLOW_EN.search(question.strip()))
    if now_hits and (elliptical or len(_content(question, now_hits)) <= 1):
        return _swap_region(previous, prev_hits, question, now_hits)
    if not now_hits and prev_hits:
        return f"{prev_hits[0]} {question}"
    return question


def _content(question: str, hits: list[str]) -> list[str]:
    text = normalise(question)
    for alias in hits:
        text = text.replace(alias, " ")
    return [t for t in tokenize(text) if t not in QUESTION_WORDS]


def _swap_region(previous: str, prev_hits: list[str], question: str, now_hits: list[str]) -> str:
    text = normalise(previous)
    for alias in prev_hits:
        text = text.replace(alias, now_hits[0])
    if not prev_hits:
        text = f"{now_hits[0]} {text}"
    return text
