"""Text helpers shared by indexing and querying: tokens for BM25, language, numbers, the glossary."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

CJK = re.compile(r"[\u4e00-\u9fff]")  # one Chinese character
CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")  # a Chinese word or phrase, as written inside other text
_WORDISH = re.compile(r"[\u4e00-\u9fff0-9a-z%]")
STOPWORDS = frozenset(
    "的 了 和 与 及 等 在 是 有 对 为 以 将 把 被 从 中 上 下 也 都 并 或 之 其 "
    "这 那 个 年 月 日 共 各 该 本 我 我们 进行 开展 工作 情况 方面 相关 有关 "
    "一是 二是 三是 四是 五是 六是 七是 ".split()
)
QUESTION_WORDS = frozenset(
    "他们 她们 它们 他 她 它 这个 那个 当地 该地 该区 该县 该市 "
    "多少 几 几个 多少次 多少件 多少人 哪些 哪个 哪几个 哪里 哪 什么 怎么 "
    "怎样 如何 是否 有没有 吗 呢 吧 请问 一下 介绍 报告 报告中 提到 提及 "
    "主要 请 告诉 关于 为什么 分别 比较 对比 相比 区县 县区 各区 各县 "
    "哪些地方 地方 地区 全年 今年 总共 一共 合计 总数 数量 什么样 举措 做法 "
    "做了 干了 具体 ".split()
)


def normalise(text: str) -> str:
    """Full-width → half-width (NFKC) and lower case, so １,４５０ and 1,450 compare equal."""
    return unicodedata.normalize("NFKC", text).lower()


def normalise_numbers(text: str) -> str:
    """Drop thousands separators inside numbers: 1,450 → 1450."""
    return re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)


class _Segmenter:
    """jieba's dictionary and algorithm through rjieba, which loads in a fifth of jieba's time (a cold
    `bot ask` waits for it). rjieba keeps 2023-2025 and rule-of-law whole where jieba splits at the
    hyphen; splitting there first keeps every token identical to jieba's (checked in the tests)."""

    def __init__(self) -> None:
        import rjieba

        self._jieba = rjieba.Jieba()

    def _split(self, cut: Callable[[str], list[str]], text: str) -> list[str]:
        out: list[str] = []
        for piece in _HYPHEN.split(text):
            if piece == "-":
                out.append(piece)
            elif piece:
                out.extend(cut(piece))
        return out

    def cut(self, text: str) -> list[str]:
        return self._split(self._jieba.cut, text)

    def cut_for_search(self, text: str) -> list[str]:
        return self._split(self._jieba.cut_for_search, text)

    def has_word(self, word: str) -> bool:
        return self._jieba.has_word(word)

    def tag(self, text: str) -> list[tuple[str, str]]:
        return self._jieba.tag(text)

    def add_word(self, word: str, freq: int) -> None:
        self._jieba.add_word(word, freq, None)


_HYPHEN = re.compile(r"(-)")


@lru_cache(maxsize=1)
def _jieba() -> _Segmenter:
    return _Segmenter()


def add_words(words: list[str]) -> None:
    """Teach the segmenter corpus names (regions, programme names) so they stay whole tokens."""
    jb = _jieba()
    for word in words:
        if word:
            jb.add_word(word, freq=20000)


def tokenize(text: str) -> list[str]:
    """BM25 tokens: jieba search-mode words and numbers, minus stopwords and lone CJK characters."""
    text = normalise_numbers(normalise(text))
    tokens = []
    for token in _jieba().cut_for_search(text):
        token = token.strip()
        if not token or token in STOPWORDS or not _WORDISH.search(token):
            continue
        if len(token) == 1 and CJK.match(token):
            continue
        tokens.append(token)
    return tokens


def is_english(text: str) -> bool:
    """A question is English when Latin letters outnumber CJK characters."""
    latin = len(re.findall(r"[A-Za-z]", text))
    return latin > 2 * len(CJK.findall(text))


@lru_cache(maxsize=1)
def glossary() -> dict[str, list[str]]:
    path = Path(__file__).parent / "resources" / "glossary.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))["terms"]


ENGLISH_STOPWORDS = frozenset(
    "a an the of in on at to for by with from and or not no is are was were be been being do does did "
    "have has had what which who whom whose when where why how many much any some all each every this "
    "that these those it its they them their there here as about into than then so such can could would "
    "should will shall may might must i me my we our you your he she his her counties county districts "
    "district cities city report reports reported say says said tell give list show name names mention "
    "mentioned did does year years total number numbers please also more most other between across "
    "compare compared both either according bureau justice places place region regions local "
    # closed-class words (prepositions, conjunctions, pronouns, degree adverbs): they name nothing to map to a
    # corpus term, and mapped they match measures by accident (among → 其中)
    "above after again against almost along already although always am among amongst another anyone anything "
    "around because before behind below beside besides beyond but cannot during else even ever except few "
    "hence however if indeed itself meanwhile moreover namely neither never nevertheless nor nothing now often "
    "once onto over under up down out off otherwise perhaps rather since still though through throughout thus "
    "toward towards until upon "
    "us very via whatever whenever whereas whether while within without yet him himself herself hers myself "
    "ourselves themselves yourself yours mine ".split()
)


