"""One source of truth for the corpus: ids never collide, added reports survive rebuilds, manifest typos cost
one entry, and damaged state (Chroma sqlite, embedding cache, missing seeds) is rebuilt with a message."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.api import Bot
from bot.config import Settings
from tests.conftest import JINYUN_DOC, SEEDS

BOT = Path(sys.executable).parent / "bot"


def _report(county: str, figure: int) -> str:
    body = f"2022年,{county}司法局推行“{county[:2]}+调解”工作机制,全年调处纠纷{figure}件。"
    return f"{county}司法局2022年工作报告\n{body}\n"


def _consistent(bot: Bot) -> None:
    assert bot.store.ids() == set(bot.catalog.chunks)
    assert sum(len(d.chunk_ids) for d in bot.catalog.docs.values()) == len(bot.catalog.chunks)


def _run(cfg: Settings, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "BOT_DATA_DIR": str(cfg.data_dir), "BOT_SEEDS_DIR": str(cfg.seeds_dir)}
    return subprocess.run([BOT, *args], env={**base, **(env or {})}, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    ("first", "second"),
    [("a/report.txt", "b/report.txt"), ("x/a b.txt", "x/a_b.txt"), ("y/good.txt", "y/good.md")],
)
def test_files_with_the_same_stem_are_both_kept(
    fresh_settings: Settings, tmp_path: Path, first: str, second: str
) -> None:
    for rel, (county, figure) in ((first, ("西湖区", 321)), (second, ("东湖区", 654))):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(_report(county, figure), encoding="utf-8")
    bot = Bot(fresh_settings)
    report = bot.ingest([tmp_path / first, tmp_path / second])
    assert len(report.added) == 2 and not report.failed and not report.updated
    assert "321" in bot.answer("西湖区调处纠纷多少件？").answer
    assert "654" in bot.answer("东湖区调处纠纷多少件？").answer
    _consistent(bot)


def test_a_file_named_like_a_seed_is_added_beside_it(fresh_settings: Settings, tmp_path: Path) -> None:
    other = tmp_path / "other" / f"{JINYUN_DOC}.txt"
    other.parent.mkdir()
    other.write_text(_report("西湖区", 321), encoding="utf-8")
    messages: list[str] = []
    bot = Bot(fresh_settings)
    report = bot.ingest([other], progress=messages.append)
    assert report.added == [f"{JINYUN_DOC}-{report.added[0].rsplit('-', 1)[1]}"] and not report.updated
    assert any("belongs to another report" in m for m in messages)
    for b in (bot, Bot(fresh_settings)):
        b.ingest()  # a plain re-sync keeps both
        assert "103" in b.answer("缙云县有多少律师？").answer
        assert "321" in b.answer("西湖区调处纠纷多少件？").answer


def test_added_reports_survive_a_rebuild_even_when_their_file_is_gone(fresh_settings: Settings, tmp_path: Path) -> None:
    extra = tmp_path / "xihu.txt"
    extra.write_text(_report("西湖区", 321), encoding="utf-8")
    Bot(fresh_settings).ingest([extra])
    extra.unlink()
    shutil.rmtree(fresh_settings.data_dir / "chroma")
    for path in fresh_settings.data_dir.glob("catalog-*"):
        path.unlink()
    bot = Bot(fresh_settings)
    assert len(bot.catalog.docs) == 6
    assert "321" in bot.answer("西湖区调处纠纷多少件？").answer
    _consistent(bot)


def test_a_manifest_typo_costs_one_entry_and_removes_nothing(fresh_settings: Settings) -> None:
    Bot(fresh_settings)
    manifest = fresh_settings.seeds_dir / "manifest.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("year = 2024", "year = 20x24").replace('period = "2020"', "period = 2020'"))
    messages: list[str] = []
    bot = Bot(fresh_settings)
    report = bot.ingest(progress=messages.append)
    assert not report.removed and not report.failed and len(bot.catalog.docs) == 5
    assert sum("entry ignored" in m for m in messages) == 2, messages
    assert "103" in bot.answer("缙云县有多少律师？").answer
    _consistent(bot)


def test_a_badly_typed_manifest_field_is_reported(tmp_path: Path) -> None:
    from bot.corpus import read_manifest

    (tmp_path / "manifest.toml").write_text('["a"]\nyear = "soon"\n\n["b"]\ncounty = "某县"\n', encoding="utf-8")
    entries, problems = read_manifest(tmp_path)
    assert list(entries) == ["b"] and len(problems) == 1 and "'a' ignored" in problems[0]


def _flip_middle(path: Path, seed: int) -> None:
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    for _ in range(20):
        i = rng.randrange(len(data) // 4, len(data) * 3 // 4)
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_flipped_bytes_inside_chroma_sqlite_are_rebuilt_not_a_crash(fresh_settings: Settings, seed: int) -> None:
    Bot(fresh_settings)
    _flip_middle(fresh_settings.data_dir / "chroma" / "chroma.sqlite3", seed)
    result = _run(fresh_settings, "ask", "缙云县有多少律师？", "--json")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "103" in json.loads(result.stdout)["answer"]


def test_a_garbage_embedding_cache_is_moved_aside(fresh_settings: Settings) -> None:
    Bot(fresh_settings)
    (fresh_settings.data_dir / "embeddings.sqlite").write_bytes(b"garbage" * 1000)
    with (fresh_settings.seeds_dir / f"{JINYUN_DOC}.txt").open("a", encoding="utf-8") as fh:
        fh.write("\n2023年,缙云县新增调解员12人。\n")
    result = _run(fresh_settings, "ingest")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "embedding cache" in result.stderr and "1 updated" in result.stdout
    assert list(fresh_settings.data_dir.glob("embeddings.sqlite.broken-*"))


def test_missing_seeds_and_empty_data_dir_say_so(tmp_path: Path) -> None:
    cfg = Settings(data_dir=tmp_path / "data", seeds_dir=tmp_path / "no-such-seeds", embedder="use-multilingual")
    result = _run(cfg, "ask", "缙云县有多少律师？", "--json", env={"BOT_EMBEDDER": "use-multilingual"})
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "no-such-seeds is missing" in result.stderr
    assert json.loads(result.stdout)["refused"]


def test_a_data_dir_that_is_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("x")
    result = _run(Settings(data_dir=tmp_path / "data", seeds_dir=SEEDS), "ask", "缙云县有多少律师？")
    assert result.returncode == 1 and "is a file, not a folder" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*broken*"))


def test_a_chroma_url_that_is_not_a_url_is_refused(tmp_path: Path) -> None:
    result = _run(Settings(data_dir=tmp_path, seeds_dir=SEEDS), "ask", "x", env={"BOT_CHROMA_URL": "not a url"})
    assert result.returncode == 2 and "not a Chroma server URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_reports_an_older_version_indexed_are_taken_in(fresh_settings: Settings, tmp_path: Path) -> None:
    extra = tmp_path / "xihu.txt"
    extra.write_text(_report("西湖区", 321), encoding="utf-8")
    old = {"version": 1, "docs": [{"origin": str(extra)}, {"origin": str(fresh_settings.seeds_dir / "x.txt")}]}
    (fresh_settings.data_dir / "catalog-e5-small.json").write_text(json.dumps(old), encoding="utf-8")
    bot = Bot(fresh_settings)
    assert len(bot.catalog.docs) == 6 and "321" in bot.answer("西湖区调处纠纷多少件？").answer
    assert (fresh_settings.data_dir / "catalog-e5-small.json.migrated").exists()
