"""Bounded work per file: zip bombs refused before inflating, unpunctuated text cut into bounded chunks,
UTF-16/32 read as text, links and special files refused unless asked for."""

from __future__ import annotations

import os
from pathlib import Path

import docx
import pytest

from bot.api import Bot
from bot.chunking import MAX_SENTENCE_CHARS, chunk_document
from bot.config import Settings
from bot.corpus import CorpusError, read_document
from bot.files import MAX_UNZIPPED_BYTES
from bot.uploads import UploadError
from tests.documents import zip_bomb

REPORT = "西湖区司法局2022年工作报告\n2022年,西湖区司法局推行“枫叶+调解”工作机制,全年调处纠纷321件。\n"


def test_a_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "bomb.docx", MAX_UNZIPPED_BYTES // 2**20 + 36)
    assert bomb.stat().st_size < 2 * 2**20
    with pytest.raises(CorpusError, match="zip bomb") as info:
        read_document(bomb)
    assert "bomb.docx" in str(info.value)


def test_a_zip_bomb_upload_is_refused_and_nothing_is_kept(fresh_settings: Settings, tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "bomb.docx", MAX_UNZIPPED_BYTES // 2**20 + 36)
    bot = Bot(fresh_settings)
    with pytest.raises(UploadError, match="zip bomb"):
        bot.add_upload("bomb.docx", bomb.read_bytes())
    assert not list((fresh_settings.data_dir / "uploads").iterdir())
    assert len(bot.catalog.docs) == 5


def test_unpunctuated_text_is_cut_into_bounded_chunks() -> None:
    text = "2022年," + "巨县司法局推进法治建设" * 80_000 + "。\n结束。\n"
    chunks = chunk_document("long", text, 360)
    assert max(c.end - c.start for c in chunks) <= MAX_SENTENCE_CHARS + 360
    assert all(text[c.start : c.end] == c.text for c in chunks)
    assert sum(c.end - c.start for c in chunks) >= len(text.strip()) - len(chunks)  # nothing dropped


def test_a_report_with_a_long_unpunctuated_line_is_indexed_in_bounded_chunks(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "long_line.txt"
    path.write_text(REPORT + "附表" + "调处纠纷情况统计数据" * 500 + "\n", encoding="utf-8")
    bot = Bot(fresh_settings)
    assert bot.ingest([path]).added == ["long_line"]
    spans = [c.end - c.start for c in bot.catalog.chunks.values() if c.doc_id == "long_line"]
    assert len(spans) >= 5 and max(spans) <= MAX_SENTENCE_CHARS + fresh_settings.chunk_chars
    assert "321" in bot.answer("西湖区调处纠纷多少件？").answer


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
def test_utf16_and_utf32_text_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "wide.txt"
    path.write_bytes(REPORT.encode(encoding))  # "utf-16"/"utf-32" write a BOM, the others none
    doc = read_document(path)
    assert "全年调处纠纷321件" in doc.text and doc.meta.county == "西湖区"


def test_utf16_upload_is_accepted(fresh_settings: Settings) -> None:
    bot = Bot(fresh_settings)
    report = bot.add_upload("西湖.txt", REPORT.encode("utf-16"))
    assert len(report.added) == 1
    assert "321" in bot.answer("西湖区调处纠纷多少件？").answer


def test_a_symlink_is_refused_unless_followed(fresh_settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    real = tmp_path / "xihu_report.txt"
    real.write_text(REPORT, encoding="utf-8")
    (folder / "xihu.txt").symlink_to(real)
    bot = Bot(fresh_settings)
    report = bot.ingest([folder])
    assert not report.added and {name for name, _ in report.failed} == {"passwd.txt", "xihu.txt"}
    assert all("symbolic link" in reason for _, reason in report.failed)
    assert "root:" not in bot.answer("root").answer
    (folder / "passwd.txt").unlink()
    assert bot.ingest([folder], follow_links=True).added == ["xihu"]


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(CorpusError, match="not a regular file"):
        read_document(fifo)


def _balloon(data: bytes, name: str) -> str:
    return str(len(bytearray(4 * 2**30)))


def _spin(data: bytes, name: str) -> str:
    while True:
        pass


def test_a_parser_that_balloons_or_spins_costs_only_its_child(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.files

    with pytest.raises(CorpusError, match=r"hostile\.pdf: reading it needed over 1024 MB"):
        bot.files.bounded(_balloon, b"", "hostile.pdf")
    monkeypatch.setattr(bot.files, "PARSE_SECONDS", 1)
    with pytest.raises(CorpusError, match=r"hostile\.pdf: reading it took over 1 s"):
        bot.files.bounded(_spin, b"", "hostile.pdf")


def test_pdf_and_docx_parse_in_a_bounded_child_and_errors_keep_their_reason(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("2022年,某某县司法局推行“信用+调解”机制。")
    document.save(tmp_path / "ok.docx")
    assert "信用+调解" in read_document(tmp_path / "ok.docx").text
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(CorpusError, match=r"broken\.pdf: unreadable PDF"):
        read_document(tmp_path / "broken.pdf")
