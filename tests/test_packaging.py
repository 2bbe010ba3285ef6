"""The built wheel is complete: prompts and word lists are package data, and `bot ask` runs from any folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

from tests.conftest import ROOT, SEEDS

_SKIP = shutil.ignore_patterns(".venv", ".data", ".git", "build", "*.egg-info", "__pycache__", ".pytest_cache")


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=_SKIP)  # a copy, so the build leaves nothing in the checkout
    out = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(source), "-w", str(out)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("*.whl")
    return wheel


def _fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    """A new venv with the wheel installed; dependencies come from this venv's site-packages (read via a
    .pth path, which does not process this venv's editable-install hook, so only the wheel provides `bot`)."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    return env_dir


def test_the_wheel_holds_its_data_and_runs_from_any_folder(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("system", "answer", "condense", "judge"):
        assert f"bot/prompts/{name}.md" in names
    assert {"bot/resources/glossary.toml", "bot/resources/synonyms.toml"} <= names
    env_dir = _fresh_venv(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_") and k != "PYTHONPATH"}
    env |= {"BOT_DATA_DIR": str(tmp_path / "data"), "BOT_SEEDS_DIR": str(SEEDS), "BOT_EMBEDDER": "use-multilingual"}
    check = (
        "import bot, bot.config, bot.prompts; s = bot.config.Settings(); p = bot.prompts.load_prompts(s.prompts_dir);"
        "print(bot.__file__); print(s.prompts_dir)"
    )
    where = subprocess.run(
        [env_dir / "bin" / "python", "-c", check], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert where.returncode == 0, where.stderr[-2000:]
    assert all(line.startswith(str(env_dir)) for line in where.stdout.split()), where.stdout
    asked = subprocess.run(
        [env_dir / "bin" / "bot", "ask", "缙云县有多少律师？", "--json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert asked.returncode == 0, asked.stderr[-2000:]
    assert "103" in json.loads(asked.stdout)["answer"]
    assert not (elsewhere / ".data").exists()  # BOT_DATA_DIR was used, nothing written where it ran
