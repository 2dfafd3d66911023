"""Session state and the per-process resources every browser session shares."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import streamlit as st

from metacore.runs.store import RunStore

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_data"
OWNER = "owner"
DATASET = "dataset"  # the chosen data file and split settings (plain dict)
COMPARISON = "comparison"  # run ids of the comparison started on Train & compare
RESULTS = "results_ids"  # run ids shown on the Results page
DEFAULT_SAMPLE = "support_intents_en.csv"


def home() -> str:
    """Where runs live; the cache key of the store and the queue (tests change it)."""
    return os.environ.get("METACORE_HOME", "")


def owner() -> str:
    """This browser session's owner id: random, kept in the URL so a reload keeps it."""
    if OWNER not in st.session_state:
        given = st.query_params.get("owner", "")
        valid = given.isalnum() and 6 <= len(given) <= 32
        st.session_state[OWNER] = given if valid else secrets.token_hex(6)
    if st.query_params.get("owner") != st.session_state[OWNER]:
        st.query_params["owner"] = st.session_state[OWNER]
    return st.session_state[OWNER]


@st.cache_resource(show_spinner=False)
def _store(root: str) -> RunStore:
    store = RunStore(root or None)
    store.mark_interrupted()  # runs a previous process left "running" can never finish
    return store


def store() -> RunStore:
    return _store(home())


@st.cache_resource(show_spinner=False)
def _queue(root: str) -> Any:
    from metacore.worker import JobQueue

    # The worker's default loader is metacore.backbones.load_backbone, cached per process,
    # so the worker and the pages share one copy of each backbone.
    return JobQueue(_store(root), save_models=True)


def queue() -> Any:
    """The one background worker queue of this process (all sessions share it)."""
    return _queue(home())


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def backbone(spec: str, allow_download: bool = False) -> Any:
    """A backbone loaded once per process; methods deep-copy it before training."""
    from metacore.backbones import load_backbone

    return load_backbone(spec, allow_download=allow_download)


def dataset() -> dict[str, Any]:
    """The chosen data and split settings; the English intents sample until one is chosen."""
    if DATASET not in st.session_state:
        st.session_state[DATASET] = {
            "kind": "sample", "path": str(SAMPLES / DEFAULT_SAMPLE), "name": DEFAULT_SAMPLE,
            "text_col": None, "label_col": None, "test_path": None, "test_name": None,
            "test_size": 0.2, "val_size": 0.1, "seed": 0, "use_split_column": True,
        }
    return st.session_state[DATASET]


def uploads_dir() -> Path:
    path = store().root / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


@st.cache_data(show_spinner=False)
def device_label() -> str:
    from metacore.training.device import describe_device, resolve_device

    return describe_device(resolve_device("auto"))
