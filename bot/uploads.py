"""Reports uploaded through the UI: size and type checked from content, stored under generated names."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from pathlib import Path

from bot.corpus import SUPPORTED_SUFFIXES, CorpusError, decode_bytes

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class UploadError(ValueError):
    """An upload refused; the message names the file and the reason."""


def sniff(data: bytes) -> str:
    """What the bytes are, whatever the file is called: pdf, docx, html or txt."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return "binary"
        return "docx" if "word/document.xml" in names else "binary"
    try:
        text = decode_bytes(data[:65536], "upload")  # UTF-16/32 text has NUL bytes and is still text
    except CorpusError:
        return "binary"
    return "html" if re.search(r"<(html|body|p|div|br)\b", text[:4096], re.I) else "txt"


_ALLOWED = {
    ".pdf": {"pdf"},
    ".docx": {"docx"},
    ".html": {"html", "txt"},
    ".htm": {"html", "txt"},
    ".txt": {"txt"},
    ".md": {"txt", "html"},
}


def store_upload(folder: Path, name: str, data: bytes) -> Path:
    """Check and save one upload; returns where it lies (never over a seed, never under the user's name)."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadError(f"{name}: unsupported type {suffix or '(none)'}; use {' '.join(SUPPORTED_SUFFIXES)}")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"{name}: {len(data) / 1e6:.1f} MB is over the {MAX_UPLOAD_BYTES // 2**20} MB limit")
    if not data.strip():
        raise UploadError(f"{name}: the file is empty")
    kind = sniff(data)
    if kind not in _ALLOWED[suffix]:
        raise UploadError(f"{name}: the content is {kind}, not {suffix}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"upload_{uuid.uuid4().hex[:12]}{suffix}"
    path.write_bytes(data)
    _name_file(path).write_text(name, encoding="utf-8")
    return path


def _name_file(path: Path) -> Path:
    """The user's own file name, kept beside the upload: lists and messages say it, never the generated one."""
    return path.with_name(f"{path.name}.name")


def original_name(path: Path) -> str:
    try:
        return _name_file(path).read_text(encoding="utf-8").strip() or path.name
    except OSError:
        return path.name


def discard_upload(path: Path) -> None:
    """An upload refused or removed leaves nothing behind."""
    path.unlink(missing_ok=True)
    _name_file(path).unlink(missing_ok=True)


# The reasons uploads are refused (here, in parsing, in ingest), said in Chinese as well.
_REASONS_ZH = [
    (re.compile(r"unsupported type (\S+?);"), r"不支持的文件类型 \1"),
    (re.compile(r"([\d.]+) MB is over the (\d+) MB limit"), r"\1 MB，超过 \2 MB 的上限"),
    (re.compile(r"the file is empty"), "文件是空的"),
    (re.compile(r"the content is (\w+), not (\S+)"), r"内容是 \1，不是 \2 文件"),
    (re.compile(r"same text as (.+?); not indexed twice"), r"与已有的报告 \1 内容相同，不重复收录"),
    (re.compile(r"nothing new to index"), "没有可收录的新内容"),
    (re.compile(r"over the limit of"), "超过了报告长度上限"),
]


def explain(name: str, reason: str, titles: dict[str, str]) -> str:
    """A refused upload in Chinese and English, naming the user's file and reports by title, never by id."""
    reason = reason.removeprefix(f"{name}: ").strip()
    for doc_id, title in sorted(titles.items(), key=lambda item: -len(item[0])):
        reason = re.sub(rf"(?<![\w-]){re.escape(doc_id)}(?![\w-])", f"《{title}》", reason)
    reason = re.sub(r"upload_[0-9a-f]{12}(\.\w+)?", "（已上传的文件 an uploaded file）", reason)
    zh = next((rx.sub(text, m.group(0)) for rx, text in _REASONS_ZH if (m := rx.search(reason))), "无法读取这个文件")
    return f"未收录 Not added: {name} — {zh}。{reason}"
