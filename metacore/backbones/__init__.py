"""Pretrained text encoders: bundled MiniLM, any Hugging Face id or folder, random-init copies."""

from __future__ import annotations

from metacore.backbones.base import Backbone, BackboneError, mean_pool
from metacore.backbones.language import language_fit
from metacore.backbones.loading import BUNDLED, load_backbone, resolve_spec, tiny_backbone

__all__ = [
    "BUNDLED",
    "Backbone",
    "BackboneError",
    "language_fit",
    "load_backbone",
    "mean_pool",
    "resolve_spec",
    "tiny_backbone",
]