def english_terms(question: str) -> tuple[list[list[str]], list[str]]:
    """Glossary terms found in an English question (each a list of Chinese alternatives), and leftover words."""
    # Chinese written into an English question (“law-savvy residents (法律明白人)”) is the reports' own term
    # (a run of question or function words, “县的”, “有多少人”, is not: it holds no key word)
    terms: list[list[str]] = [[run] for run in CJK_RUN.findall(normalise(question)) if key_words(run)]
    leftover: list[str] = []
    for word, entry in _glossed(question):
        if entry is not None:
            terms.append(entry)
        elif re.fullmatch(r"\d+(\.\d+)?%?", word):
            terms.append([word])
        elif word not in ENGLISH_STOPWORDS and len(word) > 2:
            leftover.append(word)
    return terms, leftover


def glossed(question: str) -> dict[str, str]:
    """Each glossary translation in an English question → the English it translates (certificates → 证书)."""
    return {entry[0]: phrase for phrase, entry in _glossed(question) if entry is not None}


def _glossed(question: str) -> Iterator[tuple[str, list[str] | None]]:
    """The question's words and phrases in order, longest glossary phrase first, each with its entry or None."""
    words = re.findall(r"\d+(?:\.\d+)?%?|[a-z][a-z0-9+\-']*", normalise_numbers(normalise(question)))
    entries = glossary()
    i = 0
    while i < len(words):
        size = next((n for n in (5, 4, 3, 2, 1) if n <= len(words) - i and " ".join(words[i : i + n]) in entries), 0)
        if size:
            phrase = " ".join(words[i : i + size])
            yield phrase, entries[phrase]
            i += size
        else:
            yield words[i], None
            i += 1


@lru_cache(maxsize=1)
def synonyms() -> dict[str, list[str]]:
    path = Path(__file__).parent / "resources" / "synonyms.toml"
    out: dict[str, list[str]] = {}
    for group in tomllib.loads(path.read_text(encoding="utf-8"))["groups"]:
        for word in group:
            out.setdefault(word, [word]).extend(w for w in group if w != word)
    return out


# “多少场”, “几个”: the asking, with its measure word, so jieba cannot glue 场 to the next word (场线).
_QUANTITY_ASK = re.compile(r"(?:多少|几)[个件场次人名家宗起份条项批所期篇位座处]?")


def is_word(text: str) -> bool:
    """A word of the segmenter's dictionary (预算, GDP is not), not a fragment such as 那替 or 面向新."""
    return len(text) >= 2 and ((text.isascii() and text.isalpha()) or _jieba().has_word(text))


# Parts of speech that say how a question is put, not what it is about: verbs (拥有, 启用), conjunctions (既有),
# numerals (首家), time words (明年), adverbs, pronouns, prepositions, adjectives. Verbal nouns (复查, 经费) name.
_NOT_A_THING = frozenset("v vd c m q t d r p a ad u f".split())


def names_a_thing(word: str) -> bool:
    """Whether a word could be the one thing a question is about: not a single dictionary word of a part of
    speech that only frames the question. Words the dictionary splits (社区矫正, 纠错率) count as things."""
    tags = _jieba().tag(word)
    return len(tags) != 1 or tags[0][1] not in _NOT_A_THING


def segment(text: str) -> list[str]:
    """Precise-mode words (for spotting names), unfiltered."""
    return _jieba().cut(text)


def key_words(text: str) -> list[str]:
    """Content words of a Chinese question, precise mode; a lone character joins its neighbour (服务+亭)."""
    words: list[str] = []
    glue = False  # the previous token was a content word the next lone character may join
    text = _QUANTITY_ASK.sub(" ", normalise_numbers(normalise(text)))
    for token in _jieba().cut(text):
        token = token.strip()
        content = bool(token) and token not in STOPWORDS and token not in QUESTION_WORDS and _WORDISH.search(token)
        if content and len(token) == 1 and CJK.match(token):
            if glue:
                words[-1] += token
            continue
        if content:
            words.append(token)
        glue = bool(content)
    return list(dict.fromkeys(words))


@lru_cache(maxsize=4096)
def words_in(term: str) -> tuple[str, ...]:
    """The words of two or more characters in a short term (立案就 → 立案), none when it is one word."""
    if not CJK.search(term):
        return ()
    pieces = [p for p in _jieba().cut(term) if len(p) >= 2]
    return tuple(pieces) if pieces != [term] else ()


@lru_cache(maxsize=4096)
def parts(term: str) -> tuple[str, ...]:
    """Words inside a compound (调解机制 → 调解, 机制), for partial credit when the whole is absent."""
    if len(term) < 4 or not CJK.search(term):
        return ()
    pieces = [p for p in _jieba().cut(term) if len(p) >= 2]
    if len(pieces) <= 1:  # jieba keeps 调解机制 whole: fall back to two-character halves
        pieces = [term[i : i + 2] for i in range(0, len(term) - 1, 2)]
    return tuple(pieces)


# Terminal colour codes and script or style blocks carry no words of a question: out before it is read.
_NOT_WORDS = re.compile(
    r"\x1b\[[0-9;?]*[A-Za-z]|<(script|style)\b[^>]*>.*?</\1\s*>|</?[a-zA-Z][^<>]{0,200}>", re.I | re.S
)
# Latin letters with accents and no Chinese: Spanish, French…; the bot reads Chinese and English only.
_OTHER_LATIN = re.compile(r"[¿¡]|[À-ÖØ-öø-ɏ]")


def clean_question(text: str) -> str:
    """Control characters (and other invisible ones) out, whitespace folded; emoji and all scripts stay."""
    text = _NOT_WORDS.sub(" ", text)
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def in_other_latin(question: str) -> bool:
    """Accented Latin letters and no Chinese: a language the bot does not read."""
    return bool(_OTHER_LATIN.search(question)) and not CJK.search(question)
