"""Episode controls and brief meta-training shared by the inspector and the inner-loop view.

Episodes are drawn from the *novel* class pool; brief meta-training sees only the *base*
pool, so "after meta-training" always means "on classes it never saw" (when the data has at
least four classes).
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import pandas as pd
import streamlit as st

from metacore.data import DataError, TextSet
from metacore.data.episodes import Episode
from metacore.teaching import ClassPools, class_pools, draw_episode, split_by_classes
from metacore.teaching.costs import brief_seconds
from metacore.teaching.meta import BRIEF_SHAPE, BriefTraining, meta_train_briefly
from ui import background, teach_state
from ui import teach_figures as figs
from ui.i18n import t


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
        st.error(str(exc), icon=":material/error:")
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


def start_brief(method: str, td: teach_state.TeachData, pool: ClassPools,
                episodes: int) -> background.Task:
    """Meta-train ``method`` briefly on the base pool, in the background (shared by key)."""
    base = td.textset if not pool.disjoint else split_by_classes(td.textset, pool.novel)[0]
    ctx = teach_state.context()  # loads the backbone here, in the script thread

    def work(task: background.Task) -> BriefTraining:
        def progress(done: int, total: int, loss: float) -> None:
            task.done, task.total = done, total
            task.message = f"{done}/{total} · loss {loss:.3f}"

        run_ctx = dataclasses.replace(ctx, control=task.control)
        return meta_train_briefly(method, base, ctx=run_ctx, episodes=episodes,
                                  on_progress=progress)

    return background.tasks().start(brief_key(method, td, pool, episodes), work)


def brief_result(method: str, td: teach_state.TeachData, pool: ClassPools,
                 episodes: int) -> BriefTraining | None:
    task = background.tasks().get(brief_key(method, td, pool, episodes))
    return task.result if task is not None and task.state in ("done", "stopped") else None


def show_progress(task: background.Task) -> None:
    """A progress bar (or the waiting note) and a Stop button for a running task."""
    if task.state == "waiting":
        st.info(t("common.waiting"), icon=":material/hourglass_top:")
        return
    left, right = st.columns([6, 1], vertical_alignment="center")
    left.progress(task.fraction, text=task.message or t("common.working"))
    if right.button(t("common.stop"), key=f"stop_{abs(hash(task.key))}",
                    icon=":material/stop_circle:"):
        task.control.stop()


def brief_expected(method: str, episodes: int) -> str:
    return teach_state.human_seconds(brief_seconds(method, episodes, BRIEF_SHAPE))


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
                       f"border-radius:6px 6px 0 0'>{html.escape(name)}</div>"
                       + "".join(items) + "</div>")
    title = t("learn.episodes.figure", n=episode.n_way, k=k, q=q)
    return (f"<div style='font-size:1.05rem;margin-bottom:8px'>{html.escape(title)}</div>"
            f"<div style='display:flex;gap:8px'>{''.join(columns)}</div>")


def _card_item(role: str, text: str, fill: str) -> str:
    return (f"<div style='background:{fill};margin-top:4px;padding:6px 10px;font-size:0.86rem;"
            f"border-radius:4px;line-height:1.35'><span style='color:#6b7280;font-size:0.72rem;"
            f"text-transform:uppercase;letter-spacing:0.04em'>{html.escape(role)}</span><br>"
            f"{html.escape(text)}</div>")
