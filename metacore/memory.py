"""Estimate a run's memory before it starts, for every registered method.

Rough but honest arithmetic, good to a factor of about two: the app shows it next to the
device's free memory, and second-order MAML uses it to fall back to first order instead of
running out of memory. What each method keeps is its own declaration (``memory_profile`` and
``trainable_parameters`` in its file); the parts:

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

from metacore.methods.costs import ModelShape

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


def model_shape(backbone: Any) -> ModelShape:
    return model_shape_of(backbone.model)


def model_shape_of(model: Any) -> ModelShape:
    """The shape of a Hugging Face encoder (or a peft wrapper of one) from its config."""
    config = model.config
    return ModelShape(params=sum(p.numel() for p in model.parameters()),
                      hidden=int(config.hidden_size), layers=int(config.num_hidden_layers),
                      heads=int(config.num_attention_heads),
                      float_bytes=next(model.parameters()).element_size())


def activation_bytes(shape: ModelShape, batch: int, seq_len: int, *, training: bool) -> int:
    """Activations of one forward pass over ``batch`` texts of ``seq_len`` tokens."""
    h, a, fl = shape.hidden, shape.heads, shape.float_bytes
    per_layer = batch * seq_len * (34 * h + 5 * a * seq_len) * fl // 2
    return per_layer * (shape.layers if training else 1)


def estimate_memory(method: Any, config: Any, backbone: Any, *, batch_texts: int | None = None,
                    seq_len: int | None = None, n_classes: int | None = None,
                    uses_backbone: bool = True) -> dict[str, Any]:
    """Bytes a run needs, with the breakdown and the trainable parameter count.

    Args:
        method: The method's class (``registry.get(name).method_cls``): its
            ``memory_profile`` and ``trainable_parameters`` say what it keeps.
        config: Its settings (a config instance, or a dict completed from the defaults).
        backbone: The loaded backbone (ignored by methods that use none).
        batch_texts: Texts per step (default: the batch size, or the episode's texts).
        seq_len: Tokens per text (default: the method's ``max_length``).
        n_classes: Classes of the run, for the head's size (default: 100).
        uses_backbone: False for methods without an encoder.
    """
    if isinstance(config, dict) or config is None:
        config = method.config_cls.from_dict(config or {})
    if not uses_backbone or backbone is None:
        return {"bytes": OVERHEAD, "breakdown": {"overhead": OVERHEAD}, "trainable_params": 0,
                "second_order_factor": 1.0}
    shape = model_shape(backbone)
    profile = method.memory_profile(config)
    values = config.to_dict()
    batch = batch_texts or profile.batch_texts or _default_batch(values)
    seq = seq_len or int(values.get("max_length", 128))
    trainable = method.trainable_parameters(config, shape, n_classes or 100)
    fl, private = shape.float_bytes, profile.private_copy
    breakdown = {
        "parameters": shape.params * fl * (2 if private else 1),  # shared + private copy
        "gradients": trainable * fl if private else 0,
        "optimizer": profile.optimizer_states * trainable * fl if private else 0,
        "activations": int(activation_bytes(shape, batch, seq, training=private)
                           * profile.activation_factor),
        "overhead": OVERHEAD,
    }
    return {"bytes": int(sum(breakdown.values())), "breakdown": breakdown,
            "trainable_params": int(trainable),
            "second_order_factor": profile.second_order_factor}


def _default_batch(config: dict[str, Any]) -> int:
    if "n_way" in config:
        return int(config["n_way"]) * (int(config["k_shot"]) + int(config["n_query"]))
    return int(config.get("batch_size", 64))
