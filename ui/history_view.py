"""The History page: every run kept on disk; reopen, compare, share, delete, export."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from metacore.runs import export
from metacore.text import markdown_literal
from ui import models, state
from ui.i18n import language, say, t
from ui.results_view import status_word


def table(owner: str) -> tuple[list[Any], list[str]]:
    """The run table with row selection; returns (summaries, selected run ids)."""
    storage_caption()
    runs = state.store().list_runs(owner=owner)
    if not runs:
        return [], []
    frame = pd.DataFrame([{
        "created": s.created.replace("T", " ")[:16], "method": s.method,
        "backbone": s.backbone or "—", "data": s.data_source, "status": status_word(s.status),
        "accuracy": s.accuracy, "macro_f1": s.macro_f1, "train_s": s.train_s,
        "trainable": s.trainable_params, "shared": s.shared, "run": s.run_id,
        "error": s.error or ""} for s in runs])
    pct = {"format": "percent"}
    text = {c: st.column_config.TextColumn(t(f"history.col_{c}"))
            for c in ("created", "method", "backbone", "data", "status", "run", "error")}
    event = st.dataframe(frame, hide_index=True, key="history_table", on_select="rerun",
                         selection_mode="multi-row", column_config={
                             **text,
                             "accuracy": st.column_config.NumberColumn(
                                 t("history.col_accuracy"), **pct),
                             "macro_f1": st.column_config.NumberColumn(
                                 t("history.col_macro_f1"), **pct),
                             "train_s": st.column_config.NumberColumn(
                                 t("history.col_train_s"), format="%.1f"),
                             "trainable": st.column_config.NumberColumn(
                                 t("history.col_trainable"), format="localized"),
                             "shared": st.column_config.CheckboxColumn(
                                 t("history.col_shared"))})
    rows = event.selection.rows if event is not None else []
    return runs, [runs[i].run_id for i in rows]


def storage_caption() -> None:
    """How much disk the saved models and uploads use, of what quota, and what the retention
    policy deletes (``metacore.runs.retention``)."""
    from metacore.messages import MessageError
    from metacore.runs.retention import RetentionPolicy

    try:
        policy = RetentionPolicy.from_env()
    except MessageError as exc:
        st.caption(t("store.policy_error", error=say(exc)))
        return
    used = _usage(state.home())
    st.caption(" ".join([
        t("store.usage", models_used=_size(used.models_bytes),
          models_quota=_size(policy.models_quota_bytes), models=used.models,
          uploads_used=_size(used.uploads_bytes),
          uploads_quota=_size(policy.uploads_quota_bytes), uploads=used.uploads),
        t("store.policy", days=policy.keep_days) if policy.keep_days
        else t("store.policy_no_age")]))


@st.cache_data(ttl=30, show_spinner=False)
def _usage(root: str) -> Any:
    """The disk use, measured at most every 30 s (a walk over every saved model)."""
    from metacore.runs.retention import usage

    return usage(state.store())


def _size(n: int) -> str:
    if n >= 1024 ** 3:
        return t("store.size_gb", n=n / 1024 ** 3)
    if n >= 1024 ** 2:
        return t("store.size_mb", n=n / 1024 ** 2)
    return t("store.size_kb", n=n / 1024)


def actions(selected: list[str], runs: list[Any]) -> None:
    """Open in Results, re-run, share, delete for the selected rows."""
    a, r, b, c, _ = st.columns([1, 1, 1, 1, 2])
    if a.button(t("history.open"), key="history_open", type="primary",
                icon=":material/leaderboard:", disabled=not selected):
        st.session_state[state.RESULTS] = selected
        st.switch_page("app_pages/results.py")
    if r.button(t("history.rerun"), key="history_rerun", icon=":material/replay:",
                disabled=not selected, help=t("history.rerun_help")):
        plan = rerun_plan([models.result(state.home(), s, _status(runs, s)) for s in selected])
        if plan is None:
            st.error(t("history.rerun_none"), icon=":material/error:")
        else:
            show_on_train_page(plan)
            st.switch_page("app_pages/train.py")
    mine = {s.run_id: s for s in runs if s.owner == state.owner()}
    share = not selected or not all(mine[r].shared for r in selected if r in mine)
    if b.button(t("history.share") if share else t("history.unshare"), key="history_share",
                icon=":material/share:", disabled=not any(r in mine for r in selected),
                help=t("history.share_help")):
        for run_id in (r for r in selected if r in mine):
            state.store().set_shared(run_id, share)
        st.rerun()
    if c.button(t("history.delete"), key="history_delete", icon=":material/delete:",
                disabled=not any(r in mine for r in selected)):
        # the dialog is made here, not at import, so that its title follows the language
        st.dialog(t("history.delete_title"))(_confirm_delete)([r for r in selected if r in mine])


def _status(runs: list[Any], run_id: str) -> str:
    return next((s.status for s in runs if s.run_id == run_id), "")


def rerun_plan(results: list[Any]) -> Any:
    """The plan of the selected runs: the first one's, with the methods and seeds of the
    others that ran the same protocol on the same data with the same backbone and K."""
    from metacore.plan import plan_of_result

    plans = [p for p in (plan_of_result(r.config, r.protocol) for r in results) if p]
    if not plans:
        return None
    first = plans[0]

    def same(p: Any) -> bool:
        return (p.protocol, p.data, p.backbone, p.shots, p.episodes) == (
            first.protocol, first.data, first.backbone, first.shots, first.episodes)

    methods = {m: s for p in plans if same(p) for m, s in p.methods.items()}
    seeds = tuple(dict.fromkeys(s for p in plans if same(p) for s in p.seeds))
    return dataclasses.replace(first, methods=methods, seeds=seeds, out=None)


def show_on_train_page(plan: Any) -> None:
    """Put ``plan`` into Train & compare's form, and its data on the Data page."""
    from ui import form

    data = state.dataset()
    d = plan.data
    if d.path and Path(d.path).is_file():
        path = Path(d.path)
        kind = "sample" if path.parent == state.SAMPLES else "upload"
        data.update(kind=kind, path=str(path), name=path.name, text_col=d.text_col,
                    label_col=d.label_col, test_path=d.test_path,
                    test_name=Path(d.test_path).name if d.test_path else None,
                    test_size=d.test_size, val_size=d.val_size,
                    use_split_column=d.use_split_column)
    form.current().show(plan)
    form.forget_widgets()


