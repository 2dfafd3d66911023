"""metacore workbench: compare fine-tuning and meta-learning on your own labelled text.

Run with ``streamlit run app.py``. This file only sets the page up and routes to pages/.
"""

from __future__ import annotations

import streamlit as st

from ui import sidebar

st.set_page_config(page_title="metacore workbench", page_icon=":material/science:", layout="wide",
                   initial_sidebar_state="expanded")

PAGES = [
    st.Page("pages/data.py", title="Data", icon=":material/table_view:", default=True),
    st.Page("pages/train.py", title="Train & compare", icon=":material/model_training:"),
    st.Page("pages/results.py", title="Results", icon=":material/leaderboard:"),
    st.Page("pages/playground.py", title="Playground", icon=":material/chat:"),
    st.Page("pages/history.py", title="History", icon=":material/history:"),
]

page = st.navigation(PAGES)
sidebar.render()
page.run()
