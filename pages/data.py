"""Data: choose or upload labelled text, check it, and set the split."""

from __future__ import annotations

import streamlit as st

from ui import data_view, state

st.title("Data")
st.caption("Upload labelled text (CSV, TSV, JSONL, Excel or text⇥label lines) or pick a "
           "bundled sample. Problems are explained below; errors must be fixed before training.")

data = state.dataset()
data_view.choose_source(data)
loaded = data_view.load(data["path"], data["text_col"], data["label_col"])
if data_view.column_mapping(data, loaded):
    st.rerun()
data_view.show_findings(loaded.findings + data_view.test_findings(data))
if loaded.ok and not loaded.frame.empty:
    data_view.overview(loaded)
    data_view.split_settings(data, loaded)
    st.page_link("pages/train.py", label="Next: train & compare", icon=":material/arrow_forward:")
state.remember_dataset()  # in the URL, so a reload keeps the file and its settings
