"""Add a class: type K examples of a new label and compare how each method absorbs it."""

from __future__ import annotations

import streamlit as st

from ui import add_class_view, teach_state
from ui.i18n import t

teach_state.header("add")
data = teach_state.data()
teach_state.data_line(data)
label, texts, tried, k = add_class_view.inputs(data)
if st.button(t("add.run"), key="add_run", type="primary", icon=":material/add_circle:"):
    add_class_view.run(data, label, texts, tried, k)
add_class_view.show()
