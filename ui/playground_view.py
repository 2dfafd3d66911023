"""The Playground: a finished run's saved model answers texts you type."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metacore.reporting import figures, tables
from metacore.runs.result import RunResult
from metacore.text import markdown_literal
from ui import models, state
from ui.i18n import language, say, t

CHART_CLASSES = 12  # bars in the answer's chart: the most likely classes, the rest in a caption
MANY_CLASSES = 20  # more classes than this: their list folds away
LONG_LABEL = 16  # characters a predicted label's metric shows whole in its column

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
    listed = t("play.classes", classes=", ".join(markdown_literal(c) for c in classes))
    if len(classes) > MANY_CLASSES:  # 77 long names are a wall of text above the answer
        with st.expander(t("play.classes_count", n=len(classes)), icon=":material/list:"):
            st.caption(listed)
    else:
        st.caption(listed)
    clicked = st.button(t("play.predict"), type="primary", key="play_predict",
                        icon=":material/bolt:")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if clicked and not lines:
        st.info(t("play.empty"), icon=":material/edit_note:")
    return lines if clicked or st.session_state.get("play_last") == (res.run_id, text) else []


def answer(res: RunResult, texts: list[str]) -> None:
    try:
        classes, proba = models.predict(res, texts)
        method, _ = models.load(res)
    except Exception as exc:  # noqa: BLE001 - a missing or broken model is a message, not a crash
        st.error(t("play.failed", error=markdown_literal(exc)), icon=":material/error:")
        return
    st.session_state["play_last"] = (res.run_id, st.session_state.get("play_text"))
    language_warning(res, method, texts)
    calibrated = bool(getattr(method, "scores_are_probabilities", lambda: True)())
    if not calibrated:
        st.caption(t("play.scores_note"))
    if getattr(method, "multi_label", False):
        _labels(method, classes, proba, texts)
        return
    if len(texts) == 1:
        _one(classes, proba[0], calibrated)
        return
    best = proba.argmax(axis=1)
    st.dataframe(pd.DataFrame({"text": texts, "predicted": [classes[i] for i in best],
                               "confidence": proba.max(axis=1)}), hide_index=True,
                 key="play_table", column_config={
                     "text": st.column_config.TextColumn(t("play.col_text")),
                     "predicted": st.column_config.TextColumn(t("play.col_predicted")),
                     "confidence": st.column_config.ProgressColumn(
                         t("play.col_confidence" if calibrated else "play.col_score"),
                         format="percent", min_value=0, max_value=1)})


def language_warning(res: RunResult, method: object, texts: list[str]) -> bool:
    """Warn, in the user's language, when the run's tokenizer cannot read the typed text (the
    share of unknown tokens, or CJK text on an English-only vocabulary, measured by
    ``metacore.backbones.language``): its answer is then close to a guess. True if warned."""
    from metacore.backbones.language import language_fit

    backbone = getattr(method, "backbone", None)
    if backbone is None or getattr(backbone, "tokenizer", None) is None:
        return False  # tf-idf reads any characters; there is no tokenizer to ask
    try:
        _, warning = language_fit(backbone, texts)
    except Exception:  # noqa: BLE001 - a check that cannot run is no reason to hide the answer
        return False
    if warning is None:
        return False
    params = {**warning.params, "name": res.backbone or warning.params.get("name", ""),
              "hint": t("play.multilingual_hint")}  # the models by name, no CLI flag
    st.warning(say(type(warning)(warning.code, params)), icon=":material/translate:")
    return True


def _one(classes: list[str], proba: list[float], calibrated: bool = True) -> None:
    table = tables.probabilities_table(proba, classes)
    left, right = st.columns([1, 2], gap="large")
    with left, st.container(border=True, key="play_answer"):
        best = str(table.loc[0, "class"])
        st.metric(t("play.predicted_label"), markdown_literal(best))
        if len(best) > LONG_LABEL:  # the metric cuts it to "balance_not_…": say it whole
            st.markdown(f"**{markdown_literal(best)}**")
        key = "play.answer" if calibrated else "play.answer_score"
        st.caption(t(key, p=f"{table.loc[0, 'probability']:.0%}",
                     runner=markdown_literal(table.loc[1, "class"]),
                     q=f"{table.loc[1, 'probability']:.0%}")
                   if len(table) > 1 else "")
        if len(table) > CHART_CLASSES:
            st.caption(t("play.top_of", shown=CHART_CLASSES, total=len(table)))
    title = None if calibrated else t("play.scores_chart")
    fig = figures.probability_bars(table.head(CHART_CLASSES), title, lang=language())
    fig.update_layout(margin={"r": 64})  # room for "96.3%" beside a bar that reaches 100 %
    right.plotly_chart(fig, theme=None, key="play_chart")


def _labels(method: object, classes: list[str], proba: object, texts: list[str]) -> None:
    """Multi-label: every label whose probability reaches its threshold, for each text; for
    one text, also every label's probability beside its threshold."""
    from metacore.data.multilabel import shown

    found = method.labels_of(proba)
    if len(texts) > 1:
        st.dataframe(pd.DataFrame({"text": texts, "predicted": [shown(x) for x in found]}),
                     hide_index=True, key="play_table", column_config={
                         "text": st.column_config.TextColumn(t("play.col_text")),
                         "predicted": st.column_config.TextColumn(t("play.col_labels"))})
        return
    thresholds = list(method.thresholds or [0.5] * len(classes))
    left, right = st.columns([1, 2], gap="large")
    with left, st.container(border=True, key="play_answer"):
        st.markdown(f"**{t('play.predicted_labels')}**")
        if found[0]:
            st.markdown(" ".join(f":violet-badge[{markdown_literal(x)}]" for x in found[0]))
        else:
            st.caption(t("play.no_label"))
        st.caption(t("play.labels_note"))
    table = pd.DataFrame({"label": classes, "probability": list(proba[0]),
                          "threshold": thresholds})
    table["above"] = table["probability"] >= table["threshold"]
    box = right.container(key="play_label_table")
    box.dataframe(table.sort_values("probability", ascending=False), hide_index=True,
                  column_config={
                        "label": st.column_config.TextColumn(t("play.col_label")),
                        "probability": st.column_config.ProgressColumn(
                            t("play.col_probability"), format="percent", min_value=0,
                            max_value=1),
                        "threshold": st.column_config.NumberColumn(t("play.col_threshold"),
                                                                   format="%.2f"),
                        "above": st.column_config.CheckboxColumn(t("play.col_above"))})
