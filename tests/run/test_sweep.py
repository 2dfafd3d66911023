"""``metacore sweep``: a grid over data sets, through the queue into the store, resumably."""

from __future__ import annotations

import json

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
