"""`bot eval`: run a fixed question set, score it so wrong answers cannot pass, report where the bot fails."""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.answer import EXTRACTIVE
from bot.backends import CONDENSE_NOTICE
from bot.models import Answer
from bot.text import normalise, normalise_numbers


class Question(BaseModel):
    """One line of a question file; unknown extra fields are ignored so other people's files load too."""

    model_config = ConfigDict(extra="ignore")

    id: str
    question: str
    history: list[tuple[str, str]] = Field(default_factory=list)
    answerable: bool = True
    keywords: list[list[str]] = Field(default_factory=list)
    forbidden: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    type: str = "fact"
    lang: str = "zh"


class EvalError(ValueError):
    """A question file that cannot be read; the message names the file and line."""


def load_questions(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            questions.append(Question.model_validate_json(line))
        except ValidationError as exc:
            raise EvalError(f"{path}:{number}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
    if not questions:
        raise EvalError(f"{path}: no questions")
    return questions


def _norm(text: str) -> str:
    return normalise_numbers(normalise(text))


def contains(text: str, keyword: str) -> bool:
    """Keyword match; numbers match as whole numbers (40 is not in 1440), 1,450 = 1450, full-width = half."""
    text, keyword = _norm(text), _norm(keyword)
    if re.fullmatch(r"\d+(\.\d+)?%?", keyword):
        return re.search(rf"(?<![\d.]){re.escape(keyword)}(?![\d]|\.\d)", text) is not None
    return keyword in text


def groups_found(text: str, groups: list[list[str]]) -> int:
    return sum(any(contains(text, alt) for alt in group) for group in groups)


def max_length(q: Question) -> int:
    """Longer answers count as wrong: quoting whole reports must not earn a pass."""
    return 400 + 250 * max(1, len(q.sources))


def judge(q: Question, a: Answer) -> tuple[bool, str]:
    """(correct, why not): every keyword group and no forbidden string; unanswerable ones must refuse."""
    if not q.answerable:
        return a.refused, "" if a.refused else "answered a question the reports cannot answer"
    if a.refused:
        return False, "refused"
    missing = [g for g in q.keywords if not any(contains(a.answer, alt) for alt in g)]
    if missing:
        return False, f"missing {' / '.join(missing[0])}"
    bad = [f for f in q.forbidden if contains(a.answer, f)]
    if bad:
        return False, f"says forbidden {bad[0]}"
    if len(a.answer) > max_length(q):
        return False, f"too long ({len(a.answer)} chars)"
    return True, ""


class Corpus(Protocol):
    """What scoring needs to know of the index: chunk texts, and each report's names (title, regions)."""

    def chunk_text(self, chunk_id: str) -> str: ...

    def doc_label(self, doc_id: str) -> str: ...


def score(q: Question, a: Answer, corpus: Corpus, k: int) -> dict:
    """Every metric for one question (None where it does not apply).

    A passage “holds” a keyword when its text or its report's names do: list answers are about regions,
    and a region is what a citation's report is, not a word its sentence repeats.
    """
    correct, why = judge(q, a)
    cited = " ".join(c.text + " " + corpus.doc_label(c.doc_id) for c in a.citations)
    gold = set(q.sources)
    cited_docs = [c.doc_id for c in a.citations]
    row: dict = {
        "id": q.id,
        "type": q.type,
        "lang": q.lang,
        "correct": correct,
        "why": why,
        "latency_ms": a.latency_ms,
        "refused": a.refused,
        "answerable": q.answerable,
    }
    row["source"], row["fallback"] = source_of(a), a.fallback
    row["rewrite_not_trusted"] = CONDENSE_NOTICE in (a.notice or "")
    answered = q.answerable and not a.refused
    row["grounded"] = (correct and groups_found(cited, q.keywords) == len(q.keywords)) if answered else None
    row["citation_precision"] = (
        (sum(d in gold for d in cited_docs) / len(cited_docs)) if answered and cited_docs and gold else None
    )
    row["citation_recall"] = (len(gold & set(cited_docs)) / len(gold)) if answered and gold else None
    if q.answerable and q.keywords:
        texts = [corpus.chunk_text(r.chunk_id) + " " + corpus.doc_label(r.doc_id) for r in a.retrieved[:k]]
        row["evidence_recall"] = groups_found(" ".join(t for t in texts if _holds_any(t, q)), q.keywords) / len(
            q.keywords
        )
        row["rr"] = next((1 / i for i, t in enumerate(texts, start=1) if _holds_any(t, q)), 0.0)
    return row


def source_of(a: Answer) -> str:
    """model: an LLM wrote it; fallback: an LLM backend failed and the extractive answer stood in;
    no_model_call: the extractive backend, or an LLM backend that refused before asking (nothing relevant)."""
    if a.fallback:
        return "fallback"
    return "no_model_call" if a.backend == EXTRACTIVE else "model"


def llm_use(rows: list[dict]) -> dict:
    """How many answers the model wrote, how many fell back and why; `llm_share` = model / (model + fallbacks)."""
    counts = {s: sum(r["source"] == s for r in rows) for s in ("model", "fallback", "no_model_call")}
    asked = counts["model"] + counts["fallback"]
    reasons: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["fallback"]:
            reasons[r["fallback"]] += 1
    return {
        "answers": len(rows),
        "from_model": counts["model"],
        "fallbacks": counts["fallback"],
        "no_model_call": counts["no_model_call"],
        "llm_share": round(counts["model"] / asked, 4) if asked else None,
        "fallback_reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        "rewrites_not_trusted": sum(r["rewrite_not_trusted"] for r in rows),
    }


def below_llm_share(summary: dict, floor: float) -> str | None:
    """Why the run fails `--min-llm-share floor`, or None when enough answers came from the model."""
    for backend, use in summary["llm"].items():
        share = use["llm_share"]
        if share is None or share < floor:
            got = "no model answers" if share is None else f"{share:.2f} of the answers the model was asked for"
            return f"{backend}: {got} came from the model (floor {floor}); fallbacks: {use['fallback_reasons']}"
    return None


def _holds_any(text: str, q: Question) -> bool:
    return groups_found(text, q.keywords) > 0


def _mean(values: list) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def summarise(rows: list[dict]) -> dict:
    refused = [r for r in rows if r["refused"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    hits = sum(1 for r in refused if not r["answerable"])
    latencies = sorted(r["latency_ms"] for r in rows)
    return {
        "questions": len(rows),
        "answer_accuracy": _mean([r["correct"] for r in rows]),
        "grounding": _mean([r["grounded"] for r in rows]),
        "citation_precision": _mean([r.get("citation_precision") for r in rows]),
        "citation_recall": _mean([r.get("citation_recall") for r in rows]),
        "evidence_recall_at_k": _mean([r.get("evidence_recall") for r in rows]),
        "mrr": _mean([r.get("rr") for r in rows]),
        "refusal_precision": round(hits / len(refused), 4) if refused else None,
        "refusal_recall": round(hits / len(unanswerable), 4) if unanswerable else None,
        "latency_p50_ms": round(statistics.median(latencies), 1),
        "latency_p95_ms": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1),
    }


def breakdown(rows: list[dict]) -> dict:
    out: dict[str, dict] = {}
    for key in ("type", "lang"):
        groups: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            groups[r[key]].append(r)
        out[key] = {name: summarise(group) for name, group in sorted(groups.items())}
    return out


Progress = Callable[[str], None]
Judge = Callable[[Question, Answer], dict[str, float]]


def run_eval(
    answer: Callable[[Question], Answer],
    corpus: Corpus,
    questions: list[Question],
    out: Path,
    k: int,
    progress: Progress,
    judge_fn: Judge | None = None,
    backend: str = EXTRACTIVE,
) -> dict:
    """Answer every question once, write results.jsonl, scores.jsonl, summary.json and report.md."""
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    with (out / "results.jsonl").open("w", encoding="utf-8") as results:
        for i, q in enumerate(questions, start=1):
            a = answer(q)
            results.write(json.dumps({"id": q.id, "question": q.question, **a.model_dump()}, ensure_ascii=False) + "\n")
            row = score(q, a, corpus, k)
            if judge_fn is not None and q.answerable and not a.refused:
                row.update(judge_fn(q, a))
            rows.append(row)
            progress(f"[{i}/{len(questions)}] {q.id} {'ok' if row['correct'] else 'FAIL ' + row['why']}")
    summary = {"overall": summarise(rows), "by": breakdown(rows), "k": k, "llm": {backend: llm_use(rows)}}
    if judge_fn is not None:
        summary["overall"]["faithfulness"] = _mean([r.get("faithfulness") for r in rows])
        summary["overall"]["answer_relevance"] = _mean([r.get("relevance") for r in rows])
    _write_jsonl(out / "scores.jsonl", rows)
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "report.md").write_text(report(summary, rows, questions, out), encoding="utf-8")
    return summary


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


_METRICS = (
    "answer_accuracy",
    "grounding",
    "citation_precision",
    "citation_recall",
    "evidence_recall_at_k",
    "mrr",
    "refusal_precision",
    "refusal_recall",
    "latency_p50_ms",
    "latency_p95_ms",
)


def _table(title: str, summaries: dict[str, dict]) -> list[str]:
    head = f"| {title} | n | " + " | ".join(_METRICS) + " |"
    lines = [head, "|" + "---|" * (len(_METRICS) + 2)]
    for name, s in summaries.items():
        cells = ["—" if s.get(m) is None else f"{s[m]}" for m in _METRICS]
        lines.append(f"| {name} | {s['questions']} | " + " | ".join(cells) + " |")
    return lines


def _llm_table(llm: dict[str, dict]) -> list[str]:
    lines = [
        "## Who wrote the answers",
        "",
        "| backend | answers | from model | fallbacks | no model call | llm share | fallback reasons |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, u in llm.items():
        reasons = ", ".join(f"{why}: {n}" for why, n in u["fallback_reasons"].items()) or "—"
        share = "—" if u["llm_share"] is None else u["llm_share"]
        cells = [u["answers"], u["from_model"], u["fallbacks"], u["no_model_call"], share, reasons]
        lines.append(f"| {backend} | " + " | ".join(map(str, cells)) + " |")
    not_trusted = sum(u["rewrites_not_trusted"] for u in llm.values())
    lines += ["", f"Follow-up rewrites by the model that failed their check: {not_trusted}.", ""]
    return lines


def report(summary: dict, rows: list[dict], questions: list[Question], out: Path) -> str:
    by_id = {q.id: q for q in questions}
    lines = [f"# Evaluation report ({out.name})", "", f"Evidence recall and MRR at k = {summary['k']}.", ""]
    lines += [*_table("all", {"all": summary["overall"]}), ""]
    for key, groups in summary["by"].items():
        lines += [*_table(f"by {key}", groups), ""]
    lines += _llm_table(summary["llm"])
    failures = [r for r in rows if not r["correct"]]
    lines += [f"## Failures ({len(failures)})", ""]
    results = {json.loads(line)["id"]: json.loads(line) for line in (out / "results.jsonl").open(encoding="utf-8")}
    for r in failures:
        q = by_id[r["id"]]
        expected = "refusal" if not q.answerable else " + ".join("/".join(g) for g in q.keywords)
        got = results[r["id"]]["answer"].replace("\n", " ")[:160]
        lines += [
            f"- **{q.id}** ({q.type}, {q.lang}) {q.question}",
            f"  - expected: {expected}",
            f"  - got ({r['why']}): {got}",
        ]
    return "\n".join(lines) + "\n"


def compare(this: Path, other: Path) -> str:
    """Per-question differences between two runs: what got fixed, what broke."""
    mine, theirs = _scores(this), _scores(other)
    fixed = [i for i in mine if mine[i]["correct"] and i in theirs and not theirs[i]["correct"]]
    broke = [i for i in mine if not mine[i]["correct"] and i in theirs and theirs[i]["correct"]]
    lines = [f"compared with {other}: {len(fixed)} fixed, {len(broke)} broke"]
    lines += [f"  fixed  {i}" for i in fixed] + [f"  broke  {i}: {mine[i]['why']}" for i in broke]
    only = sorted(set(mine) ^ set(theirs))
    if only:
        lines.append(f"  in one run only: {', '.join(only)}")
    return "\n".join(lines)


def _scores(run_dir: Path) -> dict[str, dict]:
    path = run_dir / "scores.jsonl"
    if not path.exists():
        raise EvalError(f"{run_dir}: no scores.jsonl (not an evaluation output folder)")
    return {row["id"]: row for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
