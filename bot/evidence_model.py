"""The fitted evidence model: logistic weights over `features.FEATURES` and the bars set on the tuning set.

`eval/fit_evidence.py` writes `resources/evidence_model.json`; a file fitted for other features is refused
at load, so code and weights cannot drift apart silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.features import FEATURES

MODEL_PATH = Path(__file__).parent / "resources" / "evidence_model.json"


@dataclass(frozen=True)
class EvidenceModel:
    weights: np.ndarray
    bias: float
    answer_bar: float  # the probability a fact answer needs; set on the tuning set for refusal precision ≥ 0.9
    list_bar: float  # the probability a report's best sentence needs to be named in a list

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> EvidenceModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path}: fitted for features {data['features']}, code has {list(FEATURES)}; refit")
        weights = np.array(data["weights"], dtype=np.float64)
        return cls(weights, float(data["bias"]), float(data["answer_bar"]), float(data["list_bar"]))

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))


@lru_cache(maxsize=1)
def default_model() -> EvidenceModel:
    return EvidenceModel.load()
