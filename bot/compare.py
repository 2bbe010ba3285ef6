"""Comparing reports on one measure (法律援助案件, 律师, 行政复议案件…): what the figures tab and its CSV show.

Measures are read off the figures table (`bot.figures`), never listed by hand: a figure's measure is the
noun phrase right before its number, with the verbs and qualifiers in front of it dropped, so
“全年办理法律援助案件517宗” and “共办理各类法律援助案件469件” both count 法律援助案件.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

from bot.answer import period_label
from bot.corpus import DocMeta
from bot.figures import Figure
from bot.measures import measure_of

# A measure compared across reports should be found in at least this many of them.
MIN_REPORTS = 2


def measures(figures: Mapping[str, list[Figure]], min_reports: int = MIN_REPORTS) -> list[str]:
    """Measures that at least `min_reports` reports give a figure for, the most widely reported first."""
    reports: dict[str, set[str]] = {}
    for doc_id, found in figures.items():
        for figure in found:
            key = measure_of(figure)
            if key:
                reports.setdefault(key, set()).add(doc_id)
    shared = [(len(docs), key) for key, docs in reports.items() if len(docs) >= min_reports]
    # Longer names are the more specific measures (法律援助案件 before 合同) among equally common ones.
    return [key for _, key in sorted(shared, key=lambda item: (-item[0], -len(item[1]), item[1]))]


@dataclass(frozen=True)
class Row:
    """One report's figure for a measure, with what is needed to show it and open its passage."""

    doc_id: str
    report: str
    region: str
    period: str
    value: float
    unit: str
    shown: str  # as the report writes it (1,450件, 40多家)
    phrase: str  # the report's own words around the number
    start: int  # the sentence, for the viewer's highlight
    end: int


def rows_for(figures: Mapping[str, list[Figure]], metas: Mapping[str, DocMeta], measure: str) -> list[Row]:
    """Every figure for `measure`, report by report in id order; a report may give more than one."""
    rows: list[Row] = []
    for doc_id in sorted(figures):
        meta = metas.get(doc_id)
        if meta is None:
            continue
        for f in figures[doc_id]:
            if measure_of(f) != measure:
                continue
            region = meta.county or meta.city or meta.region or meta.title
            phrase = f"{f.measure}{f.shown}{f.noun}".strip()
            rows.append(
                Row(
                    doc_id,
                    meta.title,
                    region,
                    period_label(meta, "zh"),
                    f.value,
                    f.unit,
                    f.shown,
                    phrase,
                    f.sentence_start,
                    f.sentence_end,
                )
            )
    return rows


CSV_HEADER = (
    "measure",
    "region",
    "period",
    "value",
    "unit",
    "as_written",
    "phrase",
    "report",
    "doc_id",
    "start",
    "end",
)


def to_csv(measure: str, rows: list[Row]) -> str:
    """The rows as CSV (UTF-8 with a BOM, so spreadsheet programs read the Chinese right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for r in rows:
        value = int(r.value) if r.value.is_integer() else r.value
        writer.writerow(
            (measure, r.region, r.period, value, r.unit, r.shown, r.phrase, r.report, r.doc_id, r.start, r.end)
        )
    return "\ufeff" + out.getvalue()
