"""The shapes that cross module boundaries: evidence in, answers with citations out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field


class Citation(BaseModel):
    n: int
    doc_id: str
    title: str
    region: str
    section: str
    start: int
    end: int
    text: str  # exactly document[start:end]


class Retrieved(BaseModel):
    doc_id: str
    chunk_id: str
    score: float


class Answer(BaseModel):
    answer: str
    refused: bool
    backend: str
    citations: list[Citation] = Field(default_factory=list)
    retrieved: list[Retrieved] = Field(default_factory=list)
    latency_ms: float = 0.0
    changes: list[str] = Field(default_factory=list)  # what verification removed from an LLM answer, and why
    notice: str | None = None  # said to the reader too: an LLM backend fell back, a follow-up rewrite was not used
    fallback: str | None = None  # why an LLM backend's answer was replaced by the extractive one

    def to_json(self) -> str:
        return self.model_dump_json(indent=None)


@dataclass
class Evidence:
    """A passage (one or more whole sentences) that may answer the question."""

    doc_id: str
    section: str
    start: int
    end: int
    support: float  # the evidence model's probability that this passage answers the question (0..1)
    chunk_id: str = ""


RefusalKind = Literal[
    "place",
    "period",
    "half",
    "filters",
    "instruction",
    "premise",
    "negated",
    "absent",
    "no_figure",
    "no_reason",
    "unsure",
]


@dataclass(frozen=True)
class Refusal:
    """Why the bot will not answer; `detail` is what the message names (a place, a year, a missing word)."""

    kind: RefusalKind
    detail: str = ""
