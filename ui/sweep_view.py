"""The K-shot sweep view: choose methods, see the expected time, run it in the background.

The sweep runs in a background task (``ui.background``) so the page stays responsive; a
fragment redraws the progress and the half-finished plot every 0.7 s. A sweep with the same
data, backbone and settings is run once per process and shown again instantly.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd
import streamlit as st

from metacore import presets
from metacore.data import TextSet, sample_k_shot
from metacore.teaching import SWEEP_SHOTS, SweepPlan, k_shot_sweep, summarise_sweep
from metacore.teaching.costs import sweep_seconds
from metacore.teaching.sweep import FAST_METHODS, HEAVY_METHODS, crossover, shots_label
from ui import background, teach_state
from ui import teach_figures as figs
from ui.i18n import t

KEY = "sweep_task"


def _apply_preset() -> None:
    name = st.session_state.get("sweep_preset")
    if not name:
        return
    settings = presets.apply_preset(name)
    st.session_state["sweep_methods"] = [m for m in settings["methods"]
                                         if m in (*FAST_METHODS, *HEAVY_METHODS)]
    st.session_state["sweep_shots"] = settings["shots"]
    st.session_state["sweep_seeds"] = len(settings["seeds"])


def settings() -> SweepPlan:
    """Methods, K values and seeds (a workshop preset fills them in)."""
    wanted = st.session_state.pop(teach_state.PRESET_KEY, None)
    if wanted in presets.PRESETS and presets.get(wanted).kind == "sweep":
        st.session_state["sweep_preset"] = wanted
        _apply_preset()
    teach_state.preset_picker("sweep", "sweep_preset", on_pick=_apply_preset)
    left, mid, right = st.columns([5, 4, 1.4])
    methods = left.multiselect(t("sweep.methods"), [*FAST_METHODS, *HEAVY_METHODS],
                               default=list(FAST_METHODS), key="sweep_methods",
                               help=t("sweep.methods_help"))
    shots = mid.multiselect(t("sweep.shots"), list(SWEEP_SHOTS), default=list(SWEEP_SHOTS),
                            key="sweep_shots", format_func=shots_label,
                            help=t("sweep.shots_help"))
    seeds = right.number_input(t("sweep.seeds"), 1, 10, 3, key="sweep_seeds",
                               help=t("sweep.seeds_help"))
    order = {s: i for i, s in enumerate(SWEEP_SHOTS)}
    preset = st.session_state.get("sweep_preset")
    configs = presets.apply_preset(preset)["configs"] if preset else {}
    return SweepPlan(methods, sorted(shots, key=order.get), tuple(range(int(seeds))), configs)


def estimate(plan: SweepPlan, train: TextSet) -> float:
    """Show the expected time per method before anything starts; return the total."""
    sizes = [len(sample_k_shot(train, k, seed=0)) for k in plan.shots]
    uncached = 0 if st.session_state.get(f"sweep_embedded_{len(train)}") else len(train)
    times = sweep_seconds(plan.methods, sizes, len(plan.seeds), n_embed=uncached,
                          configs=plan.configs)
    total = sum(times.values())
    preset = st.session_state.get("sweep_preset")
    if preset and _is_preset(plan, preset):  # the preset as it is: its measured time
        st.caption(t("sweep.expected_preset", time=teach_state.human_seconds(
            presets.get(preset).seconds), runs=plan.total))
        return presets.get(preset).seconds
    parts = " · ".join(f"{m} {teach_state.human_seconds(s)}" for m, s in times.items())
    note = t("sweep.expected", time=teach_state.human_seconds(total), parts=parts,
             runs=plan.total)
    if any(m in HEAVY_METHODS for m in plan.methods):
        st.warning(note + " " + t("sweep.heavy"), icon=":material/hourglass_top:")
    else:
        st.caption(note)
    return total


def _is_preset(plan: SweepPlan, name: str) -> bool:
    wanted = presets.apply_preset(name)
    return (list(plan.methods) == wanted["methods"] and list(plan.shots) == wanted["shots"]
            and list(plan.seeds) == wanted["seeds"])


def task_key(td: teach_state.TeachData, plan: SweepPlan) -> str:
    spec = json.dumps([td.key, teach_state.backbone_spec(), list(plan.methods),
                       [shots_label(s) for s in plan.shots], list(plan.seeds),
                       dict(plan.configs)], sort_keys=True)
    return "sweep|" + hashlib.sha1(spec.encode()).hexdigest()[:16]


def start(td: teach_state.TeachData, plan: SweepPlan, train: TextSet, test: TextSet) -> None:
    """Run the sweep in the background; its progress lands in the task's ``partial``."""
    ctx = teach_state.context()  # the backbone loads here, in the script thread

    def work(task: background.Task) -> pd.DataFrame:
        import dataclasses

        run_ctx = dataclasses.replace(ctx, control=task.control)
        task.total = plan.total
        for step in k_shot_sweep(train, test, plan, ctx=run_ctx):
            task.done = step.done
            task.message = _progress_text(step)
            if step.point is not None:
                task.partial.append(step.point)
        return summarise_sweep(task.partial)

    key = task_key(td, plan)
    st.session_state[KEY] = key
    st.session_state["sweep_data"] = td.key
    st.session_state[f"sweep_embedded_{len(train)}"] = True
    background.tasks().start(key, work)


