"""The unseen-classes (episodic) form on Train & compare: shape, class split, feasibility.

Its widgets edit the form's unseen-class plan (``ui.form.Form``) like the adapt form's edit
theirs; each meta-learner's number of meta-training episodes is one of its own settings,
shown in its settings panel with the value the run will use.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from metacore.data import LoadedData
from metacore.methods.costs import DataSizes
from ui import classroom_view, data_view, episodic_plan, train_view
from ui.episodic_plan import PARTS
from ui.form import SPLIT_KINDS, Form
from ui.i18n import lkey, t


def form(f: Form, loaded: LoadedData) -> bool:
    """Backbone, methods, episode shape and class split; True when a run can start."""
    frame = loaded.frame
    _default_split(f, frame)
    st.caption(t("episodic.intro"))
    left, right = st.columns([1, 1], gap="large")
    with right:
        shape(f)
        class_split(f, frame)
        split, findings = episodic_plan.feasibility(f, frame)
        if split is not None:  # a static table wraps long class lists
            table = episodic_plan.split_table(split, frame)
            st.table(table.set_index(table.columns[0]))
        data_view.show_findings(findings)
    with left:
        train_view.backbone(f)
        train_view.methods(f, _sizes(f, frame, split))
    blocked = any(x.level == "error" for x in findings)
    return bool(f.plan.methods) and not blocked


def _default_split(f: Form, frame: pd.DataFrame) -> None:
    """The file's split column is the default when it assigns every class to one part."""
    if f.split_kind not in SPLIT_KINDS or (f.split_kind == "column"
                                           and "split" not in frame.columns):
        f.split_kind = "column" if episodic_plan.column_split_usable(frame) else "random"


def _sizes(f: Form, frame: pd.DataFrame, split) -> DataSizes | None:
    if split is None:
        return None
    counts = frame["label"].value_counts()
    e = f.plan.episodes
    base = int(sum(counts.get(c, 0) for c in split.meta_train))
    return DataSizes(n_train=base, n_val=int(sum(counts.get(c, 0) for c in split.meta_val)),
                     n_test=int(sum(counts.get(c, 0) for c in split.novel)),
                     n_classes=max(1, len(split.meta_train)), protocol="episodic",
                     test_episodes=e.test_episodes, n_way=e.n_way, k_shot=e.k_shot,
                     n_query=e.n_query)


def shape(f: Form) -> None:
    """N ways, K shots, Q queries, test episodes, seed and device."""
    mode = classroom_view.mode()
    e = f.plan.episodes
    a, b, c = st.columns(3)
    n_way = a.number_input(t("episodic.ways"), 2, 50, e.n_way, key="ep_ways",
                           help=t("episodic.ways_help"), disabled=mode.locks("ways"))
    k_shot = b.number_input(t("episodic.shots"), 1, 100, e.k_shot, key="ep_shots",
                            help=t("episodic.shots_help"), disabled=mode.locks("shots"))
    n_query = c.number_input(t("episodic.queries"), 1, 100, e.n_query, key="ep_queries",
                             help=t("episodic.queries_help"), disabled=mode.locks("queries"))
    a, b = st.columns(2)
    test = a.number_input(t("episodic.test_episodes"), 10, 5_000, e.test_episodes,
                          key="ep_test_episodes", help=t("episodic.test_episodes_help"),
                          disabled=mode.locks("test_episodes"))
    seed = b.number_input(t("episodic.seed"), 0, 10_000, f.plan.seeds[0], key="ep_seed",
                          help=t("episodic.seed_help"), disabled=mode.locks("seeds"))
    f.update(episodes=dataclasses.replace(e, n_way=int(n_way), k_shot=int(k_shot),
                                          n_query=int(n_query), test_episodes=int(test)),
             seeds=(int(seed),))
    if e.meta_episodes is not None:  # a link set it for every meta-learner
        st.caption(t("episodic.budgets", episodes=e.meta_episodes))
    train_view.device(st, f, key="ep_device")


def class_split(f: Form, frame: pd.DataFrame) -> None:
    """Which classes are base, validation and novel: split column, random or picked."""
    kinds = [k for k in SPLIT_KINDS if k != "column" or "split" in frame.columns]
    names = episodic_plan.split_kinds()
    f.split_kind = st.radio(t("episodic.split.label"), kinds,
                            index=kinds.index(f.split_kind) if f.split_kind in kinds else 0,
                            horizontal=True, format_func=names.get, key=lkey("ep_split"),
                            help=t("episodic.split.help"))
    if f.split_kind != "pick":
        return
    classes = sorted(frame["label"].unique().tolist())
    if not {c for part in f.picked.values() for c in part} <= set(classes):
        f.picked = {}  # picked for another file
    parts = episodic_plan.part_names()
    if not f.picked:  # start from the random split, then let the user move classes
        from metacore.data.episodes import resolve_class_split

        seeded = resolve_class_split("random", frame, f.plan.seeds[0])
        f.picked = {p: list(getattr(seeded, p)) for p in PARTS}
    for part, label in parts.items():
        f.picked[part] = st.multiselect(
            label[:1].upper() + label[1:], classes,
            default=[c for c in f.picked.get(part, []) if c in classes],
            key=f"ep_part_{part}")
