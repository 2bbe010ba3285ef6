"""The period a question asks about, against the periods the reports cover: a year (2023年, in 2023), the
first half a half-year report covers, and the whole year or second half it does not.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.corpus import DocMeta
from bot.models import Refusal

if TYPE_CHECKING:
    from bot.query import QueryPlan

YEAR = re.compile(r"(20\d\d)\s*(?:年|\b)")
HALF = re.compile(r"上半年|first half|H1\b", re.I)
# A period a first-half report cannot answer for: the whole year, or its second half.
BEYOND_HALF = re.compile(
    r"全年|整年|下半年|\b(?:(?:the )?(?:whole|full|entire) (?:of )?(?:the )?(?:year|20\d\d)|second half|H2)\b", re.I
)

_WHOLE_YEAR = re.compile(r"全年|整年|\b(?:whole|full|entire)\b", re.I)


def without_period(text: str) -> str:
    """The text with its periods blanked (the whole of 2024 before 2024, so the phrase goes whole)."""
    return YEAR.sub(" ", HALF.sub(" ", BEYOND_HALF.sub(" ", text)))


def apply_period(plan: QueryPlan, metas: dict[str, DocMeta]) -> None:
    match = YEAR.search(plan.question)
    if not match:
        return
    plan.year = int(match.group(1))
    years = {int(y) for y in YEAR.findall(plan.question)}  # “浈江区2024年和临海市2020年”: each its own year
    scope = plan.doc_ids or list(metas)
    same_year = [d for d in scope if metas[d].year in years]
    if same_year:
        plan.doc_ids = _narrow_half(plan.question, same_year, metas, named=plan.doc_ids is not None)
        return
    mentions = [d for d in scope if metas[d].year and abs(metas[d].year - plan.year) <= 1]
    if mentions:
        plan.doc_ids, plan.year_in_text = mentions, True
    else:
        plan.refusal = Refusal("period", str(plan.year))


def _narrow_half(question: str, doc_ids: list[str], metas: dict[str, DocMeta], named: bool) -> list[str]:
    """“上半年” picks half-year reports; when the question names places, each place's half-year report over its
    full-year one, and a place with only one keeps it (“缙云县2023年全年和环翠区2023年上半年”)."""
    if not HALF.search(question):
        return doc_ids
    places: dict[str, list[str]] = {}
    for d in doc_ids:
        places.setdefault((metas[d].county or d) if named else "", []).append(d)
    return [d for group in places.values() for d in [x for x in group if _is_half(metas[x])] or group]


def beyond_half(plan: QueryPlan, metas: dict[str, DocMeta], asks_number: bool) -> None:
    """“环翠区2023年全年”, “in the second half of 2023”: a first-half report does not answer for the rest of
    its year. The places named keep their full-year reports; a place with only a half-year report is refused."""
    if plan.refusal or plan.doc_ids is None or HALF.search(plan.question) or not BEYOND_HALF.search(plan.question):
        return
    if not asks_number and not _WHOLE_YEAR.search(plan.question):
        return  # what it plans for the second half (下半年工作计划) a first-half report does say; not its figures
    full = [d for d in plan.doc_ids if not _is_half(metas[d])]
    if not full:
        plan.refusal = Refusal("half", str(metas[plan.doc_ids[0]].year or ""))
    elif len(full) < len(plan.doc_ids):
        plan.doc_ids = full


def _is_half(meta: DocMeta) -> bool:
    return "half" in meta.period or "上半年" in meta.period
