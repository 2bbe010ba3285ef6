"""The web app at API level: gradio_client against the running app, the viewer route, uploads, feedback."""

from __future__ import annotations

import gc
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client

from bot.api import Bot
from bot.config import Settings
from bot.feedback import record_feedback
from bot.models import Answer
from bot.ui import ChatUI, build_app, render
from bot.ui_tabs import Library
from bot.uploads import UploadError
from tests.conftest import CREDIT_DOC
from tests.servers import running_app


@pytest.fixture(scope="module")
def app_url(bot: Bot) -> Iterator[str]:
    with running_app(bot) as url:
        yield url


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_gradio_client_asks_and_gets_citations(app_url: str) -> None:
    result = Client(app_url, verbose=False).predict("哪些区县推行了信用+调解机制？", api_name="/ask")
    assert not result["refused"] and "环翠" in result["answer"]
    assert result["citations"][0]["doc_id"] == CREDIT_DOC


def test_viewer_highlights_the_cited_passage(app_url: str, bot: Bot) -> None:
    answer = bot.answer("哪些区县推行了信用+调解机制？")
    c = answer.citations[0]
    status, page = _get(f"{app_url}/passage/{c.doc_id}?start={c.start}&end={c.end}")
    assert status == 200
    assert '<mark id="hit">二是推行“信用+调解”工作机制。' in page
    assert bot.catalog.docs[c.doc_id].meta.title in page


@pytest.mark.parametrize(
    "path",
    [
        "/passage/..%2F..%2Fetc%2Fpasswd",
        "/passage/%2Fetc%2Fpasswd",
        "/passage/..%252F..%252Fseeds%252Fmanifest.toml",
        "/passage/manifest",
        "/passage/000_09035effb4288de1.txt",
        "/passage/%2e%2e",
        "/passage/../../etc/passwd",
    ],
)
def test_viewer_serves_only_indexed_reports(app_url: str, path: str) -> None:
    status, page = _get(app_url + path)
    assert status == 404 and "root:" not in page


def test_files_outside_the_corpus_are_not_served(app_url: str) -> None:
    for path in ("/file=/etc/passwd", "/gradio_api/file=/etc/passwd", "/gradio_api/file=seeds/manifest.toml"):
        status, page = _get(app_url + path)
        assert status in (403, 404) and "root:" not in page


def test_markup_in_answers_renders_as_text() -> None:
    page = render(Answer(answer="<script>alert(1)</script>[1]", refused=False, backend="extractive"))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_refusals_look_different_and_keep_related_passages(bot: Bot) -> None:
    page = render(bot.answer("缙云县2023年的财政预算总额是多少？"))
    assert 'class="answer refusal"' in page and "可能相关的段落 Possibly related" in page


def test_figure_exports_share_one_folder_that_goes_with_the_app(bot: Bot) -> None:
    """Every chart view wrote its CSV into a new temporary folder that was never removed (168 on one machine)."""
    lib = Library(bot)
    paths = {Path(lib.figures(m)[2]) for m in ["法律援助案件", "行政复议案件", "法律援助案件"]}
    assert len(paths) == 2 and len({p.parent for p in paths}) == 1
    assert Path(next(iter(paths))).read_text(encoding="utf-8").startswith("\ufeff")
    assert not list(next(iter(paths)).parent.glob("*.part"))
    folder = next(iter(paths)).parent
    del lib
    gc.collect()
    assert not folder.exists()


def test_upload_is_indexed_and_citable_at_once(fresh_settings: Settings) -> None:
    bot = Bot(fresh_settings)
    lib = Library(bot)
    text = "2022年,西湖区司法局推行“枫叶+调解”工作机制,全年调处纠纷321件。"
    bot.add_upload("西湖区 报告 (1).txt", text.encode("gbk"))
    assert any(choice.startswith("西湖区") for choice in lib.region_choices())
    answer = bot.answer("西湖区2022年调处纠纷多少件？")
    assert not answer.refused and answer.citations[0].doc_id.startswith("upload_")
    assert sorted(p.name for p in fresh_settings.seeds_dir.iterdir()) == sorted(
        p.name for p in (Path(__file__).parent.parent / "seeds").iterdir()
    )


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("report.pdf", b"MZ\x90\x00 an executable", "the content is binary, not .pdf"),
        ("report.docx", b"just text pretending", "the content is txt, not .docx"),
        ("report.exe", "2022年,某县司法局".encode(), "unsupported type .exe"),
        ("empty.txt", b"   ", "empty"),
        ("big.txt", b"a" * (21 * 1024 * 1024), "over the 20 MB limit"),
    ],
)
def test_bad_uploads_are_refused_with_the_reason(fresh_settings: Settings, name: str, data: bytes, reason: str) -> None:
    bot = Bot(fresh_settings)
    with pytest.raises(UploadError, match=reason):
        bot.add_upload(name, data)
    uploads = fresh_settings.data_dir / "uploads"
    assert not uploads.exists() or not list(uploads.iterdir())


