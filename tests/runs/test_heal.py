"""A run history that heals: an unreadable runs.sqlite is moved aside and the index is rebuilt
from the runs' result.json files; rows whose job died or whose files could not be written end
as failed or interrupted, never "running" forever."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from metacore.messages import MessageError
from metacore.runs.store import DB_NAME, RunStore
from tests.runs.test_store import make_result, tfidf


def _history(home: Path) -> RunStore:
    """A store with three finished runs (two owners, one shared) and one still queued."""
    store = RunStore(home)
    store.record_result(make_result("r1", created="2025-01-01T00:00:00+00:00"), owner="ana",
                        group="g1")
    store.record_result(make_result("r2", accuracy=0.5, created="2025-01-02T00:00:00+00:00"),
                        owner="ana", group="g1")
    store.record_result(make_result("r3", status="failed", created="2025-01-03T00:00:00+00:00"),
                        owner="bo")
    store.set_shared("r3", True)
    store.record_queued("q1", tfidf(), owner="ana")
    return store


def _corrupt(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "random":
        path.write_bytes(os.urandom(max(len(data), 4096)))
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "other schema":
        path.unlink()
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE runs (id INTEGER, name TEXT)")
            conn.execute("INSERT INTO runs VALUES (1, 'x')")
        conn.close()


@pytest.mark.parametrize("how", ["random", "truncated", "empty", "other schema"])
def test_an_unreadable_database_is_moved_aside_and_rebuilt(tmp_path: Path, how: str) -> None:
    home = tmp_path / "home"
    _history(home)
    db = home / DB_NAME
    assert not (home / f"{DB_NAME}-wal").exists()  # the last connection checkpointed it
    _corrupt(db, how)
    original = db.read_bytes()

    store = RunStore(home)  # no exception

    [aside] = list(home.glob(f"{DB_NAME}.corrupt-*"))
    assert aside.read_bytes() == original  # kept as it was, for whoever wants to look
    codes = [n.code for n in store.notices]
    assert codes[:2] == ["store.moved_aside", "store.restored"]
    assert store.notices[0].params["aside"] == aside.name
    assert store.notices[1].params["n"] == 3
    assert aside.name in str(store.notices[0])
    runs = {s.run_id: s for s in store.list_runs()}
    assert set(runs) == {"r1", "r2", "r3"}  # every run whose result.json survives
    assert (runs["r1"].owner, runs["r1"].group, runs["r1"].accuracy) == ("ana", "g1", 0.75)
    assert (runs["r3"].status, runs["r3"].owner, runs["r3"].shared) == ("failed", "bo", True)
    assert [s.run_id for s in store.list_runs(owner="ana")] == ["r3", "r2", "r1"]
    assert store.get("r2").metrics["accuracy"] == 0.5
    with sqlite3.connect(store.db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert RunStore(home).notices == []  # healed once; the next start finds nothing to do


def test_an_empty_index_with_results_on_disk_is_rebuilt(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _history(home)
    with sqlite3.connect(home / DB_NAME) as conn:  # a valid database that lost its rows
        conn.execute("DELETE FROM runs")
    conn.close()
    store = RunStore(home)
    assert [n.code for n in store.notices] == ["store.restored"]
    assert not list(home.glob(f"{DB_NAME}.corrupt-*"))  # readable: nothing moved aside
    assert {s.run_id for s in store.list_runs()} == {"r1", "r2", "r3"}


def test_runs_saved_before_owner_files_are_restored_without_an_owner(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _history(home)
    (home / "artifacts" / "r1" / "owner.json").unlink()  # as written by an older version
    (home / "artifacts" / "r2" / "result.json").write_text("{not json", encoding="utf-8")
    _corrupt(home / DB_NAME, "random")
    store = RunStore(home)
    runs = {s.run_id: s for s in store.list_runs()}
    assert set(runs) == {"r1", "r3"}  # a damaged result cannot be listed
    assert runs["r1"].owner == ""  # listed to nobody in the app, kept on disk
    assert "store.unowned" in [n.code for n in store.notices]
    assert "r1" not in {s.run_id for s in store.list_runs(owner="ana")}


def test_owner_of_old_runs_is_salvaged_from_a_readable_moved_aside_database(tmp_path) -> None:
    home = tmp_path / "home"
    _history(home)
    for run in ("r1", "r2", "r3"):
        (home / "artifacts" / run / "owner.json").unlink()
    with sqlite3.connect(home / DB_NAME) as conn:  # a schema the index does not know
        conn.execute("ALTER TABLE runs DROP COLUMN pid")
    conn.close()
    store = RunStore(home)
    assert store.notices[0].params["reason"].code == "store.reason.schema"
    assert {s.run_id: s.owner for s in store.list_runs()} == {"r1": "ana", "r2": "ana",
                                                             "r3": "bo"}


def test_a_database_that_breaks_while_running_is_healed_on_the_next_call(tmp_path) -> None:
    home = tmp_path / "home"
    store = _history(home)
    (home / DB_NAME).write_bytes(os.urandom(8192))
    assert {s.run_id for s in store.list_runs()} == {"r1", "r2", "r3"}
    assert store.notices[0].code == "store.moved_aside"


def test_deleted_runs_do_not_come_back_in_a_rebuild(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = _history(home)
    store.delete("r2")
    _corrupt(home / DB_NAME, "empty")
    assert {s.run_id for s in RunStore(home).list_runs()} == {"r1", "r3"}


def test_result_not_written_marks_the_row_failed(tmp_path: Path, monkeypatch) -> None:
    """A read-only or full artifact folder: the row still ends (failed, with the reason)."""
    store = _history(tmp_path / "home")
    store.record_queued("q2", tfidf(), owner="ana")
    store.record_running("q2")

    def refuse(path, text):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("metacore.runs.store.write_atomic", refuse)
    with pytest.raises(MessageError) as caught:
        store.record_result(make_result("q2"), owner="ana")
    assert caught.value.message.code == "store.error.not_written"
    [row] = [s for s in store.list_runs() if s.run_id == "q2"]
    assert row.status == "failed" and "could not be written" in row.error
    assert "Permission denied" in row.error
    assert json.loads((store.root / "artifacts" / "r1" / "owner.json").read_text())["owner"] \
        == "ana"
