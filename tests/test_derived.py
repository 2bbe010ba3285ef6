"""Sentence vectors and the term map are saved per catalog state: a start maps them, a change rebuilds them."""

from pathlib import Path

import numpy as np

from bot.api import Bot
from bot.config import Settings
from bot.sentence_vectors import SentenceVectors


def _folders(settings: Settings) -> list[Path]:
    return sorted((settings.data_dir / "derived-e5-small").glob("g*"))


def test_a_second_start_maps_the_saved_arrays_and_answers_alike(fresh_settings: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = Bot(fresh_settings)
    (folder,) = _folders(fresh_settings)
    saved = {p.name for p in folder.iterdir()}
    assert saved >= {"sentences.vectors.npy", f"terms-{first.word_embedder.id}-20000.vectors.npy", "stats.txt"}
    english = "How many lawyers does Jinyun have?"
    expected = first.answer(english)

    def recompute(*args: object) -> None:
        raise AssertionError("sentence vectors were recomputed although saved for this catalog")

    monkeypatch.setattr("bot.sentence_vectors._compute", recompute)
    second = Bot(fresh_settings)
    assert isinstance(second.sentences._vectors, np.memmap)
    assert second.answer(english).answer == expected.answer


def test_a_changed_catalog_gets_new_arrays_and_the_old_ones_go(fresh_settings: Settings) -> None:
    bot = Bot(fresh_settings)
    (before,) = _folders(fresh_settings)
    report = fresh_settings.seeds_dir / "new.txt"
    report.write_text("2022年,西湖区司法局全年办理法律援助案件88件。全区共有人民调解员356名。", encoding="utf-8")
    bot.ingest()
    (after,) = _folders(fresh_settings)
    assert after != before
    answer = bot.answer("西湖区有多少人民调解员？")
    assert "356" in answer.answer
    assert isinstance(bot.sentences, SentenceVectors)


def test_saved_figures_are_the_extracted_ones(bot: Bot, tmp_path: Path) -> None:
    from bot.figures import FigureTable, extract_figures

    FigureTable(bot.catalog.docs, tmp_path / "figures.sqlite")  # writes the table
    saved = FigureTable(bot.catalog.docs, tmp_path / "figures.sqlite")  # reads it
    for doc_id, doc in bot.catalog.docs.items():
        assert saved[doc_id] == extract_figures(doc_id, doc.text)
    assert sum(len(saved[d]) for d in bot.catalog.docs) > 100


def test_a_table_of_another_extraction_version_is_not_read_back(bot: Bot, tmp_path: Path) -> None:
    """The saved table is named for the extraction code; an older version's is removed, not used."""
    from bot.figures import SAVED_NAME, FigureTable

    older = tmp_path / "figures.sqlite"
    FigureTable(bot.catalog.docs, older)
    FigureTable(bot.catalog.docs, tmp_path / SAVED_NAME)
    assert older.name != SAVED_NAME and not older.exists() and (tmp_path / SAVED_NAME).exists()
