"""One writer at a time: a second process answers from the committed state instead of 'finishing' a running
ingest, a killed `bot ingest PATH` is finished at the next start, and a running bot sees another's ingest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.synth import generate
from bot.api import Bot
from bot.config import Settings

BOT = Path(sys.executable).parent / "bot"


def _env(cfg: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "BOT_DATA_DIR": str(cfg.data_dir),
        "BOT_SEEDS_DIR": str(cfg.seeds_dir),
        "BOT_EMBEDDER": cfg.embedder,
    }


def _start_ingest(cfg: Settings, *paths: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([BOT, "ingest", *map(str, paths)], env=_env(cfg), stderr=subprocess.PIPE, text=True)


def _wait_for_progress(proc: subprocess.Popen[str], lines: int) -> None:
    seen = 0
    assert proc.stderr is not None
    for line in proc.stderr:
        seen += line.startswith("[")
        if seen >= lines:
            return


def _consistent(bot: Bot, docs: int) -> None:
    assert len(bot.catalog.docs) == docs
    assert bot.store.ids() == set(bot.catalog.chunks)
    assert sum(len(d.chunk_ids) for d in bot.catalog.docs.values()) == len(bot.catalog.chunks)


def test_a_second_process_answers_from_the_committed_state(tmp_path: Path) -> None:
    generate(tmp_path / "corpus", 40)
    cfg = Settings(data_dir=tmp_path / "data", seeds_dir=tmp_path / "corpus", embedder="use-multilingual")
    writer = _start_ingest(cfg)
    _wait_for_progress(writer, 8)
    ask = subprocess.run(
        [BOT, "ask", "法律援助案件办理了多少件？", "--json"], env=_env(cfg), capture_output=True, text=True, timeout=600
    )
    assert writer.poll() is None, "the ingest ended before the second process asked"
    assert ask.returncode == 0 and "Traceback" not in ask.stderr, ask.stderr[-2000:]
    assert "Another process is ingesting" in ask.stderr and "interrupted" not in ask.stderr
    json.loads(ask.stdout)
    assert writer.wait(timeout=600) == 0
    _consistent(Bot(cfg), 40)


def test_a_killed_path_ingest_is_finished_at_the_next_start(tmp_path: Path) -> None:
    generate(tmp_path / "corpus", 30)
    (tmp_path / "seeds").mkdir()
    cfg = Settings(data_dir=tmp_path / "data", seeds_dir=tmp_path / "seeds", embedder="use-multilingual")
    Bot(cfg)  # an empty index first, so the kill lands in the path ingest itself
    writer = _start_ingest(cfg, tmp_path / "corpus")
    _wait_for_progress(writer, 10)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    messages: list[str] = []
    bot = Bot(cfg, progress=messages.append)
    assert any("interrupted" in m for m in messages)
    _consistent(bot, 30)
    assert bot.ingest().chunks == 0


def test_a_running_bot_reloads_after_another_process_ingests(fresh_settings: Settings, tmp_path: Path) -> None:
    serving = Bot(fresh_settings.model_copy(update={"watch_s": 0.5}))
    assert serving.answer("西湖区调处纠纷多少件？").refused
    report = tmp_path / "xihu.txt"
    report.write_text("西湖区司法局2022年工作报告\n2022年,西湖区司法局全年调处纠纷321件。\n", encoding="utf-8")
    done = subprocess.run([BOT, "ingest", str(report)], env=_env(fresh_settings), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    deadline = time.monotonic() + 30  # a bound on waiting, not a speed assertion
    while len(serving.catalog.docs) < 6 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "321" in serving.answer("西湖区调处纠纷多少件？").answer
    _consistent(serving, 6)
