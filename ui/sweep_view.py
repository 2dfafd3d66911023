"""The K-shot sweep view: choose methods, see the expected time, run it in the app's queue.

The sweep is an ``ExperimentPlan`` with several K values (``sweep_plan``, a preset's settings
when one is picked) on the Data page's split; it runs as a task of the one queue
(``ui.tasks``), so it waits behind the runs and tasks already on its device and the page
shows its place in line. A fragment redraws the progress and the half-finished plot while it
runs. The task is keyed by its plan (data, backbone, methods, settings, K, seeds), so the same
sweep is run once per process and shown again instantly.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pandas as pd
import streamlit as st

from metacore import presets
from metacore.data import Split
from metacore.estimate import sweep_seconds
from metacore.messages import msg
from metacore.methods import registry
from metacore.plan import ExperimentPlan
from metacore.teaching import SWEEP_SHOTS, k_shot_sweep, summarise_sweep, sweep_plan
from metacore.teaching.sweep import FAST_METHODS, HEAVY_METHODS, crossover, shots_label
from ui import tasks, teach_state
from ui import teach_figures as figs
from ui.i18n import t

KEY = "sweep_task"  # this session's latest sweep: its task key


def _apply_preset() -> None:
    """Fill in the preset's settings when another preset is picked."""
    name = teach_state.picked_preset("sweep_preset", "sweep")
    if not name:
        st.session_state.pop("sweep_preset_applied", None)
        return
    if name == st.session_state.get("sweep_preset_applied"):
        return
    st.session_state["sweep_preset_applied"] = name
    plan = presets.get(name).plan
    st.session_state["sweep_methods"] = [m for m in plan.methods
                                         if m in (*FAST_METHODS, *HEAVY_METHODS)]
    st.session_state["sweep_shots"] = list(plan.shots)
    st.session_state["sweep_seeds"] = len(plan.seeds)


def settings(td: teach_state.TeachData) -> ExperimentPlan | None:
    """The sweep's plan: methods, K values and seeds as set (a workshop preset fills them in,
    with its methods' settings), on the Data page's data, with the pages' backbone. None
    while no method or no K is chosen."""
    wanted = st.session_state.pop(teach_state.PRESET_KEY, None)
    if wanted in presets.PRESETS and presets.get(wanted).kind == "sweep":
        teach_state.choose_preset("sweep_preset", wanted)
        st.session_state.pop("sweep_preset_applied", None)  # asked for: fill it in again
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
    preset = teach_state.picked_preset("sweep_preset", "sweep")
    configs = dict(presets.get(preset).plan.methods) if preset else {}
    if not methods or not shots:
        return None
    return sweep_plan(methods, sorted(shots, key=order.get), tuple(range(int(seeds))), configs,
                      data=teach_state.data_source(td), backbone=teach_state.backbone_spec())


def _uses_backbone(plan: ExperimentPlan) -> bool:
    return any(registry.get(m).uses_backbone for m in plan.methods)


@st.cache_resource(show_spinner=False)
def _embedded() -> set[str]:
    """Data (and backbone) whose texts a sweep of this process has embedded already: the
    embedding cache is process-wide, so a later sweep of them skips that pass."""
    return set()


def _texts_key(plan: ExperimentPlan) -> str:
    return json.dumps([plan.backbone, dataclasses.asdict(plan.data)], sort_keys=True)


def estimate(plan: ExperimentPlan | None, split: Split) -> float | None:
    """Show the expected time per method before anything starts (each method's cost model
    at the backbone's measured speed); return the total (None: unknown)."""
    if plan is None:
        return None
    speed = teach_state.speed(split.train.texts) if _uses_backbone(plan) else None
    if speed is None and _uses_backbone(plan):
        st.caption(t("sweep.expected_unknown", runs=len(plan.runs())))
        return None
    times = sweep_seconds(plan, split, speed, embedded=_texts_key(plan) in _embedded())
    total = sum(times.values())
    parts = " · ".join(f"{m} {teach_state.human_seconds(s)}" for m, s in times.items())
    note = t("sweep.expected", time=teach_state.human_seconds(total), parts=parts,
             runs=len(plan.runs()))
    if any(m in HEAVY_METHODS for m in plan.methods):
        st.warning(note + " " + t("sweep.heavy"), icon=":material/hourglass_top:")
    else:
        st.caption(note)
    return total


def task_key(plan: ExperimentPlan) -> str:
    """What the sweep computes: its plan (data and split, backbone, methods with their
    settings, K values, seeds)."""
    return f"sweep|{plan.key()}"


def start(td: teach_state.TeachData, plan: ExperimentPlan, split: Split,
          expected: float | None) -> None:
    """Queue the sweep (or find it queued, running or done); its points land in the task's
    ``partial`` as they finish."""
    ctx = teach_state.context() if _uses_backbone(plan) else None  # loads in this thread
    embedded, texts = _embedded(), _texts_key(plan)  # a sweep with the backbone embeds them

    def work(report: Any) -> pd.DataFrame:
        from metacore.training.context import RunContext

        run_ctx = dataclasses.replace(ctx or RunContext(), control=report.control)
        report.progress(0, len(plan.runs()))
        for step in k_shot_sweep(plan, split, ctx=run_ctx):
            report.progress(step.done, step.total, _progress(step))
            if step.point is not None:
                report.partial.append(step.point)
                if ctx is not None:
                    embedded.add(texts)
        return summarise_sweep(report.partial)

    key = task_key(plan)
    st.session_state[KEY] = key
    st.session_state["sweep_data"] = td.key
    tasks.submit(key, work, label=f"K-shot sweep: {', '.join(plan.methods)}",
                 estimate_s=expected, device=plan.device)


def _progress(step: Any) -> Any:
    if step.phase == "embedding":
        return msg("teach.sweep.embedding")
    return msg("teach.sweep.progress", done=step.done, total=step.total, method=step.method,
               k=shots_label(step.shots), seed=step.seed)


def current(plan: ExperimentPlan | None) -> Any:
    """The sweep to show: the one of these settings if it was run (by anyone: it is shown
    again at once), else this session's latest."""
    return (tasks.get(task_key(plan)) if plan is not None else None) \
        or tasks.get(st.session_state.get(KEY))


def run_button(td: teach_state.TeachData, plan: ExperimentPlan | None, split: Split,
               expected: float | None) -> Any:
    """The Run button (off while this sweep waits or runs, or nothing is chosen); returns
    the sweep to show."""
    job = current(plan)
    busy = job is not None and job.active
    st.button(t("sweep.run"), key="sweep_run", type="primary", icon=":material/play_arrow:",
              disabled=busy or plan is None, on_click=start, args=(td, plan, split, expected))
    return job


def live(job: Any) -> None:
    """Place in line or progress, a Stop button and the plot so far (redrawn by the polling
    fragment)."""
    tasks.progress(job, "sweep_stop")
    if job.partial:
        summary = summarise_sweep(list(job.partial))
        st.plotly_chart(figs.sweep_figure(summary, t("sweep.figure_live")), theme=None,
                        key=f"sweep_live_{len(job.partial)}")


def results(job: Any) -> None:
    """The finished (or stopped) sweep: plot, what it shows, table, CSV."""
    if job.state == "failed":
        tasks.failed(job)
        return
    if job.state == "stopped":
        st.info(t("sweep.stopped", done=job.done, total=job.total), icon=":material/info:")
    summary = summarise_sweep(list(job.partial))
    if summary.empty:
        return
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
