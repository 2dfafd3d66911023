"""What to change for the one retry after a run ran out of GPU memory.

The worker retries a CUDA out-of-memory failure once with lighter settings, and records what it
changed in the result's warnings and in ``extra["oom_retry"]``: half the batch size for methods
that have one, else first-order MAML (no second derivatives) for MAML. Methods with neither
are not retried: the same run would run out of memory again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from metacore.messages import Message, msg


@dataclass(frozen=True)
class Retry:
    """Settings for the retry and the sentence that tells the user what changed."""

    method_config: dict[str, Any]
    changed: dict[str, Any]
    note: Message


def is_out_of_memory(status: str, error: str | None) -> bool:
    """Whether a result failed because the device ran out of memory."""
    return status == "failed" and "out of memory" in (error or "").lower()


def lighter_settings(method: str, method_config: dict[str, Any]) -> Retry | None:
    """Lighter settings for ``method``, or None when nothing would use less memory.

    Args:
        method: A registered method name.
        method_config: The settings the failed attempt used (changed from the defaults).
    """
    from metacore.methods import registry

    try:
        config_cls = registry.get(method).config_cls
    except ValueError:
        return None
    defaults = {f.name: f.default for f in dataclasses.fields(config_cls)}
    if "batch_size" in defaults:
        size = int(method_config.get("batch_size", defaults["batch_size"]))
        if size < 2:
            return None
        half = size // 2
        note = msg("run.warning.retried_batch", size=size, half=half)
        return Retry({**method_config, "batch_size": half}, {"batch_size": half}, note)
    if "first_order" in defaults and not method_config.get("first_order", defaults["first_order"]):
        note = msg("run.warning.retried_first_order")
        return Retry({**method_config, "first_order": True}, {"first_order": True}, note)
    return None
