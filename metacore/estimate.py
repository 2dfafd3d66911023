"""How long a run will take, before it starts: counted work times a measured speed.

A run's time is almost all encoder passes. From the method's settings and the data sizes we
count how many texts go through the encoder forward only (embedding, validation, prediction)
and how many forward and backward (training), and multiply by the seconds per text that
``calibrate`` measures once per process on this device with this backbone and texts like the
user's (one small batch forward, one forward and backward, after a warm-up: about a second on
a laptop CPU). So the same code gives a laptop's and a GPU's figure without a table of
machines.

What counting cannot see (the inner loops' extra passes, optimiser steps, Python overhead) is
one factor per method, ``OVERHEAD``, fitted on the bundled English sample with the bundled
MiniLM on a 2-core CPU (``bench/estimates.py`` prints estimated against measured seconds for
every method; the figures are in ``docs/benchmarks.md``). Early stopping can only make a run
shorter than its estimate.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

# Measured per-run costs of the closed-form methods on the CPU (no encoder): fixed seconds
# plus seconds per training text (TF-IDF word 1-2 + char 2-4 and logistic regression).
TFIDF_FIXED_S, TFIDF_PER_TEXT_S = 0.1, 0.003
# Per-method factors for what the count leaves out (see the module docstring): measured over
# counted seconds on the English sample (72 training, 35 validation, 69 test texts, 9 classes;
# MiniLM, 2-core CPU, load 1.7-2.1; bench/results/estimates-support_intents_en.json). About
# 1.3 for every method that trains the encoder (real batches pad to their longest text, the
# calibration batch to the median; optimiser steps), and 2.6-4.9 for the gradient-based
# meta-learners, whose inner loops run extra passes over the top layer(s) and score every
# episode's query set. fomaml and maml refitted after their inner loops ran only the adapted
# top layer (bench/results/estimates-support_intents_en-shortcut.json: measured/estimated
# 0.53 and 0.49 with the old factors 3.8 and 4.9).
OVERHEAD: dict[str, float] = {
    "linear-probe": 1.1, "nearest-centroid": 1.1, "full-finetune": 1.3, "lora": 1.05,
    "protonet": 1.37, "anil": 1.24, "fomaml": 2.0, "maml": 2.4, "reptile": 2.6,
}
EPISODIC = {"protonet", "anil", "fomaml", "maml", "reptile"}
# Methods that embed with the frozen backbone through the process-wide embedding cache: in one
# comparison only the first of them pays for embedding the texts.
FROZEN = {"linear-probe", "nearest-centroid"}
# What the app's queue adds to each run that uses the backbone: saving the model in Hugging Face
# format, the embedding projection, storing the result (bench/app_latency.py: 34.8 s for three
# runs that take 27.2 s through metacore.api, about 2.5 s each).
QUEUED_RUN_S = 2.5
_LOCK = threading.Lock()
_SPEEDS: dict[tuple, Speed] = {}


@dataclass(frozen=True)
class Speed:
    """Seconds per text through the encoder on one device, at the data's typical length."""

    forward_s: float
    train_s: float
    device: str
    tokens: int

    def to_dict(self) -> dict[str, Any]:
        return {"forward_s": self.forward_s, "train_s": self.train_s, "device": self.device,
                "tokens": self.tokens}


@dataclass(frozen=True)
class Work:
    """Texts through the encoder: forward only, and forward + backward."""

    forward: float = 0.0
    train: float = 0.0
    fixed_s: float = 0.0
    episodes: int = 0  # meta-training episodes, for methods that have them

    def seconds(self, speed: Speed | None, factor: float = 1.0) -> float:
        if speed is None:
            return self.fixed_s
        return self.fixed_s + factor * (self.forward * speed.forward_s
                                        + self.train * speed.train_s)


