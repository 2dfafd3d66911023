"""JobQueue: FIFO per device, live job views, stop, failures that leave the worker alive."""

from __future__ import annotations

import csv
import random
import threading
import time
from pathlib import Path

import pytest

from metacore.api import RunSpec
from metacore.runs.result import RunResult
from metacore.runs.store import RunStore
from metacore.worker import JobQueue

TIMEOUT = 60.0
WORDS = {
    "sports": "football goal match team coach league score player",
    "weather": "rain sunny cloud storm forecast wind snow thunder",
    "finance": "stock market bank profit shares investor dividend bond",
}


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> str:
    """A small separable CSV: 3 classes x 12 texts."""
    path = tmp_path_factory.mktemp("data") / "news.csv"
    rng = random.Random(0)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for label, words in WORDS.items():
            for _ in range(12):
                writer.writerow([" ".join(rng.choice(words.split()) for _ in range(6)), label])
    return str(path)


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "home")


@pytest.fixture
def make_queue(store: RunStore):
    """JobQueues on the test's store, shut down afterwards so no worker thread lingers."""
    queues: list[JobQueue] = []

    def make(**kwargs) -> JobQueue:
        queues.append(JobQueue(store, **kwargs))
        return queues[-1]

    yield make
    for queue in queues:
        queue.shutdown(wait=False)


def tfidf(data: str, **kwargs) -> RunSpec:
    return RunSpec(**{"data": data, "method": "tfidf-logreg", "device": "cpu", **kwargs})


def probe(data: str) -> RunSpec:
    return RunSpec(data=data, method="linear-probe", backbone="tiny", device="cpu")


class GatedLoader:
    """A backbone loader that holds every run at "loading backbone" until ``release()``."""

    def __init__(self) -> None:
        self.gate = threading.Event()

    def __call__(self, name: str, allow_download: bool):
        from metacore.backbones import load_backbone

        assert self.gate.wait(TIMEOUT)
        return load_backbone(name, allow_download=allow_download)

    def release(self) -> None:
        self.gate.set()


