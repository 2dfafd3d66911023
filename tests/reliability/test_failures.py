"""Runs that fail (NaN loss, GPU out of memory, a bad model folder) end as failed runs with their
error, give their memory back, and the worker goes on; models are saved all at once."""

from __future__ import annotations

import gc
import json
import math
import os
import weakref
from pathlib import Path

import pytest
import torch

from metacore.plan import DataSource, ExperimentPlan
from metacore.run import run
from metacore.run.queue import JobQueue
from metacore.runs.atomic import save_model_atomic
from metacore.runs.store import RunStore
from metacore.training.context import RunContext
from metacore.training.events import RunEnded
from metacore.training.loop import TrainingDiverged, run_loop
from tests.conftest import write_csv

TIMEOUT = 120.0
NAN_MESSAGE = "The loss became NaN at step 3; lower the learning rate."
OOM = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.11 GiB total capacity)"


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory) -> str:
    return write_csv(tmp_path_factory.mktemp("fail") / "data.csv", 3, 10, seed=4)


@pytest.fixture
def queue(tmp_path):
    made = JobQueue(RunStore(tmp_path / "home"))
    yield made
    made.shutdown(wait=False)


def plan(data: str, method: str, settings: dict | None = None, **kwargs) -> ExperimentPlan:
    values = {"backbone": "tiny", "device": "cpu", **kwargs}
    return ExperimentPlan(methods={method: settings or {}}, data=DataSource(path=data),
                          **values)


def finetune(data: str, *, batch_size: int = 4, **kwargs) -> ExperimentPlan:
    return plan(data, "full-finetune", {"epochs": 1, "batch_size": batch_size}, shots=(6,),
                **kwargs)


def tfidf(data: str) -> ExperimentPlan:
    return plan(data, "tfidf-logreg")


# --- NaN loss ----------------------------------------------------------------------------------
def test_loop_stops_at_the_first_non_finite_loss() -> None:
    ctx = RunContext()
    losses = iter([1.0, 0.5, float("nan"), 0.1])
    with pytest.raises(TrainingDiverged) as caught:
        run_loop(ctx=ctx, batches=((0, i) for i in range(4)), total_steps=4,
                 step=lambda batch: {"loss": next(losses)})
    assert str(caught.value) == NAN_MESSAGE
    assert [s["loss"] for s in ctx.steps] == [1.0, 0.5]  # no NaN in the history (nor its JSON)
    with pytest.raises(TrainingDiverged, match="became infinite at step 1"):
        run_loop(ctx=RunContext(), batches=[(0, 0)], total_steps=1,
                 step=lambda batch: {"loss": torch.tensor(math.inf)})


@pytest.fixture
def nan_at_step_3(monkeypatch):
    """Full fine-tuning whose third step returns a NaN loss, as a too-high learning rate does."""
    from metacore.methods import heads

    real = heads.run_loop

    def run_loop_with_nan(*, step, **kwargs):
        count = {"n": 0}

        def poisoned(batch):
            out = step(batch)
            count["n"] += 1
            return {**out, "loss": float("nan")} if count["n"] >= 3 else out

        return real(step=poisoned, **kwargs)

    monkeypatch.setattr(heads, "run_loop", run_loop_with_nan)


def test_nan_loss_fails_the_run_with_a_clear_message(csv_file, nan_at_step_3, tmp_path) -> None:
    events = []
    result = run(finetune(csv_file, out=str(tmp_path / "out"), save_model=True),
                 callbacks=[events.append])
    assert (result.status, result.error) == ("failed", NAN_MESSAGE)
    [error] = [m for m in result.messages if m["level"] == "error"]
    assert error["code"] == "run.error.diverged"  # coded, for interfaces in other languages
    assert len(result.history["steps"]) == 2
    assert isinstance(events[-1], RunEnded) and events[-1].error == NAN_MESSAGE
    saved = json.loads((tmp_path / "out" / "result.json").read_text())  # strict JSON, no NaN
    assert saved["status"] == "failed" and not (tmp_path / "out" / "model").exists()


def test_worker_records_nan_failure_and_goes_on(queue, csv_file, nan_at_step_3) -> None:
    bad, good = queue.submit(finetune(csv_file)), queue.submit(tfidf(csv_file))
    view = queue.wait(bad, TIMEOUT)
    assert (view.state, view.error) == ("failed", NAN_MESSAGE)
    assert queue.store.get(bad).error == NAN_MESSAGE
    assert queue.wait(good, TIMEOUT).state == "completed"


