"""Places a question names that the reports do not cover: a county or district the corpus lacks, even when
its city is one we have (韶关市武江区 vs 浈江区, “Wujin District in Changzhou”)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.models import Refusal
from bot.text import segment

# A word like “西湖区” in a question that names no report of ours: a place the corpus does not cover.
_PLACE_ZH = re.compile(r"^[\u4e00-\u9fff]{2,5}(?:县|区|市)$")
_NOT_PLACE = re.compile(r"^(?:全|各|本|该|我|城|市|区|县|辖|两|每|哪|其|他|多|省|地|镇|社|党|政|新|老|这|那|此|上|下)")
_GENERIC_PLACES = frozenset(
    {"市辖区", "城区", "郊区", "开发区", "园区", "社区", "小区", "景区", "街区", "山区", "片区"}
)
_PLACE_EN = re.compile(r"\b([A-Z][a-z]+)\s+(County|District|City)\b")


def unknown_place(question: str, hits: list[str]) -> Refusal | None:
    """A county or district the corpus lacks, even when its city is one we have (韶关市武江区 vs 浈江区)."""
    for word in segment(question):
        known = any(word in h or h in word for h in hits)
        generic = any(word.endswith(g) for g in _GENERIC_PLACES)  # 居民小区 is a 小区, not a district
        if not known and _PLACE_ZH.match(word) and not _NOT_PLACE.match(word) and not generic:
            return Refusal("place", word)
    # “Wujin District in Changzhou”: a named county of a city we cover is still one we do not
    unknown = (m for m in _PLACE_EN.finditer(question) if not any(m.group(1).lower() in h for h in hits))
    match = next(unknown, None)
    return Refusal("place", match.group(0)) if match else None


def unnamed_place(question: str, hits: list[str], place: Callable[[str], str | None]) -> Refusal | None:
    """A place the dictionary knows (北京, Hangzhou), said without 市 or County, that is none of the reports'
    regions: the reports do not cover it, though a passage on the rest of the question would answer for it."""
    words = [w for w in segment(question) if len(w) >= 2] + re.findall(r"\b[A-Z][a-z]{3,}\b", question)
    for word in words:
        if place(word) and not any(word.lower() in h or h in word.lower() for h in hits):
            return Refusal("place", word)
    return None


def short_name(name: str) -> str:
    """缙云县 → 缙云: how a report's place is usually written in a question."""
    return re.sub(r"(省|市|县|区)$", "", name)
