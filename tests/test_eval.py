"""`bot eval`: metrics that wrong answers cannot earn, files in the documented shape, the CI floor."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.api import Bot
from bot.evaluate import Question, compare, contains, judge, load_questions, score
from bot.judge import parse_scores
from bot.models import Answer, Citation, Retrieved
from tests.conftest import CREDIT_DOC, ROOT
from tests.fake_openai import FakeOpenAI, Reply

QUESTIONS = ROOT / "eval" / "questions.jsonl"
HELDOUT = ROOT / "eval" / "heldout.jsonl"  # never tuned on: it measures what the tuning carries over
FLOOR = 0.95  # measured 0.97 on the extractive backend (2026-11-23); a regression below this fails CI
HELDOUT_FLOOR = 0.85  # measured 0.886, then 0.907 (2026-11-23); the goal is 0.90
# Written after two sessions had looked at the first held-out file's failures, and committed before any change
# it could guide (commit d4aa4f6): the honest measure now.
HELDOUT2 = ROOT / "eval" / "heldout2.jsonl"
HELDOUT2_FLOOR = 0.70  # measured 0.69 at the commit that froze it, 0.775 after its failures were read
HELDOUT3 = ROOT / "eval" / "heldout3.jsonl"  # committed alone (726cc41); its failures read later that day
HELDOUT3_FLOOR = 0.70  # measured 0.725 unseen, 0.80 after its failures were read (2026-11-23)
HELDOUT4 = ROOT / "eval" / "heldout4.jsonl"  # committed alone (af4572f); its failures read the same session
HELDOUT4_FLOOR = 0.70  # measured 0.6875 at the commit that froze it, 0.75 after
HELDOUT5 = ROOT / "eval" / "heldout5.jsonl"  # committed alone (b8c7b92); its failures read from 1f6da05
HELDOUT5_FLOOR = 0.75  # measured 0.7375 on the code before the session that froze it, 0.80 at b8c7b92, 0.8375 after
HELDOUT6 = ROOT / "eval" / "heldout6.jsonl"  # committed alone (1f6da05); its failures read from 1b5807f
HELDOUT6_FLOOR = 0.72  # measured 0.725 at the commit that froze it, 0.7875 after its failures were read
HELDOUT7 = ROOT / "eval" / "heldout7.jsonl"  # committed alone (1b5807f); its failures read from 6ac842e
HELDOUT7_FLOOR = 0.75  # measured 0.7875 at the commit that froze it, 0.85 after its failures were read
HELDOUT8 = ROOT / "eval" / "heldout8.jsonl"  # committed alone (6ac842e); its failures read from 5c63016
HELDOUT8_FLOOR = 0.72  # measured 0.775 at the commit that froze it, 0.7875 before its failures were read
HELDOUT9 = ROOT / "eval" / "heldout9.jsonl"  # committed alone (5c63016); its failures read from 9484d67
HELDOUT9_FLOOR = 0.80  # measured 0.8625 at the commit that froze it, 0.8875 after its failures were read
HELDOUT10 = ROOT / "eval" / "heldout10.jsonl"  # committed alone (9484d67); unseen: only its scores are read
HELDOUT10_FLOOR = 0.65  # measured 0.6875 at the commit that froze it
ASK_KEYS = {"answer", "refused", "backend", "citations", "retrieved", "latency_ms", "changes", "notice", "fallback"}


def _run(bot: Bot, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "bot"
    env = {**os.environ, "BOT_DATA_DIR": str(bot.settings.data_dir), **(env or {})}
    return subprocess.run([exe, "eval", *args], env=env, capture_output=True, text=True, timeout=600)


def test_question_set_is_big_and_varied() -> None:
    questions = load_questions(QUESTIONS)
    assert len(questions) >= 60
    types = {q.type for q in questions}
    assert {"fact", "list", "compare", "unanswerable", "followup", "adversarial"} <= types
    assert {q.lang for q in questions} == {"zh", "en"}
    assert all(q.sources for q in questions if q.answerable)
    assert sum(bool(q.history) for q in questions) >= 3


@pytest.mark.parametrize(
    ("path", "size"),
    [(HELDOUT, 120)]
    + [(path, 80) for path in (HELDOUT2, HELDOUT3, HELDOUT4, HELDOUT5, HELDOUT6, HELDOUT7, HELDOUT8)]
    + [(HELDOUT9, 80), (HELDOUT10, 80)],
)
def test_heldout_set_is_big_and_varied(path: Path, size: int) -> None:
    questions = load_questions(path)
    assert len(questions) >= size
    assert {"fact", "list", "compare", "rank", "sum", "followup", "false_premise", "unanswerable"} <= {
        q.type for q in questions
    }
    assert sum(q.lang == "en" for q in questions) >= len(questions) / 4


@pytest.mark.parametrize(
    "path",
    [QUESTIONS, HELDOUT, HELDOUT2, HELDOUT3, HELDOUT4, HELDOUT5, HELDOUT6, HELDOUT7, HELDOUT8, HELDOUT9, HELDOUT10],
)
def test_keywords_are_in_their_source_reports(bot: Bot, path: Path) -> None:
    """Computed answers (sums, counts) are not in any report, so only those lines are exempt."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    computed = {row["id"] for row in lines if row.get("computed")}
    for q in load_questions(path):
        if q.id in computed:
            continue
        texts = [bot.catalog.docs[s].text + bot.doc_label(s) for s in q.sources]
        for group in q.keywords:
            assert any(contains(t, alt) for t in texts for alt in group), (q.id, group)


