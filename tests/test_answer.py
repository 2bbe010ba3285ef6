"""The real pipeline on the real reports: ingest → Chroma → hybrid retrieval → extractive answer."""

import pytest

from bot.api import Bot
from bot.models import Answer
from tests.conftest import CREDIT_DOC, JINYUN_DOC, LINHAI_DOC, ZHENJIANG_DOC, ZHONGLOU_DOC

OTHER_COUNTIES = ("缙云", "浈江", "临海", "钟楼", "Jinyun", "Zhenjiang", "Linhai", "Zhonglou")


def _assert_citations_are_slices(bot: Bot, answer: Answer) -> None:
    for c in answer.citations:
        assert c.text == bot.catalog.docs[c.doc_id].text[c.start : c.end]
        assert f"[{c.n}]" in answer.answer
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))


@pytest.mark.parametrize(
    "question", ["which counties piloted the credit plus mediation mechanism", "哪些区县试点了信用+调解机制？"]
)
def test_credit_plus_mediation_names_only_huancui(bot: Bot, question: str) -> None:
    answer = bot.answer(question)
    assert not answer.refused
    assert ("环翠" in answer.answer) or ("Huancui" in answer.answer)
    assert not any(name in answer.answer for name in OTHER_COUNTIES)
    assert {c.doc_id for c in answer.citations} == {CREDIT_DOC}
    assert "信用+调解" in answer.citations[0].text
    _assert_citations_are_slices(bot, answer)


def test_english_question_gets_english_frame(bot: Bot) -> None:
    answer = bot.answer("which counties piloted the credit plus mediation mechanism")
    assert "Huancui District (环翠区, Weihai)" in answer.answer and "report" in answer.answer


def test_figure_not_in_reports_is_refused(bot: Bot) -> None:
    answer = bot.answer("缙云县2023年的财政预算总额是多少？")
    assert answer.refused
    # “…没有找到…” or, naming the missing words, “…没有提到“财政预算””; of the one report it names
    assert answer.answer.startswith("缙云县（丽水市）的报告中没有"), answer.answer
    _assert_citations_are_slices(bot, answer)  # the “may be related” passages are real slices too


def test_english_question_about_what_the_reports_never_mention_is_refused_naming_it(bot: Bot) -> None:
    """“budget” translates to 预算, a word no report uses: the answer says so rather than quoting a passage
    on the bureau, which holds the question's other words."""
    answer = bot.answer("How large was the budget of Linhai's justice bureau in 2020?")
    assert answer.refused
    assert "预算" in answer.answer


def test_a_rare_verb_is_how_a_question_is_put_not_what_it_is_about(bot: Bot) -> None:
    """拥有 is in one chunk of the corpus, so it is rare; but a verb names no programme or office whose absence
    would mean the reports do not cover the question."""
    answer = bot.answer("缙云县现在拥有多少名律师？")
    assert not answer.refused and "103" in answer.answer and answer.citations[0].doc_id == JINYUN_DOC
    answer = bot.answer("缙云县启用的法律援助联系点设在哪里？")
    assert not answer.refused and "七里数字直播产业" in answer.answer


def test_a_word_the_named_report_never_uses_is_refused_naming_it(bot: Bot) -> None:
    """Zhonglou's report never says 公证 (others do): its legal-aid figures, which share the verb, are not
    an answer to how many notarisations it handled."""
    assert "公证" not in bot.catalog.docs[ZHONGLOU_DOC].text
    answer = bot.answer("钟楼区一年办理公证多少件？")
    assert answer.refused and "公证" in answer.answer


@pytest.mark.parametrize(
    ("question", "expected", "doc"),
    [
        ("缙云县2023年办理了多少件法律援助案件？", "469", JINYUN_DOC),
        ("How many legal aid cases did Jinyun handle in 2023?", "469", JINYUN_DOC),
        ("缙云县有多少律师？", "103", JINYUN_DOC),
        ("钟楼区2023年办理了多少件法律援助案件？", "476", ZHONGLOU_DOC),
        ("环翠区上半年累计调处矛盾纠纷多少起？", "1143", CREDIT_DOC),
        ("浈江区代理区政府行政应诉案件多少宗？", "39", ZHENJIANG_DOC),
        ("临海市2020年办理以市政府作为被告的行政应诉案件多少件？", "40", LINHAI_DOC),
    ],
)
def test_single_facts(bot: Bot, question: str, expected: str, doc: str) -> None:
    answer = bot.answer(question)
    assert not answer.refused, answer.answer
    assert expected in answer.citations[0].text and answer.citations[0].doc_id == doc
    assert len(answer.answer) < 400  # sentences, not whole chunks
    _assert_citations_are_slices(bot, answer)


