"""Passages: whole chunks around the evidence, numbered for a model's prompt and cited back to the reports."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answer import period_label, region_label
from bot.models import Citation, Evidence
from bot.retrieve import Hit
from bot.store import Catalog
from bot.verify import Verified

MAX_PASSAGES = 6


@dataclass
class Passage:
    doc_id: str
    section: str
    start: int
    end: int
    focus: tuple[int, int] | None = None  # the evidence inside it, kept when the passage is cut to fit

    def text(self, catalog: Catalog) -> str:
        return catalog.docs[self.doc_id].text[self.start : self.end]


def passages_for(evidence: list[Evidence], hits: list[Hit], limit: int = MAX_PASSAGES) -> list[Passage]:
    """The chunks holding the evidence first, then the best other retrieved chunks, as whole chunks."""
    chosen: list[Passage] = []
    for ev in evidence:
        hit = next((h for h in hits if h.chunk.doc_id == ev.doc_id and h.chunk.start <= ev.start < h.chunk.end), None)
        span = (hit.chunk.start, max(hit.chunk.end, ev.end)) if hit else (ev.start, ev.end)
        _add(chosen, Passage(ev.doc_id, ev.section, *span, focus=(ev.start, ev.end)))
    for hit in hits:
        if len(chosen) >= limit:
            break
        _add(chosen, Passage(hit.chunk.doc_id, hit.chunk.section, hit.chunk.start, hit.chunk.end))
    return chosen[:limit]


def _add(chosen: list[Passage], passage: Passage) -> None:
    overlaps = any(p.doc_id == passage.doc_id and p.start < passage.end and passage.start < p.end for p in chosen)
    if not overlaps:
        chosen.append(passage)


def passage_block(n: int, p: Passage, catalog: Catalog, lang: str) -> str:
    """One numbered passage as the prompt shows it: where it is from, then its text."""
    meta = catalog.docs[p.doc_id].meta
    head = f"[{n}] {region_label(meta, lang)} · {period_label(meta, lang)} · {meta.title} · {p.section or '—'}"
    return f"{head}\n{p.text(catalog)}"


def render_passages(passages: list[Passage], catalog: Catalog, lang: str) -> str:
    return "\n\n".join(passage_block(n, p, catalog, lang) for n, p in enumerate(passages, start=1))


def citations_from(verified: Verified, passages: list[Passage], catalog: Catalog) -> list[Citation]:
    """Only the passages the answer cites, numbered as in its text."""
    out = []
    for new, old in enumerate(verified.used, start=1):
        p = passages[old - 1]
        meta = catalog.docs[p.doc_id].meta
        out.append(
            Citation(
                n=new,
                doc_id=p.doc_id,
                title=meta.title,
                region=meta.region or meta.county,
                section=p.section,
                start=p.start,
                end=p.end,
                text=p.text(catalog),
            )
        )
    return out


def history_text(history: list[tuple[str, str]]) -> str:
    return "\n".join(f"用户 User: {u}\n助手 Assistant: {a}" for u, a in history[-4:])
