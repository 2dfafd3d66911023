"""Results: compare finished runs and look inside one."""

from __future__ import annotations

import streamlit as st

from ui import results_view, state

st.title("Results")
st.caption("Scores on held-out test texts. Macro-F1 weighs every class equally, so a method "
           "cannot win by ignoring rare classes.")

results = results_view.pick_runs(state.owner())
if not results:
    st.info("No finished runs yet. Start a comparison on Train & compare.", icon=":material/info:")
    st.page_link("pages/train.py", label="Train & compare", icon=":material/model_training:")
    st.stop()

st.subheader("Leaderboard")
results_view.leaderboard(results)
st.subheader("Training curves")
results_view.curves(results)
detail = results_view.pick_detail(results)
if detail is not None:
    episodic = detail.protocol == "episodic"
    st.subheader("Per-class scores")
    if episodic:
        st.caption("Pooled over every query of every test episode, for the novel classes.")
    results_view.per_class(detail)
    st.subheader("Confusion matrix")
    st.caption("Rows are the true classes, columns the predictions; " + (
        "pooled over the test episodes." if episodic else
        "pick a cell on the right to read the texts behind it."))
    results_view.confusion(detail)
    if not episodic:
        st.subheader("Test embeddings before and after adaptation")
        results_view.projection(detail)