def test_court_appearance_list_names_the_right_districts(bot: Bot) -> None:
    answer = bot.answer("Which districts report a 100% court-appearance rate for agency heads?")
    assert {c.doc_id for c in answer.citations} == {ZHENJIANG_DOC, ZHONGLOU_DOC}
    assert "Zhenjiang District" in answer.answer and "Zhonglou District" in answer.answer
    assert "Huancui" not in answer.answer


def test_an_english_word_the_glossary_lacks_counts_by_the_terms_it_maps_to(bot: Bot) -> None:
    """“abnormal deaths” maps to 非正常 and 死亡, rare terms that tell the 71 from Linhai's other mediation figures."""
    answer = bot.answer("How many disputes over abnormal deaths were resolved in Linhai?")
    assert "71起" in answer.answer and answer.citations[0].doc_id == LINHAI_DOC, answer.answer


def test_a_figure_neither_ranking_finds_is_found_by_its_measure(bot: Bot) -> None:
    """律师 is in most of 缙云's chunks, so “新增律师13人” is not among its top ones; the figures table finds it."""
    answer = bot.answer("缙云县和钟楼区今年各新增了多少名律师？")
    assert "13人" in answer.answer and "142名" in answer.answer, answer.answer
    assert {c.doc_id for c in answer.citations} == {JINYUN_DOC, ZHONGLOU_DOC}


def test_a_paraphrased_list_names_the_reports_that_stand_with_the_best_one(bot: Bot) -> None:
    """“给企业做法治体检” scores every report lower than the reports' own words would; the three that report
    法治体检 still stand together above the rest, and are named though below the fitted list bar."""
    answer = bot.answer("哪些地方的报告写到了给企业做法治体检？")
    cited = {c.doc_id for c in answer.citations}
    assert {CREDIT_DOC, LINHAI_DOC, ZHONGLOU_DOC} <= cited and ZHENJIANG_DOC not in cited, answer.answer


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        ("缙云县2019年办理了多少件法律援助案件？", "现有报告没有涉及2019年"),
        ("杭州市西湖区有多少律师？", "现有报告中没有关于杭州市"),
        ("How many lawyers are in Xihu District?", "The reports do not cover Xihu District"),
        ("环翠区的GDP是多少？", "环翠区（威海市）的报告中没有"),  # “no report mentions it” would overstate it
        ("What was Zhonglou's fiscal budget in 2023?", "The Zhonglou District (钟楼区, Changzhou) report does not"),
        ("哪些区县的报告提到了GDP？", "报告中没有"),
    ],
)
def test_unanswerable_questions_are_refused(bot: Bot, question: str, lead: str) -> None:
    answer = bot.answer(question)
    assert answer.refused and answer.answer.startswith(lead), answer.answer


def test_a_rare_passing_word_the_passage_lacks_does_not_refuse_it(bot: Bot) -> None:
    """回头 is in one chunk of the corpus, so it is the question's rarest word; the passage holds the rest."""
    answer = bot.answer("缙云县法律援助中心回头统计，一共办了多少件法律援助案件？")
    assert not answer.refused and "469" in answer.answer, answer.answer


def test_a_rare_head_word_no_passage_has_is_named_in_the_refusal(bot: Bot) -> None:
    answer = bot.answer("临海市司法局局长是谁？")
    assert answer.refused and "局长" in answer.answer, answer.answer


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        ("缙云县公证处为什么出具了625件公证书？", "报告提到了相关内容，但没有说明原因"),
        (
            "Why did Jinyun's notary office issue 625 notarial certificates?",
            "The reports mention this but do not say why",
        ),
    ],
)
def test_a_why_question_the_reports_give_no_reason_for_shows_the_passage_and_says_so(
    bot: Bot, question: str, lead: str
) -> None:
    """The passage on the event is not a reason: the answer says none is given, and shows what is said."""
    answer = bot.answer(question)
    assert answer.refused and answer.answer.startswith(lead), answer.answer
    assert answer.citations and "625" in answer.citations[0].text


