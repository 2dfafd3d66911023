"""Dynamic padding and length-grouped batches.

Each batch pads to its own longest text, rounded up to a multiple of 8 (GPU kernels fall off
their fast paths at odd lengths), and batches are built from texts of similar length so that
little compute goes to padding: the idea of Hugging Face's ``LengthGroupedSampler``.

How many texts go in one batch is chosen here too, from the device and the data:

* inference (``inference_batches``): texts in order of length, each batch as many as fit in
  a share of the accelerator's free memory at that batch's length (``activation_bytes``), up
  to ``MAX_BATCH``; 64 on the CPU, where larger batches gain nothing;
* training (``texts_that_fit`` with ``training=True``): the optimisation batch is the
  user's setting and never changes (it changes the results); when its activations would
  not fit, the step runs it as several micro-batches whose gradients add up to the same
  update (gradient accumulation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

CPU_BATCH = 64  # texts per inference batch on the CPU (and where free memory is unknown)
MAX_BATCH = 1024  # at most this many texts in one inference batch
MEMORY_SHARE = 0.5  # of the free memory that one batch's activations may take


def pad_multiple(length: int, multiple: int = 8) -> int:
    """Round a batch length up to a multiple of 8: odd lengths fall off fast GPU kernels."""
    return int(-(-length // multiple) * multiple)


def collate(
    ids: Sequence[Sequence[int]], pad_id: int, device: torch.device | None = None
) -> dict[str, torch.Tensor]:
    """Pad token id lists into ``input_ids`` and ``attention_mask`` tensors (B, T)."""
    length = pad_multiple(max(len(x) for x in ids))
    input_ids = torch.full((len(ids), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), length), dtype=torch.long)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    if device is not None and device.type != "cpu":
        # non_blocking copies overlap with compute once the tensors are pinned
        input_ids = input_ids.pin_memory().to(device, non_blocking=True)
        mask = mask.pin_memory().to(device, non_blocking=True)
    return {"input_ids": input_ids, "attention_mask": mask}


def length_grouped_batches(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator, mega: int = 50
) -> list[np.ndarray]:
    """Shuffle, then sort within chunks of ``mega`` batches by length, then shuffle the batches.

    Returns:
        A list of index arrays, each at most ``batch_size`` long, covering every index once.
    """
    perm = rng.permutation(len(lengths))
    lengths = np.asarray(lengths)
    batches: list[np.ndarray] = []
    chunk = batch_size * mega
    for start in range(0, len(perm), chunk):
        part = perm[start : start + chunk]
        part = part[np.argsort(-lengths[part], kind="stable")]
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


def free_bytes(device: torch.device) -> int | None:
    """Free memory of an accelerator (None on the CPU and where it cannot be asked)."""
    if device.type != "cuda":
        return None
    from metacore.memory import available_memory

    return available_memory(device)


def texts_that_fit(shape: Any, seq_len: int, free: int | None, *, training: bool,
                   limit: int) -> int:
    """Most texts of ``seq_len`` tokens (at most ``limit``) whose activations fit in
    ``MEMORY_SHARE`` of ``free`` bytes, for a model of ``shape`` (``memory.ModelShape``);
    ``limit`` when the free memory or the shape is unknown."""
    if free is None or shape is None:
        return limit
    from metacore.memory import activation_bytes

    per_text = activation_bytes(shape, 1, seq_len, training=training)
    return int(max(1, min(limit, MEMORY_SHARE * free // max(1, per_text))))


def shape_of(model: Any) -> Any:
    """The ``ModelShape`` of a Hugging Face encoder, or None for anything without a config."""
    if model is None or getattr(model, "config", None) is None:
        return None
    from metacore.memory import model_shape_of

    return model_shape_of(model)


def inference_batches(lengths: Sequence[int], *, device: torch.device, model: Any = None
                      ) -> list[np.ndarray]:
    """Index batches covering every text once, longest texts first; each batch as large as
    the device's free memory allows at its padded length (``CPU_BATCH`` on the CPU)."""
    lengths = np.asarray(lengths, dtype=int)
    order = np.argsort(-lengths, kind="stable")
    free = free_bytes(device)
    shape = shape_of(model) if free is not None else None
    batches, start = [], 0
    while start < len(order):
        longest = pad_multiple(max(1, int(lengths[order[start]])))
        n = texts_that_fit(shape, longest, free, training=False, limit=MAX_BATCH) \
            if free is not None else CPU_BATCH
        batches.append(order[start : start + n])
        start += n
    return batches
