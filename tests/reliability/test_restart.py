"""Kill the server mid-run for real (SIGKILL), start again: the run in progress shows as
interrupted, not running forever, and the runs that had finished still load with their models."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metacore.runs.store import INTERRUPTED_ERROR, RunStore
from tests.conftest import write_csv

ROOT = Path(__file__).resolve().parents[2]

# What the killed server does: one quick run to the end, then a slow one it never finishes.
SERVER = """
import json, sys
from metacore.plan import DataSource, ExperimentPlan
from metacore.run.queue import JobQueue
from metacore.runs.store import RunStore

home, data = sys.argv[1], sys.argv[2]
queue = JobQueue(RunStore(home))
done = queue.submit(ExperimentPlan(methods={"tfidf-logreg": {}}, data=DataSource(path=data),
                                   device="cpu"), owner="ana")
assert queue.wait(done, 120).state == "completed"
slow = queue.submit(ExperimentPlan(
    methods={"full-finetune": {"epochs": 1000, "batch_size": 4, "patience": 0}},
    data=DataSource(path=data), backbone="tiny", device="cpu"), owner="ana")
print(json.dumps({"done": done, "slow": slow}), flush=True)
queue.wait(slow)  # never returns: the test kills this process first
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_sigkill_mid_run_then_restart(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "data.csv", 3, 10, seed=9)
    home = tmp_path / "home"
    env = {**os.environ, "METACORE_HOME": str(home), "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(home), str(csv)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        ids = json.loads(proc.stdout.readline())
        store = RunStore(home)
        deadline = time.monotonic() + 120
        while store.get(ids["slow"]).status != "running":
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        time.sleep(1.0)  # well into training
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert store.get(ids["slow"]).status == "running"  # what the dead server left behind

    from metacore.run.queue import JobQueue

    queue = JobQueue(RunStore(home))  # the restarted server
    try:
        slow = queue.store.get(ids["slow"])
        assert (slow.status, slow.error) == ("interrupted", INTERRUPTED_ERROR)
        assert slow.command.startswith("metacore run")  # it can still be repeated
        assert "--method full-finetune" in slow.command and "--set epochs=1000" in slow.command
        statuses = {s.run_id: s.status for s in queue.store.list_runs(owner="ana")}
        assert statuses == {ids["done"]: "completed", ids["slow"]: "interrupted"}
        _finished_run_still_loads(queue.store, ids["done"])
        model = queue.store.artifact_dir(ids["slow"]) / "model"
        assert not model.exists()  # never half a model
        with sqlite3.connect(home / "runs.sqlite") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # The restarted server works: a new run completes.
        from metacore.plan import DataSource, ExperimentPlan

        run_id = queue.submit(ExperimentPlan(methods={"tfidf-logreg": {}},
                                             data=DataSource(path=str(csv)), device="cpu"))
        assert queue.wait(run_id, 120).state == "completed"
    finally:
        queue.shutdown(wait=False)


def _finished_run_still_loads(store: RunStore, run_id: str) -> None:
    from metacore.methods import load_method
    from metacore.training.context import RunContext

    result = store.get(run_id)
    assert result.status == "completed" and result.metrics["accuracy"] > 0.5
    method = load_method(store.artifact_dir(run_id) / "model", ctx=RunContext())
    assert method.predict(["football goal match"], ctx=RunContext()) == ["sports"]
