"""The segmenter: rjieba (fast to load) must cut exactly as jieba, whose tokens the features were fitted on."""

import json
import unicodedata

import jieba
import pytest

from bot.text import _Segmenter
from tests.conftest import ROOT


def _lines() -> list[str]:
    reports = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    questions = [
        json.loads(line)["question"]
        for name in ("questions.jsonl", "heldout.jsonl")
        for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    text = "\n".join(reports + questions)
    return [unicodedata.normalize("NFKC", line).lower() for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def pair() -> tuple[_Segmenter, jieba.Tokenizer]:
    ours, theirs = _Segmenter(), jieba.Tokenizer()
    for word in ("缙云县", "钟楼区", "环翠区", "信用+调解"):
        ours.add_word(word, freq=20000)
        theirs.add_word(word, freq=20000)
    return ours, theirs


def test_search_and_precise_cuts_match_jieba_on_every_report_and_question(pair) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = pair
    lines = _lines()
    assert len(lines) > 300
    assert [ours.cut_for_search(t) for t in lines] == [theirs.lcut_for_search(t) for t in lines]
    assert [ours.cut(t) for t in lines] == [theirs.lcut(t) for t in lines]


def test_dictionary_words_match_jieba(pair) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = pair
    words = {w for t in _lines() for w in theirs.lcut(t)} | {"预算", "那替", "面向新", "2023-2025"}
    assert {w for w in words if ours.has_word(w)} == {w for w in words if theirs.FREQ.get(w)}


def test_nouns_name_things_and_verbs_conjunctions_numerals_do_not() -> None:
    from bot.text import names_a_thing

    assert all(names_a_thing(w) for w in ("局长", "公证", "经费", "社区矫正", "信用+调解"))
    assert not any(names_a_thing(w) for w in ("拥有", "既有", "首家", "明年"))
