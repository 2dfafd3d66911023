"""Full fine-tuning: every weight of the encoder and a new linear head are trained.

The tutorial setting (Devlin et al. 2019, "BERT"): AdamW, linear warm-up then decay, weight
decay, gradient clipping, early stopping on validation loss; mean pooling as in
sentence-transformers, so the head starts from the embedding the backbone was trained to give.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from metacore.backbones.base import Backbone
from metacore.config import MethodConfig, setting
from metacore.data import TextSet
from metacore.methods.base import Method, softmax
from metacore.methods.costs import DataSizes, ModelShape, Work
from metacore.methods.heads import (
    EncoderClassifier,
    count_parameters,
    predict_logits,
    restore_method,
    save_encoder_head,
    train_classifier,
)
from metacore.methods.multilabel import sigmoid
from metacore.methods.registry import register
from metacore.training.context import RunContext


@dataclass
class FinetuneConfig(MethodConfig):
    epochs: int = setting(10, "Passes over the training examples (early stopping may end "
                          "sooner).", minimum=1, maximum=1000)
    lr: float = setting(5e-5, "Learning rate of the pretrained encoder: small, so it keeps "
                        "what pretraining taught it.", minimum=0.0, maximum=1.0)
    head_lr: float = setting(2e-3, "Learning rate of the new classification head, which "
                             "starts from scratch and can learn faster.", minimum=0.0,
                             maximum=1.0, advanced=True)
    batch_size: int = setting(16, "Examples per optimisation step.", minimum=1, maximum=4096)
    max_length: int = setting(128, "Longest text in tokens; longer texts are cut.", minimum=8,
                              maximum=512, advanced=True)
    weight_decay: float = setting(0.01, "Pulls weights towards zero to limit overfitting.",
                                  minimum=0.0, maximum=1.0, advanced=True)
    warmup_ratio: float = setting(0.1, "Share of steps over which the learning rate ramps up "
                                  "from zero, which keeps early steps stable.", minimum=0.0,
                                  maximum=1.0, advanced=True)
    grad_clip: float = setting(1.0, "Largest gradient norm per step (0 = no clipping).",
                               minimum=0.0, advanced=True)
    patience: int = setting(3, "Stop after this many epochs without a better validation loss "
                            "(0 = never stop early).", minimum=0, advanced=True)
    dropout: float = setting(0.1, "Share of embedding features dropped while training the "
                             "head, against overfitting.", minimum=0.0, maximum=0.9,
                             advanced=True)


class EncoderMethod(Method):
    """Shared by full fine-tuning and LoRA: train an ``EncoderClassifier``, predict with it."""

    config: FinetuneConfig
    cost_factor = 1.3  # real batches pad to their longest text; optimiser steps
    supports_multi_label = True  # a sigmoid head trained with binary cross-entropy

    @classmethod
    def work(cls, config: FinetuneConfig, sizes: DataSizes) -> Work:
        """``epochs`` passes over the training texts (forward and backward), a validation
        pass per epoch, one pass over the test texts; early stopping can only shorten it."""
        if sizes.protocol == "episodic":  # a fresh fit on every test episode's support set
            per = Work(train=config.epochs * sizes.support_texts,
                       forward=sizes.n_way * sizes.n_query, fixed_s=0.5)
            return Work(per.forward * sizes.test_episodes, per.train * sizes.test_episodes,
                        per.fixed_s * sizes.test_episodes)
        return Work(train=config.epochs * sizes.n_train,
                    forward=config.epochs * sizes.n_val + sizes.n_test, fixed_s=1.0)

    @classmethod
    def trainable_parameters(cls, config, shape: ModelShape, n_classes: int) -> int:
        return shape.params + (shape.hidden + 1) * n_classes

    def __init__(self, config: FinetuneConfig) -> None:
        super().__init__(config)
        self.model: EncoderClassifier | None = None
        self.backbone: Backbone | None = None

    def make_encoder(self, backbone: Backbone) -> nn.Module:
        return backbone.copy_model()

    def fit(self, train: TextSet, *, val: TextSet | None, ctx: RunContext) -> None:
        c = self.config
        self.backbone = ctx.require_backbone()
        self.start_fit(train)
        encoder = self.make_encoder(self.backbone)
        self.model = EncoderClassifier(encoder, self.backbone.hidden_size, len(self.classes),
                                       dropout=c.dropout)
        result = train_classifier(
            self.model, backbone=self.backbone, train=train, val=val, classes=self.classes,
            ctx=ctx, epochs=c.epochs, batch_size=c.batch_size, lr=c.lr, head_lr=c.head_lr,
            weight_decay=c.weight_decay, warmup_ratio=c.warmup_ratio, grad_clip=c.grad_clip,
            patience=c.patience or None, max_length=c.max_length)
        ctx.extras["loop"] = {"steps": result.steps, "early_stopped": result.early_stopped,
                              "best_step": result.best_step}

    def _logits(self, texts: Sequence[str], ctx: RunContext, features: bool = False):
        assert self.model is not None and self.backbone is not None, "fit() first"
        ids = self.backbone.tokenize(texts, self.config.max_length)
        return predict_logits(self.model, ids, self.backbone.pad_id(), ctx.device,
                              features=features)

    def predict_proba(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray:
        logits = self._logits(texts, ctx)
        return sigmoid(logits) if self.multi_label else softmax(logits)

    def embed(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray | None:
        return self._logits(texts, ctx, features=True)

    def parameter_counts(self) -> dict[str, int]:
        return count_parameters(self.model) if self.model is not None else super()\
            .parameter_counts()

    def export_encoder(self) -> nn.Module:
        assert self.model is not None
        return self.model.encoder

    def save(self, directory: str | Path) -> Path:
        assert self.model is not None and self.backbone is not None, "fit() first"
        directory = Path(directory)
        save_encoder_head(directory, self.export_encoder(), self.model.head, self.backbone,
                          self.classes)
        self._write_manifest(directory, format="hf-encoder+head", pooling="mean",
                             normalize=False, max_length=self.config.max_length)
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, ctx: RunContext) -> EncoderMethod:
        method, head, _ = restore_method(cls, directory)
        encoder = method.backbone.model
        method.model = EncoderClassifier(encoder, head.in_features, head.out_features)
        method.model.head = head
        method.model.to(ctx.device)
        return method


@register("full-finetune", config=FinetuneConfig, family="fine-tuning", colour="#4f46e5",
          description="Train every weight of the encoder plus a new classification head.")
class FullFinetune(EncoderMethod):
    """All encoder weights and the head are trained (see module docstring)."""


torch.set_float32_matmul_precision("high")  # TF32 on CUDA cards that have it
