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
    return path
