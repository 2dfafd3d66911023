"""The Learn page: seven ideas, each with a small live figure of the learner's own texts.

Every figure is computed from cached frozen-backbone embeddings of at most ``CAP`` texts per
class (and at most ``MAX_CLASSES`` classes), so the page draws in about a second once the
texts are embedded; controls redraw only their own section.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metacore import presets
from metacore.data import DataError, TextSet
from metacore.data.episodes import Episode
from metacore.teaching import draw_episode, lessons, summarise_sweep, toy
from metacore.teaching.lessons import Lesson
from ui import sweep_view, tasks, teach_episode, teach_state
from ui import teach_figures as figs
from ui.i18n import say, t

CAP = 40
MAX_CLASSES = 10
SHOT_OPTIONS = [1, 2, 4, 8, 16, None]


def lesson(td: teach_state.TeachData) -> Lesson:
    """The page's texts, embedded once per data and backbone."""
    with st.spinner(t("learn.embedding", n=len(td.textset))):
        return _lesson(td.key, teach_state.backbone_spec(), td.textset)


@st.cache_data(show_spinner=False, max_entries=8)
def _lesson(key: str, backbone: str, _textset: TextSet) -> Lesson:
    return lessons.prepare_lesson(_textset, teach_state.embed, per_class=CAP,
                                  max_classes=MAX_CLASSES)


def _section(number: int, key: str, wide: bool = False
             ) -> tuple[st.delta_generator.DeltaGenerator, ...]:
    """Heading and text; returns (where controls go, where the figure goes). A wide section
    puts its controls beside the text and its (two-panel) figure under both."""
    st.divider()
    st.subheader(f"{number}. {t(f'learn.{key}.title')}", anchor=f"learn-{key}")
    if wide:
        text, side = st.columns([3, 2], gap="large")
        text.markdown(t(f"learn.{key}.body"))
        return side, st.container()
    text, figure = st.columns([2, 3], gap="large")
    text.markdown(t(f"learn.{key}.body"))
    return text, figure


def presets_box() -> None:
    """Workshop presets: what each runs and how long it takes, with a way to start it."""
    with st.expander(t("learn.presets.title"), icon=":material/timer:"):
        st.caption(t("learn.presets.intro"))
        for preset in presets.PRESETS.values():
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.markdown(f"**{t(f'preset.{preset.name}.title')}** · "
                          f"{teach_state.human_seconds(preset.seconds)} · "
                          f"{t(f'preset.{preset.name}.about')}  \n"
                          f":gray[{teach_state.preset_caption(preset.name)}]")
            if preset.kind == "sweep":
                right.button(t("learn.presets.use"), key=f"learn_preset_{preset.name}",
                             on_click=_use_preset, args=(preset.name,))
            else:  # Train & compare opens with this preset (``?preset=``, ui.classroom)
                right.page_link("app_pages/train.py", label=t("learn.presets.train"),
                                icon=":material/model_training:",
                                query_params={"preset": preset.name})
                left.caption(t("learn.presets.settings", methods=", ".join(preset.methods),
                               seeds=len(preset.plan.seeds)))
    if st.session_state.pop("learn_goto_sweep", False):
        st.switch_page("app_pages/sweep.py")


def _use_preset(name: str) -> None:
    st.session_state[teach_state.PRESET_KEY] = name
    st.session_state["learn_goto_sweep"] = True


def transfer(les: Lesson) -> None:
    text, figure = _section(1, "transfer")
    acc = lessons.lesson_kshot(les, None).accuracy_all
    text.metric(t("learn.transfer.metric"), f"{acc:.0%}", help=t("learn.transfer.metric_help"))
    if les.dropped_classes:
        text.caption(t("learn.transfer.dropped", n=les.dropped_classes, shown=MAX_CLASSES))
    cmap = lessons.class_map(les.textset, les.embeddings)
    figure.plotly_chart(figs.class_map_figure(cmap.frame(), cmap.centre_xy, cmap.classes,
                                              title=t("learn.transfer.figure")),
                        theme=None, key="learn_fig_transfer")


