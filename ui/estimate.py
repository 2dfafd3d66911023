"""Time, memory and trainable-parameter estimates shown before a run starts.

Time comes from ``metacore.estimate``: the encoder passes a run makes, counted from its
settings and the data sizes, times this device's speed measured once per process on texts
like the user's. Memory and trainable parameters come from ``metacore.memory``; the simple
fallbacks here only cover a backbone that cannot be measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

TOKENS_PER_TEXT = 32


@dataclass(frozen=True)
class Estimate:
    method: str
    trainable: int | None
    seconds: float
    memory_mb: float
    note: str = ""


def estimate(spec: Any, config: dict[str, Any], backbone: Any, *, n_train: int,
             n_classes: int, gpu: bool = False, n_val: int = 0, n_test: int = 0,
             texts: Sequence[str] = ()) -> Estimate:
    """Expected seconds of one run (one seed) of ``spec``, with memory and trainable params."""
    from metacore import estimate as engine

    sizes = {"n_train": n_train, "n_val": n_val, "n_test": n_test, "n_classes": n_classes}
    if not spec.uses_backbone or backbone is None:
        seconds = engine.estimate_seconds(spec.name, config, None, **sizes)
        return Estimate(spec.name, None, seconds, 50 + n_train * 0.05,
                        "closed form, no neural net")
    speed, note = None, ""
    try:
        import torch

        device = "cuda" if gpu and torch.cuda.is_available() else "cpu"
        speed = engine.calibrate(backbone, texts or ["a short example text"] * 8, device)
    except Exception as exc:  # noqa: BLE001 - an estimate must never block a run
        note = f"speed not measured ({type(exc).__name__})"
    seconds = engine.estimate_seconds(spec.name, config, speed, **sizes) if speed else 0.0
    memory = engine_estimate(spec.name, config, backbone, n_classes=n_classes)
    return Estimate(spec.name, memory.get("trainable_params"), seconds,
                    memory.get("bytes", 0) / 2**20, note)


def engine_estimate(name: str, config: dict[str, Any], backbone: Any,
                    n_classes: int | None = None) -> dict[str, Any]:
    """``metacore.memory.estimate_memory`` ({"bytes", "trainable_params", ...}) or {}."""
    try:
        from metacore.memory import estimate_memory

        return dict(estimate_memory(name, config, backbone, seq_len=TOKENS_PER_TEXT,
                                    n_classes=n_classes))
    except Exception:  # noqa: BLE001 - an estimate must never block a run
        return {}


def human_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"~{max(1, round(seconds))} s"
    return f"~{seconds / 60:.1f} min"
