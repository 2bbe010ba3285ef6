"""Which figure answers: a figure question's search of each report's figures, and the choice among figures
(like units, the asked term ending the measure, the question's own characters, the whole before its parts).

`evidence.py` decides what to answer; this module holds what it asks of figures, so that the decision reads as
the question's kinds and this reads as what makes one figure the answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.figures import Figure, MeasureTerm, measure_match
from bot.models import Evidence
from bot.query import PEOPLE, QueryPlan
from bot.retrieve import Hit
from bot.store import Catalog, ChunkRecord
from bot.text import CJK, normalise

_SLACK = 2
_FIGURE_DOCS = 20  # reports whose figures a question searches beside its retrieved chunks
_FIGURE_CHUNKS = 2  # chunks added per report: those of its best-matching figures
Measured = list[MeasureTerm]


def with_figure_chunks(
    plan: QueryPlan, hits: list[Hit], catalog: Catalog, figures: Mapping[str, list[Figure]], measured: Measured
) -> list[Hit]:
    """A question asking for a figure also searches each report's figures: the chunk holding the figure whose
    measure best names what was asked joins the hits though neither ranking found it (“现有律师103人” for
    “执业律师各有多少人”, in a report where 律师 is in every other chunk). It joins as the lowest ranked."""
    docs = plan.doc_ids or list(dict.fromkeys(h.chunk.doc_id for h in hits))
    if plan.wants != "number" or not measured or not hits or len(docs) > _FIGURE_DOCS:
        return hits
    have = {h.chunk.chunk_id for h in hits}
    score, sim = min(h.score for h in hits), min(h.dense_sim for h in hits)
    added: list[Hit] = []
    for doc in docs:
        for chunk in _chunks_of_best_figures(plan, doc, catalog, figures[doc], measured):
            if chunk.chunk_id not in have:
                have.add(chunk.chunk_id)
                added.append(Hit(chunk, score, dense_sim=sim, by_figure=True))
    return hits + added


def _chunks_of_best_figures(
    plan: QueryPlan, doc: str, catalog: Catalog, figures: list[Figure], measured: Measured
) -> list[ChunkRecord]:
    """Ties on the measure are broken by the unit asked for, then by the term ending the measure (现有律师103人)."""
    words = _asked_words(plan)
    scored = [((measure_match(f, measured), unit_fits(plan.unit, f.unit), _ends(words, f)), f.start) for f in figures]
    scored = [(key, start) for key, start in scored if key[0] > 0]
    top = max((key for key, _ in scored), default=None)
    starts = [start for key, start in scored if key == top][:_FIGURE_CHUNKS]
    chunks = [catalog.chunks[c] for c in catalog.docs[doc].chunk_ids]
    return [c for c in chunks if any(c.start <= s < c.end for s in starts)]


def term_ends(plan: QueryPlan, figure: Figure) -> bool:
    return _ends(_asked_words(plan), figure)


def _asked_words(plan: QueryPlan) -> list[str]:
    return [normalise(a) for alts in plan.terms for a in alts]


def _ends(words: list[str], figure: Figure) -> bool:
    """A term the question asks about ends the figure's measure, at most two characters (共, 达) before it."""
    measure = normalise(figure.measure)
    return any(w in measure[-len(w) - _SLACK :] for w in words)


# Which figure of a report answers: its measure's match, the asked term ending it, then its value: of a report's
# figures that name the asked thing alike, the largest is the whole the others are parts of (共有律所32家 over
# 新成立律所1家; 执业律师475名 over 公职律师有4名, though the evidence model likes the second sentence more);
# then its sentence's probability, and last the question's characters it repeats.
FigureKey = tuple[float, bool, float, float, int]
NO_KEY: FigureKey = (-1.0, False, -1.0, -1.0, -1)


def echo(plan: QueryPlan, figure: Figure) -> int:
    """How many of the question's own characters the measure repeats: among figures whose measures name the
    asked term alike, “全县现有律师103人” answers “各有多少人” rather than “今年新增律师13人”."""
    return len(set(CJK.findall(plan.question)) & set(figure.measure))


def like_units(
    best: dict[tuple[str, str], tuple[FigureKey, Figure, Evidence]],
) -> list[tuple[Figure, Evidence]]:
    """Each report's best figure in the one unit kind the most reports have (then the best-matching): 35件 of
    社会调查 against 327件, not 448人次 of the people who took part, though its measure names more of the question."""
    kinds: dict[str, list[tuple[float, Figure, Evidence]]] = {}
    for (kind, _), (key, fig, ev) in best.items():
        kinds.setdefault(kind, []).append((key[0], fig, ev))
    chosen = max(kinds.values(), key=lambda found: (len(found), sum(m for m, _, _ in found)), default=[])
    return [(fig, ev) for _, fig, ev in chosen]


def one_unit(parts: list[Figure]) -> list[Figure]:
    """Only like figures add up: “19个镇…文件40件、合同657件” sums the 件, the most of one unit, not the 个."""
    kinds = [unit_kind(f.unit) for f in parts]
    most = max(kinds, key=kinds.count, default="")
    return [f for f, k in zip(parts, kinds, strict=True) if k == most]


def unit_kind(unit: str) -> str:
    return next((g[0] for g in _UNIT_GROUPS if unit in g), unit)


def is_whole(fig: Figure, catalog: Catalog) -> bool:
    """“公证书625件,其中涉外244件”: 625 is the whole the next figures are part of."""
    after = catalog.docs[fig.doc_id].text[fig.end : fig.end + 4]
    return "其中" in after


_UNIT_GROUPS = (("人", "名", "余人"), ("人次",), ("件", "宗", "起", "件次"), ("家", "所", "个"), ("次", "场", "期"))


def unit_fits(asked: str | None, unit: str) -> bool:
    """Figures compare only in like units: 人 with 名, 件 with 宗; never 件 with 万元. English people are
    either (`PEOPLE`)."""
    if asked == PEOPLE:
        return unit_kind(unit) in ("人", "人次")
    return not asked or unit_kind(asked) == unit_kind(unit)
