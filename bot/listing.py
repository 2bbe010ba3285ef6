"""What a list question names by: the names it quotes (or writes in Chinese inside English), each report's
best sentence holding them, and where a paraphrased list's probabilities fall away.

`evidence.py` decides lists as one of the question's kinds; this holds the parts that read the question's names
and the probabilities, which know nothing of bars beyond the two numbers they are given.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import TYPE_CHECKING

from bot.query import QueryPlan
from bot.text import CJK, CJK_RUN, normalise

if TYPE_CHECKING:
    from bot.evidence import Candidate

_QUOTED = re.compile(r"[“「『\"']([^”」』\"']{2,30})[”」』\"']")
_EITHER = re.compile(r"\s*(?:或者?|还是|\bor\b)\s*", re.I)


def quoted_names(plan: QueryPlan) -> list[list[str]]:
    """The names a list question asks for as written: its quotes, and Chinese inside an English question."""
    return _quoted(plan.question) + _chinese_in_english(plan)


def _quoted(question: str) -> list[list[str]]:
    """Chinese words the question puts in quotation marks, names to be found as written; quotes joined by 或
    (“枫桥经验”或“枫桥式”) are one group, any of which will do."""
    groups: list[list[str]] = []
    last_end = -1
    for m in _QUOTED.finditer(question):
        word = normalise(m.group(1))
        if not CJK.search(word):
            continue
        if groups and _EITHER.fullmatch(question[last_end : m.start()]):
            groups[-1].append(word)
        else:
            groups.append([word])
        last_end = m.end()
    return groups


def _chinese_in_english(plan: QueryPlan) -> list[list[str]]:
    """An English question that writes a term in Chinese names it as the reports write it, as a quote does."""
    if plan.lang != "en":
        return []
    runs = set(CJK_RUN.findall(normalise(plan.question)))
    return [alts[:1] for alts in plan.terms if alts[0] in runs]


def best_quoting(ranked: list[Candidate], quoted: list[list[str]]) -> dict[str, Candidate]:
    """Each report's best sentence that holds every quoted group (ranked is best first)."""
    best: dict[str, Candidate] = {}
    for c in ranked:
        if c.evidence.doc_id not in best and all(any(q in c.around for q in group) for group in quoted):
            best[c.evidence.doc_id] = c
    return best


def natural_break(probs: list[float], answer_bar: float, list_gap: float) -> float:
    """The lowest probability above the first fall (by a ratio of at least `list_gap`) from the top report's
    best sentence: a paraphrased list question scores every report lower, but those that qualify still stand
    together above those that do not. Infinite when nothing falls or the top is below the answer bar."""
    ranked = sorted(probs, reverse=True)
    if not ranked or ranked[0] < answer_bar:
        return float("inf")
    for hi, lo in pairwise(ranked):
        if hi >= list_gap * lo:
            return hi
    return float("inf")
