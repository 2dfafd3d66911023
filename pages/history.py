"""History: every run is kept; reopen, compare, share, delete and export them."""

from __future__ import annotations

import streamlit as st

from ui import history_view, state

st.title("History")
st.caption("Runs are kept in a local database with their models and survive restarts. "
           "Select rows to compare them in Results, share, delete or export.")

runs, selected = history_view.table(state.owner())
if not runs:
    st.info("No runs yet.", icon=":material/info:")
    st.stop()
history_view.actions(selected, runs)
if len(selected) == 1:
    status = next(s.status for s in runs if s.run_id == selected[0])
    history_view.exports(selected[0], status)
else:
    st.caption("Select one row to export it.")
