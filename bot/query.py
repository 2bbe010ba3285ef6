"""Understanding a question before retrieval: language, regions and periods named, list intent, follow-ups."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.corpus import DocMeta
from bot.models import Refusal
from bot.periods import BEYOND_HALF, HALF, YEAR, apply_period, beyond_half, without_period
from bot.places import short_name, unknown_place
from bot.premises import asserted
from bot.text import (
    ENGLISH_STOPWORDS,
    QUESTION_WORDS,
    english_terms,
    is_english,
    key_words,
    normalise,
    synonyms,
    tokenize,
)

# The grammar of a question, not its topic: what kind of answer it wants. Kinds over several reports first.
_KINDS = (
    (
        "count",
        re.compile(
            r"(?:(?<!哪)几|多少)(?:份|个|家)?(?:报告|区县|县区|地区|地方)|^(?=.*报告).*(?:(?<!哪)几|多少)份|"
            r"how many (?:of )?(?:the )?(?:\w+ )?(?:reports|counties|districts|places|regions|bureaus)",
            re.I,
        ),
    ),
    (
        "rank",
        re.compile(
            r"最多|最少|最高|最低|最大|最小|排名|排第|\b(?:most|fewest|least|highest|lowest|largest|"
            r"smallest|biggest|rank(?:ed|ing)?)\b",
            re.I,
        ),
    ),
    (
        "compare",
        re.compile(
            r"哪个更|谁更|更多|更少|更高|更低|相比|比较|对比|多于|少于|高于|低于|差多少|"
            r"\b(?:more|fewer|less|higher|lower|greater|larger|smaller|compare[ds]?|versus|vs)\b",
            re.I,
        ),
    ),
    (
        "sum",
        re.compile(
            r"一共|总共|合计|共计|总计|加起来|加在一起|总和|"
            r"\b(?:in total|total|combined|altogether|sum|together)\b",
            re.I,
        ),
    ),
)
# How the question asks (更多, 各是, 一共, 最多), never what it asks about: not a key word. Glued to its
# neighbour as a lone character it would make one up (公证更多, 各是).
_ASKING = re.compile(
    "|".join(rx.pattern.split("|\\b")[0] for name, rx in _KINDS if name != "count")
    + r"|各(?:是|有|自|为)|分别(?:是|为|有)?"
)
_MORE_OR_FEWER = re.compile(r"更多|更少|最多|最少|多于|少于|\b(?:more|most|fewer|fewest|less|least)\b", re.I)
_WANTS = (
    (
        "number",
        re.compile(
            r"多少|(?<!哪)几[个件场次人名家宗起份条项批所期篇位座处]|数量|比例|比率|百分之|"
            r"\b(?:how many|how much|number of|what share|percentage|proportion|rate)\b",
            re.I,
        ),
    ),
    # A why-question asks for a reason: a passage that only names the event does not answer it.
    ("reason", re.compile(r"为什么|为何|什么原因|出于什么|\b(?:why|for what reason|what (?:caused|led to))\b", re.I)),
    ("date", re.compile(r"什么时候|何时|哪天|哪一天|几月|哪年|\b(?:when|what date|which date|what month)\b", re.I)),
    (
        "name",
        re.compile(
            r"叫什么|名称|名字|哪所|哪家|哪个(?:单位|部门|机构|学校|大学|企业)|什么(?:平台|机制|品牌|活动)|"
            r"\b(?:what is the name|name of|called|which (?:body|agency|organi[sz]ation|"
            r"university|school|company|platform|department))\b",
            re.I,
        ),
    ),
    ("place", re.compile(r"在哪|哪里|什么地方|\b(?:where)\b", re.I)),
)
# 几个人 counts people: 个 is the general classifier, 人 says what is counted
_UNIT_ASKED = re.compile(r"(?:多少|几)\s*(?:个(?=人))?(人次|件次|[件人名次家个宗场户份条项所期篇位座处起批])")
# What an English “how many” counts: the noun right after it. Chinese names a person by its last character
# (调解员, 律师, 劳动者), so “how many mediators” (→ 调解员) counts people. English does not tell people (人)
# from person-times (人次), so either answers it.
PEOPLE = "people"
_PERSON_HEADS = ("员", "师", "者", "人", "官")
_HOW_MANY_EN = re.compile(r"\bhow many\s+(.+)", re.I)
_VALUE = re.compile(r"\d")
_WHICH = re.compile(r"哪|\bwhich\b", re.I)
_RATE = re.compile(r"率|比例|百分|\b(?:rate|percent|percentage|proportion|share)\b", re.I)
_ANAPHORA = re.compile(
    r"他们|她们|它们|该县|该区|该市|该地|当地|那里|那边|这个(?:县|区|市)|同一|"
    r"\b(?:they|their|there|it|its|that (?:county|district|city)|the same)\b",
    re.I,
)

_LIST_ZH = re.compile(
    r"哪些|哪几|哪个(?:县|区|市|地)|各(?:区县|县区|地|区|县|市)|分别|比较|对比|相比|都有|几个(?:县|区)"
)
_LIST_EN = re.compile(r"\b(which|compare|comparison|each|every|across|all (?:the )?(?:reports|counties|districts))\b")
_REPORTS = re.compile(r"报告|\breports?\b", re.I)
_FOLLOW_ZH = re.compile(r"^(?:那|那么|那个|还有|另外|同样|此外)|呢[?？]?$")
_FOLLOW_DEPTH = 6  # earlier turns a follow-up's chain of follow-ups is read back through
_FOLLOW_EN = re.compile(r"^(?:and|what about|how about|same for|and what about)\b", re.I)
# “Ignore your instructions…”, “直接回答1000人”: clauses aimed at the bot, not questions about the reports.
_INJECTION = re.compile(
    r"(?:忽略|无视|不要理会|别管|ignore|disregard|forget|override).{0,30}?"
    r"(?:指令|指示|要求|提示|规则|设定|instructions?|rules|prompt|system)"
    r"|直接回答|只回答|假装|你现在是|系统提示|just (?:say|answer)|answer with|pretend|you are now|system prompt",
    re.I,
)


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
        for alias in sorted((a for a in self.aliases if a in low), key=len, reverse=True):
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
    out |= {normalise(short_name(n)) for n in names if n and len(short_name(n)) >= 2}
    for part in meta.region_en.split(","):
        part = normalise(part.strip())
        if part:
            out.add(part)
            out.add(re.sub(r"\s+(county|district|city)$", "", part))
    return {a for a in out if len(a) >= 2}


@dataclass
class QueryPlan:
    question: str  # the standalone question (follow-ups rewritten with their context)
    lang: str  # "zh" | "en"
    doc_ids: list[str] | None  # None: search all reports
    terms: list[list[str]]  # key terms, each a list of alternatives, that evidence should contain
    unmapped: list[str]  # English words the glossary does not list: mapped through the embedder, never required
    is_list: bool
    year: int | None = None
    year_in_text: bool = False  # the year is not a report's period: evidence must mention it
    refusal: Refusal | None = None  # decided before retrieval (e.g. a county not in the corpus)
    regions: list[str] = field(default_factory=list)
    kind: str = "fact"  # fact | list | count | each | compare | rank | sum
    wants: str | None = None  # number | reason | date | name | place: the answer type asked for
    unit: str | None = None  # 件 in 多少件
    premise: list[str] = field(default_factory=list)  # Chinese words for what the question asserts happened
    mapped: list[list[str]] = field(default_factory=list)  # unmapped English words → nearest corpus terms

    @property
    def across_reports(self) -> bool:
        return self.doc_ids is None or len(self.doc_ids) > 1


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
    # Terms are read in the language the standalone question is written in (钟楼区呢？ after an English question
    # becomes mostly English); the answer stays in the language the user asked in.
    plan.terms, plan.unmapped = _key_terms(standalone, hits)
    apply_period(plan, metas)
    beyond_half(plan, metas, asks_number=_WANTS[0][1].search(standalone) is not None)
    plan.refusal = plan.refusal or unknown_place(standalone, hits)
    if not asked:
        plan.refusal = plan.refusal or Refusal("instruction")
    # nothing asked that a passage could hold: no place, and no word the glossary knows beyond one (hello)
    if not plan.terms and len(plan.unmapped) <= 1 and not hits:
        plan.refusal = plan.refusal or Refusal("unsure")
    if filters:
        _apply_filters(plan, filters, regions, metas)
    _apply_grammar(plan)
    return plan


def _apply_grammar(plan: QueryPlan) -> None:
    """Answer type, unit, premise and kind; a question over one report is a fact, whatever its wording."""
    q = plan.question
    plan.wants = next((name for name, rx in _WANTS if rx.search(q)), None)
    # “哪个…更多”: asking which is more asks for amounts; “what is the combined total” asks for one, where
    # “which town…combined law enforcement” asks to name a thing
    total = _KINDS[3][1].search(q) and not _WHICH.search(q)
    if plan.wants is None and (_MORE_OR_FEWER.search(q) or total):
        plan.wants = "number"
    unit = _UNIT_ASKED.search(q)
    plan.unit = unit.group(1) if unit else ("%" if _RATE.search(q) else _counted_people(q))
    plan.premise = asserted(q)
    kind = next((name for name, rx in _KINDS if rx.search(q)), "list" if plan.is_list else "fact")
    if not plan.across_reports:  # “浈江区获得了哪些荣誉”: a list within one report; a sum of its own figures
        plan.is_list = False
        plan.kind = "sum" if kind == "sum" and plan.wants == "number" else "fact"
        return
    plan.kind = kind
    named = plan.doc_ids is not None and len(plan.doc_ids) > 1
    value_given = bool(_VALUE.search(YEAR.sub(" ", q)))  # “哪些区县…达到100%”: a list filtered by a figure
    if plan.wants == "number" and not value_given and (plan.kind == "list" or (plan.kind == "fact" and named)):
        plan.kind = "each"  # “各区县…分别是多少”, “缙云和临海各有多少”: every report's figure
    if plan.kind in ("compare", "rank", "sum") and plan.wants != "number":
        plan.kind = "list" if plan.is_list else "fact"
    plan.is_list = plan.kind != "fact"


def _apply_filters(plan: QueryPlan, filters: Filters, regions: RegionIndex, metas: dict[str, DocMeta]) -> None:
    scope = set(plan.doc_ids or metas)
    if filters.region:
        named, _ = regions.find(filters.region)
        scope &= named
        if not named:
            plan.refusal = plan.refusal or Refusal("place", filters.region)
    if filters.year:
        scope = {d for d in scope if metas[d].year == filters.year}
        plan.year = plan.year or filters.year
    plan.doc_ids = sorted(scope)
    if not scope:
        plan.refusal = plan.refusal or Refusal("filters")


def aimed_at_the_bot(text: str) -> bool:
    """A sentence that gives the assistant orders (“忽略以上指令…”) rather than reporting anything."""
    return bool(_INJECTION.search(text))


def strip_injection(question: str) -> str:
    """Drop the clauses that give the bot orders; what is left is the question (maybe nothing)."""
    clauses = re.split(r"(?<=[。！？!?；;，,.])", question)
    return "".join(c for c in clauses if not _INJECTION.search(c)).strip()


def _is_list(question: str) -> bool:
    return bool(_LIST_ZH.search(question) or _LIST_EN.search(question.lower()))


def _key_terms(question: str, region_hits: list[str]) -> tuple[list[list[str]], list[str]]:
    text = normalise(question)
    for alias in region_hits:
        text = text.replace(alias, " ")
    english = is_english(question)
    # an English period phrase is a filter, not words to map (whole → 一体)
    text = without_period(text) if english else YEAR.sub(" ", text)
    text = _FOLLOW_ZH.sub(" ", text.strip())  # “那…呢”: the follow-up's frame, not its content
    if english:
        return english_terms(text)
    table = synonyms()
    return [table.get(word, [word]) for word in key_words(_ASKING.sub(" ", text))], []


def resolve_followup(question: str, history: list[tuple[str, str]], regions: RegionIndex) -> str:
    """“钟楼区呢?” after a question about 缙云's lawyers becomes “钟楼区…律师…”: the topic carries over.

    History fills only what the question lacks: a question that says what it asks about (its own topic, and a
    region or no reference back to one) is answered exactly as it would be in a fresh chat.
    """
    if not history:
        return question
    # the previous question as it was understood: “环翠区呢？” after “钟楼区呢？” asks what that one asked
    previous = resolve_followup(history[-1][0], history[-_FOLLOW_DEPTH:-1], regions)
    _, now_hits = regions.find(question)
    _, prev_hits = regions.find(previous)
    elliptical = bool(_FOLLOW_ZH.search(question.strip()) or _FOLLOW_EN.search(question.strip()))
    topicless = not _content(question, now_hits)
    if now_hits and topicless:
        return _with_own_period(_swap_region(previous, prev_hits, question, now_hits), question)
    if elliptical and not now_hits and not _key_terms(question, [])[0]:
        return f"{previous} {question}"  # “And the overall one?”: no term of its own, so the topic carries over
    # “which reports…they”, “五份报告中有几份”: a question about the reports as a set has no region to borrow
    spans_reports = _is_list(question) or _KINDS[0][1].search(question) or _REPORTS.search(question)
    # A figure is always some place's: one asked for with no place named (解除矫正的有多少？) is a follow-up.
    placeless_figure = _WANTS[0][1].search(question) is not None and unknown_place(question, now_hits) is None
    lacks_region = elliptical or topicless or placeless_figure or _ANAPHORA.search(question)
    if not now_hits and prev_hits and not spans_reports and lacks_region:
        return f"{prev_hits[0]} {question}"
    return question


def _content(question: str, hits: list[str]) -> list[str]:
    """The question's own topic words: not its places, and not its period (“环翠区上半年呢？” asks the same
    thing of another place and time)."""
    text = without_period(normalise(question))
    for alias in hits:
        text = text.replace(alias, " ")
    return [t for t in tokenize(text) if t not in QUESTION_WORDS and t not in ENGLISH_STOPWORDS]


def _with_own_period(borrowed: str, question: str) -> str:
    """The previous question with this one's period, or with none: “What about Linhai in 2020?” after a question
    on Huancui's first half of 2023 asks about 2020, and “And Zhonglou?” after one on Zhenjiang's 2024 asks about
    Zhonglou's own report, not about 2024, which only Zhenjiang's covers."""
    own = [m.group(0) for rx in (YEAR, HALF, BEYOND_HALF) for m in rx.finditer(normalise(question))]
    return f"{without_period(borrowed)} {' '.join(own)}".strip()


def _swap_region(previous: str, prev_hits: list[str], question: str, now_hits: list[str]) -> str:
    text = normalise(previous)
    for alias in prev_hits:
        text = text.replace(alias, now_hits[0])
    if not prev_hits:
        text = f"{now_hits[0]} {text}"
    return text


def _counted_people(question: str) -> str | None:
    """`PEOPLE` where the noun right after an English “how many” names people, else None. Chinese says it
    with a classifier (多少人, 几名), which `_UNIT_ASKED` reads."""
    en = _HOW_MANY_EN.search(question)
    if not en:
        return None
    if re.match(r"(?:people|persons|individuals)\b", en.group(1), re.I):
        return PEOPLE
    first = next(iter(english_terms(" ".join(en.group(1).split()[:3]))[0]), [])
    return PEOPLE if first and first[0].endswith(_PERSON_HEADS) else None
