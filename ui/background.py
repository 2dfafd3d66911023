"""Long teaching computations in a background thread, polled by a fragment.

A ``Task`` is a plain record the worker thread writes and the page reads; the worker never
calls Streamlit (Streamlit's threading guide). Tasks are shared by every session of the
process and keyed by what they compute, so twenty learners asking for the same brief
meta-training share one run. One heavy task runs at a time: on a laptop CPU two would only
slow each other down.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from metacore.training.events import RunControl

ACTIVE = ("waiting", "running")
_HEAVY = threading.Lock()


@dataclass
class Task:
    """What a background computation has done so far; written by its thread only."""

    key: str
    state: str = "waiting"  # waiting | running | done | failed | stopped
    done: int = 0
    total: int = 0
    message: str = ""
    partial: list[Any] = field(default_factory=list)
    result: Any = None
    error: str | None = None
    control: RunControl = field(default_factory=RunControl)
    started: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def elapsed(self) -> float:
        return (self.finished or time.time()) - self.started


class Tasks:
    """The process's tasks by key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[str, Task] = {}

    def get(self, key: str) -> Task | None:
        with self._lock:
            return self._tasks.get(key)

    def start(self, key: str, work: Callable[[Task], Any]) -> Task:
        """Start ``work(task)`` unless a task with this key is running or has succeeded."""
        with self._lock:
            task = self._tasks.get(key)
            if task is not None and task.state in (*ACTIVE, "done"):
                return task
            task = self._tasks[key] = Task(key)
        threading.Thread(target=_run, args=(task, work), daemon=True,
                         name=f"teach-{key[:40]}").start()
        return task

    def forget(self, key: str) -> None:
        with self._lock:
            self._tasks.pop(key, None)


def _run(task: Task, work: Callable[[Task], Any]) -> None:
    with _HEAVY:
        task.state, task.started = "running", time.time()
        try:
            task.result = work(task)
            task.state = "stopped" if task.control.should_stop else "done"
        except Exception as exc:  # noqa: BLE001 - shown on the page, never lost
            task.error = f"{type(exc).__name__}: {exc}"
            task.message = traceback.format_exc(limit=3)
            task.state = "failed"
        task.finished = time.time()


@st.cache_resource(show_spinner=False)
def tasks() -> Tasks:
    """The one task table of this process."""
    return Tasks()


@st.fragment(run_every=0.7)
def watch(key: str, show: Callable[[Task], None]) -> None:
    """Redraw ``show(task)`` while the task runs, then the whole page once it ends."""
    task = tasks().get(key)
    if task is None:
        return
    show(task)
    if not task.active:
        st.rerun(scope="app")