def _confirm_delete(run_ids: list[str]) -> None:
    st.write(t("history.delete_confirm", n=len(run_ids)))
    if st.button(t("history.delete"), type="primary", key="history_delete_confirm"):
        for run_id in run_ids:
            state.store().delete(run_id)
        st.rerun()


def exports(run_id: str, status: str) -> None:
    """Downloads for one run; files are built only when their button is clicked."""
    res = models.result(state.home(), run_id, status)
    directory = models.model_dir(run_id)
    st.markdown(t("history.export", run_id=run_id, method=markdown_literal(res.method)))
    cols = st.columns(6)
    files = [(t("history.result_json"), lambda: export.result_json(res), f"{run_id}.json"),
             (t("history.per_class_csv"), lambda: export.per_class_csv(res),
              f"{run_id}-per-class.csv"),
             (t("history.figures_html"), lambda: export.figures_html(res, language()),
              f"{run_id}-figures.html"),
             (t("history.predictions_csv"), lambda: export.predictions_csv(res),
              f"{run_id}-predictions.csv")]
    for col, (label, build, name) in zip(cols, files, strict=False):
        col.download_button(label, build, file_name=name, key=f"history_dl_{name}",
                            icon=":material/download:", on_click="ignore")
    cols[4].download_button(t("history.model_zip"), lambda: export.model_zip(directory),
                            file_name=f"{run_id}-model.zip", key="history_dl_model",
                            icon=":material/download:", disabled=directory is None,
                            on_click="ignore", help=t("history.model_zip_help"))
    onnx_button(cols[5], run_id, res, directory)
    st.markdown(t("history.reproduce"))
    st.code(export.export_command(res, language()), language="bash")


def onnx_button(col: Any, run_id: str, res: Any, directory: Path | None) -> None:
    """The model as ONNX, checked on the run's test texts; disabled, with the reason as its
    help, for models ONNX cannot hold (``metacore.runs.onnx.why_not``)."""
    from metacore.runs.onnx import CHECK_TEXTS, why_not

    problem = why_not(directory) if directory is not None else None
    texts = [p["text"] for p in res.predictions[:CHECK_TEXTS] if isinstance(p.get("text"), str)]
    why = say(problem, markdown=False) if problem else t("history.onnx_zip_help")
    col.download_button(t("history.onnx_zip"), lambda: export.onnx_zip(directory, texts),
                        file_name=f"{run_id}-onnx.zip", key="history_dl_onnx",
                        icon=":material/download:", disabled=directory is None or bool(problem),
                        on_click="ignore", help=why)


def share_link(run_id: str, runs: list[Any]) -> None:
    """A read-only link to one of the owner's runs (``ui/share.py``): make it, copy it, revoke
    it. Anyone with the link sees the run's result, nothing else; others' runs show nothing."""
    from ui import share

    run = next((s for s in runs if s.run_id == run_id), None)
    if run is None or run.owner != state.owner():
        return
    token = state.store().share_token(run_id)
    st.markdown(t("history.link_title"))
    if token is None:
        if st.button(t("history.link_create"), key="history_link_create", icon=":material/link:",
                     help=t("history.link_help")):
            state.store().create_share(run_id)
            st.rerun()
        return
    st.code(share.link(token, "history"), language=None)
    st.caption(t("history.link_caption"))
    if st.button(t("history.link_revoke"), key="history_link_revoke",
                 icon=":material/link_off:"):
        state.store().revoke_share(run_id)
        st.rerun()
