"""Launch the chat app on the embedded defaults (index built from seeds/ on first start)."""

import logging
import os

from bot.api import Bot
from bot.ui import serve

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    serve(Bot(progress=print), os.environ.get("BOT_HOST", "127.0.0.1"), int(os.environ.get("BOT_PORT", "7860")))