def test_feedback_keeps_one_line_per_answer_and_names_it(fresh_settings: Settings) -> None:
    path = fresh_settings.data_dir / "feedback.jsonl"
    first = record_feedback(path, "m1", "up", "很好", {"turn": 1, "question": "缙云县有多少律师？"})
    second = record_feedback(path, "m2", "down", "", {"turn": 2, "question": "临海呢？"})
    again = record_feedback(path, "m1", "down", "  改主意了 ", {"turn": 1, "question": "缙云县有多少律师？"})
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert not first["replaced"] and not second["replaced"] and again["replaced"]
    assert [(e["message_id"], e["rating"], e["turn"]) for e in entries] == [("m2", "down", 2), ("m1", "down", 1)]
    assert entries[1]["comment"] == "改主意了" and entries[1]["question"] == "缙云县有多少律师？"
    record_feedback(path, "m2", "up", "", {"turn": 2, "question": "临海呢？"})
    assert [json.loads(line)["comment"] for line in path.read_text(encoding="utf-8").splitlines()] == ["改主意了", ""]


def test_app_has_its_chat_filters_and_upload(bot: Bot) -> None:
    import gradio as gr

    parts = list(build_app(bot).blocks.values())
    by_id = {p.elem_id: p for p in parts if getattr(p, "elem_id", None)}
    assert isinstance(by_id["chat"], gr.Chatbot)
    assert by_id["question"].max_length == bot.settings.max_question_chars
    dropdowns = {p.label: [str(c) for c in p.choices] for p in parts if isinstance(p, gr.Dropdown)}
    assert any("环翠区" in choice for choice in dropdowns["地区 Region"])
    assert any("2023" in choice for choice in dropdowns["年份 Year"])
    (upload,) = [p for p in parts if isinstance(p, gr.File)]
    assert set(upload.file_types) >= {".txt", ".pdf", ".docx"}


def test_chat_streams_llm_tokens_and_lists_only_configured_backends(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fake_openai import FakeOpenAI, Reply

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert bot.settings.configured_backends() == ["extractive"]
    fake = FakeOpenAI()
    try:
        settings = bot.settings.model_copy(update={"openai_base_url": fake.url})
        assert settings.configured_backends()[:2] == ["extractive", "openai"]
        ui = ChatUI(Bot(settings))
        fake.script(Reply("环翠区推行了“信用+调解”工作机制，提高调解协议履行效率[1]。"))
        shown, box, pending = ui.start("哪些区县推行了信用+调解机制？", [])
        assert box == "" and shown[0]["role"] == "user" and 'class="working"' in shown[1]["content"]
        updates = list(ui.respond(pending, shown, {}, "全部 All", "全部 All", "openai"))
        drafts = [chat[-1]["content"] for chat, _ in updates[:-1]]
        assert len(drafts) > 3 and all('class="draft"' in d for d in drafts)  # marked unverified while streaming
        assert len({len(d) for d in drafts}) == len(drafts)  # each update adds tokens to the same message
        chat, turns = updates[-1]
        final = chat[-1]["content"]
        assert 'class="draft"' not in final and 'class="cite"' in final and "信用+调解" in final
        assert '<details class="sources">' in final and "来源 Sources (" in final
        assert turns["1"]["backend"] == "openai" and turns["1"]["turn"] == 1
    finally:
        fake.close()


def test_a_comment_sent_after_its_rating_does_not_claim_to_replace_an_earlier_rating(
    bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """👍 then a comment is one rating with a comment; 👍 then 👎 replaces the first."""
    import gradio as gr

    monkeypatch.setattr(bot, "settings", bot.settings.model_copy(update={"data_dir": tmp_path}))
    ui = ChatUI(bot)
    shown, _, pending = ui.start("缙云县2023年办理了多少件法律援助案件？", [])
    chat, turns = list(ui.respond(pending, shown, {}, "全部 All", "全部 All", "extractive"))[-1]
    said, _, rated = ui.rate(turns, "", gr.LikeData(None, {"index": len(chat) - 1, "value": "", "liked": True}))
    assert "Thanks" in said and "replaces" not in said
    said, _ = ui.send_comment(turns, rated, "很有用")
    assert "comment attached" in said and "replaces" not in said
    said, _, _ = ui.rate(turns, "", gr.LikeData(None, {"index": len(chat) - 1, "value": "", "liked": False}))
    assert "replaces your earlier rating" in said
    assert len((tmp_path / "feedback.jsonl").read_text(encoding="utf-8").splitlines()) == 1