def finetuning(les: Lesson) -> None:
    text, figure = _section(2, "finetune", wide=True)
    k = text.select_slider(t("learn.k_label"), SHOT_OPTIONS, value=2, key="learn_ft_k",
                           format_func=_shots)
    curve = lessons.lesson_head_curve(les, k)
    last = curve[curve["epoch"] == curve["epoch"].max()].set_index("part")
    a, b = text.columns(2)
    a.metric(t("learn.finetune.train_acc"), f"{last.loc['train', 'accuracy']:.0%}")
    b.metric(t("learn.finetune.test_acc"), f"{last.loc['test', 'accuracy']:.0%}")
    figure.plotly_chart(figs.head_curve_figure(curve, t("learn.finetune.figure", k=_shots(k))),
                        theme=None, key="learn_fig_finetune")


def _shots(k: int | None) -> str:
    return t("common.all") if k is None else str(k)


def few_shot(les: Lesson) -> None:
    text, figure = _section(3, "fewshot")
    k = text.select_slider(t("learn.k_label"), SHOT_OPTIONS[:-1], value=1, key="learn_fs_k")
    view = lessons.lesson_kshot(les, k)
    a, b = text.columns(2)
    a.metric(t("learn.fewshot.acc_k", k=k), f"{view.accuracy_k:.0%}",
             f"{view.accuracy_k - view.accuracy_all:+.0%}")
    b.metric(t("learn.fewshot.acc_all", n=view.n_train), f"{view.accuracy_all:.0%}")
    cmap = lessons.class_map(les.textset, les.embeddings)
    figure.plotly_chart(figs.class_map_figure(cmap.frame(), cmap.centre_xy, cmap.classes,
                                              labelled=view.labelled,
                                              title=t("learn.fewshot.figure", k=k)),
                        theme=None, key="learn_fig_fewshot")


def _episode_shape(les: Lesson, container: st.delta_generator.DeltaGenerator
                   ) -> tuple[int, int, int]:
    counts = pd.Series(les.textset.labels).value_counts()
    max_way = max(2, min(5, len(counts)))
    a, b, c = container.columns(3)
    n_way = a.number_input(t("common.n_way"), 2, max_way, min(3, max_way), key="learn_way",
                           help=t("common.n_way_help"))
    k_shot = b.number_input(t("common.k_shot"), 1, 5, 2, key="learn_shot",
                            help=t("common.k_shot_help"))
    most = max(1, min(6, int(counts.min()) - int(k_shot)))
    n_query = c.number_input(t("common.n_query"), 1, most, min(2, most), key="learn_query",
                             help=t("common.n_query_help"))
    return int(n_way), int(k_shot), int(n_query)


def episodes(les: Lesson) -> Episode | None:
    text, figure = _section(4, "episodes")
    shape = _episode_shape(les, text)
    text.button(t("learn.episodes.another"), key="learn_next_episode", icon=":material/casino:",
                on_click=_another)
    index = st.session_state.setdefault("learn_episode", 0)
    try:
        episode = draw_episode(les.textset, n_way=shape[0], k_shot=shape[1],
                               n_query=shape[2], seed=0, index=index)
    except DataError as exc:  # classes too small for this shape
        figure.warning(str(exc), icon=":material/warning:")
        return None
    figure.markdown(teach_episode.episode_card(les.textset, episode), unsafe_allow_html=True)
    return episode


def _another() -> None:
    st.session_state["learn_episode"] = st.session_state.get("learn_episode", 0) + 1


def prototypes(les: Lesson, episode: Episode | None) -> None:
    text, figure = _section(5, "prototypes")
    if episode is None:
        return
    view = lessons.lesson_episode(les, episode)
    names = [f"{i + 1}. {q[:60]}" for i, q in enumerate(view.query_texts)]
    pick = text.selectbox(t("learn.prototypes.pick"), range(len(names)), key="learn_query_pick",
                          format_func=lambda i: names[i])
    text.metric(t("learn.prototypes.metric"), f"{view.accuracy:.0%}")
    fig = figs.episode_figure([(t("fig.frozen"), view)], selected=pick,
                              title=t("learn.prototypes.figure"), height=430,
                              all_classes=les.textset.classes)
    figure.plotly_chart(fig, theme=None, key="learn_fig_prototypes")


