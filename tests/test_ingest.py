from pathlib import Path

from bot.api import Bot
from bot.config import Settings
from tests.conftest import CREDIT_DOC, JINYUN_DOC, SEEDS


def test_first_build_indexes_every_seed(bot: Bot) -> None:
    assert len(bot.catalog.docs) == 5
    assert bot.store.count() == len(bot.catalog.chunks) > 100
    assert bot.store.name == "reports-e5-small"


def test_reingest_of_unchanged_corpus_costs_nothing(bot: Bot) -> None:
    before = bot.store.ids()
    report = bot.ingest()
    assert len(report.unchanged) == 5
    assert report.chunks == 0 and not report.added and not report.updated
    assert bot.store.ids() == before


def test_changed_report_is_replaced_and_removed_report_disappears(fresh_settings: Settings) -> None:
    bot = Bot(fresh_settings)
    old_ids = set(bot.catalog.docs[CREDIT_DOC].chunk_ids)
    path = fresh_settings.seeds_dir / f"{CREDIT_DOC}.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("信用+调解", "信用+仲裁"), encoding="utf-8")
    (fresh_settings.seeds_dir / f"{JINYUN_DOC}.txt").unlink()
    report = bot.ingest()
    assert report.updated == [CREDIT_DOC] and report.removed == [JINYUN_DOC]
    ids = bot.store.ids()
    assert not any(cid.startswith(JINYUN_DOC) for cid in ids)
    new_ids = set(bot.catalog.docs[CREDIT_DOC].chunk_ids)
    assert old_ids - new_ids and not (old_ids - new_ids) & ids  # replaced chunks are gone from Chroma
    assert ids == set(bot.catalog.chunks)
    assert "信用+调解" not in bot.answer("哪些区县推行了信用+调解机制？").answer


def test_bad_files_are_reported_and_the_rest_goes_in(fresh_settings: Settings, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "empty.txt").write_bytes(b"")
    (extra / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (extra / "copy_of_jinyun.txt").write_bytes((SEEDS / f"{JINYUN_DOC}.txt").read_bytes())
    good = "2022年,西湖区司法局推行“枫叶+调解”工作机制,全年调处纠纷321件。"
    (extra / "xihu.txt").write_text(good, encoding="utf-8")
    bot = Bot(fresh_settings)
    report = bot.ingest([extra])
    failed = dict(report.failed)
    assert set(failed) == {"empty.txt", "broken.pdf", "copy_of_jinyun.txt"}
    assert "same text as" in failed["copy_of_jinyun.txt"]
    assert report.added == ["xihu"]
    answer = bot.answer("西湖区2022年调处纠纷多少件？")
    assert not answer.refused and "321" in answer.answer
    assert answer.citations[0].doc_id == "xihu"


def test_index_survives_restart_without_reembedding(fresh_settings: Settings) -> None:
    Bot(fresh_settings)
    again = Bot(fresh_settings)
    assert again.ingest().chunks == 0


def test_lost_vectors_are_restored(fresh_settings: Settings) -> None:
    bot = Bot(fresh_settings)
    some = sorted(bot.catalog.docs[CREDIT_DOC].chunk_ids)[:3]
    bot.store.delete(some)
    restored = Bot(fresh_settings)  # notices the missing vectors when it opens the index
    assert set(some) <= restored.store.ids()
    assert restored.store.count() == len(restored.catalog.chunks)
