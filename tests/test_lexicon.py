"""English words → corpus terms through CC-CEDICT: only terms the corpus uses, plainest senses first."""

from bot.api import Bot
from bot.lexicon import Lexicon

ENTRIES = [
    "調解 调解 [tiao2 jie3] /to mediate/to bring parties to an agreement/",
    "牽頭 牵头 [qian1 tou2] /to lead/to take the lead/to coordinate/to mediate (a deal)/",
    "集體 集体 [ji2 ti3] /collective (decision)/joint (effort)/a group/",
    "徵集 征集 [zheng1 ji2] /to collect/to recruit/",
    "公證處 公证处 [gong1 zheng4 chu4] /notary office/",
    "基層 基层 [ji1 ceng2] /basic level/grass-roots unit/",
    "北京 北京 [Bei3 jing1] /Beijing, capital of the People's Republic of China/",
    "西湖 西湖 [Xi1 Hu2] /West Lake, Hangzhou/",
    "東方 东方 [dong1 fang1] /the East/the Orient/",
]


def test_a_word_maps_to_the_terms_whose_plainest_gloss_it_is() -> None:
    lexicon = Lexicon.build(["调解", "牵头", "集体", "征集", "公证处"], ENTRIES)
    assert lexicon.lookup("mediate", 3) == ["调解", "牵头"]  # 调解's first gloss; 牵头's fourth
    assert lexicon.lookup("mediators", 3) == ["调解", "牵头"]  # by its stem, as no gloss says “mediators”
    assert lexicon.lookup("collective", 3) == ["集体"]  # as written: not 征集 “to collect”
    assert lexicon.lookup("notarial", 3) == ["公证处"]
    assert lexicon.lookup("grassroots", 3) == []  # 基层 is not a corpus term here


def test_the_bundled_dictionary_maps_everyday_words_to_the_reports_terms(bot: Bot) -> None:
    assert "基层" in bot.lexicon.lookup("grassroots", 3)
    assert "监狱" in bot.lexicon.lookup("prisons", 3)
    plan = bot.plan("How many grassroots legal service stations does Linhai have?", [])
    assert any("基层" in alts for alts in plan.mapped)


def test_a_saved_lexicon_reads_back_the_same(bot: Bot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    vocabulary = bot.terms.terms
    built = Lexicon.open(vocabulary, tmp_path)
    assert list(tmp_path.glob("lexicon-*.json"))
    again = Lexicon.open(vocabulary, tmp_path)
    assert again == built and again.lookup("grassroots", 3) == built.lookup("grassroots", 3)


def test_a_place_is_a_proper_name_whose_first_gloss_says_so() -> None:
    """By its 汉字 or its pinyin run together; not a lake, and not a common word (东方 “the East”)."""
    lexicon = Lexicon.build([], ENTRIES)
    assert lexicon.place("北京") == lexicon.place("Beijing") == lexicon.place("beijing") == "北京"
    assert lexicon.place("西湖") is None and lexicon.place("东方") is None and lexicon.place("调解") is None


def test_a_place_no_report_covers_is_refused_though_named_without_city_or_county(bot: Bot) -> None:
    """“How many notaries work in Beijing?” was answered with Jinyun's 公证书625件: the passage fitted the rest."""
    for question in ("How many notaries work in Beijing?", "北京有多少名公证员？", "How many lawyers are in Hangzhou?"):
        answer = bot.answer(question)
        assert answer.refused and ("Beijing" in answer.answer or "北京" in answer.answer or "Hangzhou" in answer.answer)
    assert not bot.answer("常州有多少律师？").refused  # the city of a report we have
    # a report that names a place in passing (北京大成律师事务所) still answers a question about it
    assert "大成" in bot.answer("缙云县与哪家北京的律师事务所结对共建？").answer
    assert not bot.answer("Which reports mention law firms from Beijing?").refused
