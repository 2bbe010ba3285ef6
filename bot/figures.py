"""Quantities in the reports (a number, its unit and what it counts), so figures can be compared and summed.

Extracted once per report from its cleaned text; every figure keeps its offsets, so an answer that computes
with figures can cite each one exactly.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot import derived
from bot.chunking import split_sentences
from bot.text import normalise, segment

if TYPE_CHECKING:
    from bot.catalog import DocRecord

# Units a count or amount is given in; longer units first so 人次 wins over 人.
UNITS = (
    "人次 件次 万人次 万人 万元 亿元 万件 元 件 人 名 次 家 个 宗 场 户 份 条 项 所 期 篇 位 座 处 起 批 支 "
    "部 本 册 套 余人 天 小时 年 % 个百分点"
).split()
_UNIT = "|".join(re.escape(u) for u in sorted(set(UNITS), key=len, reverse=True))
_FIGURE = re.compile(rf"(?<![\d.,])(\d+(?:,\d{{3}})*(?:\.\d+)?)\s*(余|多)?\s*({_UNIT})")
# What a figure counts is said in its own clause, before it: “…共办理法律援助案件469件”.
_CLAUSE_BREAK = re.compile(r"[，,。；;：:！？!?、\n]")
_MEASURE_MAX = 40
_FIRST_YEAR = 1000  # 2023年 is a year; 连续9年, 近3年 are how long
_NOUN_MAX = 12


@dataclass(frozen=True)
class Figure:
    doc_id: str
    value: float
    unit: str
    measure: str  # the clause words before the number: what it counts (办理法律援助案件 469件)
    noun: str  # the words right after the unit, up to the clause end (18场 培训)
    start: int  # offsets of “469件” in the cleaned text
    end: int
    sentence_start: int  # the whole sentence, for citing
    sentence_end: int
    shown: str  # as the report writes it: 469件, 20574.58万元, 1,450件
    words: tuple[str, ...]  # the measure and noun as words, so 律师 does not match inside 律师事务所


def extract_figures(doc_id: str, text: str) -> list[Figure]:
    """Every number-with-unit in the report, with the measure phrase it belongs to."""
    out: list[Figure] = []
    for span in split_sentences(text):
        for match in _FIGURE.finditer(text, span.start, span.end):
            value = float(match.group(1).replace(",", ""))
            if _is_date_or_year(text, match.end()) or (match.group(3) == "年" and value >= _FIRST_YEAR):
                continue
            measure = _measure(text, span.start, match.start())
            noun = _noun(text, match.end(), span.end)
            shown = text[match.start() : match.end()]
            words = tuple(segment(normalise(f"{measure} {noun}")))
            out.append(
                Figure(
                    doc_id,
                    value,
                    match.group(3),
                    measure,
                    noun,
                    match.start(),
                    match.end(),
                    span.start,
                    span.end,
                    shown,
                    words,
                )
            )
    return out


def _is_date_or_year(text: str, end: int) -> bool:
    """“3月3日”, “2023年”: not quantities (年/月/日 are not units above, but 个月 follows 个)."""
    return text[end : end + 1] in ("月", "年")


def _measure(text: str, sentence_start: int, number_start: int) -> str:
    lo = max(sentence_start, number_start - _MEASURE_MAX)
    head = text[lo:number_start]
    breaks = list(_CLAUSE_BREAK.finditer(head))
    return head[breaks[-1].end() :] if breaks else head


def _noun(text: str, unit_end: int, sentence_end: int) -> str:
    tail = text[unit_end : min(sentence_end, unit_end + _NOUN_MAX)]
    stop = _CLAUSE_BREAK.search(tail)
    return tail[: stop.start()] if stop else tail


# A question term as a figure's measure is matched against: its alternatives, its IDF weight, and the words of a
# compound, which earn a share of the weight when the compound itself is absent (调处…纠纷 for 调解纠纷).
MeasureTerm = tuple[list[str], float, tuple[str, ...]]


def measure_match(figure: Figure, terms: Iterable[MeasureTerm], modified: float = 0.0) -> float:
    """Weighted share of the question's content terms that the figure's measure phrase names.

    A term matches a word of the measure, or, when it is itself a compound (four or more characters),
    any part of it: 律师 names “现有律师103人” but not “4家律师事务所”. A compound's words count only toward
    the compound's own weight, so “律师事务所及律师” is not named more than “现有律所” is by 律师事务所/律所.
    A term that only modifies one more character (公证 in 公证书) counts `modified` of its weight: the thing
    counted is of that kind, though not named by its head.
    """
    measure = normalise(f"{figure.measure} {figure.noun}")
    total = got = 0.0
    for alternatives, weight, pieces in terms:
        total += weight
        if any(_names(normalise(a), measure, figure.words) for a in alternatives):
            got += weight
        elif pieces and _names(pieces[-1], measure, figure.words):  # a compound is named by its head, not
            got += weight * sum(_names(p, measure, figure.words) for p in pieces) / len(pieces)  # its modifier
        elif modified and any(_modifies(normalise(a), figure.words) for a in alternatives):
            got += weight * modified
    return got / total if total else 0.0


def _names(term: str, measure: str, words: tuple[str, ...]) -> bool:
    """A word of the measure, or the head of one: Chinese compounds end in what they are, so 集中学习 is a
    学习 and 执业律师 a 律师, while 律师事务所 is a 所 and 公证书 a 书. A longer term also names the words
    it starts at where the segmenter glued its last character onward (化解率达 cut as 化解/率达)."""
    if any(w.endswith(term) for w in words) or (len(term) >= 4 and term in measure):
        return True
    glued = (i for i, w in enumerate(words) if len(w) < len(term) and term.startswith(w))
    return len(term) >= 3 and any("".join(words[i:]).startswith(term) for i in glued)


def _modifies(term: str, words: tuple[str, ...]) -> bool:
    return any(len(w) == len(term) + 1 and w.startswith(term) for w in words)


class FigureTable(Mapping[str, list[Figure]]):
    """Each report's figures. Saved once per catalog state (`saved`, a small SQLite file beside the index), so
    a question across hundreds of reports reads rows instead of re-extracting every report's figures."""

    def __init__(self, docs: Mapping[str, DocRecord], saved: Path | None = None) -> None:
        self._docs = docs
        self._done: dict[str, list[Figure]] = {}
        self._within: dict[tuple[str, int, int], list[Figure]] = {}  # by passage, as questions ask again
        self._lock = threading.Lock()
        self._db = _open_saved(saved, docs) if saved is not None else None

    def __getitem__(self, doc_id: str) -> list[Figure]:
        if doc_id not in self._done:
            self._done[doc_id] = self._read(doc_id)
        return self._done[doc_id]

    def _read(self, doc_id: str) -> list[Figure]:
        found = self._saved(doc_id, 0, _END)
        return extract_figures(doc_id, self._docs[doc_id].text) if found is None else found

    def within(self, doc_id: str, start: int, end: int) -> list[Figure]:
        """The figures in text[start:end] of one report: a question reads its passages' figures, not every
        figure of the hundreds of reports it touches."""
        key = (doc_id, start, end)
        if key not in self._within:
            found = None if doc_id in self._done else self._saved(doc_id, start, end)
            if len(self._within) > _WITHIN_KEPT:
                self._within.clear()
            self._within[key] = [f for f in self[doc_id] if start <= f.start < end] if found is None else found
        return self._within[key]

    def _saved(self, doc_id: str, start: int, end: int) -> list[Figure] | None:
        """Saved figures of a report in text[start:end] (None: not saved, so extract them)."""
        if self._db is None:
            return None
        with self._lock:
            sql = "SELECT figure FROM figures WHERE doc_id=? AND start >= ? AND start < ? ORDER BY start"
            rows = self._db.execute(sql, (doc_id, start, end)).fetchall()
            if not rows and not self._db.execute("SELECT 1 FROM saved WHERE doc_id=?", (doc_id,)).fetchone():
                return None
        return [Figure(doc_id, *f[:-1], tuple(f[-1])) for f in (json.loads(r[0]) for r in rows)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._docs)

    def __len__(self) -> int:
        return len(self._docs)


