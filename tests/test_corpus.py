from pathlib import Path

import docx
import pytest

from bot.corpus import CorpusError, clean_text, infer_meta, load_manifest, read_document, report_files
from tests.conftest import LINHAI_DOC, SEEDS

CHROME = ("进入老年模式", "打印 关闭", "Produced By", "浏览次数", "索引号", "当前位置")


def test_seeds_and_manifest_agree() -> None:
    ids = {p.stem for p in report_files([SEEDS])}
    assert len(ids) == 5
    assert set(load_manifest(SEEDS)) == ids


def test_manifest_metadata_is_read() -> None:
    doc = read_document(SEEDS / "002_a9c76903e33fb38f.txt", load_manifest(SEEDS))
    assert (doc.meta.county, doc.meta.city, doc.meta.period) == ("环翠区", "威海市", "2023 first half")
    assert doc.meta.region_en.startswith("Huancui District")


def test_linhai_chrome_is_stripped_and_content_kept() -> None:
    doc = read_document(SEEDS / f"{LINHAI_DOC}.txt", load_manifest(SEEDS))
    for junk in CHROME:
        assert junk not in doc.text
    assert doc.text.startswith("临海市司法局关于2020年度法治政府建设情况的报告")
    assert "特此报告。" in doc.text


def test_clean_text_drops_chrome_and_normalises_lines() -> None:
    raw = "\ufeff当前位置：首页 > 政务公开\r\n  临海市司法局报告\u3000 \r\n\r\n\r\n\r\n一、主要工作\t\r浏览次数：12\n"
    raw += "打印 关闭"
    assert clean_text(raw) == "临海市司法局报告\n\n一、主要工作\n"


def test_clean_text_is_a_fixed_point() -> None:
    """Offsets point into cleaned text, so cleaning it again must change nothing."""
    raw = (SEEDS / f"{LINHAI_DOC}.txt").read_text(encoding="utf-8")
    cleaned = clean_text(raw)
    assert cleaned != raw and "浏览次数" in raw
    assert clean_text(cleaned) == cleaned


def test_gbk_text_is_decoded(tmp_path: Path) -> None:
    text = "2022年,西湖区司法局深入推进法治建设。全年办理法律援助案件100件。"
    path = tmp_path / "gbk_report.txt"
    path.write_bytes(text.encode("gbk"))
    doc = read_document(path)
    assert "法律援助案件100件" in doc.text
    assert (doc.meta.county, doc.meta.year) == ("西湖区", 2022)


def test_docx_and_html_are_read(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("某某县司法局2022年法治政府建设年度报告")
    document.add_paragraph("2022年,某某县司法局推行“信用+调解”机制。")
    document.save(tmp_path / "r.docx")
    assert "信用+调解" in read_document(tmp_path / "r.docx").text
    html = "<html><script>evil()</script><body><p>2021年,东城区司法局开展普法活动。</p></body></html>"
    (tmp_path / "r.html").write_text(html, encoding="utf-8")
    doc = read_document(tmp_path / "r.html")
    assert "开展普法活动" in doc.text and "evil" not in doc.text


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "no report text"),
        ("broken.pdf", b"%PDF-1.4 not really", "unreadable PDF"),
        ("broken.docx", b"PK\x03\x04garbage", "unreadable DOCX"),
        ("image.txt", b"\x89PNG\x00\x00\x00", "binary"),
        ("notes.xlsx", b"x", "unsupported type"),
    ],
)
def test_bad_files_name_the_file_and_reason(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CorpusError, match=reason) as info:
        read_document(path)
    assert name in str(info.value)


def test_region_inferred_from_bureau_name() -> None:
    meta = infer_meta("x", "韶关市浈江区司法局2024年法治政府建设年度报告\n2024年,浈江区司法局……")
    assert (meta.county, meta.year) == ("浈江区", 2024)
    assert meta.title.startswith("韶关市浈江区司法局2024年")