# --- out of GPU memory (simulated on the CPU) ----------------------------------------------------
class Ballast:
    """Weak references to the memory a failed attempt held, to check it was given back."""

    def __init__(self) -> None:
        self.refs: list[weakref.ref] = []

    def hold(self, method) -> None:
        method.ballast = torch.ones(2_000_000)  # 8 MB "on the GPU"
        self.refs.append(weakref.ref(method.ballast))

    def alive(self) -> int:
        gc.collect()
        return sum(ref() is not None for ref in self.refs)


def _oom_when(monkeypatch, cls, too_heavy) -> tuple[list[dict], Ballast]:
    """Make ``cls.fit`` raise CUDA's out-of-memory error while ``too_heavy(config)`` holds."""
    real, configs, ballast = cls.fit, [], Ballast()

    def fit(self, train, *, val, ctx):
        configs.append(self.config.to_dict())
        if too_heavy(self.config):
            ballast.hold(self)
            raise torch.cuda.OutOfMemoryError(OOM)
        return real(self, train, val=val, ctx=ctx)

    monkeypatch.setattr(cls, "fit", fit)
    return configs, ballast


def test_out_of_memory_retries_once_with_half_the_batch(queue, csv_file, monkeypatch) -> None:
    from metacore.methods.finetune import FullFinetune

    configs, ballast = _oom_when(monkeypatch, FullFinetune, lambda c: c.batch_size > 4)
    view = queue.wait(queue.submit(finetune(csv_file, batch_size=8)), TIMEOUT)
    assert view.state == "completed", view.error
    assert [c["batch_size"] for c in configs] == [8, 4]
    result = queue.store.get(view.run_id)
    assert any("batch size 8" in w and "batch size 4" in w for w in result.warnings)
    assert result.extra["oom_retry"]["changed"] == {"batch_size": 4}
    assert result.extra["oom_retry"]["first_error"].startswith("Out of memory")
    assert "batch_size=4" in result.command
    assert ballast.alive() == 0  # the failed attempt's tensors were released


def test_out_of_memory_retries_maml_first_order(queue, csv_file, monkeypatch) -> None:
    from metacore.methods.maml import Maml

    configs, ballast = _oom_when(monkeypatch, Maml, lambda c: not c.first_order)
    maml = plan(csv_file, "maml", {"meta_episodes": 1, "n_way": 3, "k_shot": 2, "n_query": 2,
                                   "val_episodes": 0, "inner_steps": 1, "adapt": "head"},
                shots=(6,))
    view = queue.wait(queue.submit(maml), TIMEOUT)
    assert view.state == "completed", view.error
    assert [c["first_order"] for c in configs] == [False, True]
    assert any("first-order MAML" in w for w in view.result.warnings)
    assert ballast.alive() == 0


def test_out_of_memory_twice_fails_and_the_worker_goes_on(queue, csv_file, monkeypatch) -> None:
    from metacore.methods.finetune import FullFinetune

    configs, ballast = _oom_when(monkeypatch, FullFinetune, lambda c: True)
    bad, good = queue.submit(finetune(csv_file, batch_size=8)), queue.submit(tfidf(csv_file))
    view = queue.wait(bad, TIMEOUT)
    assert view.state == "failed" and view.error.startswith("Out of memory: CUDA out of memory")
    assert len(configs) == 2  # one retry, not more
    assert any("retried with batch size 4" in w for w in view.result.warnings)
    assert queue.wait(good, TIMEOUT).state == "completed"
    assert ballast.alive() == 0


# --- a bad model folder --------------------------------------------------------------------------
def test_bad_model_folders_fail_cleanly(queue, csv_file, tmp_path) -> None:
    empty = tmp_path / "empty-model"
    empty.mkdir()
    pickled = tmp_path / "pickled-model"
    pickled.mkdir()
    from metacore.backbones import tiny_backbone

    tiny_backbone().model.config.save_pretrained(pickled)
    (pickled / "pytorch_model.bin").write_bytes(b"not even a pickle")
    ids = [queue.submit(plan(csv_file, "linear-probe", backbone=str(folder)))
           for folder in (empty, pickled)]
    good = queue.submit(tfidf(csv_file))
    errors = [queue.wait(run_id, TIMEOUT).error for run_id in ids]
    assert "has no config.json" in errors[0]
    assert "has no model.safetensors" in errors[1] and "pickled" in errors[1]
    assert all(queue.store.get(r).status == "failed" for r in ids)
    assert queue.wait(good, TIMEOUT).state == "completed"


# --- atomic model saving -------------------------------------------------------------------------
class HalfSaver:
    """A method whose save writes a first file and then crashes (or not)."""

    def __init__(self, crash: bool, tag: str = "new") -> None:
        self.crash, self.tag = crash, tag

    def save(self, directory) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True)
        (directory / "config.json").write_text(self.tag)
        if self.crash:
            raise OSError("No space left on device")
        (directory / "model.safetensors").write_text(self.tag)
        return directory