def wait_for(condition, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_run_completes_and_is_stored(make_queue, store: RunStore, data_file: str) -> None:
    queue = make_queue()
    run_id = queue.submit(tfidf(data_file), owner="ana", group="g1")
    view = queue.wait(run_id, TIMEOUT)
    assert (view.state, view.position, view.error) == ("completed", -1, None)
    assert view.result is not None and view.result.metrics["accuracy"] > 0.5
    stored = store.get(run_id)
    assert stored.status == "completed" and stored.metrics == view.result.metrics
    assert "--out" not in stored.command  # the artifact folder is an app detail
    assert (store.artifact_dir(run_id) / "model" / "metacore.json").exists()
    [summary] = store.list_runs(owner="ana")
    assert (summary.run_id, summary.group) == (run_id, "g1")
    assert [j.run_id for j in queue.jobs(group="g1")] == [run_id]


def test_fifo_order_and_positions(make_queue, store: RunStore, data_file: str) -> None:
    loader = GatedLoader()
    queue = make_queue(backbone_loader=loader, save_models=False)
    first = queue.submit(probe(data_file))
    second, third = queue.submit(tfidf(data_file)), queue.submit(tfidf(data_file, seed=1))
    wait_for(lambda: queue.job(first).phase == "loading backbone")
    assert [(queue.job(r).state, queue.job(r).position) for r in (first, second, third)] == [
        ("running", 0), ("queued", 1), ("queued", 2)]
    assert store.get(second).status == "queued"
    loader.release()
    views = [queue.wait(r, TIMEOUT) for r in (first, second, third)]
    assert [v.state for v in views] == ["completed"] * 3
    # one device, one run at a time, in submission order
    assert views[0].finished <= views[1].started <= views[1].finished <= views[2].started
    assert [j.run_id for j in queue.jobs()] == [first, second, third]


def test_stop_queued_job_and_only_its_owner(make_queue, store: RunStore, data_file: str) -> None:
    loader = GatedLoader()
    queue = make_queue(backbone_loader=loader, save_models=False)
    running = queue.submit(probe(data_file), owner="ana")
    waiting = queue.submit(tfidf(data_file), owner="ana")
    assert queue.stop(waiting, owner="bo") is False
    assert queue.stop(waiting, owner="ana") is True
    view = queue.wait(waiting, TIMEOUT)
    assert (view.state, view.position) == ("stopped", -1)
    assert store.get(waiting).status == "stopped"
    assert queue.stop(waiting) is False  # already finished
    assert queue.stop("unknown") is False
    loader.release()
    assert queue.wait(running, TIMEOUT).state == "completed"


def test_stop_running_job_keeps_partial_result(make_queue, store: RunStore,
                                               data_file: str) -> None:
    queue = make_queue(save_models=False)
    spec = RunSpec(data=data_file, method="full-finetune", backbone="tiny", device="cpu",
                   method_config={"epochs": 1000, "batch_size": 4, "patience": 0})
    run_id = queue.submit(spec, owner="ana")
    wait_for(lambda: len(queue.job(run_id).steps) >= 1)
    job = queue.job(run_id)
    assert job.total_steps > 1 and job.steps[0]["kind"] == "StepEnded"
    assert queue.stop(run_id, owner="bo") is False
    assert queue.stop(run_id, owner="ana") is True
    view = queue.wait(run_id, TIMEOUT)
    assert view.state == "stopped" and view.result is not None
    assert view.result.status == "stopped" and view.result.metrics  # scored on the test set
    assert len(view.result.history["steps"]) < job.total_steps
    assert store.get(run_id).status == "stopped"


def test_failures_leave_the_worker_alive(make_queue, store: RunStore, data_file: str,
                                         tmp_path: Path) -> None:
    def broken_loader(name: str, allow_download: bool):
        raise RuntimeError("loader exploded")

    queue = make_queue(backbone_loader=broken_loader, save_models=False)
    missing = queue.submit(tfidf(str(tmp_path / "missing.csv")))
    crash = queue.submit(probe(data_file))
    good = queue.submit(tfidf(data_file))
    view = queue.wait(missing, TIMEOUT)
    assert view.state == "failed" and "missing.csv" in view.error
    assert store.get(missing).error == view.error
    assert queue.wait(crash, TIMEOUT).error == "RuntimeError: loader exploded"
    assert queue.wait(good, TIMEOUT).state == "completed"


def test_input_error_becomes_failed_result(make_queue, store: RunStore, data_file: str) -> None:
    queue = make_queue()
    run_id = queue.submit(RunSpec(data=data_file, method="no-such-method", device="cpu"))
    view = queue.wait(run_id, TIMEOUT)
    assert view.state == "failed" and view.error.startswith("Unknown method")
    assert view.result.command.startswith("metacore run")
    bad_device = queue.wait(queue.submit(tfidf(data_file, device="tpu")), TIMEOUT)
    assert bad_device.state == "failed" and "Unknown device" in bad_device.error


def test_out_of_memory_retries_with_half_batch(make_queue, store: RunStore, monkeypatch) -> None:
    calls: list[RunSpec] = []

    def fake_run(spec: RunSpec, **kwargs) -> RunResult:
        calls.append(spec)
        failed = len(calls) == 1
        return RunResult(run_id=kwargs["run_id"], method=spec.method, backbone="tiny",
                         protocol="adapt", status="failed" if failed else "completed",
                         error="Out of memory: CUDA out of memory." if failed else None,
                         config={"run": spec.to_dict()}, command=spec.to_command())

    monkeypatch.setattr("metacore.worker.run_experiment", fake_run)
    queue = make_queue(backbone_loader=lambda name, download: None)
    spec = RunSpec(data="d.csv", method="full-finetune", device="cpu",
                   method_config={"batch_size": 8})
    view = queue.wait(queue.submit(spec), TIMEOUT)
    assert view.state == "completed"
    assert [c.method_config["batch_size"] for c in calls] == [8, 4]
    assert calls[0].out is not None and calls[0].save_model  # saved into the artifact folder
    assert any("batch size 4" in w for w in view.result.warnings)
    assert "--out" not in view.result.command and "batch_size=4" in view.result.command


def test_shutdown_cancels_queued_jobs(make_queue, store: RunStore, data_file: str) -> None:
    loader = GatedLoader()
    queue = make_queue(backbone_loader=loader, save_models=False)
    running, waiting = queue.submit(probe(data_file)), queue.submit(tfidf(data_file))
    wait_for(lambda: queue.job(running).state == "running")
    queue.shutdown(wait=False)
    assert queue.wait(waiting, TIMEOUT).state == "stopped"
    loader.release()
    assert queue.wait(running, TIMEOUT).state in {"stopped", "completed"}
    with pytest.raises(RuntimeError):
        queue.submit(tfidf(data_file))


def test_episodic_job_runs_in_the_same_queue(make_queue, store: RunStore, data_file: str,
                                             tmp_path: Path) -> None:
    from metacore.episodic import EpisodicSpec, prepare_episodic
    from tests.conftest import VOCAB

    path, rng = tmp_path / "five.csv", random.Random(1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for label, words in {**VOCAB, "music": "guitar song album band drum"}.items():
            for _ in range(8):
                writer.writerow([" ".join(rng.choice(words.split()) for _ in range(6)), label])
    split = "meta_train=sports,weather;meta_val=food;novel=finance,music"
    spec = EpisodicSpec(data=str(path), method="protonet", backbone="tiny", n_way=2, k_shot=2,
                        n_query=3, meta_train_episodes=3, test_episodes=4,
                        classes_split=split, device="cpu", method_config={"val_episodes": 1})
    data = prepare_episodic(spec)
    queue = make_queue()
    first = queue.submit(tfidf(data_file), owner="ana")  # FIFO with adapt runs
    proto = queue.submit(spec, owner="ana", group="ep", prepared=data)
    tuned = queue.submit(EpisodicSpec(**{**spec.to_dict(), "method": "full-finetune",
                                         "method_config": {"epochs": 2}}), prepared=data)
    views = [queue.wait(r, TIMEOUT) for r in (first, proto, tuned)]
    assert [v.state for v in views] == ["completed"] * 3
    assert views[0].finished <= views[1].started and views[1].finished <= views[2].started
    view = views[1]
    assert view.result.protocol == "episodic" and view.result.metrics["episodes"] == 4
    assert len(view.steps) == 3  # meta-training episodes only
    assert view.testing == {"episode": 4, "total": 4, "accuracy": pytest.approx(
        view.result.metrics["accuracy_mean"])}
    # fine-tuning on each support set is not the training curve
    assert views[2].steps == [] and views[2].testing["episode"] == 4
    assert store.get(proto).protocol == "episodic"
    assert store.get(proto).command.startswith("metacore episodic")
    [summary] = [s for s in store.list_runs() if s.run_id == proto]
    assert summary.protocol == "episodic" and summary.accuracy is not None
    bad = EpisodicSpec(**{**spec.to_dict(), "n_way": 3})  # 2 novel classes: infeasible
    failed = queue.wait(queue.submit(bad), TIMEOUT)
    assert failed.state == "failed" and "3-way" in failed.error
    assert store.get(failed.run_id).protocol == "episodic"
