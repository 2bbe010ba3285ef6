"""The same pipeline against a real Chroma server (`chroma run`) on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.api import Bot
from bot.config import Settings
from bot.store import StoreError
from tests.conftest import CREDIT_DOC, SEEDS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert exe, "the chroma command ships with chromadb"
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("chroma server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_server_mode_gives_the_same_answer(chroma_url: str, tmp_path: Path, bot: Bot) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(bot.settings.data_dir / "embeddings.sqlite", data / "embeddings.sqlite")
    remote = Bot(Settings(data_dir=data, seeds_dir=SEEDS, chroma_url=chroma_url))
    assert remote.store.count() == len(remote.catalog.chunks)
    question = "which counties piloted the credit plus mediation mechanism"
    there, here = remote.answer(question), bot.answer(question)
    assert there.answer == here.answer
    assert [c.doc_id for c in there.citations] == [CREDIT_DOC]


def test_unreachable_server_names_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(StoreError, match=url):
        Bot(Settings(data_dir=tmp_path, seeds_dir=SEEDS, chroma_url=url))


def _start_server(path: Path, port: int) -> subprocess.Popen[bytes]:
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert exe
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("chroma server did not start")


def _data_dir(tmp_path: Path, name: str, bot: Bot) -> Path:
    data = tmp_path / name
    data.mkdir()
    shutil.copy(bot.settings.data_dir / "embeddings.sqlite", data / "embeddings.sqlite")
    return data


def test_two_replicas_and_a_cli_ingest_stay_in_step(tmp_path: Path, bot: Bot) -> None:
    port = _free_port()
    server = _start_server(tmp_path / "chroma", port)
    url = f"http://127.0.0.1:{port}"
    try:
        replicas = [
            Bot(
                Settings(data_dir=_data_dir(tmp_path, f"replica{i}", bot), seeds_dir=SEEDS, chroma_url=url, watch_s=0.5)
            )
            for i in range(2)
        ]
        report = tmp_path / "xihu.txt"
        report.write_text("西湖区司法局2022年工作报告\n2022年,西湖区司法局全年调处纠纷321件。\n", encoding="utf-8")
        env = {**os.environ, "BOT_DATA_DIR": str(_data_dir(tmp_path, "cli", bot)), "BOT_CHROMA_URL": url}
        done = subprocess.run(
            [Path(sys.executable).parent / "bot", "ingest", str(report)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0 and "1 added" in done.stdout, done.stderr[-2000:]
        deadline = time.monotonic() + 30  # a bound on waiting; the time it took is measured in bench/
        while any(len(r.catalog.docs) < 6 for r in replicas) and time.monotonic() < deadline:
            time.sleep(0.2)
        for replica in replicas:
            assert "321" in replica.answer("西湖区调处纠纷多少件？").answer
            assert replica.store.count() == len(replica.catalog.chunks)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_server_that_dies_mid_session_gives_one_line_and_recovers(tmp_path: Path, bot: Bot) -> None:
    port = _free_port()
    server = _start_server(tmp_path / "chroma", port)
    url = f"http://127.0.0.1:{port}"
    remote = Bot(Settings(data_dir=_data_dir(tmp_path, "data", bot), seeds_dir=SEEDS, chroma_url=url, watch_s=0))
    server.terminate()
    server.wait(timeout=10)
    try:
        during = remote.answer("缙云县有多少律师？")  # BM25 alone while the server is away
        assert "103" in during.answer
        extra = tmp_path / "xihu.txt"
        extra.write_text("西湖区司法局2022年工作报告\n2022年,西湖区司法局全年调处纠纷321件。\n", encoding="utf-8")
        with pytest.raises(StoreError, match=f"cannot reach the Chroma server at {url}$") as info:
            remote.ingest([extra])
        assert "\n" not in str(info.value)
        server = _start_server(tmp_path / "chroma", port)
        assert remote.ingest([extra]).added == ["xihu"]
        assert "321" in remote.answer("西湖区调处纠纷多少件？").answer
        assert remote.store.count() == len(remote.catalog.chunks)
    finally:
        server.terminate()
        server.wait(timeout=10)
