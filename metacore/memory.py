"""Estimate a run's memory before it starts, for every registered method.

Rough but honest arithmetic, good to a factor of about two: the app shows it next to the
device's free memory, and second-order MAML uses it to fall back to first order instead of
running out of memory. The parts:

* parameters: the shared backbone, plus the private copy a training method makes;
* gradients and optimiser state: one and two floats per trainable parameter (AdamW);
* activations kept for the backward pass: per layer ``B*T*(34*H + 5*a*T)`` half-precision
  bytes (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
  Models"), scaled to the parameters' float size; inference keeps about one layer's worth;
* second order (MAML): the graph of every inner step is kept, and differentiating through the
  gradients about doubles it.
"""

from __future__ import annotations

from typing import Any

import torch

MIB = 2**20
OVERHEAD = 300 * MIB  # the framework itself, tokenizer, allocator slack
ADAM_STATES = 2


def available_memory(device: torch.device | str) -> int | None:
    """Free bytes on ``device``: CUDA's own count, the system's free RAM on the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    if device.type == "cpu":
        import psutil

        return int(psutil.virtual_memory().available)
    return None


def _shape(backbone: Any) -> dict[str, int]:
    config = backbone.model.config
    return {"params": sum(p.numel() for p in backbone.model.parameters()),
            "hidden": int(config.hidden_size), "layers": int(config.num_hidden_layers),
            "heads": int(config.num_attention_heads),
            "float": next(backbone.model.parameters()).element_size()}


def activation_bytes(shape: dict[str, int], batch: int, seq_len: int, *, training: bool) -> int:
    """Activations of one forward pass over ``batch`` texts of ``seq_len`` tokens."""
    h, a, fl = shape["hidden"], shape["heads"], shape["float"]
    per_layer = batch * seq_len * (34 * h + 5 * a * seq_len) * fl // 2
    return per_layer * (shape["layers"] if training else 1)


def _trainable(name: str, config: dict[str, Any], shape: dict[str, int],
               n_classes: int | None = None) -> int:
    """Parameters the method's optimiser updates (the head's for ``n_classes``, default 100)."""
    head = (shape["hidden"] + 1) * (n_classes or 100)
    if name in {"linear-probe", "nearest-centroid"}:
        return head
    if name == "lora":
        rank = int(config.get("rank", 8))
        return shape["layers"] * 2 * 2 * rank * shape["hidden"] + head  # q and v, A and B
    return shape["params"] + (head if name in {"full-finetune", "anil"} else 0)


def _inner_factor(name: str, config: dict[str, Any]) -> tuple[float, float]:
    """(activation multiplier, second-order factor) of a method's inner loop."""
    steps = int(config.get("inner_steps", 0) or 0)
    part = config.get("adapt", "head" if name == "anil" else "all")
    if name in {"maml", "fomaml", "anil", "reptile"} and part != "head":
        second = name == "maml" and not config.get("first_order", False)
        if second:
            return (steps + 1) * 2.0, 2.0
        return 1.5, 1.0  # one inner step's graph at a time, plus the query pass
    return 1.0, 2.0 if name == "anil" else 1.0


def estimate_memory(method_name: str, config: dict[str, Any] | None, backbone: Any, *,
                    batch_texts: int | None = None, seq_len: int | None = None,
                    n_classes: int | None = None) -> dict[str, Any]:
    """Bytes a run needs, with the breakdown and the trainable parameter count.

    Args:
        method_name: A registered method.
        config: Its settings (defaults fill what is missing).
        backbone: The loaded backbone (ignored by methods that use none).
        batch_texts: Texts per step (default: the batch size, or the episode's texts).
        seq_len: Tokens per text (default: the method's ``max_length``).
        n_classes: Classes of the run, for the head's size (default: 100).
    """
    from metacore.methods import registry

    spec = registry.get(method_name)
    config = spec.config_cls.from_dict(config or {}).to_dict()
    if not spec.uses_backbone or backbone is None:
        return {"bytes": OVERHEAD, "breakdown": {"overhead": OVERHEAD}, "trainable_params": 0,
                "second_order_factor": 1.0}
    shape = _shape(backbone)
    batch = batch_texts or _default_batch(config)
    seq = seq_len or int(config.get("max_length", 128))
    trainable = _trainable(spec.name, config, shape, n_classes)
    frozen = spec.name in {"linear-probe", "nearest-centroid"}
    fl = shape["float"]
    act_mult, second = _inner_factor(spec.name, config)
    breakdown = {
        "parameters": shape["params"] * fl * (1 if frozen else 2),  # shared + private copy
        "gradients": 0 if frozen else trainable * fl,
        "optimizer": 0 if frozen or spec.name == "reptile" else ADAM_STATES * trainable * fl,
        "activations": int(activation_bytes(shape, batch, seq, training=not frozen)
                           * act_mult),
        "overhead": OVERHEAD,
    }
    return {"bytes": int(sum(breakdown.values())), "breakdown": breakdown,
            "trainable_params": int(trainable), "second_order_factor": second}


def _default_batch(config: dict[str, Any]) -> int:
    if "n_way" in config:
        return int(config["n_way"]) * (int(config["k_shot"]) + int(config["n_query"]))
    return int(config.get("batch_size", 64))
