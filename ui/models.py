"""Trained models reopened from the artifact folder: loaded once per process, then shared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from metacore.runs.result import RunResult
from ui import state
from ui.i18n import t


def model_dir(run_id: str) -> Path | None:
    path = state.store().artifact_dir(run_id) / "model"
    return path if path.is_dir() else None


@st.cache_data(show_spinner=False, max_entries=64)
def result(root: str, run_id: str, status: str) -> RunResult:
    """A stored result (status is in the key so a finished run replaces its queued row)."""
    return state.store().get(run_id)


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(run_id: str, directory: str, backbone: str | None, allow_download: bool) -> Any:
    from metacore.methods import load_method
    from metacore.training.context import RunContext
    from metacore.training.device import resolve_device

    ctx = RunContext(device=resolve_device("auto"),
                     backbone=state.backbone(backbone, allow_download) if backbone else None)
    return load_method(directory, ctx=ctx), ctx


def load(res: RunResult) -> tuple[Any, Any]:
    """(method, ctx) of a finished run. Raises ValueError when there is no saved model."""
    with st.spinner(t("saved_model.loading")):
        return _loaded(res)


def _loaded(res: RunResult) -> tuple[Any, Any]:
    directory = model_dir(res.run_id)
    if directory is None:
        raise ValueError(t("saved_model.no_model"))
    allow = bool(res.config.get("run", {}).get("allow_download", False))
    return _load(res.run_id, str(directory), res.backbone, allow)


def predict(res: RunResult, texts: list[str]) -> tuple[list[str], np.ndarray]:
    """Class names and probabilities (n_texts, n_classes) from a run's saved model."""
    method, ctx = load(res)
    return list(method.classes), np.asarray(method.predict_proba(texts, ctx=ctx))


def tsne(root: str, run_id: str) -> dict[str, Any] | None:
    """t-SNE of the projected test texts before and after adaptation (from the saved model)."""
    with st.spinner(t("saved_model.tsne")):
        return _tsne(root, run_id)


@st.cache_data(show_spinner=False, max_entries=16)
def _tsne(root: str, run_id: str) -> dict[str, Any] | None:
    from sklearn.manifold import TSNE

    res = state.store().get(run_id)
    proj = res.extra.get("projection") or {}
    index = proj.get("index") or []
    if len(index) < 5:
        return None
    texts = [res.predictions[i]["text"] for i in index]
    method, ctx = _loaded(res)  # no spinner inside a cached function: tsne() shows one
    out: dict[str, Any] = {"index": index, "labels": proj.get("labels", [])}
    for view, vectors in (("before", ctx.embed(texts)), ("after", method.embed(texts, ctx=ctx))):
        if vectors is not None:
            model = TSNE(n_components=2, perplexity=min(30.0, len(texts) / 4), random_state=0,
                         init="pca")
            out[view] = model.fit_transform(np.asarray(vectors)).round(4).tolist()
    return out
