"""The installed `bot` command, run as a user would, on a private index."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from tests.conftest import CREDIT_DOC, SEEDS

KEYS = {"answer", "refused", "backend", "citations", "retrieved", "latency_ms", "changes", "notice", "fallback"}
CITATION_KEYS = {"n", "doc_id", "title", "region", "section", "start", "end", "text"}


@pytest.fixture
def env(fresh_settings: Settings) -> dict[str, str]:
    return {**os.environ, "BOT_DATA_DIR": str(fresh_settings.data_dir), "BOT_SEEDS_DIR": str(fresh_settings.seeds_dir)}


def _bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("bot", path=str(Path(sys.executable).parent)) or "bot"
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=300)


def test_ask_json_is_exactly_one_object(env: dict[str, str]) -> None:
    result = _bot(env, "ask", "which counties piloted the credit plus mediation mechanism", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # fails on anything but one JSON document
    assert set(data) == KEYS
    assert data["refused"] is False and data["backend"] == "extractive"
    assert "Huancui" in data["answer"]
    assert all(set(c) == CITATION_KEYS for c in data["citations"])
    assert data["citations"][0]["doc_id"] == CREDIT_DOC and "信用+调解" in data["citations"][0]["text"]
    assert all(set(r) == {"doc_id", "chunk_id", "score"} for r in data["retrieved"])


def test_ask_refuses_budget_question(env: dict[str, str]) -> None:
    data = json.loads(_bot(env, "ask", "缙云县2023年的财政预算总额是多少？", "--json").stdout)
    assert data["refused"] is True


def test_history_file(env: dict[str, str], tmp_path: Path) -> None:
    history = tmp_path / "h.json"
    history.write_text(
        json.dumps([["缙云县有多少律师？", "全县现有律师103人[1]"]], ensure_ascii=False), encoding="utf-8"
    )
    data = json.loads(_bot(env, "ask", "钟楼区呢？", "--json", "--history", str(history)).stdout)
    assert not data["refused"] and "钟楼" in data["answer"]


def test_plain_output_lists_sources(env: dict[str, str]) -> None:
    result = _bot(env, "ask", "缙云县有多少律师？")
    assert "103" in result.stdout and "[1] 缙云县司法局2023年工作开展情况" in result.stdout


def test_ingest_prints_progress_and_summary(env: dict[str, str], tmp_path: Path) -> None:
    extra = tmp_path / "new.txt"
    extra.write_text("2022年,西湖区司法局全年办理法律援助案件88件。", encoding="utf-8")
    result = _bot(env, "ingest", str(extra))
    assert result.returncode == 0, result.stderr
    assert "1 added" in result.stdout and "[6/6]" in result.stderr


def test_ingest_into_an_empty_folder_reports_what_it_indexed(tmp_path: Path) -> None:
    """The first run indexes the seeds while opening; the summary says so, not "0 added, 1 unchanged"."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(sorted(SEEDS.glob("*.txt"))[0], seeds)
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data"), "BOT_SEEDS_DIR": str(seeds)}
    result = _bot({**env, "BOT_EMBEDDER": "use-multilingual"}, "ingest")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 added") and "0 chunks" not in result.stdout


@pytest.mark.parametrize(
    ("args", "extra_env", "message"),
    [
        (["ask", "hi", "--backend", "gpt-9"], {}, "unknown LLM backend 'gpt-9'"),
        (["ask", "hi"], {"BOT_EMBEDDER": "word2vec"}, "unknown embedder 'word2vec'"),
        (["ingest", "/no/such/file.txt"], {}, "no such file or folder"),
    ],
)
def test_errors_are_one_clear_line(env: dict[str, str], args: list[str], extra_env: dict, message: str) -> None:
    result = _bot({**env, **extra_env}, *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_region_and_year_options(env: dict[str, str]) -> None:
    result = _bot(env, "ask", "法律援助案件办理了多少件？", "--json", "--region", "钟楼", "--year", "2023")
    data = json.loads(result.stdout)
    assert data["citations"][0]["doc_id"] == "004_6dbec4c0adf09e2a" and "476" in data["answer"]


HEAVY = ("gradio", "torch", "sentence_transformers", "langchain_core", "langchain_openai", "openai")
_ASK_AND_LIST = """
import sys
from bot.cli import main
sys.argv = ["bot", "ask", sys.argv[1], "--json"]
try:
    main()
finally:
    print("LOADED", [m for m in {heavy!r} if m in sys.modules])
"""


def test_an_extractive_ask_imports_no_ui_model_or_llm_stack(env: dict[str, str]) -> None:
    """A CLI question on the default backend needs none of gradio, torch or langchain: a cold start pays for
    what it imports."""
    code = _ASK_AND_LIST.format(heavy=HEAVY)
    result = subprocess.run(
        [sys.executable, "-c", code, "缙云县现有律师多少人？"], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    answer, loaded = result.stdout.rsplit("LOADED", 1)
    assert "103" in json.loads(answer)["answer"]
    assert loaded.strip() == "[]"


def test_import_bot_api_alone_is_light() -> None:
    code = f"import sys, bot.api; print([m for m in {HEAVY!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
