"""Base of the methods that learn only a linear head on the frozen, shared backbone
(``linear-probe``, ``nearest-centroid``): features through the run's embedding cache, the head
as numpy arrays, and the fine-tuning methods' ``encoder + head.safetensors`` format on disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from metacore.backbones.base import Backbone
from metacore.methods.base import Method
from metacore.methods.costs import DataSizes, MemoryProfile, ModelShape, Work
from metacore.methods.heads import restore_method, save_encoder_head
from metacore.training.context import RunContext


class FrozenHeadMethod(Method):
    """A linear head ``weight`` (C, H), ``bias`` (C,) over L2-normalised frozen embeddings."""

    cost_factor = 1.1  # measured/counted on the English sample (bench/estimates.py)
    shares_embeddings = True

    @classmethod
    def work(cls, config, sizes: DataSizes) -> Work:
        """One forward pass per text (then cached); fitting the head takes milliseconds.

        An adapt-protocol run on cached embeddings: 0.06-0.07 s measured per run (the runner's
        work around the fit, and fitting and scoring the head at K = 1 … all) in K-shot sweeps
        on the English sample with MiniLM on 2 CPU cores (``bench/sweep_estimate.py``); the
        0.2 s it was made a 60-run sweep's estimate 3x too long."""
        if sizes.protocol == "episodic":
            return Work(forward=sizes.n_test, fixed_s=0.2 + 0.002 * sizes.test_episodes)
        return Work(forward=sizes.n_train + sizes.n_test, fixed_s=0.07)

    @classmethod
    def trainable_parameters(cls, config, shape: ModelShape, n_classes: int) -> int:
        return (shape.hidden + 1) * n_classes

    @classmethod
    def memory_profile(cls, config) -> MemoryProfile:
        return MemoryProfile(private_copy=False, optimizer_states=0)

    def __init__(self, config) -> None:
        super().__init__(config)
        self.weight: np.ndarray | None = None  # (C, H)
        self.bias: np.ndarray | None = None  # (C,)
        self.backbone: Backbone | None = None

    def _features(self, texts: Sequence[str], ctx: RunContext) -> np.ndarray:
        if self.backbone is not None and self.backbone is not ctx.backbone:  # a loaded model
            return self.backbone.embed(texts, device=ctx.device, max_length=self.config.max_length)
        return ctx.embed(texts, max_length=self.config.max_length)  # normalised, cached

    def embed(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray | None:
        return self._features(texts, ctx)

    def parameter_counts(self) -> dict[str, int]:
        """The head is all it learns; the frozen encoder counts towards the total."""
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
                             normalize=True,
                             **{"max_length": self.config.max_length, **self.manifest_extra()})
        return directory

    def manifest_extra(self) -> dict:
        """Method-specific manifest entries (nearest-centroid: its calibration)."""
        return {}

    def restore_extra(self, manifest: dict) -> None:
        """Read back what ``manifest_extra`` wrote."""

    @classmethod
    def load(cls, directory: str | Path, *, ctx: RunContext) -> FrozenHeadMethod:
        method, head, manifest = restore_method(cls, directory)
        method.weight = head.weight.detach().double().numpy()
        method.bias = head.bias.detach().double().numpy()
        method.restore_extra(manifest)
        return method
