"""The Method interface every registered method implements.

A method learns from a ``TextSet`` (``fit``) and answers class probabilities for new texts
(``predict_proba``). Episodic meta-learners also ``meta_train`` on episodes and answer
``predict_episode``: adapt to a support set *without changing stored weights* (learn2learn's
``clone()`` contract), so one trained method is evaluated on many episodes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from metacore.config import MethodConfig
from metacore.data import TextSet
from metacore.methods.costs import DataSizes, MemoryProfile, ModelShape, Work
from metacore.training.context import RunContext

MANIFEST = "metacore.json"


class Method:
    """Base class. Subclasses set ``name`` and ``config_cls`` through ``register``."""

    name: ClassVar[str] = ""
    config_cls: ClassVar[type[MethodConfig]] = MethodConfig
    # Measured seconds over counted seconds (``bench/estimates.py``): what counting encoder
    # passes cannot see (optimiser steps, padding, Python). 1.0 until measured.
    cost_factor: ClassVar[float] = 1.0
    # Reads the frozen backbone through the shared embedding cache: in a comparison only the
    # first such method pays for embedding the texts.
    shares_embeddings: ClassVar[bool] = False
    # Learns from texts that carry several labels each (``metacore.methods.multilabel``):
    # independent per-label probabilities and per-label thresholds.
    supports_multi_label: ClassVar[bool] = False

    def __init__(self, config: MethodConfig) -> None:
        self.config = config
        self.classes: list[str] = []
        self.multi_label = False  # set by fit from the data
        self.thresholds: list[float] | None = None  # per label, multi-label only

    # --- the "adapt to my classes" protocol -------------------------------------------------
    def fit(self, train: TextSet, *, val: TextSet | None, ctx: RunContext) -> None:
        """Learn the classes of ``train``; ``val`` drives early stopping where used."""
        raise NotImplementedError

    def predict_proba(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray:
        """Probabilities (N, C) over ``self.classes``."""
        raise NotImplementedError

    def predict(self, texts: Sequence[str], *, ctx: RunContext) -> list[str]:
        proba = self.predict_proba(texts, ctx=ctx)
        if self.multi_label:
            from metacore.data.multilabel import shown

            return [shown(labels) for labels in self.labels_of(proba)]
        return [self.classes[i] for i in proba.argmax(axis=1)]

    def labels_of(self, proba: np.ndarray) -> list[tuple[str, ...]]:
        """Multi-label: each row's labels, those whose probability reaches its threshold."""
        from metacore.methods.multilabel import DEFAULT_THRESHOLD, labels_above

        thresholds = self.thresholds or [DEFAULT_THRESHOLD] * len(self.classes)
        return labels_above(proba, thresholds, self.classes)

    def start_fit(self, train: TextSet) -> None:
        """What every ``fit`` begins with: the classes, and whether the texts carry several
        labels (refused, with the methods that can, by one that cannot)."""
        from metacore.methods.multilabel import DEFAULT_THRESHOLD

        self.classes = train.classes
        self.multi_label = train.multi_label
        self.thresholds = [DEFAULT_THRESHOLD] * len(self.classes) if train.multi_label else None
        if train.multi_label and not self.supports_multi_label:
            from metacore.data import DataError
            from metacore.messages import msg

            raise DataError(msg("run.error.not_multi_label", method=self.name,
                                methods=multi_label_methods()))

    # --- the "generalise to unseen classes" protocol ----------------------------------------
    def meta_train(self, base: TextSet, *, val: TextSet | None, ctx: RunContext) -> None:
        """Learn from base classes before seeing novel ones. Non-episodic methods do nothing."""

    def predict_episode(
        self, support: TextSet, query: Sequence[str], *, ctx: RunContext
    ) -> tuple[list[str], np.ndarray]:
        """Adapt a private copy on ``support`` and predict ``query``; stored weights stay."""
        learner = copy.deepcopy(self)
        learner.fit(support, val=None, ctx=ctx)
        return learner.classes, learner.predict_proba(query, ctx=ctx)

    # --- reporting ---------------------------------------------------------------------------
    def parameter_counts(self) -> dict[str, int]:
        """``trainable`` and ``total`` parameters of what this method learns and uses."""
        return {"trainable": 0, "total": 0}

    def scores_are_probabilities(self) -> bool:
        """Whether ``predict_proba`` gives probabilities fitted to data (a softmax trained with
        cross-entropy, a calibrated temperature) rather than scores that only rank the classes
        (a softmax of distances nobody fitted): interfaces then say "score", not "probability"."""
        return True

    def embed(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray | None:
        """The representation this method classifies from (for 2-D projections), if any."""
        return None

    def extra_results(self) -> dict[str, Any]:
        """Method-specific result entries (for example ``inner_loop``)."""
        return {}

    @classmethod
    def explain_result(cls, extra: Mapping[str, Any]) -> list[Any]:
        """What this method chose on a run's own data, from the entries ``extra_results``
        wrote to its result: ``Message``s, one sentence each, for the Results page."""
        return []

    # --- what it costs (estimates, forms, teaching pages: metacore.methods.costs) ---------
    @classmethod
    def work(cls, config: MethodConfig, sizes: DataSizes) -> Work:
        """Encoder passes of one run. This default, for a method that declares none, counts
        it as costly as ten epochs of fine-tuning (an estimate, said as one)."""
        return Work(train=10 * sizes.n_train, forward=sizes.n_test, fixed_s=1.0)

    @classmethod
    def adjustments(cls, config: MethodConfig, sizes: DataSizes) -> list[Any]:
        """Settings this data changes when the run starts (``Message``s to show beside the
        settings; ``params["field"]`` names the setting a note belongs beside), e.g. fewer
        meta-training episodes than asked for small data."""
        return []

    @classmethod
    def trainable_parameters(cls, config: MethodConfig, shape: ModelShape,
                             n_classes: int) -> int:
        """Parameters the optimiser updates, for a backbone of ``shape``."""
        return 0

    @classmethod
    def memory_profile(cls, config: MethodConfig) -> MemoryProfile:
        return MemoryProfile()

    # --- persistence -------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the adapted model; a ``metacore.json`` manifest says how to load it."""
        raise NotImplementedError(f"{self.name} cannot be saved yet.")

    @classmethod
    def load(cls, directory: str | Path, *, ctx: RunContext) -> Method:
        raise NotImplementedError(f"{cls.name} cannot be loaded yet.")

    @classmethod
    def _from_manifest(cls, directory: str | Path) -> tuple[Method, dict[str, Any]]:
        """A new method of this class with the settings and classes a saved folder's
        manifest holds (what ``_write_manifest`` wrote), and the manifest; the weights are the
        caller's to restore."""
        manifest = read_manifest(directory)
        method = cls(cls.config_cls.from_dict(manifest["config"]))
        method.restore_labels(manifest)
        return method, manifest

    def restore_labels(self, manifest: dict[str, Any]) -> None:
        """The classes, and for multi-label models their thresholds, from a manifest."""
        self.classes = manifest["classes"]
        self.multi_label = bool(manifest.get("multi_label"))
        self.thresholds = manifest.get("thresholds") if self.multi_label else None

    def _write_manifest(self, directory: Path, **extra: Any) -> None:
        labels = {"multi_label": True, "thresholds": [float(t) for t in self.thresholds or ()]} \
            if self.multi_label else {}
        manifest = {"method": self.name, "config": self.config.to_dict(),
                    "classes": self.classes, **labels, **extra}
        (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False),
                                          encoding="utf-8")


def read_manifest(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    if not path.exists():
        raise ValueError(f"{directory} is not a saved metacore model (no {MANIFEST}).")
    return json.loads(path.read_text(encoding="utf-8"))


def load_method(directory: str | Path, *, ctx: RunContext) -> Method:
    """Load any saved method by reading its manifest."""
    from metacore.methods import registry

    manifest = read_manifest(directory)
    return registry.get(manifest["method"]).method_cls.load(directory, ctx=ctx)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def multi_label_methods() -> list[str]:
    """The registered methods that learn from multi-label data."""
    from metacore.methods import registry

    return [s.name for s in registry.available() if s.method_cls.supports_multi_label]
