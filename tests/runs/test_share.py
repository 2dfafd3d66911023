"""Read-only links: one random token per run, that opens that run only, until it is revoked."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from metacore.runs.store import RunStore
from tests.runs.test_store import make_result


def test_a_token_opens_its_run_only_until_revoked(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "home")
    for run_id in ("mine1", "mine2"):
        store.record_result(make_result(run_id), owner="a" * 32)
    assert store.share_token("mine1") is None and store.shared_run("") is None
    token = store.create_share("mine1")
    assert len(token) >= 20 and token.isascii()
    assert store.create_share("mine1") == token == store.share_token("mine1")  # one per run
    assert store.shared_run(token) == "mine1"
    assert store.share_token("mine2") is None  # the other run is not shared by it
    other = store.create_share("mine2")
    assert other != token and store.shared_run(other) == "mine2"
    for wrong in (token[:-1], token + "x", "mine1", "' OR 1=1 --", "../mine1", None):
        assert store.shared_run(wrong) is None, wrong

    assert store.revoke_share("mine1") is True
    assert store.shared_run(token) is None and store.share_token("mine1") is None
    assert store.revoke_share("mine1") is False
    again = store.create_share("mine1")  # sharing again makes a new link; the old stays dead
    assert again != token and store.shared_run(again) == "mine1"
    assert store.shared_run(token) is None
    assert RunStore(tmp_path / "home").shared_run(again) == "mine1"  # kept across a restart


def test_deleting_the_run_kills_its_link_and_unknown_runs_get_none(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "home")
    store.record_result(make_result("gone1"), owner="a" * 32)
    token = store.create_share("gone1")
    store.delete("gone1")
    assert store.shared_run(token) is None and store.share_token("gone1") is None
    with pytest.raises(KeyError):
        store.create_share("nosuchrun")


def test_a_database_from_before_links_gets_the_table(tmp_path: Path) -> None:
    home = tmp_path / "home"
    RunStore(home).record_result(make_result("old1"), owner="a" * 32)
    with sqlite3.connect(home / "runs.sqlite") as conn:
        conn.execute("DROP TABLE shares")  # as written by a version without links
    store = RunStore(home)
    assert [s.run_id for s in store.list_runs()] == ["old1"]
    assert store.shared_run(store.create_share("old1")) == "old1"
