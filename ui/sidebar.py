"""The sidebar every page shares: the language, the device, the queue and where runs are kept."""

from __future__ import annotations

import streamlit as st

from metacore.text import markdown_literal
from ui import access, state, uploads
from ui.i18n import LANGUAGES, language, say, set_language, t

SWITCH = "lang_sidebar"


def render() -> None:
    owner = state.owner()  # from the browser's cookie; never shown, never in the URL
    state.remember_dataset()  # page switches clear the URL's params: put the data back
    remember_language()
    with st.sidebar:
        st.markdown("### :material/science: metacore")
        st.caption(t("sidebar.tagline"))
        language_switch()
        st.markdown(t("sidebar.device", device=state.device_label()))
        _queue_line(owner)
        st.caption(t("sidebar.session", root=markdown_literal(state.store().root)))
        if notices := state.store_notices():  # a damaged history was rebuilt: said once
            st.warning(" ".join(say(n) for n in notices), icon=":material/build:")
        if (refused := uploads.take_refusal(access.session_id())) is not None:
            st.warning(refused, icon=":material/upload_file:")
        if (bad := uploads.caps().problem) is not None:
            st.warning(t("uploads.bad_setting", name=bad[0], text=bad[1]),
                       icon=":material/warning:")
        state.remember_owner()


def remember_language() -> None:
    """Keep the language for the session and in the URL, which a page switch clears."""
    lang = st.session_state.get("lang")
    if lang not in LANGUAGES:
        asked = st.query_params.get("lang")
        if asked not in LANGUAGES:
            return
        lang = st.session_state["lang"] = asked
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang


def language_switch() -> None:
    """English / 中文; the teaching pages' own switches follow it (and it follows them)."""
    current = language()
    if st.session_state.get(SWITCH) != current:  # first run, or changed on a teaching page:
        st.session_state[SWITCH] = current  # set through the state so the browser shows it
    st.segmented_control(t("common.language"), list(LANGUAGES), format_func=LANGUAGES.get,
                         key=SWITCH, on_change=_switched, label_visibility="collapsed")


def _switched() -> None:
    picked = st.session_state.get(SWITCH)
    if picked not in LANGUAGES:  # the chosen option clicked again: keep the language
        st.session_state[SWITCH] = language()
        return
    set_language(picked)
    for key in [k for k in st.session_state if str(k).startswith("lang_") and k != SWITCH]:
        st.session_state[key] = picked  # a teaching page's switch shows the new language


def _queue_line(owner: str) -> None:
    counts = _counts(owner)
    if counts is None:
        return
    if counts[0] or counts[1]:
        _queue_live(owner)  # kept current while runs go on, on whatever page is open
    else:
        st.markdown(t("sidebar.queue_idle"))


@st.fragment(run_every=2.0)
def _queue_live(owner: str) -> None:
    running, waiting, mine = _counts(owner) or (0, 0, 0)
    if running or waiting:
        st.markdown(t("sidebar.queue_busy", running=running, waiting=waiting, mine=mine))
    else:
        st.markdown(t("sidebar.queue_idle"))


def _counts(owner: str) -> tuple[int, int, int] | None:
    """(running, waiting, this owner's active) jobs; None if the queue cannot be read."""
    try:
        jobs = state.queue().jobs()
    except Exception:  # noqa: BLE001 - the sidebar must never break a page
        return None
    running = sum(j.state == "running" for j in jobs)
    waiting = sum(j.state == "queued" for j in jobs)
    mine = sum(j.state in ("running", "queued") and j.owner == owner for j in jobs)
    return running, waiting, mine
