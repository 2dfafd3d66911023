"""The unseen-classes (episodic) form on Train & compare: shape, class split, feasibility."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from metacore.data import LoadedData
from metacore.methods import registry
from ui import comparison, data_view, episodic_plan, state, train_view
from ui.episodic_plan import EPISODE_FIELDS, PART_NAMES, SPLIT_KINDS, EpisodicChoice

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
    st.caption("Meta-train on some classes, then test on N-way K-shot episodes drawn from "
               "classes no method has seen. Scores are means over the test episodes with a "
               "95% confidence interval.")
    left, right = st.columns([1, 1], gap="large")
    with left:
        train_view.backbone(ch)
        methods(ep)
    with right:
        shape(ep, ch)
        class_split(ep, frame)
        split, findings = episodic_plan.feasibility(ep, frame)
        if split is not None:  # a static table wraps long class lists
            st.table(episodic_plan.split_table(split, frame).set_index("part"))
        data_view.show_findings(findings)
    blocked = any(f.level == "error" for f in findings)
    return bool(ep.methods) and not blocked


def methods(ep: EpisodicChoice) -> None:
    specs = {s.name: s for s in registry.available()}
    ep.methods = st.multiselect(
        "Methods", list(specs), default=[m for m in ep.methods if m in specs],
        key="ep_methods", format_func=lambda n: f"{n} · {specs[n].family}",
        help="Meta-learners (protonet, MAML, …) meta-train on episodes of the base classes; "
        "the others start from the pretrained backbone and fit each test episode's support "
        "set.")
    for name in ep.methods:
        with st.expander(f"{name} settings", icon=":material/tune:"):
            st.caption(specs[name].description)
            fields = [f for f in specs[name].config_cls.fields() if f.name not in EPISODE_FIELDS]
            # "ep_" keeps these widgets apart from the same method's adapt-protocol settings
            ep.configs[name] = train_view.settings_form(f"ep_{name}", fields,
                                                        ep.configs.get(name, {}))


def shape(ep: EpisodicChoice, ch: comparison.Choice) -> None:
    """N ways, K shots, Q queries, episodes, seed and device."""
    a, b, c = st.columns(3)
    ep.n_way = int(a.number_input("N ways", 2, 50, ep.n_way, key="ep_ways",
                                  help="Classes per test episode."))
    ep.k_shot = int(b.number_input("K shots", 1, 100, ep.k_shot, key="ep_shots",
                                   help="Labelled support examples per class in an episode."))
    ep.n_query = int(c.number_input("Q queries", 1, 100, ep.n_query, key="ep_queries",
                                    help="Query examples per class that an episode is scored "
                                    "on."))
    a, b, c = st.columns(3)
    ep.meta_episodes = int(a.number_input(
        "Meta-train episodes", 0, 20_000, ep.meta_episodes, key="ep_meta_episodes",
        help="Episodes the meta-learners train on (0: test the pretrained backbone as it is). "
        "Small by default so a laptop CPU finishes in minutes; hundreds train better."))
    ep.test_episodes = int(b.number_input(
        "Test episodes", 10, 5_000, ep.test_episodes, key="ep_test_episodes",
        help="Novel-class episodes every method is scored on (the same ones for all). The "
        "command line uses 600 for a tighter confidence interval."))
    ep.seed = int(c.number_input("Seed", 0, 10_000, ep.seed, key="ep_seed",
                                 help="Same seed, same class split and same episodes."))
    devices = ["auto", "cpu", "cuda", "mps"]
    ch.device = st.selectbox("Device", devices, index=devices.index(ch.device), key="ep_device",
                             help=f"auto picks the GPU when there is one. Detected: "
                             f"{state.device_label()}.")


def class_split(ep: EpisodicChoice, frame: pd.DataFrame) -> None:
    """Which classes are base, validation and novel: split column, random or picked."""
    kinds = [k for k in SPLIT_KINDS if k != "column" or "split" in frame.columns]
    ep.split = st.radio("Class split", kinds, index=kinds.index(ep.split), horizontal=True,
                        format_func=SPLIT_KINDS.get, key="ep_split",
                        help="Each class goes to exactly one part. A split column holds "
                        "meta_train / meta_val / meta_test per row.")
    if ep.split != "pick":
        return
    classes = sorted(frame["label"].unique().tolist())
    if not {c for part in ep.picked.values() for c in part} <= set(classes):
        ep.picked = {}  # picked for another file
    if not ep.picked:  # start from the random split, then let the user move classes
        seeded = episodic_plan.resolve(EpisodicChoice(split="random", seed=ep.seed), frame)
        ep.picked = {p: list(getattr(seeded, p)) for p in PART_NAMES}
    for part, label in PART_NAMES.items():
        ep.picked[part] = st.multiselect(
            label.capitalize(), classes, default=[c for c in ep.picked.get(part, [])
                                                  if c in classes], key=f"ep_part_{part}")


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
