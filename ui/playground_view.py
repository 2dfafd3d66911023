"""The Playground: a finished run's saved model answers texts you type."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metacore.reporting import figures, tables
from metacore.runs.result import RunResult
from metacore.text import markdown_literal
from ui import models, state
from ui.i18n import language, t

EXAMPLES = {"en": "I was charged twice for the same order, please fix it",
            "zh": "我的快递三天了还没到，能帮我查一下吗"}


def pick_run(owner: str) -> RunResult | None:
    runs = sorted((s for s in state.store().list_runs(owner=owner)
                   if s.status in ("completed", "stopped") and models.model_dir(s.run_id)),
                  key=lambda s: -(s.macro_f1 or 0))
    if not runs:
        return None
    by_id = {s.run_id: s for s in runs}
    run_id = st.selectbox(t("play.model"), list(by_id), key="play_run",
                          format_func=lambda r: f"{by_id[r].method} · "
                          f"F1 {by_id[r].macro_f1 or 0:.0%} · {by_id[r].data_source} · {r}")
    return models.result(state.home(), run_id, by_id[run_id].status)


def ask(res: RunResult) -> list[str]:
    classes = res.data.get("classes") or res.confusion.get("labels") or []
    zh = any("\u4e00" <= ch <= "\u9fff" for ch in "".join(classes))
    text = st.text_area(t("play.text"), value=EXAMPLES["zh" if zh else "en"], key="play_text",
                        height=110, help=t("play.text_help"))
    st.caption(t("play.classes", classes=", ".join(markdown_literal(c) for c in classes)))
    clicked = st.button(t("play.predict"), type="primary", key="play_predict",
                        icon=":material/bolt:")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines if clicked or st.session_state.get("play_last") == (res.run_id, text) else []


def answer(res: RunResult, texts: list[str]) -> None:
    try:
        classes, proba = models.predict(res, texts)
    except Exception as exc:  # noqa: BLE001 - a missing or broken model is a message, not a crash
        st.error(t("play.failed", error=markdown_literal(exc)), icon=":material/error:")
        return
    st.session_state["play_last"] = (res.run_id, st.session_state.get("play_text"))
    if len(texts) == 1:
        _one(classes, proba[0])
        return
    best = proba.argmax(axis=1)
    st.dataframe(pd.DataFrame({"text": texts, "predicted": [classes[i] for i in best],
                               "confidence": proba.max(axis=1)}), hide_index=True,
                 key="play_table", column_config={
                     "text": st.column_config.TextColumn(t("play.col_text")),
                     "predicted": st.column_config.TextColumn(t("play.col_predicted")),
                     "confidence": st.column_config.ProgressColumn(
                         t("play.col_confidence"), format="percent", min_value=0, max_value=1)})


def _one(classes: list[str], proba: list[float]) -> None:
    table = tables.probabilities_table(proba, classes)
    left, right = st.columns([1, 2], gap="large")
    with left, st.container(border=True, key="play_answer"):
        st.metric(t("play.predicted_label"), markdown_literal(table.loc[0, "class"]))
        st.caption(t("play.answer", p=f"{table.loc[0, 'probability']:.0%}",
                     runner=markdown_literal(table.loc[1, "class"]),
                     q=f"{table.loc[1, 'probability']:.0%}")
                   if len(table) > 1 else "")
    right.plotly_chart(figures.probability_bars(table, lang=language()), theme=None,
                       key="play_chart")
