"""History: every run is kept; reopen, compare, share, delete and export them."""

from __future__ import annotations

import streamlit as st

from ui import history_view, state
from ui.i18n import t

st.title(t("history.title"))
st.caption(t("history.caption"))

runs, selected = history_view.table(state.owner())
if not runs:
    st.info(t("history.none"), icon=":material/info:")
    st.stop()
history_view.actions(selected, runs)
if len(selected) == 1:
    status = next(s.status for s in runs if s.run_id == selected[0])
    history_view.exports(selected[0], status)
    history_view.share_link(selected[0], runs)
else:
    st.caption(t("history.select_one"))
