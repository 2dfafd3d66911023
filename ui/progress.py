"""Live view of queued and running jobs: polled by a fragment, never written by the worker."""

from __future__ import annotations

from typing import Any

import streamlit as st

from metacore.reporting import figures
from ui import state

ACTIVE = ("queued", "running")
BADGES = {"queued": ("gray", "queued"), "running": ("blue", "running"),
          "completed": ("green", "completed"), "stopped": ("orange", "stopped"),
          "failed": ("red", "failed"), "interrupted": ("red", "interrupted")}


def views(run_ids: list[str]) -> list[Any]:
    out = []
    for run_id in run_ids:
        try:
            out.append(state.queue().job(run_id))
        except KeyError:  # finished long ago or in another process: the store has it
            continue
    return out


def show(run_ids: list[str]) -> None:
    """Live cards while anything runs; a summary with a link to Results once all ended."""
    jobs = views(run_ids)
    if not jobs:
        return
    if any(j.state in ACTIVE for j in jobs):
        _live(run_ids)
    else:
        _cards(jobs, live=False)
        _done(jobs)


@st.fragment(run_every=1.0)
def _live(run_ids: list[str]) -> None:
    jobs = views(run_ids)
    _cards(jobs, live=True)
    if not any(j.state in ACTIVE for j in jobs):
        st.rerun(scope="app")  # stop polling: redraw the page once with the final state


def _cards(jobs: list[Any], *, live: bool) -> None:
    for job in jobs:
        with st.container(border=True, key=f"job_{job.run_id}"):
            _card(job, live=live)


def _card(job: Any, *, live: bool) -> None:
    color, word = BADGES.get(job.state, ("gray", job.state))
    head, stop = st.columns([6, 1], vertical_alignment="center")
    seed = f" · seed {job.spec.seed}"
    head.markdown(f"**{job.method}**{seed} &nbsp; :{color}-badge[{word}] &nbsp; "
                  f"<span style='color:#6b7280'>{_where(job)}</span>", unsafe_allow_html=True)
    if job.state in ACTIVE and stop.button("Stop", key=f"stop_{job.run_id}",
                                           icon=":material/stop_circle:"):
        state.queue().stop(job.run_id, owner=state.owner())
        st.toast(f"Stopping {job.method}: it keeps what it has learned so far.")
    if job.state == "running" and job.total_steps:
        done = len(job.steps)
        st.progress(min(1.0, done / job.total_steps), text=f"step {done} of {job.total_steps}")
    if job.error:
        st.error(job.error, icon=":material/error:")
    if job.steps or job.evals:
        fig = figures.live_loss(job.steps, job.evals, method=job.method,
                                total_steps=job.total_steps or None)
        st.plotly_chart(fig, theme=None, key=f"live_{job.run_id}_{live}")


def _where(job: Any) -> str:
    if job.state == "queued":
        return f"waiting, place {job.position} in the queue"
    if job.state == "running":
        return f"{job.phase} {job.phase_detail}".strip()
    result = job.result
    if result is not None and result.metrics:
        return (f"accuracy {result.metrics.get('accuracy', 0):.1%} · macro-F1 "
                f"{result.metrics.get('macro_f1', 0):.1%} · "
                f"{result.timing.get('train_s', 0):.1f} s training")
    return ""


def _done(jobs: list[Any]) -> None:
    ok = [j for j in jobs if j.state in ("completed", "stopped")]
    if ok:
        st.success(f"{len(ok)} of {len(jobs)} run(s) finished.", icon=":material/check_circle:")
        if st.button("See the results", key="train_open_results", type="primary",
                     icon=":material/leaderboard:"):
            st.session_state[state.RESULTS] = [j.run_id for j in jobs]
            st.switch_page("pages/results.py")
