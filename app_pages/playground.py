"""Playground: type a text and see what a trained model says."""

from __future__ import annotations

import streamlit as st

from ui import playground_view, state
from ui.i18n import t

st.title(t("play.title"))
st.caption(t("play.caption"))

run = playground_view.pick_run(state.owner())
if run is None:
    st.info(t("play.none"), icon=":material/info:")
    st.stop()
texts = playground_view.ask(run)
if texts:
    playground_view.answer(run, texts)
