"""RunStore: SQLite rows + artifact folders, used from several threads and across restarts."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from metacore.plan import DataSource, ExperimentPlan, legacy_dict
from metacore.plan.command import to_command
from metacore.runs.result import RunResult, write_atomic
from metacore.runs.store import INTERRUPTED_ERROR, RunStore


def tfidf(**kwargs) -> ExperimentPlan:
    return ExperimentPlan(methods={"tfidf-logreg": {}}, data=DataSource(path="data.csv"),
                          **kwargs)


def make_result(run_id: str, *, status: str = "completed", accuracy: float = 0.75,
                created: str = "2025-01-01T00:00:00+00:00") -> RunResult:
    plan = tfidf()
    return RunResult(
        run_id=run_id, method="tfidf-logreg", backbone=None, protocol="adapt", status=status,
        metrics={"accuracy": accuracy, "macro_f1": accuracy - 0.05},
        per_class={"a": {"precision": 1.0, "recall": 0.5, "f1": 0.67, "support": 2}},
        timing={"train_s": 1.5}, parameters={"trainable": 1234, "total": 1234},
        data={"source": "data.csv", "classes": ["a", "b"]},
        config={"run": legacy_dict(plan), "plan": plan.to_dict()}, command=to_command(plan),
        created=created,
        predictions=[{"text": "héllo 你好", "label": "a", "predicted": "a"}],
    )


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "home")


def test_database_uses_wal(store: RunStore) -> None:
    with sqlite3.connect(store.db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert (store.root / "artifacts").is_dir()


def test_default_root_follows_metacore_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("METACORE_HOME", str(tmp_path / "elsewhere"))
    assert RunStore().root == tmp_path / "elsewhere"
    assert (tmp_path / "elsewhere" / "runs.sqlite").exists()


def test_result_round_trip(store: RunStore) -> None:
    result = make_result("r1")
    store.record_result(result, owner="ana", group="cmp-1")
    assert (store.artifact_dir("r1") / "result.json").exists()
    assert store.get("r1").to_dict() == result.to_dict()
    [summary] = store.list_runs()
    assert (summary.run_id, summary.status, summary.owner, summary.group) == (
        "r1", "completed", "ana", "cmp-1")
    assert summary.accuracy == 0.75 and summary.macro_f1 == pytest.approx(0.70)
    assert summary.train_s == 1.5 and summary.trainable_params == 1234
    assert summary.data_source == "data.csv" and summary.shared is False


def test_queued_row_then_result_keeps_owner_and_submission_time(store: RunStore) -> None:
    plan = tfidf(seeds=(3,), init_seeds=(4,))
    store.record_queued("r1", plan, owner="ana", group="g")
    queued = store.get("r1")
    assert queued.status == "queued" and queued.command == to_command(plan)
    assert ExperimentPlan.from_dict(queued.config["plan"]) == plan
    assert queued.config["run"]["seed"] == 3 and queued.config["run"]["init_seed"] == 4
    store.record_running("r1")
    assert store.get("r1").status == "running"
    created = store.list_runs()[0].created
    store.record_result(make_result("r1", created="2030-01-01T00:00:00+00:00"))
    [summary] = store.list_runs()
    assert (summary.status, summary.owner, summary.group) == ("completed", "ana", "g")
    assert summary.created == created


def test_list_order_owner_filter_and_shared(store: RunStore) -> None:
    for run_id, owner in [("r1", "ana"), ("r2", "bo"), ("r3", "ana")]:
        store.record_result(make_result(run_id), owner=owner, group=f"g-{run_id}")
    store.record_result(make_result("r0", created="2020-01-01T00:00:00+00:00"), owner="ana")
    assert [s.run_id for s in store.list_runs()] == ["r3", "r2", "r1", "r0"]
    assert [s.run_id for s in store.list_runs(limit=2)] == ["r3", "r2"]
    assert [s.run_id for s in store.list_runs(owner="ana")] == ["r3", "r1", "r0"]
    assert store.groups("ana") == ["g-r3", "g-r1"]
    store.set_shared("r2", True)
    assert [s.run_id for s in store.list_runs(owner="ana")] == ["r3", "r2", "r1", "r0"]
    assert store.list_runs(owner="bo")[0].shared is True
    assert store.groups() == ["g-r3", "g-r2", "g-r1"]
    with pytest.raises(KeyError):
        store.set_shared("missing", True)


def test_delete_removes_row_and_folder(store: RunStore) -> None:
    store.record_result(make_result("r1"))
    (store.artifact_dir("r1") / "model").mkdir()
    store.delete("r1")
    assert not (store.root / "artifacts" / "r1").exists()
    assert store.list_runs() == []
    with pytest.raises(KeyError):
        store.get("r1")


def test_run_ids_cannot_leave_the_artifact_folder(store: RunStore) -> None:
    for bad in ("../escape", "a/b", "", ".hidden"):
        with pytest.raises(ValueError):
            store.artifact_dir(bad)


def test_mark_interrupted_after_a_crash(store: RunStore) -> None:
    plan = tfidf()
    for run_id in ("q1", "r1", "r2", "mine"):
        store.record_queued(run_id, plan, owner="ana")
    for run_id in ("r1", "r2"):
        store.record_running(run_id)
    write_atomic(store.artifact_dir("r2") / "result.json", make_result("r2").to_json())
    # Simulate a crash: the rows now belong to a process that has exited ("mine" stays with
    # this live process and must be left alone).
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=60)
    with sqlite3.connect(store.db_path) as conn:
        conn.execute("UPDATE runs SET pid = ? WHERE run_id != 'mine'", (dead.pid,))
    assert store.mark_interrupted() == 2
    for run_id in ("q1", "r1"):
        result = store.get(run_id)
        assert (result.status, result.error) == ("interrupted", INTERRUPTED_ERROR)
        assert result.command == to_command(plan)
    assert store.get("r2").status == "completed"  # its result was written before the crash
    assert store.get("mine").status == "queued"
    assert store.mark_interrupted() == 0


def test_rows_from_another_machine_count_as_gone(store: RunStore) -> None:
    store.record_queued("r1", tfidf())
    with sqlite3.connect(store.db_path) as conn:
        conn.execute("UPDATE runs SET host = 'old-container'")
    assert store.mark_interrupted() == 1
    assert store.list_runs()[0].status == "interrupted"


def test_concurrent_writes_from_two_threads(store: RunStore) -> None:
    errors: list[BaseException] = []

    def write(prefix: str) -> None:
        try:
            for i in range(20):
                store.record_result(make_result(f"{prefix}{i}"), owner=prefix)
                store.list_runs(owner=prefix)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(store.list_runs()) == 40
    assert len(store.list_runs(owner="a")) == 20


def test_a_row_written_before_plans_still_gives_its_command(store: RunStore) -> None:
    """Rows of older versions kept the flat ``config.run`` dict (``RunSpec.to_dict()``) in
    spec_json; an interrupted one still says how to run it again."""
    import json

    old = {"data": "data.csv", "method": "tfidf-logreg", "backbone": "minilm",
           "method_config": {"c": 2.0}, "test": None, "text_col": None, "label_col": None,
           "shots": 8, "seed": 4, "device": "auto", "allow_download": False, "test_size": 0.2,
           "val_size": 0.1, "use_split_column": True, "save_model": False, "out": None}
    store.record_queued("old", tfidf())
    with sqlite3.connect(store.db_path) as conn:
        conn.execute("UPDATE runs SET spec_json = ?, host = 'gone' WHERE run_id = 'old'",
                     (json.dumps(old),))
    assert store.mark_interrupted() == 1
    result = store.get("old")
    assert result.status == "interrupted"
    assert result.command == ("metacore run --data data.csv --method tfidf-logreg --backbone "
                              "minilm --shots 8 --seed 4 --set c=2.0")
    assert result.config["run"] == old
