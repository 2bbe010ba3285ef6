"""Answer backends, chosen in one factory: adding a backend touches only this file."""

from __future__ import annotations

from typing import Protocol

from bot.answer import EXTRACTIVE, compose
from bot.config import KNOWN_BACKENDS, Settings
from bot.models import Citation, Evidence
from bot.query import QueryPlan
from bot.store import Catalog


class Backend(Protocol):
    name: str

    def generate(
        self, plan: QueryPlan, evidence: list[Evidence], related: list[Evidence], catalog: Catalog
    ) -> tuple[str, list[Citation], bool]: ...


class ExtractiveBackend:
    """No model: quotes the evidence sentences themselves."""

    name = EXTRACTIVE

    def generate(
        self, plan: QueryPlan, evidence: list[Evidence], related: list[Evidence], catalog: Catalog
    ) -> tuple[str, list[Citation], bool]:
        return compose(plan, evidence, related, catalog)


def make_backend(name: str, settings: Settings) -> Backend:
    if name == EXTRACTIVE:
        return ExtractiveBackend()
    raise ValueError(f"unknown LLM backend {name!r}; known: {', '.join(KNOWN_BACKENDS)}")
