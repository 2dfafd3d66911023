"""How long a run will take, before it starts: counted work times a measured speed.

A run's time is almost all encoder passes. From the method's settings and the data sizes we
count how many texts go through the encoder forward only (embedding, validation, prediction)
and how many forward and backward (training), and multiply by the seconds per text that
``calibrate`` measures once per process on this device with this backbone and texts like the
user's (one small batch forward, one forward and backward, after a warm-up: about a second on
a laptop CPU). So the same code gives a laptop's and a GPU's figure without a table of
machines.

The count is each method's own cost model (``Method.work`` in its file). What counting
cannot see (the inner loops' extra passes, optimiser steps, Python overhead) is one factor per
method, ``Method.cost_factor``, fitted on the bundled English sample with the bundled MiniLM on
a 2-core CPU (``bench/estimates.py`` prints estimated against measured seconds for
every method; the figures are in ``docs/benchmarks.md``). Early stopping can only make a run
shorter than its estimate.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from metacore.methods.costs import DataSizes, Work

# What the app's queue adds to each run that uses the backbone: saving the model in Hugging Face
# format, the embedding projection, storing the result (bench/app_latency.py: 34.8 s for three
# runs that take 27.2 s through the runner alone, about 2.5 s each).
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


def calibrate(backbone: Any, texts: Sequence[str], device: str | torch.device = "cpu", *,
              batch: int = 16, max_length: int = 128) -> Speed:
    """Measure the backbone's seconds per text on ``device`` with texts like ``texts``.

    Cached per process by backbone, device and typical token length, so the page can call it
    on every rerun. The backbone is never changed, so a run that uses it in another thread is
    not disturbed: the backward pass returns its gradients with ``torch.autograd.grad``
    instead of storing them, and the model stays in its mode (no dropout, no random draws).
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
            if fwd > bwd:  # impossible (a backward pass costs more): the machine was busy
                again = _measure(backbone.model, cols["input_ids"], cols["attention_mask"], dev)
                fwd, bwd = min(fwd, again[0]), max(min(bwd, again[1]), min(fwd, again[0]))
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

    def forward() -> None:
        with torch.no_grad(), autocast(dev):
            encode(model, ids, mask)

    def train() -> None:
        with autocast(dev):
            loss = encode(model, ids, mask).float().pow(2).mean()
        torch.autograd.grad(loss, params, allow_unused=True)

    # Both passes in the mode the model is in (a shared backbone's: eval). Switching it to
    # train mode for the backward pass, as this once did, let a run training in the queue's
    # thread embed its texts with dropout on and drew dropout masks from the process's one
    # random generator: the app's results then differed from the command line's for the
    # same seed. Dropout's share of a step's time is too small to matter to an estimate.
    try:
        fwd = _timed(forward, dev)
        bwd = _timed(train, dev)
    finally:
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


def work(method: str, settings: Mapping[str, Any] | None, sizes: DataSizes) -> Work:
    """The encoder passes one run of ``method`` makes: its own cost model
    (``Method.work``) with its settings completed from the defaults."""
    from metacore.methods import registry

    spec = registry.get(method)
    return spec.method_cls.work(spec.config_cls.from_dict(dict(settings or {})), sizes)


def estimate_seconds(method: str, settings: Mapping[str, Any] | None, speed: Speed | None,
                     sizes: DataSizes) -> float:
    """Expected seconds of one run (one seed) of ``method``; ``speed`` from ``calibrate``
    (None: only what needs no encoder is known)."""
    from metacore.methods import registry

    spec = registry.get(method)
    return work(method, settings, sizes).seconds(speed if spec.uses_backbone else None,
                                                 spec.method_cls.cost_factor)


def estimate_comparison(methods: Sequence[str], configs: Mapping[str, Mapping[str, Any]],
                        speed: Speed | None, sizes: DataSizes, *, cached: bool = False,
                        queued: bool = False) -> dict[str, float]:
    """Expected seconds per method (one seed) when ``methods`` run one after another on data
    of ``sizes``, as the queue runs a comparison (see ``estimate_runs``)."""
    runs = [_Run(name, dict(configs.get(name) or {})) for name in methods]
    seconds = estimate_runs(runs, speed, lambda run: sizes, cached=cached, queued=queued)
    return dict(zip(methods, seconds, strict=True))


@dataclass(frozen=True)
class _Run:
    method: str
    settings: Mapping[str, Any]


def estimate_runs(runs: Sequence[Any], speed: Speed | None,
                  sizes_of: Callable[[Any], DataSizes], *, cached: bool = False,
                  queued: bool = False) -> list[float]:
    """Expected seconds of each run (``PlannedRun``s: method and settings) in queue order;
    ``sizes_of(run)`` gives its ``DataSizes``. Methods that share the frozen backbone's
    embedding cache (``Method.shares_embeddings``) pay for embedding the texts once
    (``cached``: an earlier run already did); ``queued`` adds what the app's queue does after
    each run (saving the model and so on)."""
    from metacore.methods import registry

    out, embedded = [], cached
    for run in runs:
        spec = registry.get(run.method)
        sizes = sizes_of(run)
        seconds = estimate_seconds(run.method, run.settings, speed, sizes)
        if spec.method_cls.shares_embeddings:
            if embedded:
                seconds = work(run.method, run.settings, sizes).fixed_s
            embedded = True
        if queued and spec.uses_backbone:
            seconds += QUEUED_RUN_S
        out.append(seconds)
    return out


def sweep_seconds(plan: Any, split: Any, speed: Speed | None, *,
                  embedded: bool = False) -> dict[str, float]:
    """Expected seconds per method of a K-shot sweep (``plan`` with several ``shots``) on
    ``split``: each run's sizes are those of its own K-shot sample, the texts are embedded once
    first (unless ``embedded``), and no run pays the queue's saving (a sweep keeps no models).
    """
    from metacore.data import sample_k_shot
    from metacore.methods import registry

    sizes: dict[tuple[int, Any], DataSizes] = {}

    def sizes_of(run: Any) -> DataSizes:
        key = (run.seed, run.shots)
        if key not in sizes:
            train = sample_k_shot(split.train, run.shots, seed=run.seed)
            val = sample_k_shot(split.val, run.shots, seed=run.seed) if split.val else None
            sizes[key] = DataSizes(n_train=len(train), n_val=len(val) if val else 0,
                                   n_test=len(split.test), n_classes=len(train.classes))
        return sizes[key]

    runs = plan.runs()
    seconds = estimate_runs(runs, speed, sizes_of, cached=True)
    out: dict[str, float] = {}
    for run, s in zip(runs, seconds, strict=True):
        out[run.method] = out.get(run.method, 0.0) + s
    first = next((m for m in plan.methods if registry.get(m).uses_backbone), None)
    if first is not None and not embedded and speed is not None:
        out[first] += (len(split.train) + len(split.test)) * speed.forward_s
    return out


def meta_training_seconds(method: str, settings: Mapping[str, Any] | None,
                          speed: Speed | None, *, episodes: int,
                          shape: tuple[int, int, int]) -> float:
    """Expected seconds of ``episodes`` meta-training episodes of ``shape`` (n_way, k_shot,
    n_query): the teaching pages' brief meta-training."""
    from metacore.methods import registry

    spec = registry.get(method)
    config = spec.config_cls.from_dict(dict(settings or {}))
    train, forward = spec.method_cls.meta_passes(config, episodes,
                                                 shape[0] * (shape[1] + shape[2]))
    return Work(train=train, forward=forward, fixed_s=1.0).seconds(
        speed, spec.method_cls.cost_factor)