def test_model_save_is_all_or_nothing(tmp_path: Path) -> None:
    final = tmp_path / "run" / "model"
    with pytest.raises(OSError):
        save_model_atomic(HalfSaver(crash=True), final)
    assert not final.exists() and list((tmp_path / "run").iterdir()) == []
    save_model_atomic(HalfSaver(crash=False, tag="v1"), final)
    with pytest.raises(OSError):
        save_model_atomic(HalfSaver(crash=True), final)
    assert (final / "model.safetensors").read_text() == "v1"  # the old model is intact
    save_model_atomic(HalfSaver(crash=False, tag="v2"), final)
    assert (final / "model.safetensors").read_text() == "v2"
    assert sorted(p.name for p in final.parent.iterdir()) == ["model"]  # no leftovers


def test_leftovers_of_a_killed_save_are_cleaned(tmp_path: Path) -> None:
    final = tmp_path / "model"
    (tmp_path / ".model.tmp-deadbeef").mkdir()  # what SIGKILL during a save leaves
    (tmp_path / ".model.tmp-deadbeef" / "config.json").write_text("{}")
    save_model_atomic(HalfSaver(crash=False), final)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_failed_model_save_is_a_warning_not_a_broken_model(csv_file, tmp_path,
                                                           monkeypatch) -> None:
    from metacore.methods.tfidf import TfidfLogreg

    def broken_save(self, directory):
        Path(directory).mkdir(parents=True)
        (Path(directory) / "metacore.json").write_text("{}")
        raise OSError("No space left on device")

    monkeypatch.setattr(TfidfLogreg, "save", broken_save)
    result = run(plan(csv_file, "tfidf-logreg", save_model=True, out=str(tmp_path / "out")))
    assert result.status == "completed"
    assert any("could not be saved" in w for w in result.warnings)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["result.json"]


# --- an artifact folder that cannot be written ----------------------------------------------------
def _refuse_writes(monkeypatch) -> None:
    """Every result and journal write fails as on a read-only folder (what chmod does for a
    user that is not root; root ignores chmod, so this is the path that always runs)."""

    def refuse(path, text):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("metacore.runs.result.write_atomic", refuse)  # the runner's files
    monkeypatch.setattr("metacore.runs.store.write_atomic", refuse)  # the store's copy


def _check_failed_then_goes_on(queue, csv_file, bad: str) -> None:
    view = queue.wait(bad, TIMEOUT)
    assert view.state == "failed"
    [row] = [s for s in queue.store.list_runs() if s.run_id == bad]
    assert row.status == "failed"  # never left "running"
    assert "could not be written" in row.error or "Permission denied" in row.error
    assert "Traceback" not in row.error and row.error == view.error


def test_unwritable_results_fail_the_row_and_the_worker_goes_on(queue, csv_file,
                                                                monkeypatch) -> None:
    _refuse_writes(monkeypatch)
    bad = queue.submit(tfidf(csv_file))
    _check_failed_then_goes_on(queue, csv_file, bad)
    assert queue.store.list_runs()[0].error.startswith(
        "The run finished but its files could not be written to")
    monkeypatch.undo()
    good = queue.submit(tfidf(csv_file))
    assert queue.wait(good, TIMEOUT).state == "completed"
    assert queue.store.get(good).metrics["accuracy"] >= 0


def test_an_artifact_folder_that_cannot_be_made_fails_the_run_clearly(queue, csv_file,
                                                                     monkeypatch) -> None:
    def refuse(self, run_id):  # mkdir in a read-only artifacts/ (simulated: root ignores chmod)
        raise PermissionError(13, "Permission denied", str(self.root / "artifacts" / run_id))

    monkeypatch.setattr(RunStore, "artifact_dir", refuse)
    bad = queue.submit(tfidf(csv_file))
    _check_failed_then_goes_on(queue, csv_file, bad)
    assert queue.store.list_runs()[0].error.endswith(
        "cannot be written; check the folder's permissions.")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root ignores chmod; the simulated test above covers this case")
def test_read_only_artifact_folder_for_real(queue, csv_file) -> None:
    artifacts = queue.store.root / "artifacts"
    artifacts.chmod(0o555)
    try:
        bad = queue.submit(tfidf(csv_file))
        _check_failed_then_goes_on(queue, csv_file, bad)
    finally:
        artifacts.chmod(0o755)
    good = queue.submit(tfidf(csv_file))
    assert queue.wait(good, TIMEOUT).state == "completed"
