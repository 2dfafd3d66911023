"""The inner-loop view: loss and accuracy at each inner step of MAML, FOMAML, ANIL, Reptile.

One trace of ``MAX_STEPS`` steps is computed per (method, model, episode, head start, learning
rate) and cached; a k-step inner loop is its first k steps, so the step slider only redraws.
"""

from __future__ import annotations

import json

import streamlit as st

from metacore.data import TextSet
from metacore.data.episodes import Episode
from metacore.methods import registry
from metacore.methods.maml import GradientMethod
from metacore.teaching import GRADIENT_METHODS, ClassPools, InnerTrace, inner_loop_trace
from metacore.teaching.meta import BRIEF_SHAPE, create_brief
from ui import tasks, teach_episode, teach_state
from ui import teach_figures as figs
from ui.i18n import t

MAX_STEPS = 10
EPISODES = 10  # brief meta-training before the inner loop, when asked for
LRS = [0.001, 0.003, 0.005, 0.01, 0.03, 0.1, 0.3]
UNTRAINED, BRIEF = "untrained", "brief"


def controls() -> tuple[str, str, float, str]:
    """(method, head start, inner learning rate, model) as the learner set them."""
    a, b = st.columns([3, 2], vertical_alignment="bottom")
    method = a.segmented_control(t("inner.method"), list(GRADIENT_METHODS), default="maml",
                                 key="inner_method", format_func=lambda m: t(f"inner.m.{m}"),
                                 help=t("inner.method_help")) or "maml"
    head = b.radio(t("inner.head"), ["zero", "prototypes"], horizontal=True, key="inner_head",
                   format_func=lambda h: t(f"inner.head_{h}"), help=t("inner.head_help"))
    c, d = st.columns([3, 2], vertical_alignment="bottom")
    default = registry.get(method).config_cls().inner_lr
    lr = c.select_slider(t("inner.lr"), LRS, value=min(LRS, key=lambda x: abs(x - default)),
                         key=f"inner_lr_{method}", help=t("inner.lr_help"))
    model = d.radio(t("inner.model"), [UNTRAINED, BRIEF], horizontal=True, key="inner_model",
                    format_func=lambda m: t(f"inner.model_{m}", n=EPISODES))
    return method, head, float(lr), model


@st.cache_resource(show_spinner=False, max_entries=4)
def _untrained(method: str, backbone: str) -> GradientMethod:
    learner = create_brief(method, episodes=0, shape=BRIEF_SHAPE)
    learner.meta_train(TextSet((), ()), val=None, ctx=teach_state.context())  # 0: set up only
    return learner


def learner(method: str, model: str, td: teach_state.TeachData, pool: ClassPools
            ) -> tuple[GradientMethod | None, str]:
    """The method to run the inner loop with, and a key naming it (None while training)."""
    if model == UNTRAINED:
        return _untrained(method, teach_state.backbone_spec()), f"{method}|untrained"
    key = teach_episode.brief_key(method, td, pool, EPISODES)
    job = teach_episode.brief_task(method, td, pool, EPISODES)
    if job is not None and job.active:
        tasks.watch(job.job_id, teach_episode.show_progress)
        return None, key
    done = teach_episode.brief_result(method, td, pool, EPISODES)
    if done is not None:
        st.caption(t("inner.trained", n=done.episodes, seconds=f"{done.seconds:.0f}"))
        return done.method, key
    if job is not None and job.state == "failed":
        tasks.failed(job)
    st.button(t("inner.train", n=EPISODES,
                time=teach_episode.brief_expected(method, td, EPISODES)),
              key="inner_train", type="primary", icon=":material/model_training:",
              on_click=teach_episode.start_brief, args=(method, td, pool, EPISODES))
    return None, key


def trace(method: GradientMethod, model_key: str, td: teach_state.TeachData,
          episode: Episode, head: str, lr: float) -> InnerTrace:
    with st.spinner(t("inner.computing", steps=MAX_STEPS)):
        return _trace(model_key, td.key, json.dumps(episode.to_dict()), head, lr, MAX_STEPS,
                      method, td)


@st.cache_data(show_spinner=False, max_entries=64)
def _trace(model_key: str, data_key: str, episode: str, head: str, lr: float, steps: int,
           _method: GradientMethod, _td: teach_state.TeachData) -> InnerTrace:
    ep = json.loads(episode)
    support = _td.textset.subset(ep["support"])
    query = _td.textset.subset(ep["query"])
    return inner_loop_trace(_method, support, query, steps=steps, ctx=teach_state.context(),
                            head=head, lr=lr)


def steps_slider() -> int:
    return int(st.slider(t("inner.steps"), 0, MAX_STEPS, 5, key="inner_steps",
                         help=t("inner.steps_help")))


def show(tr: InnerTrace, k: int) -> None:
    """Metrics after k steps (change since step 0), the curves, and the query predictions."""
    start, now = tr.frame.iloc[0], tr.frame.iloc[k]
    cols = st.columns(4)
    for col, key, fmt, inverse in ((cols[0], "support_loss", "{:.3f}", True),
                                   (cols[1], "support_accuracy", "{:.0%}", False),
                                   (cols[2], "query_loss", "{:.3f}", True),
                                   (cols[3], "query_accuracy", "{:.0%}", False)):
        col.metric(t(f"inner.{key}", k=k), fmt.format(now[key]),
                   fmt.format(now[key] - start[key]) if k else None,
                   delta_color="inverse" if inverse else "normal")
    st.plotly_chart(figs.inner_figure(tr, k, t("inner.figure", method=t(f"inner.m.{tr.method}"),
                                                k=k)), theme=None, key="inner_fig")
    st.caption(t("inner.adapted", n=len(tr.adapted), seconds=f"{tr.seconds:.1f}"))
    table = tr.predictions(k)
    table["correct"] = table["correct"].map({True: "✓", False: "✗"})
    st.dataframe(table.rename(columns=lambda c: t(f"inner.col_{c}")), hide_index=True,
                 key="inner_predictions", column_config={t("inner.col_confidence"):
                 st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)})


def explain(method: str) -> None:
    st.markdown(t(f"inner.about.{method}"))
