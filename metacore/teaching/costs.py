"""Measured costs behind the teaching views' time estimates ("about 40 s on this machine").

One fit of a method on ``n`` training texts takes about ``fixed_s + per_text_s * n`` seconds,
its test predictions included (the sample's 69 test texts), with the embedding cache warm.
Measured with ``bench/teaching_costs.py`` (bundled MiniLM, bundled English sample, K = 2 and
8) on the machine in ``MEASURED_ON``; a 4-core laptop is usually as fast or faster. Methods
not measured fall back to the slowest measured cost of their family.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MEASURED_ON = ("2 vCPUs (AMD EPYC, torch 2.13 CPU, Linux), shared with other jobs while "
               "measuring (load average 6-7), 2026-11-30")
EMBED_PER_TEXT_S = 0.026  # first pass of the frozen MiniLM over a text (then cached)
GPU_SPEEDUP = 20.0  # assumed, not measured here: no GPU was available


@dataclass(frozen=True)
class FitCost:
    fixed_s: float
    per_text_s: float

    def seconds(self, n_train: int) -> float:
        return self.fixed_s + self.per_text_s * n_train


FIT_COSTS: dict[str, FitCost] = {
    "nearest-centroid": FitCost(0.06, 0.0),
    "linear-probe": FitCost(0.03, 0.00012),
    "tfidf-logreg": FitCost(0.09, 0.053),
    "protonet": FitCost(100.0, 0.76),  # meta-trains 10-100 episodes, then adapts
    "full-finetune": FitCost(2.5, 3.36),  # 10 epochs over the K-shot texts
}
FAMILY_FALLBACK = {"meta-learning": "protonet", "fine-tuning": "full-finetune",
                   "classical": "tfidf-logreg"}


def fit_cost(method: str) -> FitCost:
    if method in FIT_COSTS:
        return FIT_COSTS[method]
    from metacore.methods import registry

    return FIT_COSTS[FAMILY_FALLBACK[registry.get(method).family]]


def config_factor(method: str, config: Mapping[str, Any] | None) -> float:
    """How much a setting changes a method's cost: TF-IDF with character n-grams up to 3 and
    single words fits about 4x faster (measured: 2.2 s against 8.9 s for six K values)."""
    config = config or {}
    if method == "tfidf-logreg" and config.get("char_ngrams", 4) <= 3:
        return 0.25
    return 1.0


def sweep_seconds(methods: Sequence[str], train_sizes: Sequence[int], n_seeds: int, *,
                  n_embed: int = 0, gpu: bool = False,
                  configs: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, float]:
    """Expected seconds per method of a sweep over training sets of ``train_sizes`` texts.

    ``n_embed`` texts still to embed (uncached) add to the first backbone method.
    """
    configs = configs or {}
    out = {m: n_seeds * config_factor(m, configs.get(m)) *
           sum(fit_cost(m).seconds(n) for n in train_sizes) for m in methods}
    first = next((m for m in methods if m != "tfidf-logreg"), None)
    if first is not None:
        out[first] += n_embed * EMBED_PER_TEXT_S
    if gpu:
        out = {m: s if m == "tfidf-logreg" else s / GPU_SPEEDUP for m, s in out.items()}
    return out


def finetune_seconds(n_train: int) -> float:
    """Expected seconds to retrain full fine-tuning on ``n_train`` texts from scratch."""
    return FIT_COSTS["full-finetune"].seconds(n_train)


# Seconds per brief meta-training episode of 3-way 4-shot 4-query (24 texts), MiniLM on CPU.
BRIEF_EPISODE_S = {"protonet": 1.34, "anil": 1.01, "fomaml": 2.38, "maml": 3.84,
                   "reptile": 2.5}


def brief_seconds(method: str, episodes: int, shape: tuple[int, int, int] = (3, 4, 4)) -> float:
    """Expected seconds of ``episodes`` brief meta-training episodes of ``shape``."""
    texts = shape[0] * (shape[1] + shape[2])
    return 3.0 + episodes * BRIEF_EPISODE_S.get(method, 4.0) * texts / 24
