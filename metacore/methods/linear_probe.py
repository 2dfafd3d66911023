"""Linear probe (head-only): frozen backbone embeddings + logistic regression.

The standard measure of what a pretrained representation already knows (Alain & Bengio 2016,
"Understanding intermediate layers using linear classifier probes"); scikit-learn's
LogisticRegression, as SetFit uses for its head.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from metacore.config import MethodConfig, setting
from metacore.data import TextSet
from metacore.methods.base import softmax
from metacore.methods.frozen_head import FrozenHeadMethod
from metacore.methods.multilabel import one_vs_rest, sigmoid
from metacore.methods.registry import register
from metacore.training.context import RunContext


@dataclass
class LinearProbeConfig(MethodConfig):
    scope = "linear-probe"
    c: float = setting(1.0, "Inverse regularisation strength: larger fits the few examples "
                       "more closely, smaller trusts them less.", minimum=1e-4)
    max_length: int = setting(128, "Longest text in tokens; longer texts are cut.", minimum=8,
                              maximum=512, advanced=True)


@register("linear-probe", config=LinearProbeConfig, family="fine-tuning", colour="#0ea5a4",
          description="Frozen backbone embeddings + logistic regression (head only).")
class LinearProbe(FrozenHeadMethod):
    """Only a linear head is learned; the encoder is shared and never changes."""

    config: LinearProbeConfig
    supports_multi_label = True  # one-vs-rest logistic regression on the embeddings

    def fit(self, train: TextSet, *, val: TextSet | None, ctx: RunContext) -> None:
        self.backbone = ctx.require_backbone()
        self.start_fit(train)
        x = self._features(train.texts, ctx)
        hidden = x.shape[1]
        if self.multi_label:  # a logistic regression per label, read through a sigmoid
            self.weight, self.bias = one_vs_rest(x, train.label_matrix(self.classes),
                                                 self.config.c)
            return
        if len(self.classes) == 1:
            self.weight, self.bias = np.zeros((1, hidden)), np.zeros(1)
            return
        lr = LogisticRegression(C=self.config.c, max_iter=2000)
        lr.fit(x, train.label_ids(self.classes))
        if len(self.classes) == 2:  # sklearn keeps one row for two classes: softmax needs two
            self.weight = np.vstack([np.zeros(hidden), lr.coef_[0]])
            self.bias = np.array([0.0, lr.intercept_[0]])
        else:
            self.weight, self.bias = lr.coef_, lr.intercept_

    def predict_proba(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray:
        assert self.weight is not None, "fit() first"
        logits = self._features(texts, ctx) @ self.weight.T + self.bias
        return sigmoid(logits) if self.multi_label else softmax(logits)