def test_a_why_question_answers_from_a_passage_that_gives_the_purpose(bot: Bot) -> None:
    answer = bot.answer("缙云县为什么要统筹调动全县法治力量？")
    assert not answer.refused, answer.answer
    assert "营商环境" in answer.citations[0].text and answer.citations[0].doc_id == JINYUN_DOC


def test_followup_uses_history(bot: Bot) -> None:
    first = bot.answer("缙云县有多少律师？")
    followup = bot.answer("钟楼区呢？", history=[("缙云县有多少律师？", first.answer)])
    assert not followup.refused
    assert {c.doc_id for c in followup.citations} == {ZHONGLOU_DOC}
    assert "律师" in followup.citations[0].text


@pytest.mark.parametrize("question", ["", "   ", "x" * 5000])
def test_bad_questions_get_a_message(bot: Bot, question: str) -> None:
    answer = bot.answer(question)
    assert answer.refused and answer.answer and not answer.citations


def test_retrieved_lists_the_chunks_looked_at(bot: Bot) -> None:
    answer = bot.answer("缙云县有多少律师？")
    assert answer.retrieved and all(r.chunk_id in bot.catalog.chunks for r in answer.retrieved)
    assert answer.retrieved[0].doc_id == JINYUN_DOC
    assert answer.latency_ms > 0


def test_explicit_filters_narrow_the_reports(bot: Bot) -> None:
    from bot.query import Filters

    question = "法律援助案件办理了多少件？"
    assert bot.answer(question, filters=Filters(region="Zhonglou")).citations[0].doc_id == ZHONGLOU_DOC
    assert bot.answer(question, filters=Filters(region="浙江", year=2023)).citations[0].doc_id == JINYUN_DOC
    assert bot.answer(question, filters=Filters(region="环翠", year=2020)).refused
    assert bot.answer(question, filters=Filters(region="海淀区")).refused


def test_a_chinese_follow_up_to_an_english_question_reads_its_terms_in_english(bot: Bot) -> None:
    """钟楼区呢？ after the English credit question asks about 信用+调解 in 钟楼, which it lacks: a refusal that
    names the programme, not the English word "which"."""
    first = "which counties piloted the credit plus mediation mechanism"
    answer = bot.answer("钟楼区呢？", history=[(first, bot.answer(first).answer)])
    assert answer.refused and "信用+调解" in answer.answer and "which" not in answer.answer


@pytest.mark.parametrize("question", ["哪些报告提到了“法律明白人”？", "五份报告中有几份提到了“谁执法谁普法”？"])
def test_a_quoted_name_lists_every_report_that_says_it_and_no_other(bot: Bot, question: str) -> None:
    """Quotation marks ask for the words as written: the reports named are those whose text holds them."""
    name = question.split("“")[1].split("”")[0]
    holding = {d for d, doc in bot.catalog.docs.items() if name in doc.text}
    answer = bot.answer(question)
    assert len(holding) >= 2 and not answer.refused
    assert {c.doc_id for c in answer.citations} == holding
    assert all(name in c.text for c in answer.citations)
    assert "几份" not in question or f"{len(holding)}份" in answer.answer


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("哪几份报告提到了“法治带头人”或“法律明白人”？", ("法治带头人", "法律明白人")),
        ('Which reports mention training "law-savvy residents" (法律明白人)?', ("法律明白人",)),
    ],
)
def test_quoted_alternatives_and_chinese_in_english_list_every_report_that_says_them(
    bot: Bot, question: str, names: tuple[str, ...]
) -> None:
    """Quotes joined by 或 are alternatives; Chinese inside an English question is a name as written."""
    holding = {d for d, doc in bot.catalog.docs.items() if any(n in doc.text for n in names)}
    answer = bot.answer(question)
    assert len(holding) >= 2 and not answer.refused
    assert {c.doc_id for c in answer.citations} == holding


def test_a_figure_in_another_unit_does_not_answer_how_many_people(bot: Bot) -> None:
    """多少人 asks for people: a passage whose only figures are 件 or 个 is not its answer."""
    answer = bot.answer("缙云县一共有多少人参加了法治专项督察？")
    assert answer.refused or any(u in answer.answer for u in ("人", "名"))


