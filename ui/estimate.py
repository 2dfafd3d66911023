"""Rough time, memory and trainable-parameter estimates shown before a run starts.

Uses ``metacore.memory.estimate_memory`` when the engine has it; otherwise a simple model:
forward FLOPs = 2 x encoder parameters x tokens, backward twice that, at a throughput typical
of a laptop CPU (or a GPU), plus weights, gradients, AdamW state and activations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

CPU_FLOPS = 2.5e10  # effective FLOP/s of a 2-4 core laptop CPU on small BERTs
GPU_FLOPS = 2.0e12
TOKENS_PER_TEXT = 32


@dataclass(frozen=True)
class Estimate:
    method: str
    trainable: int | None
    seconds: float
    memory_mb: float
    note: str = ""


def _steps(config: dict[str, Any], n_train: int) -> int:
    """Optimisation passes over the data, whatever the method calls them."""
    for key in ("meta_steps", "episodes", "steps", "train_steps"):
        if isinstance(config.get(key), int):
            return int(config[key])
    epochs = int(config.get("epochs", 1))
    return epochs * max(1, math.ceil(n_train / int(config.get("batch_size", 16))))


def _trainable(spec: Any, config: dict[str, Any], encoder: int, hidden: int,
               n_classes: int) -> int | None:
    name, head = spec.name, hidden * n_classes + n_classes
    if name == "tfidf-logreg":
        return None  # depends on the vocabulary
    if name in {"linear-probe", "nearest-centroid"}:
        return head
    if name == "lora":
        rank = int(config.get("rank", 8))
        return 2 * 2 * rank * hidden * 6 + head  # q and v in ~6 layers
    if name == "anil":
        return head
    return encoder + (head if spec.family == "fine-tuning" else 0)


def estimate(spec: Any, config: dict[str, Any], backbone: Any, *, n_train: int,
             n_classes: int, gpu: bool = False) -> Estimate:
    """A rough estimate for one method (see the module docstring)."""
    if not spec.uses_backbone or backbone is None:
        return Estimate(spec.name, None, 0.5 + n_train / 2000, 50 + n_train * 0.05,
                        "closed form, no neural net")
    total = int(backbone.info.get("parameters", 0)) or sum(
        p.numel() for p in backbone.model.parameters())
    hidden = int(getattr(backbone, "hidden_size", 384))
    trainable = _trainable(spec, config, total, hidden, n_classes)
    flops_fwd = 2 * total * TOKENS_PER_TEXT * 0.5  # about half the weights are embeddings
    trains_encoder = bool(trainable and trainable > hidden * n_classes + n_classes)
    texts = _steps(config, n_train) * int(config.get("batch_size", 16)) if trains_encoder \
        else n_train
    seconds = (texts * flops_fwd * (3 if trains_encoder else 1)) / (GPU_FLOPS if gpu else
                                                                     CPU_FLOPS)
    batch = int(config.get("batch_size", 16))
    activations = batch * TOKENS_PER_TEXT * hidden * 4 * 30 if trains_encoder else 0
    memory = total * 4 + (trainable or 0) * 4 * 3 + activations
    return Estimate(spec.name, trainable, seconds + 1.0, memory / 2**20)


def engine_estimate(name: str, config: dict[str, Any], backbone: Any) -> dict[str, Any]:
    """``metacore.memory.estimate_memory`` ({"bytes", "trainable_params", ...}) or {}."""
    try:
        from metacore.memory import estimate_memory

        return dict(estimate_memory(name, config, backbone, seq_len=TOKENS_PER_TEXT))
    except Exception:  # noqa: BLE001 - missing or failing: fall back to the simple model
        return {}


def engine_memory_mb(name: str, config: dict[str, Any], backbone: Any) -> float | None:
    """``metacore.memory.estimate_memory`` in MiB, when the engine provides it."""
    try:
        from metacore.memory import estimate_memory
    except ImportError:
        return None
    try:
        value = estimate_memory(name, config, backbone, batch_texts=int(
            config.get("batch_size", 16)), seq_len=TOKENS_PER_TEXT)
    except Exception:  # noqa: BLE001 - an estimate must never block a run
        return None
    for attr in ("bytes", "total_mb", "peak_mb", "total_bytes", "peak_bytes", "total"):
        found = value.get(attr) if isinstance(value, dict) else getattr(value, attr, None)
        if isinstance(found, (int, float)):
            return found / 2**20 if "bytes" in attr or found > 1e6 else float(found)
    return float(value) / 2**20 if isinstance(value, (int, float)) else None


def human_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"~{max(1, round(seconds))} s"
    return f"~{seconds / 60:.1f} min"
