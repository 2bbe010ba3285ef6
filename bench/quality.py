"""Quality side of the benchmarks on the real reports: embedders on the evaluation set, and our retriever
against the textbook LangChain RAG (RecursiveCharacterTextSplitter 500/50 + Chroma similarity top-k)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import chromadb
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from bot.api import Bot
from bot.config import Settings
from bot.embeddings import Embedder
from bot.evaluate import Question, groups_found, load_questions, run_eval

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "eval" / "questions.jsonl"


class LangchainEmbeddings(Embeddings):
    """The same embedder behind langchain's interface, so the baseline differs only in its pipeline."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()


def embedder_quality(embedder: str, work: Path) -> dict:
    bot = Bot(Settings(data_dir=work / f"eval-{embedder}", embedder=embedder), progress=lambda _: None)
    summary = run_eval(
        lambda q: bot.answer(q.question, history=q.history),
        bot,
        load_questions(QUESTIONS),
        work / f"eval-out-{embedder}",
        bot.settings.top_k,
        lambda _: None,
    )
    keys = ("answer_accuracy", "grounding", "evidence_recall_at_k", "mrr", "refusal_recall")
    return {"embedder": embedder, **{k: summary["overall"][k] for k in keys}}


def _recall(texts: list[str], q: Question) -> float:
    return groups_found(" ".join(texts), q.keywords) / len(q.keywords)


def baseline_vs_ours(embedder: str, k: int, work: Path) -> dict:
    """Evidence recall@k (share of keyword groups found in the top-k chunks) over the answerable questions."""
    bot = Bot(Settings(data_dir=work / f"eval-{embedder}", embedder=embedder, top_k=k), progress=lambda _: None)
    questions = [q for q in load_questions(QUESTIONS) if q.answerable and q.keywords]
    splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)
    texts, metas = [], []
    for doc_id, doc in bot.catalog.docs.items():
        for piece in splitter.split_text(doc.text):
            texts.append(piece)
            metas.append({"doc_id": doc_id})
    client = chromadb.EphemeralClient(settings=chromadb.Settings(anonymized_telemetry=False))
    name = f"baseline-{bot.embedder.id}-{k}"
    store = Chroma(client=client, collection_name=name, embedding_function=LangchainEmbeddings(bot.embedder))
    store.add_texts(texts, metadatas=metas)
    ours, base = [], []
    for q in questions:
        label = lambda d: bot.doc_label(d)  # noqa: E731 — both sides may match a region by its report's name
        found = bot.answer(q.question, history=q.history).retrieved[:k]
        ours.append(_recall([bot.chunk_text(r.chunk_id) + label(r.doc_id) for r in found], q))
        hits = store.similarity_search(q.question, k=k)
        base.append(_recall([h.page_content + label(h.metadata["doc_id"]) for h in hits], q))
    mean_ours, mean_base = sum(ours) / len(ours), sum(base) / len(base)
    return {
        "embedder": embedder,
        "k": k,
        "questions": len(questions),
        "ours_recall": round(mean_ours, 4),
        "baseline_recall": round(mean_base, 4),
        "ratio": round(mean_ours / mean_base, 3) if mean_base else None,
    }


def temp_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="bench-quality-"))
