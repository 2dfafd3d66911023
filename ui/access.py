"""An optional shared password for a workshop server (``METACORE_PASSWORD``).

When the operator sets ``METACORE_PASSWORD``, every browser session must type it once before
any page renders; without the variable the app is open (it listens on localhost only, see
``.streamlit/config.toml``). The comparison is constant-time, failed attempts are slowed down,
and the password never goes into the URL or the session's query parameters. Until it is given
the session may not upload files either (``ui/uploads.py`` refuses them at Streamlit's upload
endpoint, by the session id ``app.py`` notes on every run).
"""

from __future__ import annotations

import hmac
import os
import time

import streamlit as st

from ui.i18n import t

ENV = "METACORE_PASSWORD"
PASSED = "access_granted"


def required() -> str:
    """The password the operator set, or "" when the app is open."""
    return os.environ.get(ENV, "")


def session_id() -> str:
    """The id of this browser session (the one its uploads are sent under); "" outside a run."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else ""


def locked() -> bool:
    """True while this session still has to give the operator's password."""
    return bool(required()) and not st.session_state.get(PASSED)


def gate() -> None:
    """Stop the page here until this session has given the password (no-op when none set)."""
    if not locked():
        return
    password = required()
    st.title(t("access.title"))
    with st.form("access_form"):
        given = st.text_input(t("access.password"), type="password", key="access_password")
        submitted = st.form_submit_button(t("access.enter"), type="primary")
    if submitted:
        if hmac.compare_digest(given.encode("utf-8"), password.encode("utf-8")):
            st.session_state[PASSED] = True
            st.session_state.pop("access_password", None)
            st.rerun()
        time.sleep(1.0)  # slows guessing; the server stays responsive (one session's thread)
        st.error(t("access.wrong"), icon=":material/lock:")
    st.caption(t("access.hint"))
    st.stop()
