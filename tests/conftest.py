"""Shared fixtures: one real index over the real reports, built once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

from bot.api import Bot
from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CREDIT_DOC = "002_a9c76903e33fb38f"  # 环翠区: the only report with 信用+调解
JINYUN_DOC = "000_09035effb4288de1"
ZHONGLOU_DOC = "004_6dbec4c0adf09e2a"
LINHAI_DOC = "003_49aefc5b94c96eef"
ZHENJIANG_DOC = "001_f17da7e166bed6ca"


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("index")


@pytest.fixture(scope="session")
def settings(session_dir: Path) -> Settings:
    data = session_dir / "data"
    warm = os.environ.get("BOT_TEST_EMBEDDINGS")  # a developer's cache of earlier runs; CI runs cold
    if warm and Path(warm).is_file():
        data.mkdir(parents=True, exist_ok=True)
        shutil.copy(warm, data / "embeddings.sqlite")
    return Settings(data_dir=data, seeds_dir=SEEDS)


@pytest.fixture(scope="session")
def bot(settings: Settings) -> Bot:
    return Bot(settings)


@pytest.fixture
def fresh_settings(tmp_path: Path, bot: Bot) -> Settings:
    """A private data dir and seeds copy, sharing the session's embedding cache so indexing is quick."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(bot.settings.data_dir / "embeddings.sqlite", data / "embeddings.sqlite")
    return Settings(data_dir=data, seeds_dir=seeds)


CHROMIUM = "/usr/bin/chromium"


def _ensure_chromium() -> str:
    """`playwright install` cannot download browsers here: Debian's chromium is installed through apt."""
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium", "fonts-wqy-zenhei"],
            env=env,
            capture_output=True,
            timeout=1200,
        )
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium could not be installed through apt")
    pytest.skip("chromium is missing and cannot be installed here (needs root and apt-get)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium per browser-test module."""
    from playwright.sync_api import sync_playwright  # only the browser tests need it

    executable = _ensure_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
        )
        yield browser
        browser.close()
