"""The teaching pages' long computations, as tasks of the app's one queue (``ui.state.queue``).

A K-shot sweep or a brief meta-training is a task (``JobQueue.submit_task``): it waits for its
device behind every run and task already there, one job per device at a time (two trainings
on one CPU or GPU only slow each other down), and the page shows its place in line meanwhile.
Tasks are keyed by what they compute, so submitting one again (a double click, a rerun,
another learner asking for the same thing) returns the one already waiting, running or done:
its result is shown again at once. The worker never calls Streamlit; a fragment polls the
task's snapshot (``watch``) and reruns the page once it has ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from metacore.text import markdown_literal
from ui import state
from ui.i18n import say, t

POLL_S = 0.7  # seconds between two looks at a running task

Work = Callable[[Any], Any]  # (metacore.run.queue.TaskReport) -> the task's value


def submit(key: str, work: Work, *, label: str, estimate_s: float | None = None,
           device: str = "auto") -> str:
    """Queue ``work`` as this session's task ``key`` (or find the one already queued, running
    or done under that key) and return its job id."""
    return state.queue().submit_task(key, work, label=label, owner=state.owner(),
                                     device=device, estimate_s=estimate_s)


def get(key: str | None) -> Any:
    """The newest task submitted under ``key`` (a ``JobView``), or None."""
    return state.queue().task(key) if key else None


def stop(job_id: str) -> None:
    """Stop a task of this session: a waiting one leaves the line, a running one ends soon."""
    state.queue().stop(job_id, owner=state.owner())


def snapshot(job_id: str) -> Any:
    """The task's snapshot (``JobView``), or None once the queue has forgotten it."""
    try:
        return state.queue().job(job_id)
    except KeyError:
        return None


@st.fragment(run_every=POLL_S)
def watch(job_id: str, show: Callable[[Any], None]) -> None:
    """Redraw ``show(job)`` while the task waits or runs, then the whole page once it ends."""
    found = snapshot(job_id)
    if found is None:
        return
    show(found)
    if not found.active:
        st.rerun(scope="app")


def place(job: Any) -> str:
    """Where a waiting job stands: the jobs ahead of it are the one running now and those
    queued before it (``position`` 1 is the next to start)."""
    ahead = max(0, int(job.position))
    if ahead == 0:
        return t("tasks.starting")
    if ahead == 1:
        return t("tasks.waiting_one")
    return t("tasks.waiting_many", ahead=ahead)


def progress(job: Any, stop_key: str) -> None:
    """The place in line (waiting) or a progress bar (running), and a Stop button for the
    session that submitted the task (only its owner may stop it)."""
    left, right = st.columns([6, 1], vertical_alignment="center")
    if job.state == "queued":
        left.info(place(job), icon=":material/hourglass_top:")
    else:
        left.progress(job.fraction, text=say(job.phase) or t("common.working"))
    if job.owner == state.owner() and right.button(t("common.stop"), key=stop_key,
                                                   icon=":material/stop_circle:"):
        stop(job.job_id)


def failed(job: Any) -> None:
    """Why a task failed, in the interface language."""
    error = (say(job.error_message) if job.error_message is not None
             else markdown_literal(job.error))
    st.error(t("common.failed", error=error), icon=":material/error:")
