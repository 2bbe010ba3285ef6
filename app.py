"""Launch the chat app on the embedded defaults (index built from seeds/ on first start)."""

import logging
import os

from bot.api import Bot
from bot.ui import build_app

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    bot = Bot(progress=print)
    build_app(bot).launch(
        server_name=os.environ.get("BOT_HOST", "127.0.0.1"), server_port=int(os.environ.get("BOT_PORT", "7860"))
    )
