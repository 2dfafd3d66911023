"""Episode controls and brief meta-training shared by the inspector and the inner-loop view.

Episodes are drawn from the *novel* class pool; brief meta-training sees only the *base*
pool, so "after meta-training" always means "on classes it never saw" (when the data has at
least four classes). Brief meta-training is a task of the app's one queue (``ui.tasks``): it
waits its turn on the device and is shared by every session asking for the same one.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import pandas as pd
import streamlit as st

from metacore.data import DataError, TextSet
from metacore.data.episodes import Episode
from metacore.estimate import meta_training_seconds
from metacore.messages import msg
from metacore.teaching import ClassPools, class_pools, draw_episode, split_by_classes
from metacore.teaching.meta import BRIEF_SHAPE, BriefTraining, meta_train_briefly
from metacore.text import html_literal
from ui import tasks, teach_state
from ui import teach_figures as figs
from ui.i18n import say, t


def pools(td: teach_state.TeachData) -> ClassPools:
    return class_pools(td.textset.classes)


def episode_controls(prefix: str, td: teach_state.TeachData, pool: ClassPools,
                     default: tuple[int, int, int] = (3, 3, 4)) -> Episode:
    """N-way, K-shot, queries, seed and previous/next; returns the chosen episode."""
    counts = pd.Series(td.textset.labels).value_counts()
    smallest = int(counts[list(pool.novel)].min())
    cols = st.columns([1, 1, 1, 1, 1.25, 0.9, 1.25], vertical_alignment="bottom")
    n_way = cols[0].number_input(t("common.n_way"), 2, max(2, len(pool.novel)),
                                 min(default[0], len(pool.novel)), key=f"{prefix}_way",
                                 help=t("common.n_way_help"))
    k_shot = cols[1].number_input(t("common.k_shot"), 1, max(1, min(10, smallest - 1)),
                                  max(1, min(default[1], smallest - 1)), key=f"{prefix}_shot",
                                  help=t("common.k_shot_help"))
    most = max(1, min(10, smallest - int(k_shot)))
    n_query = cols[2].number_input(t("common.n_query"), 1, most, min(default[2], most),
                                   key=f"{prefix}_query", help=t("common.n_query_help"))
    seed = cols[3].number_input(t("common.seed"), 0, 9999, 0, key=f"{prefix}_seed",
                                help=t("common.seed_help"))
    index = _stepper(prefix, cols[4:])
    try:
        return draw_episode(td.textset, n_way=int(n_way), k_shot=int(k_shot),
                            n_query=int(n_query), seed=int(seed), index=index,
                            classes=list(pool.novel))
    except DataError as exc:  # classes too small for this shape: say so, draw nothing
        st.error(say(exc), icon=":material/error:")
        st.stop()


def _stepper(prefix: str, cols: list[Any]) -> int:
    key = f"{prefix}_index"
    index = st.session_state.setdefault(key, 0)
    cols[0].button(t("common.previous"), key=f"{prefix}_prev", disabled=index == 0,
                   icon=":material/chevron_left:", width="stretch", on_click=_step,
                   args=(key, -1))
    cols[2].button(t("common.next"), key=f"{prefix}_next", icon=":material/chevron_right:",
                   width="stretch", on_click=_step, args=(key, 1))
    cols[1].markdown(f"<div style='text-align:center;padding-bottom:0.5rem'><b>"
                     f"{t('common.episode', n=index + 1)}</b></div>", unsafe_allow_html=True)
    return index


def _step(key: str, by: int) -> None:
    """Runs before the page redraws, so both buttons see the new episode number."""
    st.session_state[key] = max(0, st.session_state.get(key, 0) + by)


def brief_key(method: str, td: teach_state.TeachData, pool: ClassPools, episodes: int) -> str:
    return (f"brief|{method}|{teach_state.backbone_spec()}|{td.key}|{','.join(pool.base)}|"
            f"{episodes}")


def start_brief(method: str, td: teach_state.TeachData, pool: ClassPools, episodes: int) -> None:
    """Queue a brief meta-training of ``method`` on the base pool (or find the one queued,
    running or done under its key: every session shares it)."""
    base = _base(td, pool)
    ctx = teach_state.context()  # loads the backbone here, in the script thread

    def work(report: Any) -> BriefTraining:
        def progress(done: int, total: int, loss: float) -> None:
            report.progress(done, total, msg("teach.brief.progress", done=done, total=total,
                                             loss=loss))

        run_ctx = dataclasses.replace(ctx, control=report.control)
        return meta_train_briefly(method, base, ctx=run_ctx, episodes=episodes,
                                  on_progress=progress)

    tasks.submit(brief_key(method, td, pool, episodes), work,
                 label=f"brief meta-training: {method}",
                 estimate_s=brief_seconds(method, td, episodes))


def _base(td: teach_state.TeachData, pool: ClassPools) -> TextSet:
    return td.textset if not pool.disjoint else split_by_classes(td.textset, pool.novel)[0]


def brief_task(method: str, td: teach_state.TeachData, pool: ClassPools, episodes: int) -> Any:
    """The brief meta-training's task (``JobView``), if one was submitted."""
    return tasks.get(brief_key(method, td, pool, episodes))


