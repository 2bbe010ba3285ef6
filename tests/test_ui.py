from bot.api import Bot
from bot.models import Answer
from bot.ui import build_app, render


def test_markup_in_answers_renders_as_text() -> None:
    page = render(Answer(answer="<script>alert(1)</script>", refused=False, backend="extractive"))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_real_answer_lists_its_sources(bot: Bot) -> None:
    page = render(bot.answer("哪些区县推行了信用+调解机制？"))
    assert "信用+调解" in page and "[1]" in page and "来源 Sources" in page


def test_app_builds(bot: Bot) -> None:
    assert build_app(bot) is not None