def _progress_text(step: Any) -> str:
    if step.phase == "embedding":
        return t("sweep.embedding")
    return t("sweep.progress", done=step.done, total=step.total, method=step.method,
             k=shots_label(step.shots), seed=step.seed)


def run_button(td: teach_state.TeachData, plan: SweepPlan, train: TextSet,
               test: TextSet) -> background.Task | None:
    """The Run button (off while a sweep runs); returns this session's latest sweep task."""
    key = st.session_state.get(KEY)
    task = background.tasks().get(key) if key else None
    busy = task is not None and task.active
    st.button(t("sweep.run"), key="sweep_run", type="primary", icon=":material/play_arrow:",
              disabled=busy or not plan.methods or not plan.shots,
              on_click=start, args=(td, plan, train, test))
    return task


def live(task: background.Task) -> None:
    """Progress, a Stop button and the plot so far (redrawn by the polling fragment)."""
    left, right = st.columns([6, 1], vertical_alignment="center")
    if task.state == "waiting":
        left.info(t("common.waiting"), icon=":material/hourglass_top:")
    else:
        left.progress(task.fraction, text=task.message or t("common.working"))
    if right.button(t("common.stop"), key="sweep_stop", icon=":material/stop_circle:"):
        task.control.stop()
    if task.partial:
        summary = summarise_sweep(list(task.partial))
        st.plotly_chart(figs.sweep_figure(summary, t("sweep.figure_live")), theme=None,
                        key=f"sweep_live_{len(task.partial)}")


def results(task: background.Task) -> None:
    """The finished (or stopped) sweep: plot, what it shows, table, CSV."""
    if task.state == "failed":
        st.error(t("common.failed", error=task.error), icon=":material/error:")
        return
    summary = summarise_sweep(list(task.partial))
    if summary.empty:
        return
    if task.state == "stopped":
        st.info(t("sweep.stopped", done=task.done, total=task.total), icon=":material/info:")
    st.plotly_chart(figs.sweep_figure(summary, t("sweep.figure")), theme=None, key="sweep_fig")
    _reading(summary)
    shown = summary.drop(columns=["order"])
    scores = ["accuracy_mean", "accuracy_ci95", "macro_f1_mean", "macro_f1_ci95"]
    shown[scores] = shown[scores] * 100
    config = {t(f"sweep.col.{c}"): st.column_config.NumberColumn(format="%.1f%%")
              for c in scores}
    config[t("sweep.col.seconds_mean")] = st.column_config.NumberColumn(format="%.3f")
    st.dataframe(shown.rename(columns=lambda c: t(f"sweep.col.{c}")), hide_index=True,
                 key="sweep_table", column_config=config)
    st.download_button(t("sweep.download"), summary.to_csv(index=False), "k_shot_sweep.csv",
                       "text/csv", key="sweep_csv", icon=":material/download:")


def _reading(summary: pd.DataFrame) -> None:
    """One sentence on where the lines cross, for the pairs that tell the story."""
    pairs = [("protonet", "full-finetune"), ("nearest-centroid", "linear-probe"),
             ("nearest-centroid", "tfidf-logreg"), ("linear-probe", "tfidf-logreg")]
    methods = set(summary["method"])
    first = summary.sort_values("order")["shots"].iloc[0]
    shown = 0
    for fast, slow in pairs:
        if {fast, slow} <= methods and shown < 2:
            at = crossover(summary, fast, slow)
            key = "sweep.never" if at is None else "sweep.from_start" if at == first \
                else "sweep.catches_up"
            st.markdown(":material/insights: " + t(key, slow=slow, fast=fast, k=at or ""))
            shown += 1
