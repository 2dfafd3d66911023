"""Results: compare finished runs and look inside one."""

from __future__ import annotations

import streamlit as st

from ui import results_view, state
from ui.i18n import t

st.title(t("results.title"))
st.caption(t("results.caption"))

results = results_view.pick_runs(state.owner())
if not results:
    st.info(t("results.none"), icon=":material/info:")
    st.page_link("app_pages/train.py", label=t("nav.train"), icon=":material/model_training:")
    st.stop()

st.subheader(t("results.leaderboard"))
results_view.leaderboard(results)
st.subheader(t("results.curves"))
results_view.curves(results)
detail = results_view.pick_detail(results)
if detail is not None:
    results_view.method_choices(detail)
if any(r.extra.get("multi_label") for r in results):
    st.subheader(t("results.multi_label"))
    results_view.multi_label_scores(results)
if detail is not None and detail.extra.get("multi_label"):
    st.subheader(t("results.per_label"))
    results_view.per_class(detail)
    st.subheader(t("results.cooccurrence"))
    st.caption(t("results.cooccurrence_caption"))
    results_view.cooccurrence(detail)
    st.subheader(t("results.projection_title"))
    results_view.projection(detail)
elif detail is not None:
    episodic = detail.protocol == "episodic"
    st.subheader(t("results.per_class"))
    if episodic:
        st.caption(t("results.per_class_episodic"))
    results_view.per_class(detail)
    st.subheader(t("results.confusion"))
    st.caption(t("results.confusion_caption_episodic") if episodic else
               t("results.confusion_caption"))
    results_view.confusion(detail)
    if not episodic:
        st.subheader(t("results.projection_title"))
        results_view.projection(detail)
