"""`Bot().as_retriever()` against LangChain's own standard retriever tests (langchain-tests)."""

from __future__ import annotations

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

from bot.api import Bot
from bot.chain import ReportRetriever

CREDIT_Q = "哪些区县推行了信用+调解机制？"


class TestReportRetriever(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _bot(self, bot: Bot) -> None:
        self.bot = bot

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return ReportRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"bot": self.bot}

    @property
    def retriever_query_example(self) -> str:
        return CREDIT_Q


@pytest.mark.parametrize("k", [1, 3, 6])
def test_k_is_honoured_everywhere(bot: Bot, k: int) -> None:
    assert len(bot.as_retriever(k=k).invoke(CREDIT_Q)) == k
    assert len(bot.as_retriever().invoke(CREDIT_Q, k=k)) == k
    assert (
        bot.as_retriever(k=k).invoke(CREDIT_Q)[0].metadata["doc_id"]
        == bot.as_retriever().invoke(CREDIT_Q)[0].metadata["doc_id"]
    )
