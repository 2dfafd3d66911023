"""Linear probe (head-only): frozen backbone embeddings + logistic regression.

The standard measure of what a pretrained representation already knows (Alain & Bengio 2016,
"Understanding intermediate layers using linear classifier probes"); scikit-learn's
LogisticRegression, as SetFit uses for its head.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn

from metacore.backbones.base import Backbone
from metacore.config import MethodConfig, setting
from metacore.data import TextSet
from metacore.methods.base import Method, read_manifest, softmax
from metacore.methods.heads import load_encoder_head, save_encoder_head
from metacore.methods.registry import register
from metacore.training.context import RunContext


@dataclass
class LinearProbeConfig(MethodConfig):
    c: float = setting(1.0, "Inverse regularisation strength: larger fits the few examples "
                       "more closely, smaller trusts them less.", minimum=1e-4)
    max_length: int = setting(128, "Longest text in tokens; longer texts are cut.", minimum=8,
                              maximum=512, advanced=True)


@register("linear-probe", config=LinearProbeConfig, family="fine-tuning",
          description="Frozen backbone embeddings + logistic regression (head only).")
class LinearProbe(Method):
    """Only a linear head is learned; the encoder is shared and never changes."""

    config: LinearProbeConfig

    def __init__(self, config: LinearProbeConfig) -> None:
        super().__init__(config)
        self.weight: np.ndarray | None = None  # (C, H)
        self.bias: np.ndarray | None = None  # (C,)
        self.backbone: Backbone | None = None

    def _features(self, texts: Sequence[str], ctx: RunContext) -> np.ndarray:
        if self.backbone is not None and self.backbone is not ctx.backbone:
            return self.backbone.embed(texts, device=ctx.device, max_length=self.config.max_length)
        return ctx.embed(texts, max_length=self.config.max_length)

    def fit(self, train: TextSet, *, val: TextSet | None, ctx: RunContext) -> None:
        self.backbone = ctx.require_backbone()
        self.classes = train.classes
        x = self._features(train.texts, ctx)
        hidden = x.shape[1]
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
        return softmax(self._features(texts, ctx) @ self.weight.T + self.bias)

    def embed(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray | None:
        return self._features(texts, ctx)

    def parameter_counts(self) -> dict[str, int]:
        head = 0 if self.weight is None else int(self.weight.size + self.bias.size)
        body = 0 if self.backbone is None else sum(p.numel() for p in
                                                   self.backbone.model.parameters())
        return {"trainable": head, "total": head + int(body)}

    def save(self, directory: str | Path) -> Path:
        assert self.weight is not None and self.backbone is not None, "fit() first"
        directory = Path(directory)
        head = nn.Linear(self.weight.shape[1], self.weight.shape[0])
        with torch.no_grad():
            head.weight.copy_(torch.as_tensor(self.weight))
            head.bias.copy_(torch.as_tensor(self.bias))
        save_encoder_head(directory, self.backbone.model, head, self.backbone, self.classes)
        self._write_manifest(directory, format="hf-encoder+head", pooling="mean",
                             normalize=True, max_length=self.config.max_length)
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, ctx: RunContext) -> LinearProbe:
        manifest = read_manifest(directory)
        method = cls(LinearProbeConfig.from_dict(manifest["config"]))
        method.classes = manifest["classes"]
        encoder, head, tokenizer = load_encoder_head(Path(directory))
        method.backbone = Backbone(name=str(directory), model=encoder, tokenizer=tokenizer,
                                   source=str(directory), pretrained=True)
        method.weight = head.weight.detach().numpy().astype(np.float64)
        method.bias = head.bias.detach().numpy().astype(np.float64)
        return method
