"""The sidebar every page shares: the device, the queue and where runs are kept."""

from __future__ import annotations

import streamlit as st

from ui import state


def render() -> None:
    owner = state.owner()
    state.remember_dataset()  # page switches clear the URL's params: put the data back
    with st.sidebar:
        st.markdown("### :material/science: metacore")
        st.caption("Few-shot text classification: fine-tuning vs meta-learning.")
        st.markdown(f"**Device** · {state.device_label()}")
        _queue_line(owner)
        st.caption(f"Session `{owner}` · runs kept in `{state.store().root}`")


def _queue_line(owner: str) -> None:
    counts = _counts(owner)
    if counts is None:
        return
    if counts[0] or counts[1]:
        _queue_live(owner)  # kept current while runs go on, on whatever page is open
    else:
        st.markdown("**Queue** · idle")


@st.fragment(run_every=2.0)
def _queue_live(owner: str) -> None:
    running, waiting, mine = _counts(owner) or (0, 0, 0)
    if running or waiting:
        st.markdown(f"**Queue** · {running} running, {waiting} waiting ({mine} yours)")
    else:
        st.markdown("**Queue** · idle")


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
