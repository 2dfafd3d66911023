"""Events a run emits, and the control flag that stops it.

Callbacks receive events, never the trainer (the transformers ``TrainerCallback`` idea): an event
is a frozen dataclass of plain values, safe to put on a queue and read from another thread. The
CLI turns them into a progress bar, the app into live charts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    method: str
    device: str
    total_steps: int
    time: float = field(default_factory=time.time)


@dataclass(frozen=True)
class PhaseChanged:
    """A coarse stage of the run, as a coded message: ``phase`` names it (loading_backbone,
    embedding, training, meta_training, adapting, predicting, projecting, testing, retrying)
    and ``params`` holds its figures; ``message`` is ``phase.<phase>`` in the catalogs, so an
    interface says it in its own language."""

    phase: str
    params: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    @property
    def message(self) -> Any:
        from metacore.messages import Message

        return Message(f"phase.{self.phase}", self.params)

    @property
    def detail(self) -> str:
        """The English sentence (the CLI's progress line)."""
        return str(self.message)


@dataclass(frozen=True)
class StepEnded:
    step: int
    total_steps: int
    epoch: int
    loss: float
    metrics: dict[str, float] = field(default_factory=dict)
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class Evaluated:
    step: int
    epoch: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class RunEnded:
    status: str  # "completed" | "stopped" | "failed"
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    elapsed_s: float = 0.0


Event = RunStarted | PhaseChanged | StepEnded | Evaluated | RunEnded
Callback = Callable[[Event], None]


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-friendly view of an event, with its kind."""
    return {"kind": type(event).__name__, **asdict(event)}


class RunControl:
    """A thread-safe stop flag: the Stop button and early stopping set it, the loop reads it."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.reason: str | None = None

    def stop(self, reason: str = "stopped by user") -> None:
        self.reason = reason
        self._stop.set()

    @property
    def should_stop(self) -> bool:
        return self._stop.is_set()


class EventBus:
    """Delivers each event to every callback; a failing callback never kills the run."""

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        self.callbacks = list(callbacks)
        self.errors: list[str] = []

    def emit(self, event: Event) -> None:
        for callback in self.callbacks:
            try:
                callback(event)
            except Exception as exc:  # noqa: BLE001 - a UI glitch must not end training
                self.errors.append(f"{type(exc).__name__}: {exc}")
