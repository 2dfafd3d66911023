"""AppTest fixtures: every test gets its own METACORE_HOME and a fresh app."""

from __future__ import annotations

import os

import pytest

from tests.markdown import shown  # noqa: F401  (the app tests import it from here)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("METACORE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def app(home):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../../app.py", default_timeout=60)
    return at


def train_form(protocol: str = "adapt", split_kind: str = "", **fields):
    """A Train & compare form showing a plan of ``protocol`` with ``fields`` (``methods`` a
    list or a name -> settings dict), for ``at.session_state["train_form"]``."""
    import dataclasses

    from ui.form import Form, default_plan

    form = Form(protocol=protocol, split_kind=split_kind)
    form.plans[protocol] = dataclasses.replace(default_plan(protocol), **fields)
    return form
