"""The one training loop, its events, run control and device handling."""

from __future__ import annotations

from metacore.training.events import (
    Callback,
    Evaluated,
    Event,
    PhaseChanged,
    RunControl,
    RunEnded,
    RunStarted,
    StepEnded,
)

__all__ = [
    "Callback",
    "Evaluated",
    "Event",
    "PhaseChanged",
    "RunControl",
    "RunEnded",
    "RunStarted",
    "StepEnded",
]
