"""Data: choose or upload labelled text, check it, and set the split."""

from __future__ import annotations

import streamlit as st

from ui import data_view, state
from ui.i18n import t

st.title(t("data.title"))
st.caption(t("data.caption"))

data = state.dataset()
data_view.choose_source(data)
loaded = data_view.load_chosen(data)
if data_view.column_mapping(data, loaded):
    st.rerun()
if loaded.text_column and data_view.label_format_picker(data, loaded):
    st.rerun()
data_view.show_findings(loaded.findings + data_view.test_findings(data))
if loaded.ok and not loaded.frame.empty:
    data_view.overview(loaded)
    data_view.split_settings(data, loaded)
    st.page_link("app_pages/train.py", label=t("data.next"), icon=":material/arrow_forward:")
state.remember_dataset()  # in the URL, so a reload keeps the file and its settings
