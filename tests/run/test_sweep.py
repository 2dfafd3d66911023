"""``metacore sweep``: a grid over data sets, through the queue into the store, resumably."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metacore.cli import main
from metacore.run.sweep import load_sweep, results_table, run_sweep
from metacore.runs.store import RunStore
from tests.conftest import write_csv


@pytest.fixture
def sweep_file(tmp_path):
    a = write_csv(tmp_path / "a.csv", 3, 12, seed=1)
    b = write_csv(tmp_path / "b.csv", 2, 12, seed=2)
    plan = {"name": "grid", "datasets": [a, {"path": b}],
            "methods": {"tfidf-logreg": {}, "nearest-centroid": {}},
            "shots": [4], "seeds": [0, 1], "backbone": "tiny", "device": "cpu"}
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(plan))
    return path


def test_every_run_of_the_grid_lands_in_the_store_once(sweep_file, tmp_path):
    store = RunStore(tmp_path / "store")
    sweep = load_sweep(sweep_file)
    assert sweep.group == "sweep-grid" and len(sweep.runs()) == 8
    seen = []
    summary = run_sweep(sweep, store, progress=seen.append)
    assert (summary.total, summary.skipped, summary.failed) == (8, 0, 0)
    assert [p.done for p in seen] == list(range(9))  # the start, then one per run
    stored = [s for s in store.list_runs() if s.group == "sweep-grid"]
    assert len(stored) == 8 and {s.status for s in stored} == {"completed"}
    rows = results_table(store, sweep)
    assert {(r["data"], r["method"]) for r in rows} == {
        (d, m) for d in ("a.csv", "b.csv") for m in ("tfidf-logreg", "nearest-centroid")}
    assert all(r["runs"] == 2 and 0 <= r["macro_f1"] <= 1 for r in rows)
    again = run_sweep(load_sweep(sweep_file), store)  # nothing left to do
    assert (again.skipped, len(again.results)) == (8, 0)
    assert len([s for s in store.list_runs() if s.group == "sweep-grid"]) == 8


def test_a_stopped_sweep_resumes_where_it_was(sweep_file, tmp_path):
    store = RunStore(tmp_path / "store")

    def stop_after_three(p):
        if p.done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(load_sweep(sweep_file), store, progress=stop_after_three)
    done = {s.run_id for s in store.list_runs() if s.status == "completed"}
    assert len(done) >= 3
    summary = run_sweep(load_sweep(sweep_file), store)
    assert summary.skipped == len(done) and len(summary.results) == 8 - len(done)
    completed = [s for s in store.list_runs() if s.group == "sweep-grid"
                 and s.status == "completed"]
    assert len(completed) == 8  # every run once, none twice
    # a bigger grid runs only what is new: a third seed
    values = json.loads(sweep_file.read_text())
    sweep_file.write_text(json.dumps({**values, "seeds": [0, 1, 2]}))
    assert len(run_sweep(load_sweep(sweep_file), store).results) == 4


def test_cli_sweep_prints_the_table_and_refuses_a_bad_file(sweep_file, tmp_path, capsys):
    store = tmp_path / "store"
    assert main(["sweep", str(sweep_file), "--store", str(store), "--quiet",
                 "--json", str(tmp_path / "table.json")]) == 0
    out = capsys.readouterr()
    assert "a.csv" in out.out and "nearest-centroid" in out.out
    assert "8 runs now, 0 from before" in out.err
    assert len(json.loads((tmp_path / "table.json").read_text())["rows"]) == 4
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["sweep", str(bad), "--store", str(store)]) == 2
    assert "Cannot read the sweep file" in capsys.readouterr().err


def test_the_same_sweep_on_a_local_ray_gives_the_local_queue_s_results(sweep_file, tmp_path):
    """Ray tasks (``ray.init(num_cpus=2)``) against the local queue: the same runs, the same
    scores, in the same store layout; a resumed Ray sweep skips what either backend did."""
    ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")
    from metacore.run.ray_backend import connect, ray_submitter

    values = json.loads(sweep_file.read_text())  # one data set: 4 runs keep the test short
    sweep_file.write_text(json.dumps({**values, "datasets": values["datasets"][:1]}))
    local_store, ray_store = RunStore(tmp_path / "local"), RunStore(tmp_path / "ray")
    run_sweep(load_sweep(sweep_file), local_store)
    connect(None, num_cpus=2)
    try:
        summary = run_sweep(load_sweep(sweep_file), ray_store,
                            submit=ray_submitter(ray_store))
        assert (len(summary.results), summary.failed) == (4, 0)
        assert {r.extra.get("backend") for r in summary.results} == {"ray"}

        def scores(store):
            return {(s.data_source, s.method, s.run_id and store.get(s.run_id).config["run"]
                     ["seed"]): (s.status, s.accuracy, s.macro_f1)
                    for s in store.list_runs() if s.group == "sweep-grid"}

        assert scores(ray_store) == scores(local_store)
        assert all(Path(store.get(s.run_id).config["plan"]["data"]["path"]).is_file()
                   for store in (ray_store,) for s in store.list_runs())  # driver paths
        again = run_sweep(load_sweep(sweep_file), ray_store, submit=ray_submitter(ray_store))
        assert again.skipped == 4 and not again.results
        # the app's queue with Ray as its backend: the model comes back for the Playground
        from metacore.methods import load_method
        from metacore.run.queue import JobQueue
        from metacore.run.ray_backend import RayRunner
        from metacore.training.context import RunContext

        queue = JobQueue(ray_store, save_models=True, remote=RayRunner())
        plan = load_sweep(sweep_file).plans[0]
        job = queue.submit(plan, plan.runs()[1])  # nearest-centroid, seed 0
        view = queue.wait(job, timeout=300)
        assert view.result.status == "completed" and view.result.extra["backend"] == "ray"
        model = ray_store.artifact_dir(job) / "model"
        loaded = load_method(model, ctx=RunContext())
        assert loaded.predict_proba(["football goal"], ctx=RunContext()).shape == (1, 3)
        queue.shutdown()
    finally:
        ray.shutdown()


class _ElsewhereRunner:
    """A remote runner that runs here: the queue's side of the contract, without Ray."""

    slots = 2

    def __init__(self):
        self.started = []

    def start(self, plan, *, keep_model=False):
        self.started.append((plan.runs()[0].seed, keep_model))
        return plan

    def collect(self, future, plan, run_id, *, control=None, model_dir=None):
        from metacore.run.runner import run

        result = run(future, run_id=run_id)
        result.extra["backend"] = "elsewhere"
        return result


def test_the_queue_hands_runs_to_a_remote_runner_several_at_once(sweep_file, tmp_path):
    from metacore.run.queue import JobQueue

    store = RunStore(tmp_path / "store")
    remote = _ElsewhereRunner()
    queue = JobQueue(store, save_models=False, remote=remote)
    plan = load_sweep(sweep_file).plans[0]
    submission = queue.submit_plan(plan)
    views = [queue.wait(i, timeout=120) for i in submission.run_ids]
    assert [v.result.status for v in views] == ["completed"] * 4
    assert {v.result.extra["backend"] for v in views} == {"elsewhere"}
    assert sorted(remote.started) == [(0, False), (0, False), (1, False), (1, False)]
    names = {t.name for t in queue._threads.values()}
    assert names == {"metacore-worker-remote", "metacore-worker-remote#1"}  # two slots
    assert {s.status for s in store.list_runs()} == {"completed"}
    queue.shutdown()
