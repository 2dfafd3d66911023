"""The sidebar every page shares: the device, the queue and where runs are kept."""

from __future__ import annotations

import streamlit as st

from ui import state


def render() -> None:
    owner = state.owner()
    with st.sidebar:
        st.markdown("### :material/science: metacore")
        st.caption("Few-shot text classification: fine-tuning vs meta-learning.")
        st.markdown(f"**Device** · {state.device_label()}")
        _queue_line(owner)
        st.caption(f"Session `{owner}` · runs kept in `{state.store().root}`")


def _queue_line(owner: str) -> None:
    try:
        jobs = state.queue().jobs()
    except Exception:  # noqa: BLE001 - the sidebar must never break a page
        return
    running = sum(j.state == "running" for j in jobs)
    waiting = sum(j.state == "queued" for j in jobs)
    mine = sum(j.state in ("running", "queued") and j.owner == owner for j in jobs)
    if running or waiting:
        st.markdown(f"**Queue** · {running} running, {waiting} waiting ({mine} yours)")
    else:
        st.markdown("**Queue** · idle")
