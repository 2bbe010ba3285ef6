"""The default answerer: quotes the sentences that answer, each tied to a numbered citation."""

from __future__ import annotations

import re

from bot.corpus import DocMeta
from bot.evidence import Decision
from bot.figures import Figure
from bot.models import Citation, Evidence, Refusal
from bot.query import QueryPlan
from bot.store import Catalog
from bot.text import CJK, glossed

EXTRACTIVE = "extractive"


def period_label(meta: DocMeta, lang: str) -> str:
    if "half" in meta.period:
        return f"{meta.year}年上半年" if lang == "zh" else f"first half of {meta.year}"
    if not meta.period:
        return ""
    return f"{meta.period}年" if lang == "zh" else meta.period


def region_label(meta: DocMeta, lang: str) -> str:
    return meta.label_zh if lang == "zh" else meta.label_en


class Citations:
    """Numbers passages in the order they are quoted; `text` is always the document slice."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.items: list[Citation] = []

    def add(self, ev: Evidence) -> int:
        doc = self.catalog.docs[ev.doc_id]
        for item in self.items:
            if (item.doc_id, item.start, item.end) == (ev.doc_id, ev.start, ev.end):
                return item.n
        n = len(self.items) + 1
        self.items.append(
            Citation(
                n=n,
                doc_id=ev.doc_id,
                title=doc.meta.title,
                region=doc.meta.region or doc.meta.county,
                section=ev.section,
                start=ev.start,
                end=ev.end,
                text=doc.text[ev.start : ev.end],
            )
        )
        return n


def compose(plan: QueryPlan, decision: Decision, catalog: Catalog) -> tuple[str, list[Citation], bool]:
    """Answer text, its citations, and whether it is a refusal."""
    cites = Citations(catalog)
    if decision.refusal:
        return _refusal(plan, decision, cites), cites.items, True
    if decision.figures:
        return _computed_text(plan, decision.figures, cites), cites.items, False
    listed = plan.kind in ("list", "count")
    lines = _list_lines(plan, decision.evidence, cites) if listed else _single_lines(plan, decision.evidence, cites)
    # “not found”, not “not given”: the figure may be there in words the measure match missed
    zh = plan.lang == "zh"
    no_figure = "在{}的报告中没有找到对应的数字。" if zh else "No matching figure found in the {} report."
    lines += [no_figure.format(region_label(catalog.docs[d].meta, plan.lang)) for d in decision.unanswered]
    return "\n".join(lines), cites.items, False


def _slice(cites: Citations, ev: Evidence) -> str:
    return cites.catalog.docs[ev.doc_id].text[ev.start : ev.end]


def _quote(text: str, lang: str) -> str:
    return text if lang == "zh" else f"「{text}」"


def _single_lines(plan: QueryPlan, evidence: list[Evidence], cites: Citations) -> list[str]:
    docs = list(dict.fromkeys(e.doc_id for e in evidence))
    lines = []
    for doc_id in docs:
        meta = cites.catalog.docs[doc_id].meta
        quotes = "".join(
            f"{_quote(cites.catalog.docs[doc_id].text[e.start : e.end], plan.lang)}[{cites.add(e)}]"
            for e in evidence
            if e.doc_id == doc_id
        )
        lines.append(_frame(meta, plan.lang) + quotes)
    return lines


def _frame(meta: DocMeta, lang: str) -> str:
    period = period_label(meta, lang)
    if lang == "zh":
        return f"据{region_label(meta, lang)}{period}报告："
    return f"According to the {region_label(meta, lang)} report ({period}): "


def _list_lines(plan: QueryPlan, evidence: list[Evidence], cites: Citations) -> list[str]:
    n = len(evidence)
    head = (
        f"共有{n}份报告提到相关内容：" if plan.lang == "zh" else f"{n} report{'s cover' if n > 1 else ' covers'} this:"
    )
    lines = [head]
    for ev in evidence:
        meta = cites.catalog.docs[ev.doc_id].meta
        label = f"{region_label(meta, plan.lang)}，{period_label(meta, plan.lang)}"
        if plan.lang == "en":
            label = f"{region_label(meta, plan.lang)}, {period_label(meta, plan.lang)}"
        text = cites.catalog.docs[ev.doc_id].text[ev.start : ev.end]
        sep = "：" if plan.lang == "zh" else ": "
        lines.append(f"- {label}{sep}{_quote(text, plan.lang)}[{cites.add(ev)}]")
    return lines


_LESS = re.compile(r"更少|最少|最低|最小|少于|低于|\b(?:fewer|fewest|less|least|lower|lowest|smaller|smallest)\b", re.I)


def _computed_text(plan: QueryPlan, figures: list[tuple[Figure, Evidence]], cites: Citations) -> str:
    """“甲区更多：120件[1]；乙县95件[2]。”, “合计215件：…”: the result first, every figure cited."""
    zh = plan.lang == "zh"
    ordered = sorted(figures, key=lambda f: f[0].value, reverse=not _LESS.search(plan.question))
    one_report = len({f.doc_id for f, _ in figures}) == 1
    parts = [f"{_part_label(cites, fig, plan.lang, one_report)} {fig.shown}[{cites.add(ev)}]" for fig, ev in ordered]
    joined = "；".join(parts) if zh else "; ".join(parts)
    if plan.kind == "sum":
        total = _number(sum(f.value for f, _ in figures))
        unit = ordered[0][0].unit
        return (
            f"合计{total}{unit}：" + " + ".join(parts) + "。" if zh else f"In total {total}: " + " + ".join(parts) + "."
        )
    if plan.kind == "each":
        return ("各报告的数字：" if zh else "By report: ") + joined + ("。" if zh else ".")
    first = _label(cites, ordered[0][0].doc_id, plan.lang)
    less = bool(_LESS.search(plan.question))
    if plan.kind == "rank" or len(ordered) > 2:
        word = ("最少" if less else "最多") if zh else ("the fewest" if less else "the most")
    else:
        word = ("更少" if less else "更多") if zh else ("fewer" if less else "more")
    return f"{first}{word}：{joined}。" if zh else f"{first} has {word}: {joined}."


def _part_label(cites: Citations, fig: Figure, lang: str, one_report: bool) -> str:
    """A report's figures are told apart by what they count; several reports' by region."""
    return fig.measure.strip() or fig.noun if one_report else _label(cites, fig.doc_id, lang)


def _label(cites: Citations, doc_id: str, lang: str) -> str:
    return region_label(cites.catalog.docs[doc_id].meta, lang)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


_HEADS_ZH = {
    "place": "现有报告中没有关于{detail}的报告。",
    "filters": "所选地区和年份没有对应的报告。",
    "instruction": "我只回答关于这些报告内容的问题。",
    "period": "现有报告没有涉及{detail}年的内容。",
    "half": "这份报告只涉及{detail}年上半年，没有全年或下半年的数字（只有下半年的计划）。",
    "premise": "报告提到了相关内容，但没有提到“{detail}”。",
    "negated": "报告说“{detail}”，与问题的前提不符。",
    "absent": "报告中没有提到“{detail}”。",
    "no_figure": "报告提到了相关内容，但没有给出这个数字。",
    "no_reason": "报告提到了相关内容，但没有说明原因。",
    "unsure": "报告中没有找到能回答这个问题的内容。",
}
_HEADS_EN = {
    "place": "The reports do not cover {detail}.",
    "filters": "No report matches the selected region and year.",
    "instruction": "I only answer questions about what the reports say.",
    "period": "The reports do not cover {detail}.",
    "half": "The report covers only the first half of {detail}: no figures for the whole year or its second half.",
    "premise": "The reports mention this, but do not say it was “{detail}”.",
    "negated": "The report says the opposite of what the question assumes: “{detail}”.",
    "absent": "The reports do not mention “{detail}”.",
    "no_figure": "The reports mention this but do not give that figure.",
    "no_reason": "The reports mention this but do not say why.",
    "unsure": "The reports do not say.",
}


# Said of the one report a question names, so that “钟楼区呢？” after an answer quoting 环翠 does not read as
# “no report mentions it”.
_OF_ONE_ZH = {
    "absent": "{place}的报告中没有提到“{detail}”。",
    "unsure": "{place}的报告中没有找到能回答这个问题的内容。",
}
_OF_ONE_EN = {"absent": "The {place} report does not mention “{detail}”.", "unsure": "The {place} report does not say."}


def refusal_head(refusal: Refusal, lang: str, place: str | None = None) -> str:
    heads = _HEADS_ZH if lang == "zh" else _HEADS_EN
    of_one = _OF_ONE_ZH if lang == "zh" else _OF_ONE_EN
    if place and refusal.kind in of_one:
        return of_one[refusal.kind].format(place=place, detail=refusal.detail)
    return heads[refusal.kind].format(detail=refusal.detail)


def _in_users_words(plan: QueryPlan, refusal: Refusal) -> Refusal:
    """The missing word as the user wrote it (GDP, not gdp); in an English question, with the reports' term it
    was read as, so that “budget (预算)” says what was looked for in words the user typed."""
    if refusal.kind != "absent":
        return refusal
    word, term = refusal.detail, ""
    if plan.lang == "en" and CJK.search(refusal.detail):
        read_as = glossed(plan.question) | {t: w for w, ts in zip(plan.unmapped, plan.mapped, strict=False) for t in ts}
        term, word = next(((t, w) for t, w in read_as.items() if refusal.detail in t or t in refusal.detail), ("", ""))
    said = re.search(re.escape(word), plan.question, re.I) if word else None
    if not said:
        return refusal
    return Refusal("absent", f"{said.group(0)} ({term})" if term else said.group(0))


def _refusal(plan: QueryPlan, decision: Decision, cites: Citations) -> str:
    """The reason, then what the reports do say: the passage a premise was checked in, or the closest ones."""
    zh = plan.lang == "zh"
    assert decision.refusal is not None
    one = plan.doc_ids[0] if plan.doc_ids and len(plan.doc_ids) == 1 else None
    place = region_label(cites.catalog.docs[one].meta, plan.lang) if one in cites.catalog.docs else None
    head = refusal_head(_in_users_words(plan, decision.refusal), plan.lang, place)
    if decision.evidence:  # a premise the passage does not bear out: show the passage
        quoted = "".join(f"{_quote(_slice(cites, e), plan.lang)}[{cites.add(e)}]" for e in decision.evidence)
        return f"{head}\n\n" + ("报告中的相关内容：" if zh else "What the report says: ") + quoted
    related = decision.related
    if not related:
        return head
    lines = [head, "", "可能相关的段落：" if zh else "Possibly related passages:"]
    for ev in related:
        meta = cites.catalog.docs[ev.doc_id].meta
        text = cites.catalog.docs[ev.doc_id].text[ev.start : ev.end]
        lines.append(f"- {region_label(meta, plan.lang)}：{text}[{cites.add(ev)}]")
    return "\n".join(lines)
