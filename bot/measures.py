"""What a figure counts, in words: its measure's content words (the verbs and qualifiers in front dropped).

“全年办理法律援助案件517宗” and “共办理各类法律援助案件469件” both count 法律援助案件; “…清单,共214项”
names nothing before its number, so it counts what its sentence is about.
"""

from __future__ import annotations

import re

from bot.figures import Figure
from bot.text import segment

# Nouns too general to name a measure alone: 案件 of what? The word before them says (法律援助 案件). A rate's
# 率 is read by `_rate`.
_GENERIC = frozenset(
    "案件 纠纷 申请 组织 人数 人次 件数 数量 金额 意见书 事务所 项目 活动 问题 人员 单位 企业 群众 次数".split()
)
# Words in a measure phrase that qualify it rather than say what is counted.
_FILLER = frozenset(
    "共 共计 有 为 已 累计 总计 合计 达 达到 全年 今年 去年 各类 各项 的 等 其中 全县 全区 全市 我区 我县 我市 "
    "目前 新 共有 现有 今年新增 同比 分别 约 近 超 超过 突破 以上 人数已".split()
)
_RATE_TAILS = frozenset({"率", "率达", "率为", "率是"})
_NOT_A_WORD = re.compile(r"^[\s\d.,%“”《》（）()·、：:]*$")


def measure_of(figure: Figure) -> str:
    """The measure a figure counts: the last noun of its phrase, with the word before when that noun is generic."""
    rate = _rate(figure)
    if rate:
        return rate
    words = _content(figure.measure)
    if not words:  # “全县4家律师事务所”: the number comes first and the noun after it says what it counts
        noun = _content(figure.noun)
        words = noun[:2] if len(noun) > 1 and noun[1] in _GENERIC else noun[:1]
    if not words:
        return ""
    last = words[-1]
    if last in _GENERIC and len(words) > 1:
        return words[-2] + last
    return last if len(last) >= 2 else ""


def _rate(figure: Figure) -> str:
    """A percentage's measure is a rate named by the word before 率 (化解率达99.6% → 化解率), which the segmenter
    cuts off (化解/率达) or glues to what follows: not 化解, whose figures are counts of cases."""
    if figure.unit not in ("%", "个百分点"):
        return ""
    words = [w for w in segment(figure.measure) if not _NOT_A_WORD.match(w)]
    if len(words) >= 2 and words[-1] in _RATE_TAILS and len(words[-2]) >= 2:
        return words[-2] + "率"
    return ""


def names_a_measure(figure: Figure) -> bool:
    """The words before the number say what it counts (公职律师有4名), rather than only how (共214项, 将50人)."""
    return bool(_content(figure.measure))


def _content(text: str) -> list[str]:
    words = [w for w in segment(text) if not _NOT_A_WORD.match(w) and w not in _FILLER]
    while words and len(words[-1]) == 1:  # a trailing 与, 及, 和 joins the next clause; it names nothing
        words.pop()
    return words
