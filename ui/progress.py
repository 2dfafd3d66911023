"""Live view of queued and running jobs: polled by a fragment, never written by the worker."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from metacore.reporting import figures
from metacore.text import markdown_literal
from ui import state
from ui.i18n import language, say, t

ACTIVE = ("queued", "running")
ETA_AFTER = 3  # steps done before the time left is guessed (the first ones include warm-up)
clock = time.time  # the live cards' clock (a test puts a fixed one here)
COLORS = {"queued": "gray", "running": "blue", "completed": "green", "stopped": "orange",
          "failed": "red", "interrupted": "red"}


def state_word(name: str) -> str:
    """A run's state in the interface language."""
    words = {"queued": t("progress.queued"), "running": t("progress.running"),
             "completed": t("progress.completed"), "stopped": t("progress.stopped"),
             "failed": t("progress.failed"), "interrupted": t("progress.interrupted")}
    return words.get(name, name)


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
    color, word = COLORS.get(job.state, "gray"), state_word(job.state)
    head, stop = st.columns([6, 1], vertical_alignment="center")
    seed = " · " + t("progress.seed", seed=job.run.seed)
    # _where() can hold user input (a typed backbone name): everything interpolated is
    # escaped for Markdown, which also keeps it from being HTML (a backslash-escaped "<" is text)
    head.markdown(f"**{markdown_literal(job.method)}**{markdown_literal(seed)} &nbsp; "
                  f":{markdown_literal(color)}-badge[{markdown_literal(word)}] &nbsp; "
                  f"<span style='color:#6b7280'>{markdown_literal(_where(job))}</span>",
                  unsafe_allow_html=True)
    if job.state in ACTIVE and stop.button(t("progress.stop"), key=f"stop_{job.run_id}",
                                           icon=":material/stop_circle:"):
        state.queue().stop(job.run_id, owner=state.owner())
        st.toast(t("progress.stopping", method=markdown_literal(job.method)))
    if job.state == "running" and job.testing:
        _testing(job.testing)
    elif job.state == "running" and job.total_steps:
        done = len(job.steps)
        key = "progress.episode_of" if _episodic(job) else "progress.step_of"
        elapsed = clock() - job.started if job.started else None
        st.progress(min(1.0, done / job.total_steps),
                    text=step_text(key, done, job.total_steps, elapsed))
    if job.error:
        st.error(say(job.error_message or job.error), icon=":material/error:")
    if job.steps or job.evals:
        fig = figures.live_loss(job.steps, job.evals, method=job.method, lang=language(),
                                total_steps=job.total_steps or None)
        st.plotly_chart(fig, theme=None, key=f"live_{job.run_id}_{live}")


def step_text(key: str, done: int, total: int, elapsed: float | None) -> str:
    """``step 15 of 30 · 0:42 elapsed · about 0:40 left``: the time since the run started and,
    once ``ETA_AFTER`` steps are done, what is left at the pace so far (elapsed / done per
    step). ``key`` is ``progress.step_of`` or ``progress.episode_of``."""
    text = t(key, done=done, total=total)
    if elapsed is None or elapsed < 0:
        return text
    text += " · " + t("progress.elapsed", time=clock_text(elapsed))
    if ETA_AFTER <= done < total:
        text += " · " + t("progress.left", time=clock_text(elapsed / done * (total - done)))
    return text


def clock_text(seconds: float) -> str:
    """``0:42``, ``12:05``, ``1:02:09``: minutes and seconds, hours once there are any."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _episodic(job: Any) -> bool:
    return job.plan is not None and job.plan.protocol == "episodic"


def _testing(testing: dict) -> None:
    """Test-episode progress of an episodic run (not training: no loss is drawn for it)."""
    done, total = testing.get("episode", 0), max(1, testing.get("total", 1))
    acc = testing.get("accuracy")
    text = t("progress.testing", done=done, total=total)
    if acc is not None:
        text += " · " + t("progress.so_far", accuracy=f"{acc:.1%}")
    st.progress(min(1.0, done / total), text=text)


def _where(job: Any) -> str:
    if job.state == "queued":
        return t("progress.waiting", place=job.position)
    if job.state == "running":
        return say(job.phase, markdown=False)  # escaped where it is shown
    result = job.result
    if result is not None and "accuracy_mean" in result.metrics:
        m = result.metrics
        return t("progress.episodic_scores", accuracy=f"{m['accuracy_mean']:.1%}",
                 accuracy_ci=f"{m['accuracy_ci95']:.1%}", f1=f"{m['macro_f1_mean']:.1%}",
                 f1_ci=f"{m['macro_f1_ci95']:.1%}", episodes=m.get("episodes", 0))
    if result is not None and result.metrics:
        return t("progress.scores", accuracy=f"{result.metrics.get('accuracy', 0):.1%}",
                 f1=f"{result.metrics.get('macro_f1', 0):.1%}",
                 seconds=f"{result.timing.get('train_s', 0):.1f}")
    return ""


def _done(jobs: list[Any]) -> None:
    ok = [j for j in jobs if j.state in ("completed", "stopped")]
    if ok:
        st.success(t("progress.finished", done=len(ok), total=len(jobs)),
                   icon=":material/check_circle:")
        if st.button(t("progress.see_results"), key="train_open_results", type="primary",
                     icon=":material/leaderboard:"):
            st.session_state[state.RESULTS] = [j.run_id for j in jobs]
            st.switch_page("app_pages/results.py")