def test_a_list_names_a_report_whose_sentence_holds_the_terms_as_fully_as_a_named_one(bot: Bot) -> None:
    """Zhonglou's 12348 sentence is long and about legal aid, so the embedder likes it less than Zhenjiang's; it
    still holds 12348 and 热线 as fully, so it says the same thing."""
    holding = {d for d, doc in bot.catalog.docs.items() if "12348热线" in doc.text}
    answer = bot.answer("哪些报告提到了12348热线？")
    assert len(holding) == 2 and {c.doc_id for c in answer.citations} == holding


def test_an_english_list_question_in_words_the_reports_never_use_is_refused_naming_the_word(bot: Bot) -> None:
    answer = bot.answer("Which districts report their annual budget for legal aid?")
    assert answer.refused and "预算" in answer.answer


def test_a_compare_takes_each_reports_whole_among_figures_that_name_the_asked_thing_alike(bot: Bot) -> None:
    """Jinyun's 新增复议案件118件 and 调解行政复议案件41件 name the asked term alike; the character echo preferred
    the second, a part (those mediated): the whole is the larger."""
    answer = bot.answer("缙云和临海哪里收到的行政复议案件更多？各多少件？")
    assert "118件" in answer.answer and "41件" not in answer.answer


def test_a_rank_takes_each_reports_whole_not_the_figure_of_its_likelier_sentence(bot: Bot) -> None:
    """Zhonglou's 公职律师有4名 sits in a sentence the model likes more than 执业律师475名's; both name 律师."""
    answer = bot.answer("Which region has the most practising lawyers?")
    assert "475名" in answer.answer and "4名" not in answer.answer


def test_a_district_of_a_covered_city_is_not_covered_by_that_citys_report(bot: Bot) -> None:
    """Changzhou is Zhonglou's city, but Xinbei District is not Zhonglou: refused by name, as 武进区 would be."""
    answer = bot.answer("How many lawyers does Xinbei District in Changzhou have?")
    assert answer.refused and "Xinbei District" in answer.answer
    answer = bot.answer("How many lawyers does Zhonglou District in Changzhou have?")
    assert not answer.refused and "475" in answer.answer


def test_a_count_of_what_the_passage_says_never_happened_is_refused_with_that_passage(bot: Bot) -> None:
    """“败诉了多少件” asks how many of something the report says there were none of (无败诉案件)."""
    answer = bot.answer("临海市2020年行政诉讼败诉了多少件？")
    assert answer.refused and "无败诉案件" in answer.answer
    assert [c.doc_id for c in answer.citations] == [LINHAI_DOC]
    assert not bot.answer("临海市2020年有没有败诉案件？").refused  # a yes-or-no question: “无败诉” answers it


def test_a_denial_reaches_across_its_clause_and_holds_for_a_sum_too(bot: Bot) -> None:
    """“未发生因行政合同签订履行导致的败诉和赔偿案件” denies a loss over a contract, though words stand between
    未发生 and 败诉; “一共赔了多少” is a sum question, which must check it as a single-figure question does."""
    answer = bot.answer("缙云县2023年在行政合同官司上败诉后一共赔偿了多少钱？")
    assert answer.refused and "未发生因行政合同签订履行导致的败诉" in answer.answer
    # one term far into a denial is what the denied thing modifies: 无败诉案件 does not deny 案件
    answer = bot.answer("临海市办理以市政府作为被告的行政应诉案件一共多少件次？")
    assert not answer.refused and "40件次" in answer.answer


def test_a_sum_question_answered_by_one_figure_in_the_best_sentence_quotes_it(bot: Bot) -> None:
    """“一共有多少个律所党支部”: the best sentence gives 18 of them; the 律所 figures of a weaker one are not summed."""
    answer = bot.answer("钟楼区律师行业党委一共下辖几个律所党支部？")
    assert not answer.refused and "18个律所党支部" in answer.answer and "合计" not in answer.answer


def test_a_term_cut_in_two_is_also_heard_by_its_short_form(bot: Bot) -> None:
    """律师事务所, cut as 律师/事务所, is 律所 in Zhonglou's report (共有律所32家): its figure is the one compared,
    not 18个律所党支部, whose measure names 律师 alone."""
    answer = bot.answer("环翠区和钟楼区的律师事务所各有多少家？")
    assert not answer.refused and "24家" in answer.answer and "32家" in answer.answer


