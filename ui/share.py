"""Read-only links to one run: ``?share=<token>`` shows that run's result to whoever has it.

The token is random (``RunStore.create_share``), one per run, made and revoked by the run's
owner in History. The link shows the result only: no stop, delete, re-run or share controls,
and the run does not join the visitor's own runs. The operator's password (if set) is still
asked first. Revoking the link (or deleting the run) makes it find nothing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

from metacore.text import markdown_literal
from ui import results_view, state
from ui.i18n import t

PARAM = "share"


def requested() -> str | None:
    """The token of the link this session was opened with, or None."""
    token = st.query_params.get(PARAM)
    return token or None


def link(token: str, page_path: str = "", url: str | None = None) -> str:
    """The address that opens the run's read-only view: this server's root (``url``, else the
    address this session was opened at, less ``page_path``) plus the token; ``?share=...``
    alone when the address is not known (AppTest)."""
    if url is None:
        try:
            url = st.context.url or ""
        except Exception:  # noqa: BLE001 - no session client
            url = ""
    if not url:
        return f"?{PARAM}={token}"
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if page_path and path.endswith("/" + page_path):
        path = path[: -len(page_path) - 1]
    return f"{parts.scheme}://{parts.netloc}{path}/?{PARAM}={token}"


def view() -> None:
    """The shared run's result, read-only; a sentence when the link finds nothing."""
    token = requested() or ""
    run_id = state.store().shared_run(token)
    if run_id is None:
        st.title(t("share.title_gone"))
        st.error(t("share.gone"), icon=":material/link_off:")
        return
    try:
        res = state.store().get(run_id)
    except KeyError:  # deleted between the two reads
        st.error(t("share.gone"), icon=":material/link_off:")
        return
    st.title(t("share.title", method=markdown_literal(res.method)))
    created = (res.created or "").replace("T", " ")[:16] or "—"
    st.caption(t("share.caption", run_id=run_id, created=created))
    if res.status not in results_view.FINISHED:
        st.info(t("share.unfinished", status=results_view.status_word(res.status)),
                icon=":material/hourglass_top:")
        return
    st.subheader(t("results.leaderboard"))
    results_view.leaderboard([res])
    st.subheader(t("results.curves"))
    results_view.curves([res])
    if res.confusion.get("matrix"):
        st.subheader(t("results.per_class"))
        results_view.per_class(res)
        st.subheader(t("results.confusion"))
        st.caption(t("results.confusion_caption_episodic") if res.protocol == "episodic" else
                   t("results.confusion_caption"))
        results_view.confusion(res)
