"""Reports as documents: reading files of any supported type, cleaning web chrome, and metadata."""

from __future__ import annotations

import hashlib
import io
import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ValidationError

from bot.files import CorpusError, bounded, check_zip, decode_bytes, read_bounded

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
MANIFEST_NAME = "manifest.toml"


__all__ = ["CorpusError", "decode_bytes"]


class DocMeta(BaseModel):
    """What a user sees of a report besides its text."""

    doc_id: str
    title: str
    province: str = ""
    city: str = ""
    county: str = ""
    region_en: str = ""
    period: str = ""
    year: int | None = None
    publisher: str = ""
    published: str = ""
    source: str = ""

    @property
    def region(self) -> str:
        """Chinese region line, most specific unit last (e.g. 山东省威海市环翠区)."""
        return "".join(p for p in (self.province, self.city, self.county) if p)

    @property
    def label_zh(self) -> str:
        """Short label used in answers: 环翠区（威海市）."""
        return f"{self.county}（{self.city}）" if self.county and self.city else self.county or self.title

    @property
    def label_en(self) -> str:
        """Short English label that keeps the Chinese name findable: Huancui District (环翠区, Weihai)."""
        parts = [p.strip() for p in self.region_en.split(",") if p.strip()]
        if not parts:
            return self.label_zh
        inner = ", ".join(p for p in (self.county, *parts[1:2]) if p)
        return f"{parts[0]} ({inner})" if inner else parts[0]


class Document(BaseModel):
    meta: DocMeta
    text: str

    @property
    def doc_id(self) -> str:
        return self.meta.doc_id

    @property
    def content_hash(self) -> str:
        return hashlib.sha256((self.meta.model_dump_json() + "\0" + self.text).encode()).hexdigest()[:24]


# Lines that are page furniture of government CMS sites, never report content.
_CHROME_LINE = re.compile(
    r"^\s*(?:[•·]\s*)?(?:"
    r"进入老年模式|退出老年模式|当前位置|>\s|索引号|文号|发布单位|成文日期|日期[:：]|来源[:：]|浏览次数|"
    r"打印\s*关闭|关闭窗口|Produced By|分享到|字体[:：]?\s*[【\[]?大|【\s*打印|扫一扫|上一篇|下一篇|"
    r"主办单位|承办单位|网站标识码|ICP备|公网安备|版权所有"
    r")"
)


def clean_text(raw: str) -> str:
    """Drop CMS chrome lines and trailing spaces; the result is the text every offset points into."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    lines = [ln.rstrip().lstrip(" \t\u3000\xa0") for ln in text.split("\n")]
    kept = [ln for ln in lines if not _CHROME_LINE.match(ln)]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(kept))
    return out.strip() + "\n"


def _html_to_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript"]):
        tag.decompose()
    return soup.get_text("\n")


def _pdf_to_text(data: bytes, name: str) -> str:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as exc:  # pypdf raises many types for broken files
        raise CorpusError(f"{name}: unreadable PDF ({type(exc).__name__})") from exc


def _docx_to_text(data: bytes, name: str) -> str:
    import docx

    check_zip(data, name)
    try:
        return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
    except Exception as exc:
        raise CorpusError(f"{name}: unreadable DOCX ({type(exc).__name__})") from exc


def extract_text(path: Path, follow_links: bool = False) -> str:
    """Raw text of a report file, by type; raises CorpusError with the file name on failure."""
    check_suffix(path.name)
    return text_from_bytes(read_bounded(path, follow_links), path.name)


def check_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise CorpusError(f"{name}: unsupported type {suffix or '(none)'}; use {' '.join(SUPPORTED_SUFFIXES)}")
    return suffix


def text_from_bytes(data: bytes, name: str) -> str:
    """Raw text of a report's bytes, by the type its name says."""
    suffix = check_suffix(name)
    if suffix == ".pdf":
        return bounded(_pdf_to_text, data, name)
    if suffix == ".docx":
        check_zip(data, name)
        return bounded(_docx_to_text, data, name)
    text = decode_bytes(data, name)
    return _html_to_text(text) if suffix in (".html", ".htm") else text


_ORG = re.compile(r"([\u4e00-\u9fff]{2,6}?(?:县|区|市))司法局")
_YEAR = re.compile(r"(20\d\d)\s*年")