def test_a_rate_whose_last_character_the_segmenter_glued_onward_is_still_named(bot: Bot) -> None:
    """“化解率达99.6%” is cut 化解/率达: the term 化解率 still names that figure, so Zhenjiang's rate is found."""
    answer = bot.answer("临海市和浈江区调解矛盾纠纷的化解率分别是多少？")
    assert not answer.refused and "99.6%" in answer.answer


def test_a_list_whose_reports_all_fall_below_the_list_bar_is_answered_from_the_best_passages(bot: Bot) -> None:
    """A paraphrased list question scores every report under the list bar; its best passages still pass the
    answer bar, as a fact question's would, so they answer it instead of a refusal (临海 and 钟楼 both set up
    a mediation committee for one trade: 金融纠纷, 家具商会)."""
    answer = bot.answer("哪些地方为某个行业专门新成立了人民调解委员会？")
    assert not answer.refused
    assert {LINHAI_DOC, ZHONGLOU_DOC} <= {c.doc_id for c in answer.citations}


def test_an_english_how_many_people_is_answered_only_by_a_count_of_people(bot: Bot) -> None:
    """“How many lawyers” counts people (律师 names a person): Linhai gives no head count of lawyers, only
    2家 firms, so it is refused with the figure missing; people advised in 人次 still answer “how many people”."""
    answer = bot.answer("How many lawyers work in Linhai?")
    assert answer.refused
    answer = bot.answer("How many people did Zhonglou's legal aid window advise?")
    assert not answer.refused and "736" in answer.answer
    answer = bot.answer("How many lawyers does Jinyun have?")
    assert not answer.refused and "103" in answer.answer


def test_an_english_premise_word_that_only_describes_a_thing_asserts_nothing(bot: Bot) -> None:
    """“one-stop” and “a reduced penalty” describe; “why did they stop…” asserts. Only the last is checked."""
    answer = bot.answer("Which towns in Zhenjiang got a one-stop mediation service?")
    assert not answer.refused and "犁市镇" in answer.answer
    assert bot.plan("Why did Zhenjiang stop its one-stop mediation service?", []).premise[0] == "stop"
    assert not bot.plan("How many cases got a reduced penalty in Zhonglou?", []).premise


def test_a_compare_takes_a_figure_whose_measure_the_term_only_modifies(bot: Bot) -> None:
    """公证书625件 counts notarial work though its head is 书: with no figure headed 公证, Jinyun's is that one."""
    answer = bot.answer("Did Jinyun or Zhenjiang issue more notarial documents?")
    assert not answer.refused
    assert "625" in answer.answer and "343" in answer.answer
    assert answer.answer.index("Jinyun") < answer.answer.index("Zhenjiang")


def test_a_follow_up_naming_another_place_asks_of_that_places_own_report(bot: Bot) -> None:
    """“钟楼区呢？” after a question on Zhenjiang's 2024 does not carry 2024 over: Zhonglou's report is 2023's."""
    answer = bot.answer("钟楼区呢？", history=[("浈江区2024年办理了多少件法律援助案件？", "517宗")])
    assert not answer.refused and "476" in answer.answer
    assert [c.doc_id for c in answer.citations] == [ZHONGLOU_DOC]


def test_a_first_half_report_answers_its_plans_for_the_second_half_but_not_its_figures(bot: Bot) -> None:
    answer = bot.answer("环翠区下半年打算怎样提升调解员的办案水平？")
    assert not answer.refused and "三查三评" in answer.answer
    answer = bot.answer("环翠区下半年办理了多少件法律援助案件？")
    assert answer.refused and "上半年" in answer.answer


def test_a_translation_the_reports_lack_is_heard_in_the_dictionarys_other_senses_before_refusing(bot: Bot) -> None:
    """certificates → 证书 (the glossary), which Huancui's report never uses; the dictionary also gives 证明,
    which it does (证明事项清单…214项). Where the glossary overrides the dictionary (head → 局长, whose senses
    are 所长, 主任), those senses are not the same thing and are not heard."""
    answer = bot.answer("How many certificates can Huancui residents swap for a signed pledge under the 2023 list?")
    assert not answer.refused and "214" in answer.answer
    assert bot.answer("What is the name of the head of the Jinyun justice bureau?").refused


