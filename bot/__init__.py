"""Chat assistant over Chinese county justice-bureau rule-of-law reports, with cited passages."""

from bot.api import Bot, answer
from bot.models import Answer, Citation
from bot.query import Filters

__all__ = ["Answer", "Bot", "Citation", "Filters", "answer"]
