"""``centroid-blend``: the method the workbench recommends for *adapt to my classes*.

Nearest centroid on the frozen backbone, made better in two measured ways, each decided on
the user's own few examples (``metacore.methods.blend_core`` has the numerics and the
citations): the label names as extra support when the labels are words (weight chosen by
leave-one-out likelihood), and a character n-gram TF-IDF view blended in by cross-validation
(which carries scripts the backbone reads poorly); the prototypes' temperature is fitted, so
its outputs are probabilities. Nothing is trained by gradient descent: a run costs one forward pass
per text (shared with the other frozen-embedding methods) and a few small logistic
regressions, seconds on a laptop CPU.

Measured against SetFit, nearest-centroid and the rest in ``docs/benchmarks.md`` ("The
recommended method").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np

from metacore.config import MethodConfig, setting
from metacore.data import TextSet
from metacore.methods import blend_core as core
from metacore.methods.costs import DataSizes, Work
from metacore.methods.frozen_head import FrozenHeadMethod
from metacore.methods.registry import register
from metacore.methods.tfidf import FIXED_S, PER_TEXT_S, TfidfLogreg, TfidfLogregConfig
from metacore.training.context import RunContext

NGRAM_FILE = "ngram.joblib"


@dataclass
class CentroidBlendConfig(MethodConfig):
    scope = "centroid-blend"
    label_names: bool = setting(True, "Use the class names as extra examples when they are "
                                "words (their weight is chosen on your examples; codes such "
                                "as 0/1 or label_3 are never used).")
    ngram_view: bool = setting(True, "Blend in a character n-gram model (TF-IDF), weighted by "
                               "cross-validation on your examples: it helps where the "
                               "backbone reads the language poorly.")
    max_length: int = setting(128, "Longest text in tokens; longer texts are cut.", minimum=8,
                              maximum=512, advanced=True)


@register("centroid-blend", config=CentroidBlendConfig, family="meta-learning",
          colour="#c2410c",
          description="Class prototypes of frozen embeddings, with the label names as extra "
                      "examples and a character n-gram view, each weighted on your own "
                      "examples (no gradient training).")
class CentroidBlend(FrozenHeadMethod):
    """Prototype head (``weight``, ``bias``: the calibrated squared-distance rule on the
    shared normalised embeddings), optionally blended with an n-gram model."""

    config: CentroidBlendConfig
    cost_factor = 1.1  # as the other frozen-embedding methods (bench/estimates.py)

    def __init__(self, config: CentroidBlendConfig) -> None:
        super().__init__(config)
        self.ngram = None
        self.blend_weight = 0.0
        self.calibrated = False
        self.choice: dict = {}

    @classmethod
    def work(cls, config: CentroidBlendConfig, sizes: DataSizes) -> Work:
        """The frozen methods' forward pass per text, plus the n-gram model fitted once per
        fold and once in all (FOLDS + 1 fits of ``tfidf-logreg``'s cost)."""
        base = super().work(config, sizes)
        if not config.ngram_view:
            return base
        texts = sizes.support_texts if sizes.protocol == "episodic" else sizes.n_train
        fits = (core.FOLDS + 1) * (FIXED_S + PER_TEXT_S * texts)
        per = sizes.test_episodes if sizes.protocol == "episodic" else 1
        return Work(forward=base.forward, fixed_s=base.fixed_s + per * fits)

    @classmethod
    def trainable_parameters(cls, config, shape, n_classes: int) -> int:
        return 0  # prototypes, weights and the n-gram model are computed, not trained

    def parameter_counts(self) -> dict[str, int]:
        counts = super().parameter_counts()
        return {"trainable": 0, "total": counts["total"]}

    def _ngram_model(self):
        return TfidfLogreg(TfidfLogregConfig())._build()

    def _label_vectors(self, classes: Sequence[str], ctx: RunContext) -> np.ndarray | None:
        if not self.config.label_names:
            return None
        words = [core.label_words(c) for c in classes]
        if not all(words):
            return None
        return self._features(words, ctx)

    def _fit_on(self, train: TextSet, ctx: RunContext) -> dict:
        classes = train.classes
        y = np.asarray(train.label_ids(classes))
        feats = self._features(train.texts, ctx)
        labels = self._label_vectors(classes, ctx)
        head, held, record = core.fit_centroid(feats, y, len(classes), labels)
        self.weight, self.bias = head.weight, head.bias
        self.calibrated = head.calibrated
        self.ngram, self.blend_weight = None, 0.0
        if self.config.ngram_view and len(classes) > 1:
            held_ngram = core.cv_ngram_logprobs(self._ngram_model, train.texts, y,
                                                 len(classes), seed=ctx.seed)
            choice = core.choose_blend(held, held_ngram, y)
            record["blend_weight"], record["blend_nll"] = choice.weight, choice.nll
            if choice.weight > 0:
                self.blend_weight = choice.weight
                self.ngram = self._ngram_model().fit(list(train.texts), y)
        return record

    def fit(self, train: TextSet, *, val: TextSet | None, ctx: RunContext) -> None:
        self.backbone = ctx.require_backbone()
        self.classes = train.classes
        self.choice = self._fit_on(train, ctx)
        ctx.extras["centroid_blend"] = self.choice

    def scores_are_probabilities(self) -> bool:
        return self.calibrated

    def _log_proba(self, texts: Sequence[str], ctx: RunContext) -> np.ndarray:
        feats = np.asarray(self._features(texts, ctx), dtype=np.float64)
        x = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
        logp = core._log_softmax(x @ self.weight.T + self.bias)
        if self.ngram is not None and self.blend_weight > 0:
            proba = np.full((len(texts), len(self.classes)), 1e-6)
            proba[:, self.ngram.classes_] = self.ngram.predict_proba(list(texts))
            logp = core.blend(logp, np.log(proba / proba.sum(1, keepdims=True)),
                              self.blend_weight)
        return logp

    def predict_proba(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray:
        assert self.weight is not None, "fit() first"
        if len(self.classes) == 1:
            return np.ones((len(texts), 1))
        return np.exp(self._log_proba(texts, ctx))

    def predict_episode(self, support: TextSet, query: Sequence[str], *, ctx: RunContext
                        ) -> tuple[list[str], np.ndarray]:
        learner = CentroidBlend(self.config)
        learner.backbone = self.backbone or ctx.require_backbone()
        learner.fit(support, val=None, ctx=ctx)
        return learner.classes, learner.predict_proba(query, ctx=ctx)

    def extra_results(self) -> dict:
        return {"centroid_blend": self.choice}

    def manifest_extra(self) -> dict:
        return {"choice": self.choice, "blend_weight": self.blend_weight,
                "calibrated": self.calibrated}

    def restore_extra(self, manifest: dict) -> None:
        self.choice = dict(manifest.get("choice") or {})
        self.blend_weight = float(manifest.get("blend_weight") or 0.0)
        self.calibrated = bool(manifest.get("calibrated"))

    def save(self, directory: str | Path) -> Path:
        directory = super().save(directory)
        if self.ngram is not None:
            # joblib (pickle) is fine for our own artefacts; never load one from a stranger.
            joblib.dump(self.ngram, directory / NGRAM_FILE)
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, ctx: RunContext) -> CentroidBlend:
        method = super().load(directory, ctx=ctx)
        directory = Path(directory)
        ngram = directory / NGRAM_FILE
        method.ngram = joblib.load(ngram) if ngram.exists() else None
        return method