def brief_result(method: str, td: teach_state.TeachData, pool: ClassPools,
                 episodes: int) -> BriefTraining | None:
    job = brief_task(method, td, pool, episodes)
    return job.value if job is not None and job.state in ("completed", "stopped") else None


def show_progress(job: Any) -> None:
    """The place in line, or a progress bar, and a Stop button for a brief meta-training."""
    tasks.progress(job, f"stop_{job.job_id}")


def brief_seconds(method: str, td: teach_state.TeachData, episodes: int) -> float | None:
    """Expected seconds of the brief meta-training: the method's cost model
    (``metacore.estimate.meta_training_seconds``) at the backbone's measured speed."""
    speed = teach_state.speed(td.textset.texts)
    if speed is None:
        return None
    return meta_training_seconds(method, {}, speed, episodes=episodes, shape=BRIEF_SHAPE)


def brief_expected(method: str, td: teach_state.TeachData, episodes: int) -> str:
    seconds = brief_seconds(method, td, episodes)
    return teach_state.human_seconds(float("nan") if seconds is None else seconds)


def episode_card(textset: TextSet, episode: Episode) -> str:
    """The episode as an HTML card: one column per class, support texts above queries."""
    colors = figs.class_colors(textset.classes)
    k = len(episode.support) // episode.n_way
    q = len(episode.query) // episode.n_way
    columns = []
    for c, name in enumerate(episode.classes):
        sup = [textset.texts[i] for i in episode.support[c * k : (c + 1) * k]]
        qry = [textset.texts[i] for i in episode.query[c * q : (c + 1) * q]]
        items = [_card_item(t("fig.support"), x, "#eef2ff") for x in sup]
        items += [_card_item(t("fig.query"), x, "#fff7ed") for x in qry]
        columns.append(f"<div style='flex:1;min-width:0'><div style='background:"
                       f"{colors[name]};color:white;font-weight:600;padding:6px 10px;"
                       f"border-radius:6px 6px 0 0'>{html_literal(name)}</div>"
                       + "".join(items) + "</div>")
    title = t("learn.episodes.figure", n=episode.n_way, k=k, q=q)
    return (f"<div style='font-size:1.05rem;margin-bottom:8px'>{html.escape(title)}</div>"
            f"<div style='display:flex;gap:8px'>{''.join(columns)}</div>")


def _card_item(role: str, text: str, fill: str) -> str:
    return (f"<div style='background:{fill};margin-top:4px;padding:6px 10px;font-size:0.86rem;"
            f"border-radius:4px;line-height:1.35'><span style='color:#6b7280;font-size:0.72rem;"
            f"text-transform:uppercase;letter-spacing:0.04em'>{html.escape(role)}</span><br>"
            f"{html_literal(text)}</div>")
