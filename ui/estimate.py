"""Time, memory and trainable-parameter estimates shown before a comparison starts.

Time comes from ``metacore.estimate``: the encoder passes each run makes, counted from its
settings and the data sizes, times this device's speed measured once per process on texts
like the user's; frozen-backbone methods after the first reuse its cached embeddings. Memory
and trainable parameters come from ``metacore.memory``. Nothing here may block a run: what
cannot be estimated shows as unknown, with a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from metacore.methods.costs import DataSizes
from ui.i18n import t

TOKENS_PER_TEXT = 32


@dataclass(frozen=True)
class Estimate:
    method: str
    trainable: int | None
    seconds: float | None
    memory_mb: float | None
    note: str = ""


def estimate_all(runs: Sequence[Any], plan: Any, backbone: Any, sizes: DataSizes, *,
                 gpu: bool = False, texts: Sequence[str] = ()) -> list[Estimate]:
    """One ``Estimate`` per run of one seed (``PlannedRun``s of ``plan``), in queue order."""
    from metacore import estimate as engine
    from metacore.methods import registry

    speed, note = None, ""
    if backbone is not None and any(registry.get(r.method).uses_backbone for r in runs):
        try:
            import torch

            device = "cuda" if gpu and torch.cuda.is_available() else "cpu"
            speed = engine.calibrate(backbone, texts or ["a short example text"] * 8, device)
        except Exception:  # noqa: BLE001 - an estimate must never block a run
            note = t("train.est.unmeasured")
    settings = [_Settings(r.method, plan.method_settings(r)) for r in runs]
    try:
        seconds: list[float | None] = list(engine.estimate_runs(
            settings, speed, lambda run: sizes, queued=plan.protocol == "adapt"))
    except Exception:  # noqa: BLE001
        seconds = [None] * len(runs)
    out = []
    for run, s, secs in zip(runs, settings, seconds, strict=True):
        spec = registry.get(run.method)
        uses = spec.uses_backbone
        memory = engine_estimate(spec.method_cls, s.settings, backbone,
                                 n_classes=sizes.n_classes, uses_backbone=uses)
        known = secs if (speed is not None or not uses) else None
        out.append(Estimate(
            run.method, memory.get("trainable_params"), known,
            memory["bytes"] / 2**20 if memory.get("bytes") else (None if uses else 50.0),
            t("train.est.closed_form") if not uses else note))
    return out


@dataclass(frozen=True)
class _Settings:
    method: str
    settings: dict[str, Any]


def engine_estimate(method_cls: Any, config: dict[str, Any], backbone: Any,
                    n_classes: int | None = None, uses_backbone: bool = True
                    ) -> dict[str, Any]:
    """``metacore.memory.estimate_memory`` ({"bytes", "trainable_params", ...}) or {}."""
    if not uses_backbone:
        return {}
    try:
        from metacore.memory import estimate_memory

        return dict(estimate_memory(method_cls, config, backbone, seq_len=TOKENS_PER_TEXT,
                                    n_classes=n_classes))
    except Exception:  # noqa: BLE001 - an estimate must never block a run
        return {}


def human_seconds(seconds: float | None) -> str:
    from ui.teach_state import human_seconds as spoken

    return "?" if seconds is None else "~" + spoken(seconds)
