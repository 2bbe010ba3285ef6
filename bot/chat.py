"""A conversation under explicit filters: which earlier turns a question may lean on, and how to say what applied."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.query import Filters

if TYPE_CHECKING:
    from bot.api import Bot

ALL = "全部 All"


def filters_from(region: str | None, year: str | int | None) -> Filters:
    """The filters a UI's choices mean; "全部 All" (or nothing) does not filter.

    Region choices read "缙云县 Jinyun County (…)": the first word is the name the filter goes by."""
    region_name = (region or "").split()[0] if region and region != ALL else None
    year_value = int(year) if year not in (None, "", ALL) else None
    return Filters(region=region_name, year=year_value)


def history_for(
    bot: Bot, question: str, history: list[tuple[str, str]], filters: Filters
) -> tuple[list[tuple[str, str]], bool]:
    """The earlier turns, unless the place or year they imply leaves no report under the explicit filters:
    then the filters win and the question is read on its own (True says so).

    “Region = All, Year = 2020” after a 缙云 turn means the 2020 reports, not “缙云 in 2020”, which does not exist.
    """
    if not history or not (filters.region or filters.year):
        return history, False
    if bot.plan(question, history, filters).doc_ids:
        return history, False
    if bot.plan(question, [], filters).doc_ids:
        return [], True
    return history, False


def describe_filters(filters: Filters, dropped: bool) -> str:
    """The header line of an answer: which filters applied, and whether earlier turns were set aside for them."""
    region = filters.region or "全部地区 all regions"
    year = str(filters.year) if filters.year else "全部年份 all years"
    line = f"筛选 Filters: {region} · {year}"
    if dropped:
        line += " — 按筛选条件作答，未沿用前文的地区/年份 (filters override earlier turns)"
    return line
