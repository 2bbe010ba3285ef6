"""Chinese- and structure-aware chunking with exact character offsets into the cleaned text."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

# Report structure: 一、 / （一） / 1. — the heading is the line (or its first sentence).
_LEVELS = (
    re.compile(r"^[一二三四五六七八九十]+、"),
    re.compile(r"^[(（][一二三四五六七八九十]+[)）]"),
    re.compile(r"^\d{1,2}[.．、](?!\d)"),
)
# Items inside a paragraph (一是… 二是…) are preferred chunk starts.
_ITEM = re.compile(r"^(?:[一二三四五六七八九十]+是|[(（]?\d{1,2}[)）])")
_SENT_END = re.compile(r"[。！？；!?;]+[”’」』)）]*|\n")
_HEADING_MAX = 60
# Text without sentence ends (a table flattened to one line, a hostile file) is cut at this many characters,
# so no chunk is ever longer than a sentence cap plus the target: real report sentences stay far below it.
MAX_SENTENCE_CHARS = 1000


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass
class Chunk:
    doc_id: str
    section: str
    start: int
    end: int
    text: str
    chunk_id: str = ""
    sentences: list[Span] = field(default_factory=list)

    @property
    def embed_text(self) -> str:
        """What the embedder sees: the section path gives short chunks their context."""
        return f"{self.section}\n{self.text}" if self.section else self.text


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans in text[start:end], ending on 。！？；or a line break, trimmed of whitespace."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    pos = start
    for match in _SENT_END.finditer(text, start, end):
        _add_trimmed(text, pos, match.end(), spans)
        pos = match.end()
    _add_trimmed(text, pos, end, spans)
    return spans


def _add_trimmed(text: str, start: int, end: int, out: list[Span]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Span(start, end))


def heading_level(sentence: str, line_start: bool) -> int | None:
    """0/1/2 for a structural heading, None otherwise; headings start a line and are short."""
    if not line_start or len(sentence) > _HEADING_MAX:
        return None
    for level, pattern in enumerate(_LEVELS):
        if pattern.match(sentence):
            return level
    return None


def _heading_title(sentence: str) -> str:
    return sentence.rstrip("。；;:：").strip()


@dataclass
class _Unit:
    span: Span
    section: str
    boundary: bool  # a new section or item starts here: a good place to cut


def _units(text: str) -> list[_Unit]:
    """Sentences annotated with their section path and whether a chunk may start there."""
    path: list[str] = []
    units: list[_Unit] = []
    for span in _capped(split_sentences(text)):
        sentence = text[span.start : span.end]
        line_start = span.start == 0 or text[span.start - 1] == "\n"
        level = heading_level(sentence, line_start)
        if level is not None:
            path = [*path[:level], _heading_title(sentence)]
        boundary = level is not None or (line_start and not units) or bool(_ITEM.match(sentence))
        units.append(_Unit(span, " > ".join(path), boundary or _section_changed(units, path)))
    return units


def _capped(spans: list[Span], cap: int = MAX_SENTENCE_CHARS) -> list[Span]:
    """Spans longer than `cap` cut into pieces of `cap` characters."""
    out: list[Span] = []
    for span in spans:
        out.extend(Span(lo, min(lo + cap, span.end)) for lo in range(span.start, span.end, cap))
    return out


def _section_changed(units: list[_Unit], path: list[str]) -> bool:
    return bool(units) and units[-1].section != " > ".join(path)


def chunk_document(doc_id: str, text: str, target: int = 360) -> list[Chunk]:
    """Group sentences into chunks of about `target` characters without crossing sections.

    A heading sentence always opens the chunk that holds its content, so no chunk is a bare heading,
    and chunks tile the text: every sentence lies in exactly one chunk.
    """
    groups: list[list[_Unit]] = []
    for unit in _units(text):
        if not groups or _should_cut(groups[-1], unit, text, target):
            groups.append([unit])
        else:
            groups[-1].append(unit)
    groups = _merge_small(_merge_heading_only(groups, text), target)
    return _assign_ids([_make_chunk(doc_id, text, g) for g in groups])


def _should_cut(group: list[_Unit], unit: _Unit, text: str, target: int) -> bool:
    size = unit.span.end - group[0].span.start
    if _is_heading_only(group, text):
        return False
    if _is_heading(unit, text) or unit.section != group[-1].section:
        return True
    if unit.boundary and size > target * 0.5:
        return True
    return size > target


def _is_heading(unit: _Unit, text: str) -> bool:
    line_start = unit.span.start == 0 or text[unit.span.start - 1] == "\n"
    return heading_level(text[unit.span.start : unit.span.end], line_start) is not None


def _is_heading_only(group: list[_Unit], text: str) -> bool:
    return all(_is_heading(u, text) for u in group)


def _merge_heading_only(groups: list[list[_Unit]], text: str) -> list[list[_Unit]]:
    """A trailing group of only headings (a document ending on a heading) joins the one before."""
    if len(groups) > 1 and _is_heading_only(groups[-1], text):
        return [*groups[:-2], groups[-2] + groups[-1]]
    return groups


def _merge_small(groups: list[list[_Unit]], target: int) -> list[list[_Unit]]:
    """A short tail of a section joins the chunk before it: short chunks win cosine ties unfairly."""
    merged: list[list[_Unit]] = []
    for group in groups:
        prev = merged[-1] if merged else None
        size = group[-1].span.end - group[0].span.start
        fits = prev is not None and group[-1].span.end - prev[0].span.start <= target * 1.4
        if prev is not None and size < target / 4 and fits and prev[-1].section == group[0].section:
            prev.extend(group)
        else:
            merged.append(group)
    return merged


def _make_chunk(doc_id: str, text: str, group: list[_Unit]) -> Chunk:
    start, end = group[0].span.start, group[-1].span.end
    return Chunk(
        doc_id=doc_id,
        section=group[-1].section,
        start=start,
        end=end,
        text=text[start:end],
        sentences=[u.span for u in group],
    )


def _assign_ids(chunks: list[Chunk]) -> list[Chunk]:
    """Ids come from content, so an unchanged chunk keeps its id across re-ingests."""
    seen: dict[str, int] = {}
    for chunk in chunks:
        base = hashlib.sha1(f"{chunk.doc_id}\0{chunk.section}\0{chunk.text}".encode()).hexdigest()[:16]
        seen[base] = seen.get(base, 0) + 1
        chunk.chunk_id = f"{chunk.doc_id}:{base}" + (f"-{seen[base]}" if seen[base] > 1 else "")
    return chunks
