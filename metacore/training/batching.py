"""Dynamic padding and length-grouped batches.

Each batch pads to its own longest text, rounded up to a multiple of 8 (GPU kernels fall off
their fast paths at odd lengths), and batches are built from texts of similar length so that
little compute goes to padding: the idea of Hugging Face's ``LengthGroupedSampler``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


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
