"""Concurrent chat sessions against the running app on 127.0.0.1: errors, correctness, latency.

    .venv/bin/python bench/load.py                  # 20 sessions for 60 s against a fresh app subprocess
    .venv/bin/python bench/load.py --url http://127.0.0.1:7860 --sessions 5 --seconds 10

Bounded in time and in requests; it stops by itself and sends traffic only to loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKS = [
    ("哪些区县推行了信用+调解机制？", "环翠"),
    ("which counties piloted the credit plus mediation mechanism", "Huancui"),
    ("缙云县2023年办理了多少件法律援助案件？", "469"),
    ("钟楼区三级调解组织共调解案件多少件？", "6578"),
    ("缙云县2023年的财政预算总额是多少？", "报告中没有"),
]
MAX_REQUESTS = 20_000


def _session(url: str, deadline: float, results: list[dict], index: int) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    i = index
    while time.monotonic() < deadline and len(results) < MAX_REQUESTS:
        question, expected = CHECKS[i % len(CHECKS)]
        i += 1
        started = time.perf_counter()
        try:
            answer = client.predict(question, api_name="/ask")
            ok = expected in answer["answer"]
            results.append({"ms": (time.perf_counter() - started) * 1000, "ok": ok, "error": None})
        except Exception as exc:  # counted and reported, never raised: the run must finish
            results.append({"ms": (time.perf_counter() - started) * 1000, "ok": False, "error": type(exc).__name__})


def run_load(url: str, sessions: int, seconds: float) -> dict:
    results: list[dict] = []
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=_session, args=(url, deadline, results, i)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    ms = sorted(r["ms"] for r in results)
    return {
        "sessions": sessions,
        "seconds": seconds,
        "requests": len(results),
        "errors": sum(r["error"] is not None for r in results),
        "wrong": sum(r["error"] is None and not r["ok"] for r in results),
        "throughput_rps": round(len(results) / seconds, 1),
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1) if ms else None,
    }


def _start_app(port: int) -> subprocess.Popen:
    env = {**os.environ, "BOT_PORT": str(port), "BOT_HOST": "127.0.0.1"}
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the app did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an app already running on 127.0.0.1 (default: start one)")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    proc = None if args.url else _start_app(7861)
    try:
        result = run_load(args.url or "http://127.0.0.1:7861", args.sessions, args.seconds)
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)
    result["date"] = time.strftime("%Y-%m-%d")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
