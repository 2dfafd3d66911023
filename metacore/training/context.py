"""What a method sees while it runs: device, seed, events, stop flag, backbone, caches."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from metacore.backbones.base import Backbone
from metacore.training.events import (
    Evaluated,
    Event,
    EventBus,
    PhaseChanged,
    RunControl,
    StepEnded,
)


class EmbeddingCache:
    """Frozen-backbone sentence embeddings, shared by every run in the process.

    The K-shot sweep, the linear probe and nearest-centroid embed the same texts again and
    again; caching them per (backbone, max_length, text) makes those runs nearly free.
    """

    def __init__(self, max_items: int = 200_000) -> None:
        self.max_items = max_items
        self._store: OrderedDict[tuple[str, int, str], np.ndarray] = OrderedDict()

    def embed(
        self, backbone: Backbone, texts: Sequence[str], *, device: torch.device,
        max_length: int | None = None, batch_size: int | None = None,
    ) -> np.ndarray:
        length = max_length or backbone.max_length
        key = f"{backbone.name}|{backbone.source}|{backbone.pretrained}"
        missing = list(dict.fromkeys(t for t in texts if (key, length, t) not in self._store))
        if missing:
            vecs = backbone.embed(missing, device=device, max_length=length, batch_size=batch_size)
            for text, vec in zip(missing, vecs):
                self._store[(key, length, text)] = vec
            while len(self._store) > self.max_items:
                self._store.popitem(last=False)
        return np.stack([self._store[(key, length, t)] for t in texts]) if texts else np.zeros(
            (0, backbone.hidden_size), dtype=np.float32)


EMBEDDINGS = EmbeddingCache()


@dataclass
class RunContext:
    """Per-run services handed to a method. Methods never print; they emit events."""

    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    seed: int = 0  # the init seed: what the method draws while it trains
    backbone: Backbone | None = None
    bus: EventBus = field(default_factory=EventBus)
    control: RunControl = field(default_factory=RunControl)
    cache: EmbeddingCache = field(default_factory=lambda: EMBEDDINGS)
    steps: list[dict] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)
    warnings: list[Any] = field(default_factory=list)  # Messages (or plain sentences)
    extras: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def emit(self, event: Event) -> None:
        """Record loss and validation history, then tell every callback."""
        if isinstance(event, StepEnded):
            self.steps.append({"step": event.step, "epoch": event.epoch, "loss": event.loss,
                               **event.metrics})
            self.extras["total_steps"] = event.total_steps  # "stopped at step N of M"
        elif isinstance(event, Evaluated):
            self.evals.append({"step": event.step, "epoch": event.epoch, **event.metrics})
        self.bus.emit(event)

    def phase(self, phase: str, /, **params: Any) -> None:
        """Tell the callbacks the run entered stage ``phase`` (``phase.<phase>`` message)."""
        self.emit(PhaseChanged(phase=phase, params=params))

    def warn(self, message: Any) -> None:
        """Something the user should know (a ``Message``), kept once in the result."""
        if message not in self.warnings:
            self.warnings.append(message)

    def rng(self, stream: str) -> np.random.Generator:
        """A generator for one named stream of this run's init seed (``metacore.seeds``)."""
        from metacore import seeds

        return seeds.rng(self.seed, stream)

    def stream_seed(self, stream: str) -> int:
        from metacore import seeds

        return seeds.derive(self.seed, stream)

    def require_backbone(self) -> Backbone:
        if self.backbone is None:
            raise ValueError("This method needs a backbone, but none was loaded.")
        return self.backbone

    def embed(self, texts: Sequence[str], max_length: int | None = None) -> np.ndarray:
        """Cached, normalised embeddings of ``texts`` with the frozen backbone."""
        return self.cache.embed(self.require_backbone(), texts, device=self.device,
                                max_length=max_length)
