"""Checking an LLM's answer against the passages it was given: every [n] real, every number supported."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.prompts import CANNOT_ANSWER
from bot.text import QUESTION_WORDS, normalise, normalise_numbers, tokenize

_BRACKETS = re.compile(r"[【［\[]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[】］\]]")
_MARKER = re.compile(r"\[(\d+)\]")
_SENTENCE = re.compile(r".+?(?:[。！？!?]+|\.(?=\s|$)|\n|$)", re.S)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")
# The prompt's own phrase first (one constant for both), then the ways models paraphrase it.
REFUSAL_PHRASES = (
    *(phrase.rstrip("。.").lower() for phrase in CANNOT_ANSWER.values()),
    "没有找到",
    "未找到",
    "没有提及",
    "未提及",
    "do not say",
    "does not say",
    "not mentioned",
    "no information",
)


@dataclass
class Verified:
    text: str
    used: list[int] = field(default_factory=list)  # passage numbers (1-based, as given) in citation order
    changes: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return not self.used and any(p in self.text.lower() for p in REFUSAL_PHRASES)


def normalise_markers(text: str) -> str:
    """【1】, ［1］, [1, 2] → [1], [1][2]; markers after a full stop move before it."""
    text = _BRACKETS.sub(lambda m: "".join(f"[{n}]" for n in re.findall(r"\d+", m.group(1))), text)
    return re.sub(r"([。！？!?])((?:\[\d+\])+)", r"\2\1", text)


def parse_markers(text: str) -> list[int]:
    return [int(n) for n in _MARKER.findall(normalise_markers(text))]


@dataclass
class Source:
    """A passage as verification sees it: its text and the report (region) it comes from."""

    text: str
    doc_id: str = ""


RegionFinder = Callable[[str], set[str]]  # text → ids of the reports whose regions it names


def verify(answer: str, sources: list[Source], regions: RegionFinder | None = None) -> Verified:
    """Drop markers to passages that do not exist, and sentences whose figures, quotes or regions
    no cited passage supports."""
    result = Verified("")
    kept: list[str] = []
    for sentence in _SENTENCE.findall(normalise_markers(answer.strip())):
        checked = _check_sentence(sentence, sources, regions, result.changes)
        if checked is not None:
            kept.append(checked)
    result.text = "".join(kept).strip()
    result.used = list(dict.fromkeys(parse_markers(result.text)))
    result.text = _renumber(result.text, result.used)
    return result


def _check_sentence(
    sentence: str, passages: list[Source], regions: RegionFinder | None, changes: list[str]
) -> str | None:
    cited = [int(n) for n in _MARKER.findall(sentence)]
    for n in [n for n in cited if not 1 <= n <= len(passages)]:
        sentence = sentence.replace(f"[{n}]", "")
        changes.append(f"removed citation [{n}]: no such passage")
    valid = [n for n in cited if 1 <= n <= len(passages)]
    chosen = [passages[n - 1] for n in valid] or passages
    sources = [p.text for p in chosen]
    claim = _MARKER.sub("", sentence)
    if valid and regions is not None and _wrong_region(claim, chosen, regions):
        changes.append(f"dropped a sentence about a region its passages are not from: {claim.strip()[:40]}")
        return None
    unsupported = _unsupported_numbers(claim, sources) + _unsupported_quotes(claim, sources)
    if unsupported:
        changes.append(f"dropped a sentence with {', '.join(unsupported)}, which no cited passage contains")
        return None
    if valid and not _overlaps(claim, sources):
        changes.append(f"dropped a sentence its passages do not support: {claim.strip()[:40]}")
        return None
    return sentence


def _wrong_region(claim: str, chosen: list[Source], regions: RegionFinder) -> bool:
    named = regions(claim)
    return bool(named) and not named & {p.doc_id for p in chosen}


def _norm(text: str) -> str:
    return normalise_numbers(normalise(text))


def _unsupported_numbers(claim: str, sources: list[str]) -> list[str]:
    haystack = " ".join(_norm(s) for s in sources)
    found = _NUMBER.findall(_norm(claim))
    return [n for n in found if not re.search(rf"(?<![\d.]){re.escape(n)}(?![\d])", haystack)]


def _unsupported_quotes(claim: str, sources: list[str]) -> list[str]:
    """Chinese phrases an English answer quotes must stand in the passages as written."""
    if len(_CJK_RUN.findall(claim)) == 0 or re.search(r"[\u4e00-\u9fff]", claim[:1] or " "):
        return []
    haystack = " ".join(sources)
    return [q for q in _CJK_RUN.findall(claim) if q not in haystack]


def _overlaps(claim: str, sources: list[str]) -> bool:
    """Chinese claims share words with their passages; English claims are checked by figures and quotes."""
    words = [w for w in tokenize(claim) if re.search(r"[\u4e00-\u9fff]", w)]
    if len(words) < 3:
        return True
    haystack = "".join(sources)
    return sum(w in haystack for w in words) / len(words) >= 0.3


def _renumber(text: str, used: list[int]) -> str:
    mapping = {old: new for new, old in enumerate(used, start=1)}
    return _MARKER.sub(lambda m: f"[{mapping[int(m.group(1))]}]", text)


# Words of the condense prompt itself: a rewrite that repeats them echoed its instructions instead of rewriting.
_PROMPT_ECHO = ("改写", "对话历史", "追问", "独立问题", "rewrite", "follow-up", "standalone", "conversation")
_LABEL = re.compile(r"^(?:独立问题|问题|standalone question|question)\s*[:：]\s*", re.I)


def check_condensed(reply: str, followup: str, rule_rewrite: str, regions: RegionFinder) -> str | None:
    """The model's rewrite of a follow-up, if it is one short question that keeps the follow-up's regions
    and its topic (as the rule-based rewrite has it); None when it is not, and the rule-based one is used."""
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if len(lines) != 1:
        return None
    question = _LABEL.sub("", lines[0]).strip().strip('"“”')
    if not 2 <= len(question) <= max(60, 2 * len(rule_rewrite)):
        return None
    low = question.lower()
    if any(word in low for word in _PROMPT_ECHO):
        return None
    wanted = regions(followup) or regions(rule_rewrite)
    if not wanted <= regions(question):
        return None
    said = normalise(followup)  # the topic is what the follow-up left out and the history supplies
    topic = [w for w in tokenize(rule_rewrite) if len(w) >= 2 and w not in QUESTION_WORDS and w not in said]
    if topic and not any(w in normalise(question) for w in topic):
        return None
    return question
