"""The fitted evidence model and the decisions made on it: typed refusals, figures, history, reproducible fit."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from bot.api import Bot
from bot.evaluate import load_questions
from bot.evidence_model import EvidenceModel
from bot.features import FEATURES, TermStats, split_unused
from bot.figure_choice import one_unit
from bot.figures import extract_figures, measure_match
from bot.models import Evidence
from bot.quotes import joined
from tests.conftest import CREDIT_DOC, JINYUN_DOC, LINHAI_DOC, ROOT, ZHONGLOU_DOC

SETS = [ROOT / "eval" / "questions.jsonl", ROOT / "eval" / "heldout.jsonl"]
SETS += [ROOT / "eval" / f"heldout{n}.jsonl" for n in range(2, 11)]
UNRELATED = ("浈江区获得了哪些荣誉？", "据浈江区（韶关市）2024年报告：…[1]")


def test_committed_model_matches_the_features() -> None:
    model = EvidenceModel.load()
    assert len(model.weights) == len(FEATURES)
    assert 0 < model.answer_bar < 1 and 0 < model.list_bar < 1


def test_figures_keep_measure_unit_and_offsets(bot: Bot) -> None:
    text = bot.catalog.docs[JINYUN_DOC].text
    figures = extract_figures(JINYUN_DOC, text)
    aid = next(f for f in figures if f.shown == "469件")
    assert "法律援助案件" in aid.measure and aid.unit == "件" and aid.value == 469
    assert text[aid.start : aid.end] == "469件"
    assert not any(f.shown.endswith("年") for f in figures)  # 2023年 is a year, not a quantity


@pytest.mark.parametrize(
    "question",
    ["缙云县和钟楼区哪个办理的法律援助案件更多？各是多少？", "钟楼区和缙云县哪个法律援助案件更多？"],
    ids=["with-how-many", "which-is-more-alone"],  # asking which is more asks for the amounts, said or not
)
def test_compare_computes_the_winner_and_cites_each_figure(bot: Bot, question: str) -> None:
    answer = bot.answer(question)
    assert not answer.refused, answer.answer
    assert answer.answer.startswith("钟楼区") and "476件" in answer.answer and "469件" in answer.answer
    assert {c.doc_id for c in answer.citations} == {JINYUN_DOC, ZHONGLOU_DOC}


def test_sum_within_one_report_adds_its_parts(bot: Bot) -> None:
    answer = bot.answer("缙云县公证处出具的涉外和涉港澳台公证书一共多少件？")
    assert not answer.refused, answer.answer
    assert "271" in answer.answer and "244件" in answer.answer and "27件" in answer.answer
    assert "625" not in answer.answer.split("：")[0]  # the whole is not added to its parts


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("韶关市武江区有多少律师？", "place"),  # the city is covered, the district is not
        ("缙云县2019年办理了多少件法律援助案件？", "period"),
        ("为什么环翠区暂停了信用+调解工作机制？", "premise"),
        ("Why did Huancui suspend its credit plus mediation mechanism?", "premise"),
        ("缙云县推行信用+调解机制取得了什么成效？", "absent"),
    ],
)
def test_refusals_say_why(bot: Bot, question: str, kind: str) -> None:
    found = bot.search(question, [])
    assert found.decision.refusal is not None and found.decision.refusal.kind == kind, found.decision
    assert bot.answer(question).refused


def test_premise_refusal_shows_what_the_report_does_say(bot: Bot) -> None:
    answer = bot.answer("为什么环翠区暂停了信用+调解工作机制？")
    assert answer.refused and "暂停" in answer.answer.splitlines()[0]
    assert answer.citations and answer.citations[0].doc_id == CREDIT_DOC


def test_count_of_reports(bot: Bot) -> None:
    answer = bot.answer("有几份报告提到了信用+调解？")
    assert not answer.refused and answer.answer.startswith("共有1份报告")


def test_followup_borrows_only_what_it_lacks(bot: Bot) -> None:
    history = [("缙云县有多少律师？", "据缙云县报告：现有律师103人[1]")]
    assert bot.answer("钟楼区呢？", history=history).citations[0].doc_id == ZHONGLOU_DOC
    complete = "临海市办理涉企法律援助案件多少件？"
    fresh, after = bot.answer(complete), bot.answer(complete, history=history)
    assert fresh.answer == after.answer and after.citations[0].doc_id == LINHAI_DOC


def test_a_compounds_words_count_only_toward_the_compound() -> None:
    """律师事务所 and its words 律师, 事务所 are one term: “律师事务所及律师的投诉” does not outrank “现有律所”."""
    stock, complaints = extract_figures("d", "辖区内现有律所24家,针对律师事务所及律师的投诉共13起。")
    firms = [(["律师事务所", "律所"], 2.5, ("律师", "事务所")), (["数量"], 1.0, ())]
    assert measure_match(stock, firms) == measure_match(complaints, firms) == 2.5 / 3.5


def test_a_term_names_the_compound_it_heads_not_one_it_begins() -> None:
    """集中学习 is a kind of 学习 (the head ends a Chinese compound); 公证书 is a document, not a kind of 公证."""
    study, deeds = extract_figures("d", "组织党组集中学习14次,公证处出具公证书625件。")
    assert measure_match(study, [(["学习"], 1.0, ())]) == 1.0
    assert measure_match(deeds, [(["公证"], 1.0, ())]) == 0.0
    # where a figure must be chosen, one the term only modifies still ranks below a head match, above none
    assert 0.0 < measure_match(deeds, [(["公证"], 1.0, ())], modified=0.5) < 1.0
    assert measure_match(deeds, [(["公证员"], 1.0, ())], modified=0.5) == 0.0


def test_a_compound_is_named_in_part_by_its_head_not_by_its_modifier() -> None:
    """行政应诉案件 shares 行政 with 行政复议 but is no 复议 case; 复议纠错 is one, in part (临海: 80件 of 复议)."""
    review, lawsuits = extract_figures("d", "接收行政复议申请80件,复议纠错10件;办理行政应诉案件40件次。")[::2]
    term = [(["行政复议"], 1.0, ("行政", "复议"))]
    assert measure_match(review, term) == 1.0
    assert measure_match(lawsuits, term) == 0.0
    (corrected,) = extract_figures("d", "复议纠错10件。")
    assert measure_match(corrected, term) == 0.5


def test_quotes_that_follow_one_another_become_one() -> None:
    """The runner-up sentence right after the best one is quoted with it; one elsewhere stays its own quote."""
    best, next_one = Evidence("d", "s", 100, 140, 0.3, "c"), Evidence("d", "s", 140, 180, 0.2, "c")
    apart = Evidence("d", "s", 300, 340, 0.2, "c")
    quotes = joined([best, next_one, apart])
    assert [(e.start, e.end) for e in quotes] == [(100, 180), (300, 340)]


def test_a_span_of_years_is_a_figure_and_a_year_is_not() -> None:
    figures = extract_figures("d", "2023年,连续9年送法进招聘会,近3年办理案件120件。")
    assert [(f.value, f.unit) for f in figures] == [(9, "年"), (3, "年"), (120, "件")]


def test_only_like_figures_add_up() -> None:
    figures = extract_figures("d", "共审查19个镇(街道)党政规范性文件40件、政府合同657件、重大执法决定41件。")
    assert [f.value for f in one_unit(figures)] == [40, 657, 41]


def test_a_question_word_the_reports_never_use_counts_as_its_words() -> None:
    """立案就 (就 glued on by the question's grammar) is 立案; 量子调解's unused 量子 stays, counted as unknown."""
    stats = TermStats(["接收行政复议申请80件,立案前化解36件", "调解纠纷100件"])
    assert split_unused([["立案就"], ["量子调解"], ["调解纠纷"]], stats) == [["立案"], ["量子"], ["调解"], ["调解纠纷"]]


def test_a_figure_asked_with_no_place_is_the_previous_turns_places(bot: Bot) -> None:
    """A figure is always some place's: “挽回了多少经济损失？” after a question on 缙云 asks about 缙云; a question
    on the reports as a set (“五份报告中有几份…”) borrows nothing."""
    history = [("缙云县办理了多少件法律援助案件？", "据缙云县报告：469件[1]")]
    after = bot.answer("挽回了多少经济损失？", history=history)
    assert {c.doc_id for c in after.citations} == {JINYUN_DOC} and "1500" in after.answer, after.answer
    assert bot.plan("五份报告中有几份提到了律师？", history).doc_ids is None


def test_a_complete_question_is_answered_the_same_after_any_turn(bot: Bot) -> None:
    """Every question of every set that has no history of its own, fresh and after an unrelated turn."""
    changed = []
    for path in SETS:
        for q in load_questions(path):
            if q.history:
                continue
            fresh, after = bot.answer(q.question), bot.answer(q.question, history=[UNRELATED])
            if (fresh.answer, fresh.refused) != (after.answer, after.refused):
                changed.append(q.id)
    assert not changed, changed


def test_refitting_reproduces_the_committed_parameters(bot: Bot) -> None:
    env = {**os.environ, "BOT_DATA_DIR": str(bot.settings.data_dir), "BOT_SEEDS_DIR": str(bot.settings.seeds_dir)}
    script = ROOT / "eval" / "fit_evidence.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], env=env, capture_output=True, text=True, timeout=1200
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "reproduced" in result.stdout


def test_a_reproduction_is_the_same_model_in_what_it_decides() -> None:
    """Float noise may move a weight a little; a changed feature list, bar step or best sentence is no
    reproduction, nor are probabilities that move by more than the tolerance."""
    spec = importlib.util.spec_from_file_location("fit_evidence", ROOT / "eval" / "fit_evidence.py")
    fit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fit)
    n = len(FEATURES)  # a model whose probabilities on these rows lie around 0.5, where changes show
    committed = {"features": list(FEATURES), "weights": [1.0] * n, "bias": -n / 2, "answer_bar": 0.1, "list_bar": 0.3}
    rng = np.random.default_rng(0)
    x, groups = rng.random((60, n)), np.repeat(np.arange(6), 10)
    nudged = {**committed, "weights": [w + 1e-4 for w in committed["weights"]]}
    assert fit.difference(committed, nudged, x, groups) <= fit.TOLERANCE
    assert fit.difference(committed, {**committed, "bias": committed["bias"] + 3.0}, x, groups) > fit.TOLERANCE
    assert fit.difference(committed, {**committed, "list_bar": committed["list_bar"] + 0.05}, x, groups) == float("inf")
    flipped = {**committed, "weights": [-w for w in committed["weights"]]}
    assert fit.difference(committed, flipped, x, groups) == float("inf")
