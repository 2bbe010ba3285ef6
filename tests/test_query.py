import pytest

from bot.api import Bot
from bot.models import Refusal
from bot.query import plan_query
from tests.conftest import CREDIT_DOC, JINYUN_DOC, LINHAI_DOC, ZHENJIANG_DOC, ZHONGLOU_DOC


def _plan(bot: Bot, question: str, history: list[tuple[str, str]] | None = None):
    metas = {d: r.meta for d, r in bot.catalog.docs.items()}
    return plan_query(question, history or [], bot.regions, metas)


@pytest.mark.parametrize(
    ("question", "docs"),
    [
        ("缙云县2023年办理了多少件法律援助案件？", [JINYUN_DOC]),
        ("缙云的律师有多少人", [JINYUN_DOC]),
        ("钟楼区行政复议情况", [ZHONGLOU_DOC]),
        ("How many mediators does Huancui have?", [CREDIT_DOC]),
        ("What did Zhonglou District do on legal aid?", [ZHONGLOU_DOC]),
        ("浙江的报告提到了什么", sorted([JINYUN_DOC, LINHAI_DOC])),
        ("威海市的调解工作", [CREDIT_DOC]),
        ("2024年的报告说了什么普法工作", [ZHENJIANG_DOC]),
        ("2020年的法律援助", [LINHAI_DOC]),
        ("2023年上半年的调解工作", [CREDIT_DOC]),
        ("缙云县2023年全年和环翠区2023年上半年各调解了多少纠纷", sorted([JINYUN_DOC, CREDIT_DOC])),
        ("浈江区2024年和临海市2020年各办了多少件行政复议", sorted([ZHENJIANG_DOC, LINHAI_DOC])),
        ("哪些区县推行了信用+调解", None),
    ],
)
def test_region_and_period_detection(bot: Bot, question: str, docs: list[str] | None) -> None:
    assert _plan(bot, question).doc_ids == docs


def test_year_not_covered_is_refused_before_retrieval(bot: Bot) -> None:
    assert _plan(bot, "缙云县2019年办理了多少件法律援助案件？").refusal == Refusal("period", "2019")


def test_next_year_plan_is_searched_in_the_report_that_states_it(bot: Bot) -> None:
    plan = _plan(bot, "缙云县2024年的工作计划是什么？")
    assert plan.doc_ids == [JINYUN_DOC] and plan.year_in_text


@pytest.mark.parametrize("question", ["杭州市西湖区有多少律师？", "How many lawyers are in Xihu District?"])
def test_place_outside_the_corpus_is_refused(bot: Bot, question: str) -> None:
    refusal = _plan(bot, question).refusal
    assert refusal is not None and refusal.kind == "place"


@pytest.mark.parametrize(
    ("question", "is_list"),
    [
        ("哪些区县推行了信用+调解机制？", True),
        ("which counties piloted the credit plus mediation mechanism", True),
        ("Compare legal aid cases across the reports", True),
        ("缙云县有多少律师？", False),
        ("浈江区获得了哪些荣誉", False),  # a list inside one report
    ],
)
def test_list_intent(bot: Bot, question: str, is_list: bool) -> None:
    assert _plan(bot, question).is_list is is_list


def test_followup_takes_topic_from_history(bot: Bot) -> None:
    plan = _plan(bot, "钟楼区呢？", [("缙云县有多少律师？", "……")])
    assert plan.doc_ids == [ZHONGLOU_DOC]
    assert any("律师" in alts for alts in plan.terms)


def test_followup_keeps_region_from_history(bot: Bot) -> None:
    plan = _plan(bot, "那法律援助案件有多少件？", [("缙云县有多少律师？", "……")])
    assert plan.doc_ids == [JINYUN_DOC]


def test_a_followup_naming_a_place_and_period_takes_the_topic_and_keeps_its_own_period(bot: Bot) -> None:
    """“临海市2020年呢？” asks the previous question of another place and year: the topic carries over, the
    previous question's period does not."""
    history = [("环翠区上半年累计调处矛盾纠纷多少起？", "1143起[1]")]
    plan = _plan(bot, "临海市2020年呢？", history)
    assert plan.doc_ids == [LINHAI_DOC] and "上半年" not in plan.question
    assert any("纠纷" in alts for alts in plan.terms)


def test_a_followup_with_no_term_of_its_own_takes_the_whole_previous_question(bot: Bot) -> None:
    """“And the other one?” names nothing the reports could hold: the previous question's topic and region
    carry over, its own words (other) stay."""
    plan = _plan(bot, "And the other one?", [("How many legal aid cases did Jinyun handle in 2023?", "469 [1]")])
    assert plan.doc_ids == [JINYUN_DOC]
    assert any("法律援助" in alts for alts in plan.terms) and "other" in plan.question


def test_english_terms_come_from_the_glossary(bot: Bot) -> None:
    plan = _plan(bot, "which counties piloted the credit plus mediation mechanism")
    assert plan.lang == "en"
    assert ["信用+调解"] in plan.terms


@pytest.mark.parametrize(
    "question",
    ["环翠区2023年全年一共办理了多少件法律援助案件？", "How many cases did Huancui mediate in the second half of 2023"],
)
def test_a_whole_year_or_second_half_asked_of_a_first_half_report_is_refused(bot: Bot, question: str) -> None:
    assert _plan(bot, question).refusal == Refusal("half", "2023")


def test_a_whole_year_question_over_two_places_keeps_the_one_that_covers_it(bot: Bot) -> None:
    plan = _plan(bot, "环翠区和缙云县2023年全年各办理了多少件法律援助案件？")
    assert plan.refusal is None and plan.doc_ids == [JINYUN_DOC]


def test_which_of_the_reports_is_a_list_not_a_count(bot: Bot) -> None:
    plan = _plan(bot, "哪几份报告提到了“枫桥经验”？")
    assert plan.kind == "list" and plan.wants is None


def test_closed_class_english_words_are_not_mapped(bot: Bot) -> None:
    assert _plan(bot, "Among Jinyun and Zhonglou, which handled more legal aid cases through the year?").unmapped == []


def test_how_a_question_compares_or_sums_is_not_a_key_term(bot: Bot) -> None:
    """更多 and 各是 say how to answer; as lone characters glued to a neighbour they made up 公证更多 and 各是."""
    terms = [t for alts in _plan(bot, "缙云和浈江相比，谁办的公证更多？各是多少件？").terms for t in alts]
    assert "公证" in terms and not any("更多" in t or "各" in t for t in terms)


def test_a_generic_place_word_is_not_an_unknown_district(bot: Bot) -> None:
    """居民小区 ends in 区 like a district, but it is a 小区: no “we have no report on 居民小区”."""
    assert _plan(bot, "钟楼区把法治资源引进居民小区的试点放在了哪个街道？").refusal is None


def test_a_two_word_term_also_matches_its_short_form_where_the_reports_use_it(bot: Bot) -> None:
    """Huancui writes 解矫 (解除矫正): the first character of each word, a word of the reports' own."""
    plan = bot.plan("环翠区上半年解除了矫正的有多少人？", [])
    assert ["解除", "解矫"] in plan.terms and ["矫正", "解矫"] in plan.terms
    assert "138" in bot.answer("环翠区上半年解除了矫正的有多少人？").answer


def test_no_short_form_is_made_from_characters_that_only_meet_across_words(bot: Bot) -> None:
    """时期…解除 would give 时解, which the reports hold only inside 及时解决: no word of theirs."""
    assert all("时解" not in alts for alts in bot.plan("同一时期有多少人解除了矫正？", []).terms)