def test_eval_meets_the_floor_and_writes_its_files(bot: Bot, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = _run(bot, "--questions", str(QUESTIONS), "--out", str(out), "--min-score", str(FLOOR))
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    print(result.stdout)
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(load_questions(QUESTIONS))
    first = json.loads(lines[0])
    assert set(first) == {"id", "question"} | ASK_KEYS
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["overall"]["answer_accuracy"] >= FLOOR
    assert set(summary["by"]) == {"type", "lang"} and "unanswerable" in summary["by"]["type"]
    assert summary["llm"]["extractive"]["no_model_call"] == len(lines)  # no model: nothing to count as fallback
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Failures" in report and "answer_accuracy" in report
    assert "[105/105]" in result.stderr or f"[{len(lines)}/{len(lines)}]" in result.stderr


@pytest.mark.parametrize(
    ("path", "floor"),
    [
        (HELDOUT, HELDOUT_FLOOR),
        (HELDOUT2, HELDOUT2_FLOOR),
        (HELDOUT3, HELDOUT3_FLOOR),
        (HELDOUT4, HELDOUT4_FLOOR),
        (HELDOUT5, HELDOUT5_FLOOR),
        (HELDOUT6, HELDOUT6_FLOOR),
        (HELDOUT7, HELDOUT7_FLOOR),
        (HELDOUT8, HELDOUT8_FLOOR),
        (HELDOUT9, HELDOUT9_FLOOR),
        (HELDOUT10, HELDOUT10_FLOOR),
    ],
)
def test_heldout_meets_its_floor(bot: Bot, tmp_path: Path, path: Path, floor: float) -> None:
    out = tmp_path / "heldout"
    result = _run(bot, "--questions", str(path), "--out", str(out), "--min-score", str(floor))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["overall"]["answer_accuracy"] >= floor


def test_floor_above_the_score_fails(bot: Bot, tmp_path: Path) -> None:
    small = tmp_path / "q.jsonl"
    row = {"id": "a", "question": "缙云县现有律师多少人？", "keywords": [["999"]], "sources": ["000_09035effb4288de1"]}
    small.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    result = _run(bot, "--questions", str(small), "--out", str(tmp_path / "o"), "--min-score", "0.5")
    assert result.returncode == 1 and "below the floor" in result.stderr


def test_someone_elses_question_file_loads(bot: Bot, tmp_path: Path) -> None:
    foreign = tmp_path / "theirs.jsonl"
    rows = [
        {
            "id": "t1",
            "question": "钟楼区三级调解组织共调解案件多少件？",
            "answerable": True,
            "keywords": [["6578"]],
            "sources": ["004_6dbec4c0adf09e2a"],
            "type": "fact",
            "lang": "zh",
            "difficulty": "easy",
            "author": "x",
        },
        {
            "id": "t2",
            "question": "What is Zhonglou's GDP?",
            "answerable": False,
            "keywords": [],
            "sources": [],
            "type": "unanswerable",
            "lang": "en",
            "notes": {"any": "thing"},
        },
    ]
    foreign.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    result = _run(bot, "--questions", str(foreign), "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr[-1000:]
    assert json.loads(result.stdout.splitlines()[0])["answer_accuracy"] == 1.0


def _answer(text: str, refused: bool = False, cites: list[tuple[str, str]] | None = None) -> Answer:
    citations = [
        Citation(n=i, doc_id=d, title="", region="", section="", start=0, end=len(t), text=t)
        for i, (d, t) in enumerate(cites or [], start=1)
    ]
    return Answer(answer=text, refused=refused, backend="extractive", citations=citations)


@pytest.mark.parametrize(
    ("text", "keyword", "found"),
    [
        ("受理案件1440件", "40", False),
        ("受理案件40件", "40", True),
        ("共1,450件", "1450", True),
        ("共１４５０件", "1450", True),
        ("率2.58", "2.5", False),
        ("万人比2.5,", "2.5", True),
        ("Huancui District", "huancui", True),
    ],
)
def test_keyword_matching(text: str, keyword: str, found: bool) -> None:
    assert contains(text, keyword) is found


def test_wrong_answers_cannot_pass() -> None:
    q = Question(id="q", question="?", keywords=[["469"]], forbidden=["钟楼"], sources=["d1"])
    assert judge(q, _answer("共办理469件[1]"))[0]
    assert not judge(q, _answer("共办理4690件[1]"))[0]
    assert not judge(q, _answer("缙云469件，钟楼476件"))[0]
    assert not judge(q, _answer("469", refused=True))[0]
    assert not judge(q, _answer("469 " + "报告原文" * 300))[0]  # dumping text is not an answer
    unanswerable = Question(id="u", question="?", answerable=False)
    assert judge(unanswerable, _answer("报告中没有找到", refused=True))[0]
    assert not judge(unanswerable, _answer("大约100件"))[0]


class _Corpus:
    def chunk_text(self, chunk_id: str) -> str:
        return {"c1": "法律援助案件469件", "c2": "无关内容"}.get(chunk_id, "")

    def doc_label(self, doc_id: str) -> str:
        return {"d1": "缙云县 Jinyun", "d2": "钟楼区 Zhonglou"}.get(doc_id, "")


def test_grounding_citations_and_retrieval_metrics() -> None:
    q = Question(id="q", question="?", keywords=[["469"]], sources=["d1"])
    a = _answer("469件[1][2]", cites=[("d1", "法律援助案件469件"), ("d2", "无关")])
    a.retrieved = [Retrieved(doc_id="d2", chunk_id="c2", score=1), Retrieved(doc_id="d1", chunk_id="c1", score=0.5)]
    row = score(q, a, _Corpus(), k=8)
    assert row["grounded"] and row["citation_precision"] == 0.5 and row["citation_recall"] == 1.0
    assert row["evidence_recall"] == 1.0 and row["rr"] == 0.5
    ungrounded = score(q, _answer("469件[1]", cites=[("d1", "别的段落")]), _Corpus(), k=8)
    assert ungrounded["correct"] and not ungrounded["grounded"]
    assert score(q, a, _Corpus(), k=1)["evidence_recall"] == 0.0


def test_compare_lists_fixed_and_broken(tmp_path: Path) -> None:
    for name, states in (("a", [True, False, True]), ("b", [False, True, True])):
        (tmp_path / name).mkdir()
        rows = [{"id": f"q{i}", "correct": ok, "why": "" if ok else "missing 469"} for i, ok in enumerate(states)]
        (tmp_path / name / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = compare(tmp_path / "a", tmp_path / "b")
    assert "1 fixed, 1 broke" in text and "fixed  q0" in text and "broke  q1: missing 469" in text


def test_llm_judge_scores_on_the_chat_model(bot: Bot, tmp_path: Path) -> None:
    assert parse_scores('{"faithfulness": 0.9, "relevance": 1}') == {"faithfulness": 0.9, "relevance": 1.0}
    fake = FakeOpenAI()
    try:
        fake.script(Reply("环翠区推行了“信用+调解”工作机制[1]。"), Reply('{"faithfulness": 0.8, "relevance": 0.6}'))
        small = tmp_path / "q.jsonl"
        small.write_text(
            json.dumps(
                {
                    "id": "j",
                    "question": "哪些区县推行了信用+调解机制？",
                    "keywords": [["环翠"]],
                    "sources": [CREDIT_DOC],
                    "type": "list",
                },
                ensure_ascii=False,
            )
            + "\n"
        )
        env = {"BOT_OPENAI_BASE_URL": fake.url}
        result = _run(
            bot, "--questions", str(small), "--out", str(tmp_path / "o"), "--backend", "openai", "--judge", env=env
        )
        assert result.returncode == 0, result.stderr[-1500:]
        overall = json.loads((tmp_path / "o" / "summary.json").read_text())["overall"]
        assert overall["faithfulness"] == 0.8 and overall["answer_relevance"] == 0.6
        assert len(fake.requests) == 2
    finally:
        fake.close()


def test_judge_needs_an_llm_backend(bot: Bot, tmp_path: Path) -> None:
    result = _run(bot, "--questions", str(QUESTIONS), "--out", str(tmp_path / "o"), "--judge")
    assert result.returncode == 2 and "--judge needs an LLM backend" in result.stderr
    shutil.rmtree(tmp_path / "o", ignore_errors=True)
