"""The unseen-classes (episodic) form on Train & compare: shape, class split, feasibility."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from metacore.data import LoadedData
from metacore.methods import registry
from ui import classroom_view, comparison, data_view, episodic_plan, state, train_view
from ui.episodic_plan import EPISODE_FIELDS, SPLIT_KINDS, EpisodicChoice
from ui.i18n import t

CHOICE = "episodic_choice"


def choice(frame: pd.DataFrame) -> EpisodicChoice:
    """The session's episodic settings; the file's split column is the default when usable."""
    if CHOICE not in st.session_state:
        st.session_state[CHOICE] = EpisodicChoice()
    ep = st.session_state[CHOICE]
    if ep.split not in SPLIT_KINDS or (ep.split == "column" and "split" not in frame.columns):
        ep.split = "column" if episodic_plan.column_split_usable(frame) else "random"
    return ep


def form(ch: comparison.Choice, data: dict[str, Any], loaded: LoadedData) -> bool:
    """Backbone, methods, episode shape and class split; True when a run can start."""
    frame = loaded.frame
    ep = choice(frame)
    st.caption(t("episodic.intro"))
    left, right = st.columns([1, 1], gap="large")
    with left:
        train_view.backbone(ch)
        methods(ep)
    with right:
        shape(ep, ch)
        class_split(ep, frame)
        split, findings = episodic_plan.feasibility(ep, frame)
        if split is not None:  # a static table wraps long class lists
            table = episodic_plan.split_table(split, frame)
            st.table(table.set_index(table.columns[0]))
        data_view.show_findings(findings)
    blocked = any(f.level == "error" for f in findings)
    return bool(ep.methods) and not blocked


def methods(ep: EpisodicChoice) -> None:
    mode = classroom_view.mode()
    specs = {s.name: s for s in registry.available()}
    ep.methods = st.multiselect(
        t("train.methods.label"), list(specs), default=[m for m in ep.methods if m in specs],
        key="ep_methods", format_func=train_view.method_label, help=t("episodic.methods_help"),
        disabled=mode.locks("methods"))
    for name in ep.methods:
        if mode.hides("settings"):
            continue
        with st.expander(t("train.methods.settings", name=name), icon=":material/tune:"):
            st.caption(train_view.method_description(name))
            fields = [f for f in specs[name].config_cls.fields() if f.name not in EPISODE_FIELDS]
            old = ep.configs.get(name, {})
            # "ep_" keeps these widgets apart from the same method's adapt-protocol settings
            ep.configs[name] = train_view.settings_form(f"ep_{name}", fields, old)
            if "meta_episodes" in old:  # a preset's budget for this method, kept
                ep.configs[name]["meta_episodes"] = old["meta_episodes"]


def _drop_method_budgets() -> None:
    """The form's number of meta-training episodes now applies to every meta-learner."""
    for values in st.session_state[CHOICE].configs.values():
        values.pop("meta_episodes", None)


def shape(ep: EpisodicChoice, ch: comparison.Choice) -> None:
    """N ways, K shots, Q queries, episodes, seed and device."""
    mode = classroom_view.mode()
    a, b, c = st.columns(3)
    ep.n_way = int(a.number_input(t("episodic.ways"), 2, 50, ep.n_way, key="ep_ways",
                                  help=t("episodic.ways_help"), disabled=mode.locks("ways")))
    ep.k_shot = int(b.number_input(t("episodic.shots"), 1, 100, ep.k_shot, key="ep_shots",
                                   help=t("episodic.shots_help"), disabled=mode.locks("shots")))
    ep.n_query = int(c.number_input(t("episodic.queries"), 1, 100, ep.n_query,
                                    key="ep_queries", help=t("episodic.queries_help"),
                                    disabled=mode.locks("queries")))
    a, b, c = st.columns(3)
    ep.meta_episodes = int(a.number_input(
        t("episodic.meta_episodes"), 0, 20_000, ep.meta_episodes, key="ep_meta_episodes",
        help=t("episodic.meta_episodes_help"), on_change=_drop_method_budgets,
        disabled=mode.locks("episodes")))
    ep.test_episodes = int(b.number_input(
        t("episodic.test_episodes"), 10, 5_000, ep.test_episodes, key="ep_test_episodes",
        help=t("episodic.test_episodes_help"), disabled=mode.locks("test_episodes")))
    ep.seed = int(c.number_input(t("episodic.seed"), 0, 10_000, ep.seed, key="ep_seed",
                                 help=t("episodic.seed_help"), disabled=mode.locks("seeds")))
    budgets = {m: v["meta_episodes"] for m, v in ep.configs.items()
               if m in ep.methods and "meta_episodes" in v}
    if budgets:
        st.caption(t("episodic.budgets", budgets=", ".join(f"{m} {n}"
                                                            for m, n in budgets.items())))
    train_view.device(st, ch, key="ep_device")


def class_split(ep: EpisodicChoice, frame: pd.DataFrame) -> None:
    """Which classes are base, validation and novel: split column, random or picked."""
    kinds = [k for k in SPLIT_KINDS if k != "column" or "split" in frame.columns]
    names = episodic_plan.split_kinds()
    ep.split = st.radio(t("episodic.split.label"), kinds, index=kinds.index(ep.split),
                        horizontal=True, format_func=names.get, key="ep_split",
                        help=t("episodic.split.help"))
    if ep.split != "pick":
        return
    classes = sorted(frame["label"].unique().tolist())
    if not {c for part in ep.picked.values() for c in part} <= set(classes):
        ep.picked = {}  # picked for another file
    parts = episodic_plan.part_names()
    if not ep.picked:  # start from the random split, then let the user move classes
        seeded = episodic_plan.resolve(EpisodicChoice(split="random", seed=ep.seed), frame)
        ep.picked = {p: list(getattr(seeded, p)) for p in parts}
    for part, label in parts.items():
        ep.picked[part] = st.multiselect(
            label[:1].upper() + label[1:], classes,
            default=[c for c in ep.picked.get(part, []) if c in classes], key=f"ep_part_{part}")


def start(ch: comparison.Choice, data: dict[str, Any]) -> None:
    """Queue one episodic run per method on the same episodes (errors shown, not raised)."""
    ep = st.session_state[CHOICE]
    try:
        _, run_ids = episodic_plan.start(state.queue(), data, ep, owner=state.owner(),
                                         backbone=ch.backbone,
                                         allow_download=ch.allow_download, device=ch.device)
        st.session_state[state.COMPARISON] = run_ids
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.rerun()  # redraw from the top: the sidebar's queue line goes live too