def test_a_total_asked_without_how_many_is_computed_but_a_which_question_is_not_a_sum(bot: Bot) -> None:
    """“what is the total” asks for a number as “how many” does; “which town…combined law enforcement” names one."""
    answer = bot.answer("Put Jinyun's and Zhonglou's legal aid cases together: what is the total?")
    assert not answer.refused and "945" in answer.answer
    plan = bot.plan("Which town did Linhai choose to pilot combined law enforcement at the grassroots?", [])
    assert plan.kind == "fact" and plan.wants != "number"


@pytest.mark.parametrize("place", ["钟楼区2023年", "浈江区2024年"])
def test_a_total_of_what_the_report_never_names_is_refused_as_the_plain_question_is(bot: Bot, place: str) -> None:
    """“一共” makes a sum question, whose parts must be of the asked thing: 援助案件 and 认罪认罚案件 do not add up
    to 司法鉴定, which the report never names. The answer is the same refusal as without “一共”."""
    total, plain = bot.answer(f"{place}一共办理了多少件司法鉴定？"), bot.answer(f"{place}办理了多少件司法鉴定？")
    assert total.refused and "司法鉴定" in total.answer.split("\n")[0] and "合计" not in total.answer
    assert total.answer == plain.answer


def test_a_whole_and_its_own_part_are_not_added_up(bot: Bot) -> None:
    """“调处纠纷7068件,协议金额…,其中…纠纷69件”: 69 is part of the 7068, so “一共” is the 7068, quoted, not 7137."""
    answer = bot.answer("缙云县目前一共调处了多少件纠纷？")
    assert not answer.refused and "7068" in answer.answer and "7137" not in answer.answer


def test_a_figure_whose_measure_names_something_else_does_not_count_what_was_asked(bot: Bot) -> None:
    """“全局在编人员中,公职律师有4名”: 4名 counts 公职律师, not 在编人员, though the sentence names both; a figure
    whose measure names nothing (“…清单(2023年版)》,共214项”) still counts what its sentence is about."""
    staff = bot.answer("钟楼区司法局的在编人员有多少名？")
    assert staff.refused and "4名" not in staff.answer.split("\n")[0], staff.answer
    items = bot.answer("环翠区告知承诺制证明事项通用清单有多少项？")
    assert not items.refused and "214项" in items.answer, items.answer


def test_a_follow_up_of_a_follow_up_asks_what_the_first_question_asked(bot: Bot) -> None:
    """“环翠区呢？” after “钟楼区呢？” asks what that one asked of 缙云 (legal aid cases)."""
    history = [("缙云县2023年办理了多少件法律援助案件？", "469件"), ("钟楼区呢？", "476件")]
    answer = bot.answer("环翠区呢？", history)
    assert "485件" in answer.answer and {c.doc_id for c in answer.citations} == {CREDIT_DOC}, answer.answer


def test_input_that_asks_nothing_is_refused_even_after_a_turn(bot: Bot) -> None:
    """Punctuation alone asks nothing (it would otherwise borrow the last question's place), and one word that
    is neither a place nor a word the glossary knows is not a question about the reports."""
    history = [("缙云县2023年办理了多少件法律援助案件？", "469件")]
    marks = bot.answer("？？？", history)
    assert marks.refused and "Please enter a question" in marks.answer and not marks.citations
    for word in ("hello", "asdfghjkl"):
        assert bot.answer(word).refused, word


def test_a_missing_word_is_named_as_the_user_wrote_it(bot: Bot) -> None:
    """Not a Chinese word an English user never typed (生产, a part of 生产总值), nor a lower-cased GDP."""
    english = bot.answer("What is the GDP of Jinyun?")
    assert english.refused and "“GDP (生产总值)”" in english.answer.split("\n")[0], english.answer
    chinese = bot.answer("缙云县的GDP是多少？")
    assert chinese.refused and "“GDP”" in chinese.answer.split("\n")[0], chinese.answer


def test_a_compare_where_one_named_report_has_no_figure_says_so(bot: Bot) -> None:
    """Zhonglou gives 执业律师475名, Huancui no count of lawyers: the one figure is quoted, the other report named."""
    answer = bot.answer("Which had more lawyers, Zhonglou or Huancui?")
    assert not answer.refused and "475" in answer.answer
    assert "No matching figure found in the Huancui District" in answer.answer, answer.answer
    assert "没有找到对应的数字" not in bot.answer("缙云县有多少律师？").answer  # one report asked: nothing to add
