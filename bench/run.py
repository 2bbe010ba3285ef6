"""Benchmarks: ingestion, re-ingestion, query latency and cold start as the corpus grows; embedders compared;
our retriever against the textbook LangChain baseline. Numbers go to bench/results/{results.json,results.md}.

    .venv/bin/python bench/run.py                        # the full run (about 25 minutes on 2 cores)
    .venv/bin/python bench/run.py --sizes 5,50 --quick   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synth import generate  # noqa: E402
from bot.api import Bot  # noqa: E402
from bot.config import Settings  # noqa: E402

QUESTION_TEMPLATES = [
    "{county}办理了多少件法律援助案件？",
    "{county}有多少律师？",
    "{county}行政复议案件有多少件？",
    "哪些区县推行了信用+调解机制？",
    "which counties piloted the credit plus mediation mechanism",
    "How many legal aid cases did {county} handle?",
    "{county}调处矛盾纠纷多少件？",
    "{county}存在哪些不足？",
]


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p * len(values)))], 1)


def one_size(n: int, embedder: str, work: Path) -> dict:
    """Everything measured for one corpus size, in this (fresh) process so peak memory is its own."""
    corpus, data = work / f"corpus{n}", work / f"data{n}-{embedder}"
    generate(corpus, n)
    settings = Settings(data_dir=data, seeds_dir=corpus, embedder=embedder)
    started = time.perf_counter()
    bot = Bot(settings, progress=lambda _: None)
    build_s = time.perf_counter() - started
    chars = sum(len(d.text) for d in bot.catalog.docs.values())
    chunks = len(bot.catalog.chunks)
    out = {
        "n": n,
        "embedder": embedder,
        "chunks": chunks,
        "chars": chars,
        "ingest_s": round(build_s, 1),
        "chunks_per_s": round(chunks / build_s, 1),
        "chars_per_s": round(chars / build_s),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
    out["reingest_unchanged_s"] = _timed(bot.ingest)
    first = sorted(corpus.glob("synth_*.txt"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n全年新增调解员12名。", encoding="utf-8")
    out["reingest_one_changed_s"] = _timed(bot.ingest)
    out.update(_latencies(bot))
    out["cold_start_s"] = _cold_start(settings)
    return out


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return round(time.perf_counter() - started, 2)


def _latencies(bot: Bot) -> dict:
    counties = [d.meta.county for d in list(bot.catalog.docs.values())[:10]]
    questions = [t.format(county=c) for c in counties for t in QUESTION_TEMPLATES][:60]
    bot.answer(questions[0])  # warm-up: lazy model loads are cold start, not query latency
    retrieval, total = [], []
    for q in questions:
        found_started = time.perf_counter()
        bot.search(q, [])
        retrieval.append((time.perf_counter() - found_started) * 1000)
        total.append(bot.answer(q).latency_ms)
    return {
        "retrieval_p50_ms": _pct(retrieval, 0.5),
        "retrieval_p95_ms": _pct(retrieval, 0.95),
        "answer_p50_ms": _pct(total, 0.5),
        "answer_p95_ms": _pct(total, 0.95),
        "queries": len(questions),
    }


def _cold_start(settings: Settings) -> float:
    code = (
        "from pathlib import Path; from bot.api import Bot; from bot.config import Settings; "
        f"Bot(Settings(data_dir=Path({str(settings.data_dir)!r}), seeds_dir=Path({str(settings.seeds_dir)!r}), "
        f"embedder={settings.embedder!r}), progress=lambda _: None).answer('哪些区县推行了信用+调解机制？')"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
    return round(time.perf_counter() - started, 2)


def _subprocess_size(n: int, embedder: str, work: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__)), "--one", str(n), "--embedder", embedder, "--work", str(work)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(results: dict) -> str:
    lines = [
        f"Measured {results['date']} on {results['machine']}.",
        "",
        "| reports | embedder | chunks | ingest s | chunks/s | chars/s | peak MB | re-ingest unchanged s | "
        "re-ingest 1 changed s | retrieval p50/p95 ms | answer p50/p95 ms | cold start s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["scale"]:
        lines.append(
            f"| {r['n']} | {r['embedder']} | {r['chunks']} | {r['ingest_s']} | {r['chunks_per_s']} "
            f"| {r['chars_per_s']} "
            f"| {r['peak_rss_mb']} | {r['reingest_unchanged_s']} | {r['reingest_one_changed_s']} "
            f"| {r['retrieval_p50_ms']} / {r['retrieval_p95_ms']} | {r['answer_p50_ms']} / {r['answer_p95_ms']} "
            f"| {r['cold_start_s']} |"
        )
    lines += [
        "",
        "| embedder | answer accuracy | grounding | evidence recall@k | MRR | refusal recall |",
        "|---|---|---|---|---|---|",
    ]
    for q in results["embedders"]:
        lines.append(
            f"| {q['embedder']} | {q['answer_accuracy']} | {q['grounding']} | {q['evidence_recall_at_k']} "
            f"| {q['mrr']} | {q['refusal_recall']} |"
        )
    lines += [
        "",
        "| retriever vs textbook LangChain (500/50 splitter + Chroma top-k) | k | questions | ours | "
        "baseline | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for b in results["baseline"]:
        lines.append(
            f"| evidence recall@k, {b['embedder']} | {b['k']} | {b['questions']} | {b['ours_recall']} "
            f"| {b['baseline_recall']} | {b['ratio']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5,50,500,2000", help="corpus sizes for the fast embedder")
    parser.add_argument("--e5-sizes", default="5,50", help="corpus sizes for e5-small (it embeds ~10 chunks/s)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--quick", action="store_true", help="skip the quality comparisons")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--embedder", default="use-multilingual", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one_size(args.one, args.embedder, args.work)))
        return
    from bench.quality import baseline_vs_ours, embedder_quality

    work = Path(tempfile.mkdtemp(prefix="bench-"))
    plan = [(int(n), "e5-small") for n in args.e5_sizes.split(",") if n] + [
        (int(n), "use-multilingual") for n in args.sizes.split(",") if n
    ]
    results: dict = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": _machine(),
        "scale": [],
        "embedders": [],
        "baseline": [],
    }
    for n, embedder in plan:
        print(f"scale: {n} reports with {embedder}…", file=sys.stderr, flush=True)
        results["scale"].append(_subprocess_size(n, embedder, work))
        _write(args.out, results)
    if not args.quick:
        for embedder in ("e5-small", "use-multilingual"):
            print(f"quality: {embedder}…", file=sys.stderr, flush=True)
            results["embedders"].append(embedder_quality(embedder, work))
            for k in (4, 8):
                results["baseline"].append(baseline_vs_ours(embedder, k, work))
            _write(args.out, results)
    print(markdown(results))


def _machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _write(out: Path, results: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "results.md").write_text(markdown(results), encoding="utf-8")


if __name__ == "__main__":
    main()
