"""Device choice and precision: CUDA, then Apple MPS, then CPU; bf16 autocast where it pays."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

import numpy as np
import torch


def resolve_device(name: str = "auto") -> torch.device:
    """Pick the device; ``auto`` prefers CUDA, then MPS, then the CPU.

    Raises:
        ValueError: when the named device is not available here, in one sentence.
    """
    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    from metacore.messages import MessageError

    if name.startswith("cuda") and not torch.cuda.is_available():
        raise MessageError("device.no_cuda")
    if name == "mps" and not _mps_available():
        raise MessageError("device.no_mps")
    if name not in {"cpu", "mps"} and not name.startswith("cuda"):
        raise MessageError("device.unknown", name=name)
    return torch.device(name)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def describe_device(device: torch.device) -> str:
    """A human name: the GPU's model, or the CPU with its thread count."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({torch.get_num_threads()} threads)"


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 on CUDA cards that support it; nothing elsewhere (CPU bf16 is slow on most laptops)."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


@contextlib.contextmanager
def autocast(device: torch.device) -> Iterator[None]:
    dtype = autocast_dtype(device)
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


COMPILE_MIN_STEPS = 200  # compiling a BERT-sized encoder takes tens of seconds


def maybe_compile(model: torch.nn.Module, device: torch.device, steps: int) -> torch.nn.Module:
    """``torch.compile`` of ``model`` where it pays: on CUDA, for runs of at least
    ``COMPILE_MIN_STEPS`` steps (shorter runs would spend longer compiling than they save);
    the model itself elsewhere. The compiled module shares the model's weights, so saving
    and ``train()``/``eval()`` act on ``model`` as before. Shapes are dynamic (batches pad to
    their own length); a graph the compiler cannot handle runs eagerly instead of failing.
    ``METACORE_COMPILE=0`` never compiles, ``=1`` always does (also on the CPU)."""
    choice = os.environ.get("METACORE_COMPILE", "auto").strip().lower()
    wanted = choice in {"1", "true", "on"} or (
        choice == "auto" and device.type == "cuda" and steps >= COMPILE_MIN_STEPS)
    if not wanted or not hasattr(torch, "compile"):
        return model
    from torch import _dynamo

    _dynamo.config.suppress_errors = True  # fall back to eager, never fail the run
    return torch.compile(model, dynamic=True)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch so CPU runs repeat exactly."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def adamw(params, *, lr: float, weight_decay: float, device: torch.device) -> torch.optim.AdamW:
    """AdamW, fused where the device supports it (one kernel for all parameters)."""
    params = list(params)
    if device.type in {"cuda", "cpu"}:
        try:
            return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=True)
        except (RuntimeError, TypeError):
            pass
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
