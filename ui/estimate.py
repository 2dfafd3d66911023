"""Time, memory and trainable-parameter estimates shown before a comparison starts.

Time comes from ``metacore.estimate``: the encoder passes each run makes, counted from its
settings and the data sizes, times this device's speed measured once per process on texts
like the user's; frozen-backbone methods after the first reuse its cached embeddings. Memory
and trainable parameters come from ``metacore.memory``. Nothing here may block a run: what
cannot be estimated shows as unknown, with a note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ui.i18n import t

TOKENS_PER_TEXT = 32


@dataclass(frozen=True)
class Estimate:
    method: str
    trainable: int | None
    seconds: float | None
    memory_mb: float | None
    note: str = ""


def estimate_all(specs: Mapping[str, Any], methods: Sequence[str],
                 configs: Mapping[str, Mapping[str, Any]], backbone: Any, *, n_train: int,
                 n_classes: int, n_val: int = 0, n_test: int = 0, gpu: bool = False,
                 texts: Sequence[str] = ()) -> list[Estimate]:
    """One ``Estimate`` per method of a comparison (seconds for one seed), in order."""
    from metacore import estimate as engine

    sizes = {"n_train": n_train, "n_val": n_val, "n_test": n_test, "n_classes": n_classes}
    speed, note = None, ""
    if backbone is not None and any(specs[m].uses_backbone for m in methods):
        try:
            import torch

            device = "cuda" if gpu and torch.cuda.is_available() else "cpu"
            speed = engine.calibrate(backbone, texts or ["a short example text"] * 8, device)
        except Exception:  # noqa: BLE001 - an estimate must never block a run
            note = t("train.est.unmeasured")
    try:
        seconds: Mapping[str, float | None] = engine.estimate_comparison(
            methods, configs, speed, queued=True, **sizes)
    except Exception:  # noqa: BLE001
        seconds = {}
    out = []
    for name in methods:
        uses = specs[name].uses_backbone
        memory = engine_estimate(name, dict(configs.get(name, {})), backbone,
                                 n_classes=n_classes) if uses else {}
        known = seconds.get(name) if (speed is not None or not uses) else None
        out.append(Estimate(
            name, memory.get("trainable_params"), known,
            memory["bytes"] / 2**20 if memory.get("bytes") else (None if uses else 50.0),
            t("train.est.closed_form") if not uses else note))
    return out


def engine_estimate(name: str, config: dict[str, Any], backbone: Any,
                    n_classes: int | None = None) -> dict[str, Any]:
    """``metacore.memory.estimate_memory`` ({"bytes", "trainable_params", ...}) or {}."""
    try:
        from metacore.memory import estimate_memory

        return dict(estimate_memory(name, config, backbone, seq_len=TOKENS_PER_TEXT,
                                    n_classes=n_classes))
    except Exception:  # noqa: BLE001 - an estimate must never block a run
        return {}


def human_seconds(seconds: float | None) -> str:
    from ui.teach_state import human_seconds as spoken

    return "?" if seconds is None else "~" + spoken(seconds)
