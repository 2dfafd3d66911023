"""Every method registers itself on import; see ``registry`` for the lookup functions."""

from __future__ import annotations

from metacore.methods import (  # noqa: F401
    anil,
    finetune,
    linear_probe,
    lora,
    maml,
    nearest_centroid,
    protonet,
    reptile,
    tfidf,
)
from metacore.methods.base import Method, load_method
from metacore.methods.registry import MethodSpec, available, create, get, register

__all__ = ["Method", "MethodSpec", "available", "create", "get", "load_method", "register"]
