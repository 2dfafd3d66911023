"""Playground: type a text and see what a trained model says."""

from __future__ import annotations

import streamlit as st

from ui import playground_view, state

st.title("Playground")
st.caption("Try a trained model on your own sentences, in English or Chinese.")

run = playground_view.pick_run(state.owner())
if run is None:
    st.info("No saved model yet: finish a run on Train & compare first.", icon=":material/info:")
    st.stop()
texts = playground_view.ask(run)
if texts:
    playground_view.answer(run, texts)
