"""The same pipeline against a real Chroma server (`chroma run`) on 127.0.0.1."""

from __future__ import annotations

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
