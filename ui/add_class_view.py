"""Add a class live: type K examples of a new label and watch each method take it in.

The old classes are a K-shot sample of the loaded data (the training set of a run); their
held-out texts score what the new class costs the old ones. A brief protonet from the episode
inspector joins in when one has been trained for this data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pandas as pd
import streamlit as st

from metacore.data import TextSet, sample_k_shot
from metacore.estimate import estimate_seconds
from metacore.messages import msg
from metacore.methods.costs import DataSizes
from metacore.teaching import AddClassReport, add_class, new_class_set
from metacore.text import markdown_literal, plotly_literal
from ui import inspector_view, tasks, teach_episode, teach_state
from ui import teach_figures as figs
from ui.i18n import say, t

RESULT = "add_class_report"
JOB = "add_class_job"  # this session's add-a-class task: (job id, label, K, with protonet)


def inputs(td: teach_state.TeachData) -> tuple[str, list[str], list[str], int]:
    """The new label, its examples, the learner's test sentences, and K for old classes."""
    # The intents samples get a ready example in their own language (not the page's).
    sample = td.name.startswith("support_intents")
    lang = "zh" if td.name.endswith("_zh.csv") else "en"
    example = [t(f"add.{k}", lang=lang) if sample else "" for k in
               ("example_label", "example_texts", "try_default")]
    left, right = st.columns([3, 2], gap="large")
    label = left.text_input(t("add.label"), value=example[0], key=f"add_label_{lang}",
                            placeholder=t("add.label_hint"))
    texts = left.text_area(t("add.examples"), value=example[1], height=170,
                           key=f"add_examples_{lang}", help=t("add.examples_help"),
                           placeholder=t("add.examples_hint"))
    tried = right.text_area(t("add.try"), value=example[2], height=110, key=f"add_try_{lang}",
                            help=t("add.try_help"))
    k = right.select_slider(t("add.k_old"), [1, 2, 4, 8, 16], value=8, key="add_k",
                            help=t("add.k_old_help"))
    return label, texts.splitlines(), [x.strip() for x in tried.splitlines() if x.strip()], k


def run(td: teach_state.TeachData, label: str, texts: list[str], tried: list[str],
        k: int) -> None:
    """Absorb the class with every method, as a task of the one queue (a few seconds once its
    turn comes); the page shows the report when it ends."""
    try:
        new = new_class_set(label, texts)
    except ValueError as exc:
        st.error(say(exc), icon=":material/error:")
        return
    if new.labels[0] in td.textset.classes:
        st.error(t("add.exists", label=markdown_literal(new.labels[0])), icon=":material/error:")
        return
    cut = teach_state.split(td)
    train, test = sample_k_shot(cut.train, k, seed=0), _cap(cut.test)
    meta = {}
    brief = teach_episode.brief_result("protonet", td, teach_episode.pools(td),
                                       inspector_view.EPISODES)
    if brief is not None:
        meta["protonet"] = brief.method
    ctx = teach_state.context()  # the backbone loads here, in the script thread
    finetune = _finetune_seconds(train, new, test)

    def work(report: Any) -> AddClassReport:
        report.progress(0, 1, msg("teach.add.working", n=len(new)))
        run_ctx = dataclasses.replace(ctx, control=report.control)
        return add_class(train, test, new, ctx=run_ctx, meta=meta, tried=tried,
                         finetune_seconds=finetune)

    key = "add|" + hashlib.sha1(json.dumps(
        [td.key, teach_state.backbone_spec(), new.labels[0], list(new.texts), tried, k,
         brief is not None]).encode()).hexdigest()[:16]
    job = tasks.submit(key, work, label=t("add.title"))
    st.session_state[JOB] = (job, new.labels[0], len(new), brief is not None)


def _finetune_seconds(train: TextSet, new: TextSet, test: TextSet) -> float | None:
    """What retraining full fine-tuning on the old classes and the new one would take: its
    cost model at the backbone's measured speed (``metacore.estimate``)."""
    speed = teach_state.speed(train.texts)
    if speed is None:
        return None
    sizes = DataSizes(n_train=len(train) + len(new), n_test=len(test),
                      n_classes=len(train.classes) + 1)
    return estimate_seconds("full-finetune", {}, speed, sizes)


def _cap(test: TextSet, per_class: int = 20) -> TextSet:
    return sample_k_shot(test, per_class, seed=0)


def show() -> None:
    """The running task's place in line or progress, else the last report: figure of the
    classes, the table, and the tried sentences."""
    if JOB in st.session_state:
        job_id, label, n, has_protonet = st.session_state[JOB]
        job = tasks.snapshot(job_id)
        if job is not None and job.active:
            tasks.watch(job_id, lambda j: tasks.progress(j, "add_stop"))
            return
        st.session_state.pop(JOB)
        if job is not None and job.state == "failed":
            tasks.failed(job)
            return
        if job is not None and job.state == "completed":
            st.session_state[RESULT] = (label, n, job.value, has_protonet)
    if RESULT not in st.session_state:
        st.info(t("add.empty"), icon=":material/info:")
        return
    label, k, report, has_protonet = st.session_state[RESULT]
    st.subheader(t("add.result_title", label=markdown_literal(label), k=k))
    rows = _rows(report)
    _table(rows)
    st.caption(t("add.timing_note"))
    left, right = st.columns([1, 1], gap="large")
    title = t("add.figure_map", label=plotly_literal(label))
    left.plotly_chart(figs.new_class_figure(report.picture, title), theme=None, key="add_fig_map")
    right.plotly_chart(figs.absorb_figure(rows, t("add.figure_cost")), theme=None,
                       key="add_fig_cost")
    if not has_protonet:
        st.caption(t("add.no_protonet"))
    if not report.tried.empty:
        st.markdown(f"**{t('add.tried_title')}**")
        st.dataframe(report.tried.rename(columns={"text": t("add.col.text")}),
                     hide_index=True, key="add_tried")


def _rows(report: AddClassReport) -> pd.DataFrame:
    rows = pd.DataFrame([r.__dict__ for r in report.rows])
    rows["how_text"] = [t(f"add.how.{h}", n=n) for h, n in zip(rows["how"],
                                                                 rows["gradient_steps"])]
    rows["time_text"] = [("≈ " if e else "") + teach_state.human_seconds(s)
                         for s, e in zip(rows["seconds"], rows["estimated"])]
    return rows


def _table(rows: pd.DataFrame) -> None:
    pct = st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)
    shown = rows[["method", "how_text", "time_text", "old_accuracy", "new_accuracy"]]
    st.dataframe(shown.rename(columns=lambda c: t(f"add.col.{c}")), hide_index=True,
                 key="add_table", column_config={t("add.col.old_accuracy"): pct,
                                                 t("add.col.new_accuracy"): pct})