def loops(les: Lesson) -> None:
    text, figure = _section(6, "loops", wide=True)
    try:
        result = _toy(les)
    except DataError as exc:  # classes too small for the toy's episodes: say so, draw nothing
        text.info(say(exc), icon=":material/info:")
        return
    if result is None:
        text.info(t("learn.loops.too_few"), icon=":material/info:")
        return
    before = result.inner[(result.inner["when"] == "before")]["query_loss"]
    after = result.inner[(result.inner["when"] == "after")]["query_loss"]
    text.metric(t("learn.loops.metric", steps=result.inner_steps), f"{after.iloc[-1]:.2f}",
                f"{after.iloc[-1] - before.iloc[-1]:+.2f}", delta_color="inverse")
    figure.plotly_chart(figs.loops_figure(result.inner, result.outer,
                                          t("learn.loops.figure")),
                        theme=None, key="learn_fig_loops")


def _toy(les: Lesson) -> toy.ToyMetaLearning | None:
    return _toy_cached(_key(les), teach_state.backbone_spec(), les)


@st.cache_data(show_spinner=False, max_entries=8)
def _toy_cached(key: str, backbone: str, _les: Lesson) -> toy.ToyMetaLearning | None:
    return lessons.lesson_toy(_les)


def _key(les: Lesson) -> str:
    """A cache key for a lesson: its size and a digest of its texts and labels."""
    import hashlib

    digest = hashlib.sha1("\x1f".join(les.textset.texts + les.textset.labels).encode())
    return f"{len(les.textset)}|{digest.hexdigest()[:16]}"


def small_k(les: Lesson, td: teach_state.TeachData) -> None:
    text, figure = _section(7, "smallk", wide=True)
    summary, title = _mini_sweep(les), t("learn.smallk.figure")
    full = _last_full_sweep(td)
    if full is not None:  # the learner ran the real thing: show it
        summary, title = full, t("learn.smallk.figure_full")
        text.success(t("learn.smallk.from_sweep"), icon=":material/show_chart:")
    figure.plotly_chart(figs.sweep_figure(summary, title, height=380), theme=None,
                        key="learn_fig_smallk")
    text.page_link("app_pages/sweep.py", label=t("learn.smallk.link"), icon=":material/show_chart:")


def _last_full_sweep(td: teach_state.TeachData) -> pd.DataFrame | None:
    """This session's finished K-shot sweep of this data, if it has a meta-learner or
    fine-tuning (the contrast this section is about)."""
    job = tasks.get(st.session_state.get(sweep_view.KEY))
    if job is None or job.active or not job.partial:
        return None
    if not {p.method for p in job.partial} & {"protonet", "full-finetune"}:
        return None
    return summarise_sweep(list(job.partial)) if st.session_state.get(
        "sweep_data") == td.key else None


def _mini_sweep(les: Lesson) -> pd.DataFrame:
    return _mini_sweep_cached(_key(les), teach_state.backbone_spec(), les)


@st.cache_data(show_spinner=False, max_entries=8)
def _mini_sweep_cached(key: str, backbone: str, _les: Lesson) -> pd.DataFrame:
    return lessons.lesson_sweep(_les, teach_state.context())


def next_steps() -> None:
    st.divider()
    st.subheader(t("learn.next.title"))
    cols = st.columns(4)
    for col, (page, icon) in zip(cols, PAGE_ICONS.items()):
        with col.container(border=True):
            st.page_link(f"app_pages/{page}.py", label=t(f"nav.{page}"), icon=icon)
            st.caption(t(f"learn.next.{page}"))


PAGE_ICONS = {"inspector": ":material/scatter_plot:", "inner_loop": ":material/replay:",
              "sweep": ":material/show_chart:", "add_class": ":material/add_circle:"}
