"""The episode inspector: one episode before and after meta-training, side by side.

"Before" is the frozen pretrained backbone (prototypes of its cached embeddings: what
nearest-centroid does). "After" is a protonet meta-trained briefly on the other classes (a
task of the app's one queue, shared by every session), or a finished protonet run from the
store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import streamlit as st

from metacore.data.episodes import Episode
from metacore.teaching import ClassPools, EpisodeView, inspect_episode
from ui import models, state, tasks, teach_episode, teach_state
from ui import teach_figures as figs
from ui.i18n import t

EPISODES = 25  # brief meta-training of the "after" protonet
BRIEF = "brief"

Features = Callable[[Sequence[str]], np.ndarray]


def stored_runs() -> dict[str, str]:
    """Finished protonet runs with a saved model: run id -> label."""
    out = {}
    for run in state.store().list_runs(owner=state.owner()):
        if run.method == "protonet" and run.status == "completed" and \
                models.model_dir(run.run_id) is not None:
            score = f" · F1 {run.macro_f1:.0%}" if run.macro_f1 is not None else ""
            out[run.run_id] = f"{run.run_id}{score}"
    return out


After = tuple[str, str, Features | None]  # (title, cache key, features or None while training)


def choose_after(td: teach_state.TeachData, pool: ClassPools) -> After:
    """The "after" model: a brief protonet (trained on request) or a stored run."""
    runs = stored_runs()
    brief_key = teach_episode.brief_key("protonet", td, pool, EPISODES)
    if not runs:
        return t("inspector.after_title", n=EPISODES), brief_key, _brief_features(td, pool)
    options = [BRIEF, *runs]
    pick = st.radio(t("inspector.after_label"), options, horizontal=True, key="insp_after",
                    format_func=lambda o: t("inspector.after_brief", n=EPISODES) if o == BRIEF
                    else t("inspector.after_run", run=runs[o]), help=t("inspector.after_help"))
    if pick != BRIEF:
        method, ctx = models.load(models.result(state.home(), pick, "completed"))
        st.caption(t("inspector.run_note"))
        return (t("inspector.after_title_run"), pick,
                lambda texts: method.embed(list(texts), ctx=ctx))
    return t("inspector.after_title", n=EPISODES), brief_key, _brief_features(td, pool)


def _brief_features(td: teach_state.TeachData, pool: ClassPools) -> Features | None:
    job = teach_episode.brief_task("protonet", td, pool, EPISODES)
    if job is not None and job.active:
        tasks.watch(job.job_id, teach_episode.show_progress)
        return None
    if job is not None and job.state == "failed":
        tasks.failed(job)
    done = teach_episode.brief_result("protonet", td, pool, EPISODES)
    if done is None:
        expected = teach_episode.brief_expected("protonet", td, EPISODES)
        st.button(t("inspector.train", n=EPISODES, time=expected), key="insp_train",
                  type="primary", icon=":material/model_training:",
                  on_click=teach_episode.start_brief, args=("protonet", td, pool, EPISODES))
        return None
    ctx = teach_state.context()
    st.caption(t("inspector.trained", n=done.episodes, seconds=f"{done.seconds:.0f}",
                 classes=", ".join(done.base_classes)))
    return lambda texts: done.method.embed(list(texts), ctx=ctx)


def views(td: teach_state.TeachData, episode: Episode, after: After
          ) -> list[tuple[str, EpisodeView]]:
    """The episode through the frozen backbone, and through the "after" model when ready."""
    out = [(t("fig.frozen"), inspect_episode(td.textset, episode, teach_state.embed))]
    title, key, features = after
    if features is not None:
        with st.spinner(t("common.working")):
            out.append((title, _after_view(key, td.key, json.dumps(episode.to_dict()), td,
                                           features)))
    return out


@st.cache_data(show_spinner=False, max_entries=32)
def _after_view(model_key: str, data_key: str, episode: str, _td: teach_state.TeachData,
                _features: Features) -> EpisodeView:
    """One forward pass of the meta-trained encoder per episode, not per redraw."""
    return inspect_episode(_td.textset, Episode(**{k: tuple(v) for k, v in
                                                   json.loads(episode).items()}), _features)


def pick_query(view: EpisodeView) -> int:
    names = [f"{i + 1}. {q[:70]}" for i, q in enumerate(view.query_texts)]
    return st.selectbox(t("inspector.pick"), range(len(names)), key="insp_pick",
                        format_func=lambda i: names[i], help=t("inspector.pick_help"))


def show(td: teach_state.TeachData, shown: list[tuple[str, EpisodeView]], selected: int
         ) -> None:
    fig = figs.episode_figure(shown, selected=selected, title=t("inspector.figure"),
                              all_classes=td.textset.classes)
    st.plotly_chart(fig, theme=None, key="insp_fig")
    st.markdown(f"**{t('inspector.heatmap_title')}**")
    st.caption(t("inspector.heatmap_help"))
    cols = st.columns(len(shown))
    for col, (name, view) in zip(cols, shown):
        col.plotly_chart(figs.distance_heatmap(view, name), theme=None, key=f"insp_heat_{name}")


def texts(td: teach_state.TeachData, episode: Episode,
          shown: list[tuple[str, EpisodeView]]) -> None:
    """The episode's texts by class, and every query's prediction before (and after)."""
    view = shown[0][1]
    st.markdown(teach_episode.episode_card(td.textset, episode), unsafe_allow_html=True)
    table = pd.DataFrame({t("inspector.col_text"): view.query_texts,
                          t("inspector.col_true"): view.query_labels})
    for name, each in shown:
        table[name] = [p + ("" if p == y else " ✗") for p, y in
                       zip(each.predicted, each.query_labels)]
    st.markdown(f"**{t('inspector.queries')}**")
    st.dataframe(table, hide_index=True, key="insp_queries")
