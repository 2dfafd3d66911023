"""Nearest centroid on frozen embeddings: prototypical-network prediction without training.

The prediction rule of Snell et al. 2017 ("Prototypical Networks for Few-shot Learning") on the
pretrained backbone as it is (the "nearest centroid" baseline of e.g. Chen et al. 2019, "A
Closer Look at Few-shot Classification"). It shows what episodic meta-training adds: protonet
minus nearest-centroid is the gain from meta-training the encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from metacore.config import MethodConfig, setting
from metacore.data import TextSet
from metacore.methods.base import softmax
from metacore.methods.calibration import calibrate_head
from metacore.methods.episodic_base import DISTANCES, head_logits, proto_head
from metacore.methods.frozen_head import FrozenHeadMethod
from metacore.methods.multilabel import choose_thresholds, sigmoid
from metacore.methods.registry import register
from metacore.training.context import RunContext


@dataclass
class NearestCentroidConfig(MethodConfig):
    scope = "nearest-centroid"
    distance: str = setting("euclidean", "How a text is compared with each class's mean "
                            "embedding: squared Euclidean distance or cosine similarity.",
                            choices=DISTANCES)
    scale: float = setting(10.0, "Cosine only: multiplies similarities before the softmax, "
                           "which sharpens the probabilities (not the predicted class).",
                           minimum=0.1, maximum=100.0, advanced=True)
    max_length: int = setting(128, "Longest text in tokens; longer texts are cut.", minimum=8,
                              maximum=512, advanced=True)


@register("nearest-centroid", config=NearestCentroidConfig, family="meta-learning",
          colour="#eab308",
          description="Frozen embeddings, each text given the class with the nearest mean "
                      "embedding: prototypical-network prediction without meta-training.")
class NearestCentroid(FrozenHeadMethod):
    """Class prototypes of frozen, L2-normalised backbone embeddings (cached per run)."""

    config: NearestCentroidConfig
    supports_multi_label = True  # a prototype per label, with a learned threshold

    @classmethod
    def trainable_parameters(cls, config, shape, n_classes: int) -> int:
        return 0  # the centroids and their temperature are computed, no optimiser trains them

    def __init__(self, config: NearestCentroidConfig) -> None:
        super().__init__(config)
        self.calibration: dict = {}

    def parameter_counts(self) -> dict[str, int]:
        """Nothing is trained: the class means (and the one calibration factor folded into
        them) are computed from the support texts, in both protocols alike. The head counts
        towards the total, as the parameters the prediction uses."""
        counts = super().parameter_counts()
        return {"trainable": 0, "total": counts["total"]}

    def _head(self, support: TextSet, ctx: RunContext
              ) -> tuple[np.ndarray, np.ndarray, dict]:
        """The centroid head with its temperature fitted on leave-one-out support logits
        (``metacore.methods.calibration``; the predicted class is unchanged)."""
        feats = torch.as_tensor(self._features(support.texts, ctx), dtype=torch.float64)
        labels = torch.as_tensor(support.label_ids(support.classes))
        weight, bias = proto_head(feats, labels, len(support.classes),
                                  distance=self.config.distance, scale=self.config.scale)
        weight, bias, record = calibrate_head(feats, labels, weight, bias,
                                              distance=self.config.distance,
                                              scale=self.config.scale)
        return weight.numpy(), bias.numpy(), record

    def scores_are_probabilities(self) -> bool:
        return self.calibration.get("temperature") is not None

    def manifest_extra(self) -> dict:
        return {"calibration": self.calibration}

    def restore_extra(self, manifest: dict) -> None:
        self.calibration = dict(manifest.get("calibration") or {})

    def _proba(self, texts: Sequence[str], weight: np.ndarray, bias: np.ndarray,
               ctx: RunContext) -> np.ndarray:
        feats = torch.as_tensor(self._features(texts, ctx), dtype=torch.float64)
        logits = head_logits(feats, torch.as_tensor(weight), torch.as_tensor(bias),
                             normalize=self.config.distance == "cosine")
        return softmax(logits.numpy())

    def fit(self, train: TextSet, *, val: TextSet | None, ctx: RunContext) -> None:
        self.backbone = ctx.require_backbone()
        self.start_fit(train)
        if self.multi_label:
            self.weight, self.bias = self._label_head(train, ctx)
            return
        self.weight, self.bias, self.calibration = self._head(train, ctx)
        ctx.extras["calibration"] = self.calibration

    def _label_head(self, train: TextSet, ctx: RunContext) -> tuple[np.ndarray, np.ndarray]:
        """Multi-label: a prototype per label (the mean of the normalised embeddings of the
        texts that carry it) and a threshold on the cosine similarity to it, learned on the
        training texts: each carrier is compared with its label's prototype *without* itself
        (leave one out), the others with the whole prototype, and the threshold with the best
        F1 is kept. As a head: ``sigmoid(scale * (cos - threshold))``, 0.5 at the threshold."""
        feats = self._features(train.texts, ctx).astype(np.float64)
        feats /= np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
        truth = train.label_matrix(self.classes).astype(bool)
        scale = self.config.scale
        weight = np.zeros((len(self.classes), feats.shape[1]))
        bias = np.zeros(len(self.classes))
        for j in range(len(self.classes)):
            members = truth[:, j]
            total = feats[members].sum(axis=0)
            proto = total / max(1, members.sum())
            sims = feats @ (proto / max(np.linalg.norm(proto), 1e-12))
            if members.sum() > 1:  # leave one out: the carrier's own embedding taken away
                rest = total[None, :] - feats[members]
                rest /= np.maximum(np.linalg.norm(rest, axis=1, keepdims=True), 1e-12)
                sims[members] = (feats[members] * rest).sum(axis=1)
            threshold = choose_thresholds(sims[:, None], members[:, None],
                                          default=float(np.median(sims)))[0]
            weight[j] = scale * proto / max(np.linalg.norm(proto), 1e-12)
            bias[j] = -scale * threshold
        return weight, bias

    def predict_proba(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray:
        assert self.weight is not None, "fit() first"
        if self.multi_label:
            feats = self._features(texts, ctx).astype(np.float64)
            feats /= np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
            return sigmoid(feats @ self.weight.T + self.bias)
        return self._proba(texts, self.weight, self.bias, ctx)

    def predict_episode(self, support: TextSet, query: Sequence[str], *, ctx: RunContext
                        ) -> tuple[list[str], np.ndarray]:
        if self.backbone is None:
            self.backbone = ctx.require_backbone()
        weight, bias, _ = self._head(support, ctx)
        return support.classes, self._proba(query, weight, bias, ctx)
