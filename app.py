"""metacore workbench: compare fine-tuning and meta-learning on your own labelled text.

Run with ``streamlit run app.py``. This file only sets the page up and routes to app_pages/.
The folder is deliberately not called ``pages/``: Streamlit serves a ``pages/`` folder's files
directly to the first visitor of a fresh server who opens a sub-page link, without running
this script (so without the password gate or the sidebar).
Page titles follow the interface language (``?lang=zh`` or the sidebar's switch).
"""

from __future__ import annotations

import sys

import streamlit as st

from ui import access, share, sidebar, uploads
from ui.i18n import language, t

# One server process runs every session's script, the worker and the web server's event loop
# under one GIL; handing it over every 1 ms instead of 5 ms keeps the event loop (and so the
# health check and every page's websocket) answering while ten sessions rerun at once.
sys.setswitchinterval(0.001)

st.set_page_config(page_title=t("app.page_title"), page_icon=":material/science:",
                   layout="wide", initial_sidebar_state="expanded")

PAGES = [
    st.Page("app_pages/data.py", title=t("nav.data"), icon=":material/table_view:", default=True),
    st.Page("app_pages/train.py", title=t("nav.train"), icon=":material/model_training:"),
    st.Page("app_pages/results.py", title=t("nav.results"), icon=":material/leaderboard:"),
    st.Page("app_pages/playground.py", title=t("nav.playground"), icon=":material/chat:"),
    st.Page("app_pages/history.py", title=t("nav.history"), icon=":material/history:"),
]

LEARN_PAGES = [  # the teaching pages
    st.Page("app_pages/learn.py", title=t("nav.learn"), icon=":material/school:"),
    st.Page("app_pages/inspector.py", title=t("nav.inspector"), icon=":material/scatter_plot:"),
    st.Page("app_pages/inner_loop.py", title=t("nav.inner_loop"), icon=":material/replay:"),
    st.Page("app_pages/sweep.py", title=t("nav.sweep"), icon=":material/show_chart:"),
    st.Page("app_pages/add_class.py", title=t("nav.add_class"), icon=":material/add_circle:"),
]

page = st.navigation({t("nav.workbench"): PAGES, t("nav.section"): LEARN_PAGES},
                     position="hidden" if access.locked() else "sidebar")
# Uploads are refused for a session that has not given the password, and capped for every
# session (ui/uploads.py); the guard is put on Streamlit's upload store once per process.
uploads.install()
uploads.note_session(access.session_id(), granted=not access.locked(), lang=language())
access.gate()  # METACORE_PASSWORD set by the operator: nothing renders before it is given
sidebar.render()
if share.requested():  # a read-only link to one run (History: "Make a read-only link")
    share.view()
else:
    page.run()
