"""The default answerer: quotes the sentences that answer, each tied to a numbered citation."""

from __future__ import annotations

from bot.corpus import DocMeta
from bot.evidence import TermStats, best_per_doc, extend_short, pick, score_sentences
from bot.models import Citation, Evidence
from bot.query import QueryPlan
from bot.retrieve import Hit
from bot.store import Catalog

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


def decide(
    plan: QueryPlan, hits: list[Hit], catalog: Catalog, threshold: float, stats: TermStats
) -> tuple[list[Evidence], list[Evidence]]:
    """(evidence to answer from, closest passages); no evidence means refuse. Shared by every backend."""
    ranked = score_sentences(plan, hits, catalog, stats)
    related = [e for e in ranked if e.end - e.start >= 20][:2]  # a bare heading says nothing to the reader
    if plan.refusal:
        return [], related
    extended = [extend_short(e, catalog) for e in ranked if e.support >= threshold]
    chosen = best_per_doc(extended, threshold) if plan.is_list else pick(extended, plan, threshold)
    return chosen, related


def compose(
    plan: QueryPlan, evidence: list[Evidence], related: list[Evidence], catalog: Catalog
) -> tuple[str, list[Citation], bool]:
    """Answer text, its citations, and whether it is a refusal."""
    cites = Citations(catalog)
    if not evidence:
        return _refusal(plan, related, cites), cites.items, True
    lines = _list_lines(plan, evidence, cites) if plan.is_list else _single_lines(plan, evidence, cites)
    return "\n".join(lines), cites.items, False


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


def _refusal(plan: QueryPlan, related: list[Evidence], cites: Citations) -> str:
    zh = plan.lang == "zh"
    reason = plan.refusal or ""
    if reason.startswith("place:"):
        head = f"现有报告中没有关于{reason[6:]}的报告。" if zh else f"The reports do not cover {reason[6:]}."
    elif reason == "filters":
        head = "所选地区和年份没有对应的报告。" if zh else "No report matches the selected region and year."
    elif reason == "instruction":
        head = "我只回答关于这些报告内容的问题。" if zh else "I only answer questions about what the reports say."
    elif reason == "period":
        head = f"现有报告没有涉及{plan.year}年的内容。" if zh else f"The reports do not cover {plan.year}."
    else:
        head = "报告中没有找到能回答这个问题的内容。" if zh else "The reports do not say."
    if not related:
        return head
    lines = [head, "", "可能相关的段落：" if zh else "Possibly related passages:"]
    for ev in related:
        meta = cites.catalog.docs[ev.doc_id].meta
        text = cites.catalog.docs[ev.doc_id].text[ev.start : ev.end]
        lines.append(f"- {region_label(meta, plan.lang)}：{text}[{cites.add(ev)}]")
    return "\n".join(lines)
