"""What a question asserts happened (“为什么取消了X”, “败诉了几起”) against what a passage says of it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.models import Refusal
from bot.text import CJK, normalise

if TYPE_CHECKING:
    from bot.query import QueryPlan

# Words that assert something happened to what the question names (cancelled, cut): a premise to check.
PREMISES = (
    (("撤销", "取消", "废止", "废除", "终止", "停办"), r"cancel\w*|abolish\w*|scrap\w*|revok\w*|terminat\w*"),
    (("暂停", "停止", "叫停", "中止"), r"suspend\w*|stop\w*|halt\w*|pause\w*"),
    (("降低", "减少", "下降", "削减", "缩减"), r"reduc\w*|decreas\w*|declin\w*|cut|cuts|lower(?:ed)?|drop(?:ped)?"),
    (("关闭", "撤并", "裁撤"), r"clos(?:e|ed|ing)|shut\w*|merg\w*"),
    (("失败", "未能", "未完成"), r"fail\w*"),
)


def asserted(question: str) -> list[str]:
    """The word the question asserts (取消, cancelled) first, then the Chinese words that would confirm it."""
    for words, english in PREMISES:
        said = next((w for w in words if w in question), None)
        # an English premise word joined by a hyphen (one-stop) or after an article (a reduced penalty)
        # describes a thing rather than asserting that something happened to it
        match = re.search(rf"(?<![-\w])(?<!\ba )(?<!\ban )(?<!\bthe )(?:{english})\b", question, re.I)
        if said or match:
            return [said or (match.group(0) if match else ""), *words]
    return []


def premise_missing(plan: QueryPlan, around: str) -> Refusal | None:
    """“为什么取消了X”: the X passage answers only if it also says X was cancelled."""
    if not plan.premise or any(w in around for w in plan.premise[1:]):
        return None
    return Refusal("premise", plan.premise[0])


# “无败诉案件”, “没有发生…”: the passage says the thing asked about did not happen.
_NONE = r"(?:无|没有|未有|未发生|零)"
# What a denial covers: the rest of its own clause, not past a comma into the next.
_DENIED = re.compile(_NONE + r"([^，,。；;：:、！？!?\n]{0,24})")


def negated(plan: QueryPlan, sentence: str) -> Refusal | None:
    """A question that asks how many or why of something (败诉了几起) the passage says there was none of:
    the reports answer by denying its premise. Not a yes-or-no question (有没有败诉), which that answers.
    The denial names the question's term right after it (无败诉案件), or two of its terms in its clause
    (未发生因行政合同…导致的败诉): one term further on is what the denied thing modifies (无败诉案件 for 案件)."""
    if plan.wants not in ("number", "reason"):
        return None
    own = [m.group(0) for m in _DENIED.finditer(normalise(plan.question))]
    terms = [t for alts in plan.terms for t in (normalise(a) for a in alts) if len(t) >= 2 and CJK.match(t)]
    terms = [t for t in terms if not any(t in d for d in own)]
    for denial in _DENIED.finditer(normalise(sentence)):
        named = {t for t in terms if t in denial.group(1)}
        if any(denial.group(1).startswith(t) for t in named) or len(named) >= 2:
            return Refusal("negated", denial.group(0))
    return None
