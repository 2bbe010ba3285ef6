"""Measured cost of hostile input and of keeping replicas in step (numbers for the README, never asserted).

.venv/bin/python bench/robustness.py      → bench/results/robustness.json
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.documents import zip_bomb  # noqa: E402  (the same bomb the tests refuse)

_MEASURE = """
import json, resource, sys, time
from pathlib import Path
from bot.corpus import CorpusError, read_document
from bot.chunking import chunk_document
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    doc = read_document(Path(sys.argv[1]))
    chunks = chunk_document(doc.doc_id, doc.text, 360)
    outcome = f"{len(chunks)} chunks, longest {max(c.end - c.start for c in chunks)} chars"
except CorpusError as exc:
    outcome = "refused: " + str(exc)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": round(seconds, 3), "extra_peak_mb": round((peak - before) / 1024, 1), "outcome": outcome}))
"""


def _in_child(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def long_line(path: Path) -> Path:
    path.write_text("巨县司法局2022年工作报告\n" + "巨县司法局推进法治建设" * 81_500 + "\n", encoding="utf-8")
    return path


def ingest_seconds(path: Path, work: Path) -> dict:
    env = {**os.environ, "BOT_DATA_DIR": str(work / "data"), "BOT_SEEDS_DIR": str(work / "no-seeds")}
    env["BOT_EMBEDDER"] = "use-multilingual"
    start = time.perf_counter()
    done = subprocess.run(
        [Path(sys.executable).parent / "bot", "ingest", str(path)], env=env, capture_output=True, text=True
    )
    return {"seconds": round(time.perf_counter() - start, 1), "summary": done.stdout.strip()[-200:]}


def replica_lag(work: Path) -> dict:
    """Two bots on one Chroma server and a CLI ingest through a third data dir: seconds from the CLI's
    exit until both bots answer from the new report."""
    import socket
    import urllib.request

    from bot.api import Bot
    from bot.config import Settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    server = subprocess.Popen(
        [chroma, "run", "--path", str(work / "chroma"), "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        common = {"seeds_dir": ROOT / "seeds", "chroma_url": url, "embedder": "use-multilingual", "watch_s": 0.5}
        bots = [Bot(Settings(data_dir=work / f"replica{i}", **common)) for i in range(2)]
        report = work / "xihu.txt"
        report.write_text("西湖区司法局2022年工作报告\n2022年,西湖区司法局全年调处纠纷321件。\n", encoding="utf-8")
        env = {
            **os.environ,
            "BOT_DATA_DIR": str(work / "cli"),
            "BOT_CHROMA_URL": url,
            "BOT_EMBEDDER": "use-multilingual",
        }
        subprocess.run(
            [Path(sys.executable).parent / "bot", "ingest", str(report)], env=env, check=True, capture_output=True
        )
        done = time.perf_counter()
        seen: dict[int, float] = {}
        while len(seen) < 2 and time.perf_counter() - done < 60:
            for i, bot in enumerate(bots):
                if i not in seen and "321" in bot.answer("西湖区调处纠纷多少件？").answer:
                    seen[i] = round(time.perf_counter() - done, 2)
            time.sleep(0.05)
        return {"seconds_until_each_replica_answers": [seen.get(i) for i in range(2)], "watch_s": 0.5}
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bomb = zip_bomb(work / "bomb.docx")
        out["zip bomb"] = {"file_mb": round(bomb.stat().st_size / 2**20, 2), **_in_child(bomb)}
        line = long_line(work / "long_line.txt")
        out["long unpunctuated line"] = {"file_mb": round(line.stat().st_size / 2**20, 2), **_in_child(line)}
        out["long unpunctuated line, bot ingest (use-multilingual)"] = ingest_seconds(line, work)
        shutil.rmtree(work / "data", ignore_errors=True)
        out["replicas on one Chroma server"] = replica_lag(work)
    dest = ROOT / "bench" / "results" / "robustness.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
