"""The library behind the web app's tabs and chat: measures and figures per report, the reports list, removing
an upload, refusals that name the user's file, and explicit filters that win over earlier turns."""

from __future__ import annotations

import csv
import io

from bot.api import Bot
from bot.chat import describe_filters, filters_from, history_for
from bot.compare import measures, rows_for, to_csv
from bot.config import Settings
from bot.reports import list_reports, remove_upload
from bot.uploads import UploadError, explain
from tests.conftest import JINYUN_DOC, LINHAI_DOC

WESTLAKE = "2022年,西湖区司法局推行“枫叶+调解”工作机制,全年调处纠纷321件,办理法律援助案件77件。"


def test_measures_come_from_the_figures_and_compare_reports(bot: Bot) -> None:
    found = measures(bot.figures)
    assert {"法律援助案件", "行政复议案件", "律师", "矛盾纠纷"} <= set(found)
    assert found.index("法律援助案件") < found.index("律师")  # reported by more reports, listed first
    metas = {d: r.meta for d, r in bot.catalog.docs.items()}
    rows = rows_for(bot.figures, metas, "法律援助案件")
    by_region = {r.region: r for r in rows}
    assert {"缙云县", "浈江区", "环翠区", "临海市"} <= set(by_region)
    jinyun = by_region["缙云县"]
    assert jinyun.value == 469 and jinyun.shown == "469件"
    text = bot.catalog.docs[JINYUN_DOC].text
    assert "469件" in text[jinyun.start : jinyun.end]  # the passage the chart links to holds the figure


def test_a_rate_is_its_own_measure_not_a_count_of_the_same_word(bot: Bot) -> None:
    """化解率达99.6% is the rate 化解率 (cut 化解/率达 by the segmenter), not a figure of 化解 beside 化解12件, and
    率达 is not a measure; the court-appearance rate compares the two reports that give it."""
    found = measures(bot.figures)
    assert "率达" not in found and {"化解率", "应诉率"} <= set(found)
    metas = {d: r.meta for d, r in bot.catalog.docs.items()}
    assert {r.unit for r in rows_for(bot.figures, metas, "化解率")} == {"%"}
    assert "%" not in {r.unit for r in rows_for(bot.figures, metas, "化解")}
    appearance = rows_for(bot.figures, metas, "应诉率")
    assert {(r.region, r.shown) for r in appearance} == {("浈江区", "100%"), ("钟楼区", "100%")}


def test_figures_export_as_csv_a_spreadsheet_reads(bot: Bot) -> None:
    metas = {d: r.meta for d, r in bot.catalog.docs.items()}
    rows = rows_for(bot.figures, metas, "行政复议案件")
    data = to_csv("行政复议案件", rows)
    assert data.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(data.lstrip("\ufeff"))))
    assert len(table) == len(rows) >= 3
    assert {r["region"] for r in table} >= {"浈江区", "钟楼区"} and {r["value"] for r in table} >= {"125", "122"}


def test_explicit_filters_override_the_place_earlier_turns_implied(bot: Bot) -> None:
    earlier = bot.answer("缙云县有多少律师？")
    history = [("缙云县有多少律师？", earlier.answer)]
    filters = filters_from("全部 All", "2020")
    kept, dropped = history_for(bot, "那法律援助案件呢？", history, filters)
    assert dropped and kept == []
    answer = bot.answer("那法律援助案件呢？", kept, filters=filters)
    assert not answer.refused and {c.doc_id for c in answer.citations} == {LINHAI_DOC}
    assert "2020" in describe_filters(filters, dropped) and "override" in describe_filters(filters, dropped)
    # Filters that agree with the earlier turn keep it: the follow-up still means 缙云.
    same, dropped = history_for(bot, "那法律援助案件呢？", history, filters_from("全部 All", "2023"))
    assert same == history and not dropped


def test_reports_list_seeds_and_uploads_and_removes_only_uploads(fresh_settings: Settings) -> None:
    bot = Bot(fresh_settings)
    bot.add_upload("西湖区报告.txt", WESTLAKE.encode())
    reports = list_reports(bot)
    assert [r.uploaded for r in reports] == [False] * 5 + [True]
    upload = reports[-1]
    assert upload.file_name == "西湖区报告.txt" and upload.chunks >= 1 and upload.added and "西湖区" in upload.region
    seed = reports[0]
    try:
        remove_upload(bot, seed.doc_id)
        raise AssertionError("a seed was removable")
    except ValueError:
        pass
    remove_upload(bot, upload.doc_id)
    assert upload.doc_id not in bot.catalog.docs and len(list_reports(bot)) == 5
    assert not list((fresh_settings.data_dir / "uploads").iterdir())
    restarted = Bot(fresh_settings)  # gone for good, not back after a restart
    assert upload.doc_id not in restarted.catalog.docs


def test_refused_uploads_are_explained_in_both_languages_by_file_name(fresh_settings: Settings) -> None:
    bot = Bot(fresh_settings)
    bot.add_upload("first.txt", WESTLAKE.encode())
    titles = {d: r.meta.title for d, r in bot.catalog.docs.items()}
    try:
        bot.add_upload("我的副本.txt", WESTLAKE.encode())
        raise AssertionError("the same text was indexed twice")
    except UploadError as exc:
        message = explain("我的副本.txt", str(exc), titles)
    assert "我的副本.txt" in message and "内容相同" in message and "same text" in message
    assert "upload_" not in message
    seed_text = bot.catalog.docs[JINYUN_DOC].text.encode()
    try:
        bot.add_upload("jinyun copy.txt", seed_text)
        raise AssertionError("a seed's text was indexed twice")
    except UploadError as exc:
        message = explain("jinyun copy.txt", str(exc), titles)
    assert JINYUN_DOC not in message and bot.catalog.docs[JINYUN_DOC].meta.title in message
    big = explain("big.pdf", "big.pdf: 25.0 MB is over the 20 MB limit", titles)
    assert "超过 20 MB" in big and "over the 20 MB limit" in big
