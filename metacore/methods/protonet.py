"""Prototypical networks (Snell, Swersky & Zemel 2017, "Prototypical Networks for Few-shot
Learning").

Meta-training: each episode embeds its support and query texts in one forward pass, averages
the support embeddings of each class into a prototype, and trains the whole encoder so that
the softmax over negative distances to the prototypes picks each query's class (squared
Euclidean distance as in the paper, or scaled cosine similarity). Prediction needs no
gradient step: the prototypes of the support set (the user's K-shot training set in the adapt
protocol) become a linear head, see ``episodic_base``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from metacore.backbones.base import encode
from metacore.config import setting
from metacore.data import TextSet
from metacore.methods.calibration import calibrate_head
from metacore.methods.episodic_base import (
    DISTANCES,
    EpisodeBatch,
    EpisodicConfig,
    EpisodicMethod,
    accuracy,
    head_logits,
    proto_head,
)
from metacore.methods.registry import register
from metacore.training.context import RunContext
from metacore.training.device import adamw, autocast


@dataclass
class ProtoNetConfig(EpisodicConfig):
    distance: str = setting("euclidean", "How a text is compared with each class prototype: "
                            "squared Euclidean distance (the paper) or cosine similarity.",
                            choices=DISTANCES)
    scale: float = setting(10.0, "Cosine only: multiplies similarities before the softmax "
                           "(a temperature; cosine values alone are too flat to train on).",
                           minimum=0.1, maximum=100.0, advanced=True)
    weight_decay: float = setting(0.01, "Pulls weights towards zero to limit overfitting.",
                                  minimum=0.0, maximum=1.0, advanced=True)


@register("protonet", config=ProtoNetConfig, family="meta-learning", episodic=True,
          colour="#f59e0b",
          description="Prototypical networks: meta-train the encoder so texts sit near their "
                      "class's mean embedding (Snell et al. 2017).")
class ProtoNet(EpisodicMethod):
    """Episodic training of the encoder; prototypes from the support set at prediction."""

    config: ProtoNetConfig
    cost_factor = 1.37  # measured/counted on the English sample (bench/estimates.py)

    def __init__(self, config: ProtoNetConfig) -> None:
        super().__init__(config)
        self.normalize = config.distance == "cosine"
        self._opt: torch.optim.Optimizer | None = None
        self.calibration: dict = {}

    def begin_meta_training(self, ctx: RunContext, total: int) -> None:
        c = self.config
        self._opt = adamw(self.encoder.parameters(), lr=c.lr, weight_decay=c.weight_decay,
                          device=ctx.device)

    def prototype_extras(self, batch: EpisodeBatch) -> tuple[torch.Tensor | None, float]:
        """One more vector per class for the episode's prototypes and its weight (none here;
        centroid-blend's tuner adds the class names)."""
        return None, 0.0

    def features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The encoder's pooled features (B, H) in float32, its forward pass under autocast."""
        with autocast(input_ids.device):
            feats = encode(self.encoder, input_ids, attention_mask)
        return feats.float()

    def episode_logits(self, batch: EpisodeBatch) -> torch.Tensor:
        """Query logits (Q, N) from one forward pass over support and query together."""
        extra, extra_weight = self.prototype_extras(batch)
        feats = self.features(batch.input_ids, batch.attention_mask)  # (S+Q, H)
        support, query = feats[: batch.n_support], feats[batch.n_support :]
        weight, bias = proto_head(support, batch.y_support, batch.n_way,
                                  distance=self.config.distance, scale=self.config.scale,
                                  extra=extra, extra_weight=extra_weight)
        return head_logits(query, weight, bias, self.normalize)

    def episode_loss(self, batch: EpisodeBatch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The training loss of one episode and the figures reported with it."""
        logits = self.episode_logits(batch)
        return (nn.functional.cross_entropy(logits, batch.y_query),
                {"accuracy": accuracy(logits, batch.y_query)})

    def train_step(self, batch: EpisodeBatch, ctx: RunContext) -> dict[str, float]:
        self.encoder.train()
        loss, figures = self.episode_loss(batch)
        self._opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.encoder.parameters(), self.config.grad_clip)
        self._opt.step()
        return {"loss": loss.detach(), **figures}

    @torch.no_grad()
    def eval_episode(self, batch: EpisodeBatch, ctx: RunContext) -> tuple[float, float]:
        self.encoder.eval()
        logits = self.episode_logits(batch)
        return float(nn.functional.cross_entropy(logits, batch.y_query)), float(accuracy(
            logits, batch.y_query))

    def adapt(self, support: TextSet, ctx: RunContext, query: TextSet | None = None):
        """No gradient step: the prototypes of the support set are the head, its temperature
        fitted on leave-one-out support logits (``metacore.methods.calibration``: the
        predicted class is unchanged)."""
        feats = self._features(self.encoder, support.texts, ctx)
        labels = torch.as_tensor(support.label_ids(support.classes), device=ctx.device)
        weight, bias = proto_head(feats, labels, len(support.classes),
                                  distance=self.config.distance, scale=self.config.scale)
        weight, bias, self.calibration = calibrate_head(
            feats, labels, weight, bias, distance=self.config.distance,
            scale=self.config.scale)
        return self.encoder, weight, bias

    def manifest_extra(self) -> dict:
        return {"calibration": self.calibration}

    def restore_extra(self, manifest: dict) -> None:
        self.calibration = dict(manifest.get("calibration") or {})