def infer_meta(doc_id: str, text: str, source: str = "") -> DocMeta:
    """Metadata for a report that is not in the manifest: region from “XX县/区/市司法局”, year from the start."""
    head = text[:400]
    org = _ORG.search(head) or _ORG.search(text)
    county = _short_unit(org.group(1)) if org else ""
    year_match = _YEAR.search(head)
    first_line = next((ln for ln in text.split("\n") if ln.strip()), doc_id)
    title = first_line if len(first_line) <= 60 and not first_line.endswith("。") else f"{county}司法局报告"
    year = int(year_match.group(1)) if year_match else None
    return DocMeta(
        doc_id=doc_id,
        title=title,
        county=county,
        period=str(year or ""),
        year=year,
        publisher=f"{county}司法局" if county else "",
        source=source,
    )


def _short_unit(name: str) -> str:
    """“韶关市浈江区” → “浈江区”: keep the last administrative unit."""
    parts = re.findall(r"[\u4e00-\u9fff]+?(?:省|市|县|区)", name)
    return parts[-1] if parts else name


def load_manifest(folder: Path) -> dict[str, dict]:
    """The valid entries of a folder's manifest (see `read_manifest` for the problems)."""
    return read_manifest(folder)[0]


_TABLE_HEADER = re.compile(r"^\s*\[(?!\[)")


def read_manifest(folder: Path) -> tuple[dict[str, dict], list[str]]:
    """Manifest entries by id, and one line per entry ignored: a typo costs that entry, never the rest."""
    path = folder / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [f"{path}: unreadable, ignored ({exc})"]
    entries: dict[str, dict] = {}
    problems: list[str] = []
    for line_no, block in _table_blocks(text):
        try:
            parsed = tomllib.loads(block)
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{path.name} line {line_no}: entry ignored ({exc})")
            continue
        for doc_id, fields in parsed.items():
            problem = _entry_problem(doc_id, fields)
            if problem:
                problems.append(f"{path.name} line {line_no}: entry {doc_id!r} ignored ({problem})")
            else:
                entries[doc_id] = fields
    return entries, problems


def _table_blocks(text: str) -> list[tuple[int, str]]:
    """The text split before each [table] header, with the line each part starts on."""
    blocks: list[tuple[int, list[str]]] = [(1, [])]
    for no, line in enumerate(text.splitlines(), start=1):
        if _TABLE_HEADER.match(line):
            blocks.append((no, []))
        blocks[-1][1].append(line)
    return [(no, "\n".join(lines)) for no, lines in blocks if any(ln.strip() for ln in lines)]


def _entry_problem(doc_id: str, fields: object) -> str | None:
    if not isinstance(fields, dict):
        return "not a table of fields"
    known = {k: v for k, v in fields.items() if k in DocMeta.model_fields and k != "doc_id"}
    try:
        DocMeta.model_validate({"doc_id": doc_id, "title": "", **known})
    except ValidationError as exc:
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return None


def doc_id_for(path: Path) -> str:
    """A report's id is its file stem, reduced to characters safe in ids and URLs."""
    stem = re.sub(r"[^\w\-.]+", "_", path.stem, flags=re.UNICODE).strip("._")
    return stem or hashlib.sha1(path.name.encode()).hexdigest()[:12]


def read_document(path: Path, manifest: dict[str, dict] | None = None) -> Document:
    """One report file as a cleaned Document; manifest fields override inferred ones."""
    doc_id = doc_id_for(path)
    return document_from_bytes(read_bounded(path), path.name, doc_id, (manifest or {}).get(doc_id, {}))


def document_from_bytes(data: bytes, name: str, doc_id: str, override: dict | None = None) -> Document:
    """A report's bytes (of the type `name` says) as a cleaned Document with this id."""
    text = clean_text(text_from_bytes(data, name))
    if len(text.strip()) < 10:
        raise CorpusError(f"{name}: no report text (empty or only page chrome)")
    meta = infer_meta(doc_id, text, source=name)
    fields = {k: v for k, v in (override or {}).items() if k in DocMeta.model_fields and k != "doc_id"}
    return Document(meta=DocMeta.model_validate({**meta.model_dump(), **fields}), text=text)


def report_files(paths: list[Path], follow_links: bool = False) -> list[Path]:
    """Expand folders into the supported report files inside them, sorted for determinism.

    Links are listed (so reading them can say why they are refused) but linked folders are not entered.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and (follow_links or not path.is_symlink()):
            found.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES))
        else:
            found.append(path)
    return found
