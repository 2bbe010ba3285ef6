"""Shaping chosen sentences into quotes: a bare item title is read with what follows it, and neighbouring
quotes from one report become one."""

from __future__ import annotations

import re

from bot.chunking import heading_level, split_sentences
from bot.models import Evidence
from bot.store import Catalog

_SHORT = 40  # a sentence this short (an item title) is quoted with what follows it,
_EXTEND_TO = 100  # up to about this many characters
_EXTEND_MAX = 4  # and at most this many more sentences


def extend_short(ev: Evidence, catalog: Catalog) -> Evidence:
    """“二是推行“信用+调解”工作机制。” names a measure but not what it did: quote what follows too."""
    text = catalog.docs[ev.doc_id].text
    sentence = text[ev.start : ev.end]
    heading = heading_level(sentence, ev.start == 0 or text[ev.start - 1] == "\n") is not None
    if not heading and (len(sentence) >= _SHORT or re.search(r"\d", sentence)):
        return ev
    end = ev.end
    for span in split_sentences(text, ev.end, min(len(text), ev.end + 600))[:_EXTEND_MAX]:
        if "\n\n" in text[end : span.start] or end - ev.start >= _EXTEND_TO:
            break
        end = span.end
    return Evidence(ev.doc_id, ev.section, ev.start, end, ev.support, ev.chunk_id)


def overlaps(a: Evidence, b: Evidence, touching: bool = True) -> bool:
    gap = 1 if touching else 0  # one character apart: the next sentence, after a space or a line break
    return a.doc_id == b.doc_id and a.start < b.end + gap and b.start < a.end + gap


def joined(quotes: list[Evidence]) -> list[Evidence]:
    """Quotes that overlap or follow one another in a report become one: the runner-up sentence right after the
    best one is read with it, not dropped as a repeat."""
    out: list[Evidence] = []
    for ev in quotes:
        near = next((i for i, o in enumerate(out) if overlaps(ev, o)), None)
        if near is None:
            out.append(ev)
        else:
            o = out[near]
            out[near] = Evidence(o.doc_id, o.section, min(o.start, ev.start), max(o.end, ev.end), o.support, o.chunk_id)
    return out