# The saved table is named for this module's source: figures extracted by another version (another unit
# list, another measure rule) are never read back as if this one had found them.
SAVED_NAME = f"figures-{hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]}.sqlite"
_WITHIN_KEPT = 50_000  # passages' figures kept (a few MB)
_END = 1 << 62  # past any report's end: a whole report's figures
_FIELDS = ("value", "unit", "measure", "noun", "start", "end", "sentence_start", "sentence_end", "shown", "words")


_SAVED_SCHEMA = """
CREATE TABLE saved (doc_id TEXT PRIMARY KEY);
CREATE TABLE figures (doc_id TEXT NOT NULL, start INTEGER NOT NULL, figure TEXT NOT NULL);
CREATE INDEX figures_at ON figures (doc_id, start);
"""


def _open_saved(path: Path, docs: Mapping[str, DocRecord]) -> sqlite3.Connection | None:
    """The saved table, written in full first when missing or of an older shape (written beside, then renamed
    into place): a figure per row, indexed by its place, so a passage's figures are one range read."""
    try:
        if not _readable(path):
            with derived.written(path) as part, closing(sqlite3.connect(part)) as db, db:
                db.executescript(_SAVED_SCHEMA)
                for doc_id, doc in docs.items():
                    db.execute("INSERT INTO saved VALUES (?)", (doc_id,))
                    rows = [(doc_id, f.start, _row(f)) for f in extract_figures(doc_id, doc.text)]
                    db.executemany("INSERT INTO figures VALUES (?, ?, ?)", rows)
            for older in path.parent.glob("figures*.sqlite"):  # another version's table, never read again
                if older != path:
                    older.unlink(missing_ok=True)
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    except (OSError, sqlite3.Error):
        return None  # figures are then extracted as asked for: slower, never wrong


def _readable(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            db.execute("SELECT doc_id, start, figure FROM figures LIMIT 1").fetchall()
            db.execute("SELECT doc_id FROM saved LIMIT 1").fetchall()
        return True
    except sqlite3.Error:
        return False


def _row(figure: Figure) -> str:
    return json.dumps([getattr(figure, k) for k in _FIELDS], ensure_ascii=False)