def calibrate(backbone: Any, texts: Sequence[str], device: str | torch.device = "cpu", *,
              batch: int = 16, max_length: int = 128) -> Speed:
    """Measure the backbone's seconds per text on ``device`` with texts like ``texts``.

    Cached per process by backbone, device and typical token length, so the page can call it
    on every rerun. The backbone's own weights are never changed: the backward pass returns
    its gradients with ``torch.autograd.grad`` instead of storing them.
    """
    from metacore.training.batching import collate

    sample = [t for t in list(texts)[:200] if t] or ["a short example text"]
    ids = backbone.tokenize(sample, max_length)
    ids = sorted(ids, key=len)[len(ids) // 2:][:1] * batch  # a batch of median-length texts
    dev = torch.device(device)
    key = (id(backbone.model), str(dev), len(ids[0]), batch)
    with _LOCK:  # two pages asking at once measure once, not against each other
        if key not in _SPEEDS:
            cols = collate(ids, backbone.pad_id(), dev)
            fwd, bwd = _measure(backbone.model, cols["input_ids"], cols["attention_mask"], dev)
            _SPEEDS[key] = Speed(forward_s=fwd / batch, train_s=bwd / batch, device=str(dev),
                                 tokens=int(cols["input_ids"].shape[1]))
        return _SPEEDS[key]


def _measure(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor,
             dev: torch.device) -> tuple[float, float]:
    """(forward seconds, forward + backward seconds) of one batch."""
    from metacore.backbones.base import encode
    from metacore.training.device import autocast

    moved = next(model.parameters()).device != dev
    if moved:  # measure on the run's device without moving the shared model
        import copy

        model = copy.deepcopy(model).to(dev)
    params = [p for p in model.parameters() if p.is_floating_point()]
    was_training = model.training

    def forward() -> None:
        with torch.no_grad(), autocast(dev):
            encode(model, ids, mask)

    def train() -> None:
        with autocast(dev):
            loss = encode(model, ids, mask).float().pow(2).mean()
        torch.autograd.grad(loss, params, allow_unused=True)

    try:
        model.eval()
        fwd = _timed(forward, dev)
        model.train()
        bwd = _timed(train, dev)
    finally:
        model.train(was_training)
        if moved:
            del model
            if dev.type == "cuda":
                torch.cuda.empty_cache()
    return fwd, bwd


def _timed(fn, dev: torch.device, repeats: int = 3) -> float:
    """Best of ``repeats`` timed calls after one warm-up call."""

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    fn()
    sync()
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def work(method: str, config: Mapping[str, Any], *, n_train: int, n_val: int, n_test: int,
         n_classes: int) -> Work:
    """The encoder passes one run of ``method`` makes (adapt-to-my-classes protocol).

    Args:
        method: A registered method name.
        config: Its full settings (``config_cls.from_dict(...).to_dict()``).
        n_train: Training (K-shot support) texts.
        n_val: Validation texts.
        n_test: Test texts to predict.
        n_classes: Classes of the run.
    """
    if method == "tfidf-logreg":
        return Work(fixed_s=TFIDF_FIXED_S + TFIDF_PER_TEXT_S * n_train)
    if method in {"linear-probe", "nearest-centroid"}:
        return Work(forward=n_train + n_test, fixed_s=0.2)
    if method in {"full-finetune", "lora"}:
        epochs = int(config.get("epochs", 10))
        return Work(train=epochs * n_train, forward=epochs * n_val + n_test, fixed_s=1.0)
    if method in EPISODIC:
        return _episodic_work(method, config, n_train=n_train, n_val=n_val, n_test=n_test,
                              n_classes=n_classes)
    # a method this module does not know: as costly as fine-tuning, said as an estimate
    return Work(train=10 * n_train, forward=n_test, fixed_s=1.0)


def _episodic_work(method: str, c: Mapping[str, Any], *, n_train: int, n_val: int,
                   n_test: int, n_classes: int) -> Work:
    """Meta-training on episodes from the training texts (the adapt-passes budget of
    ``EpisodicMethod.fit``), validation episodes, adapting to the support set, predicting."""
    per_class = max(1, n_train // max(1, n_classes))
    n_way = min(int(c.get("n_way", 5)), n_classes)
    k, q = int(c.get("k_shot", 5)), int(c.get("n_query", 5))
    if k + q > per_class:  # fitted_shape shrinks the episode to what each class has
        k = max(1, min(k, per_class // 2))
        q = max(1, min(q, per_class - k))
    texts = n_way * (k + q)
    episodes = int(c.get("meta_episodes", 100))
    if episodes:
        budget = -(-int(c.get("adapt_passes", 10)) * n_train // texts)
        episodes = min(episodes, max(10, budget))
    inner = int(c.get("inner_steps", 0) or 0)
    train, forward = episodes * texts, n_train + n_test
    if method == "reptile" and c.get("adapt", "all") != "head":
        # each inner step trains on the whole episode (after one pass that scores it), and
        # prediction first adapts to the whole support set the same way
        train = episodes * inner * texts + inner * n_train
        forward += episodes * texts
    evals = (episodes // max(1, int(c.get("eval_every", 50)))) * int(c.get("val_episodes", 10))
    forward += evals * texts * (1 + inner) * (1 if n_val else 0)
    return Work(train=train, forward=forward, fixed_s=1.0, episodes=episodes)


def estimate_seconds(method: str, config: Mapping[str, Any] | None, speed: Speed | None, *,
                     n_train: int, n_val: int, n_test: int, n_classes: int) -> float:
    """Expected seconds of one run (one seed) of ``method``; ``speed`` from ``calibrate``."""
    from metacore.methods import registry

    spec = registry.get(method)
    full = spec.config_cls.from_dict(dict(config or {})).to_dict()
    w = work(method, full, n_train=n_train, n_val=n_val, n_test=n_test, n_classes=n_classes)
    return w.seconds(speed if spec.uses_backbone else None, OVERHEAD.get(method, 1.0))


def estimate_comparison(methods: Sequence[str], configs: Mapping[str, Mapping[str, Any]],
                        speed: Speed | None, *, n_train: int, n_val: int, n_test: int,
                        n_classes: int, cached: bool = False,
                        queued: bool = False) -> dict[str, float]:
    """Expected seconds per method (one seed) when ``methods`` run one after another, as the
    app's queue runs a comparison: frozen-backbone methods after the first find the texts'
    embeddings cached (``cached``: the texts were embedded before, by an earlier run);
    ``queued`` adds what the app's queue does after each run (saving the model and so on)."""
    from metacore.methods import registry

    sizes = {"n_train": n_train, "n_val": n_val, "n_test": n_test, "n_classes": n_classes}
    out, embedded = {}, cached
    for name in methods:
        seconds = estimate_seconds(name, configs.get(name), speed, **sizes)
        if name in FROZEN:
            if embedded:
                seconds = work(name, {}, **sizes).fixed_s
            embedded = True
        if queued and registry.get(name).uses_backbone:
            seconds += QUEUED_RUN_S
        out[name] = seconds
    return out
