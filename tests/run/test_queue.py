"""JobQueue: FIFO per device, live job views, stop, failures that leave the worker alive,
idempotent submission of plans and tasks."""

from __future__ import annotations

import csv
import dataclasses
import random
import threading
import time
from pathlib import Path

import pytest

from metacore.plan import DataSource, EpisodeShape, ExperimentPlan, legacy_dict
from metacore.plan.command import to_command
from metacore.run import prepare
from metacore.run.queue import JobQueue
from metacore.runs.result import RunResult
from metacore.runs.store import RunStore

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


def plan(data: str, method: str = "tfidf-logreg", settings: dict | None = None,
         **kwargs) -> ExperimentPlan:
    values = {"device": "cpu", "backbone": "tiny", **kwargs}
    return ExperimentPlan(methods={method: settings or {}}, data=DataSource(path=data),
                          **values)


def tfidf(data: str, **kwargs) -> ExperimentPlan:
    return plan(data, **kwargs)


def probe(data: str) -> ExperimentPlan:
    return plan(data, "linear-probe")


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


def loading(queue: JobQueue, job_id: str) -> bool:
    return queue.job(job_id).phase.code == "phase.loading_backbone"


def test_run_completes_and_is_stored(make_queue, store: RunStore, data_file: str) -> None:
    queue = make_queue()
    run_id = queue.submit(tfidf(data_file), owner="ana", group="g1")
    view = queue.wait(run_id, TIMEOUT)
    assert (view.state, view.position, view.error) == ("completed", -1, None)
    assert view.kind == "run" and view.method == "tfidf-logreg" and view.run_id == run_id
    assert view.result is not None and view.result.metrics["accuracy"] > 0.5
    stored = store.get(run_id)
    assert stored.status == "completed" and stored.metrics == view.result.metrics
    assert "--out" not in stored.command  # the artifact folder is an app detail
    assert "--save-model" not in stored.command  # so is the model the app keeps
    assert stored.command == to_command(tfidf(data_file))
    assert (store.artifact_dir(run_id) / "model" / "metacore.json").exists()
    [summary] = store.list_runs(owner="ana")
    assert (summary.run_id, summary.group) == (run_id, "g1")
    assert [j.run_id for j in queue.jobs(group="g1")] == [run_id]


def test_fifo_order_and_positions(make_queue, store: RunStore, data_file: str) -> None:
    loader = GatedLoader()
    queue = make_queue(backbone_loader=loader, save_models=False)
    first = queue.submit(probe(data_file))
    second, third = queue.submit(tfidf(data_file)), queue.submit(tfidf(data_file, seeds=(1,)))
    wait_for(lambda: loading(queue, first))
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
    slow = plan(data_file, "full-finetune", {"epochs": 1000, "batch_size": 4, "patience": 0})
    run_id = queue.submit(slow, owner="ana")
    wait_for(lambda: len(queue.job(run_id).steps) >= 1)
    job = queue.job(run_id)
    assert job.total_steps > 1 and job.steps[0]["kind"] == "StepEnded"
    assert job.phase.code == "phase.training"
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
    assert view.error_message is not None and str(view.error_message) == view.error
    assert store.get(missing).error == view.error
    assert queue.wait(crash, TIMEOUT).error == "RuntimeError: loader exploded"
    assert queue.wait(good, TIMEOUT).state == "completed"


def test_input_error_becomes_failed_result(make_queue, store: RunStore, data_file: str) -> None:
    import torch

    # a plan checks its methods and settings when it is made: nothing bad reaches the queue
    with pytest.raises(ValueError, match="Unknown method"):
        plan(data_file, "no-such-method")
    queue = make_queue()
    bad_backbone = queue.wait(queue.submit(plan(data_file, "linear-probe",
                                                backbone="no-such-backbone")), TIMEOUT)
    assert bad_backbone.state == "failed" and "no-such-backbone" in bad_backbone.error
    assert "Traceback" not in bad_backbone.error
    assert bad_backbone.result.command.startswith("metacore run")
    assert store.get(bad_backbone.run_id).status == "failed"
    if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        missing_device = queue.wait(queue.submit(tfidf(data_file, device="mps")), TIMEOUT)
        assert missing_device.state == "failed"
        assert "Apple MPS was requested but is not available" in missing_device.error
        assert store.get(missing_device.run_id).status == "failed"


def test_out_of_memory_retries_with_half_batch(make_queue, store: RunStore, monkeypatch) -> None:
    calls: list[tuple[ExperimentPlan, dict]] = []

    def fake_run(plan: ExperimentPlan, which=None, **kwargs) -> RunResult:
        calls.append((plan, kwargs))
        failed = len(calls) == 1
        return RunResult(run_id=kwargs["run_id"], method=which.method, backbone="tiny",
                         protocol="adapt", status="failed" if failed else "completed",
                         error="Out of memory: CUDA out of memory." if failed else None,
                         config={"run": legacy_dict(plan), "plan": plan.to_dict()},
                         command=to_command(plan))

    monkeypatch.setattr("metacore.run.runner.run", fake_run)
    queue = make_queue(backbone_loader=lambda name, download: None)
    view = queue.wait(queue.submit(plan("d.csv", "full-finetune", {"batch_size": 8})), TIMEOUT)
    assert view.state == "completed"
    assert [p.methods["full-finetune"]["batch_size"] for p, _ in calls] == [8, 4]
    first_plan, first_kwargs = calls[0]
    assert first_kwargs["out"] is not None and first_plan.save_model  # the artifact folder
    assert any("batch size 4" in w for w in view.result.warnings)
    assert "--out" not in view.result.command and "batch_size=4" in view.result.command
    assert "--save-model" not in view.result.command


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
    from tests.conftest import VOCAB

    path, rng = tmp_path / "five.csv", random.Random(1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for label, words in {**VOCAB, "music": "guitar song album band drum"}.items():
            for _ in range(8):
                writer.writerow([" ".join(rng.choice(words.split()) for _ in range(6)), label])
    split = "meta_train=sports,weather;meta_val=food;novel=finance,music"
    unseen = ExperimentPlan(
        methods={"protonet": {"val_episodes": 1}}, protocol="episodic", backbone="tiny",
        data=DataSource(path=str(path), classes_split=split), device="cpu",
        episodes=EpisodeShape(n_way=2, k_shot=2, n_query=3, test_episodes=4, meta_episodes=3))
    data = prepare(unseen)
    queue = make_queue()
    first = queue.submit(tfidf(data_file), owner="ana")  # FIFO with adapt runs
    proto = queue.submit(unseen, owner="ana", group="ep", prepared=data)
    tuned = queue.submit(dataclasses.replace(unseen, methods={"full-finetune": {"epochs": 2}}),
                         prepared=data)
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
    bad = dataclasses.replace(unseen, episodes=EpisodeShape(n_way=3, k_shot=2, n_query=3,
                                                            test_episodes=4))
    failed = queue.wait(queue.submit(bad), TIMEOUT)  # 2 novel classes: infeasible
    assert failed.state == "failed" and "3-way" in failed.error
    assert store.get(failed.run_id).protocol == "episodic"


# --- submitting a plan: idempotent while its runs are active -----------------------------------
def test_the_same_plan_twice_while_queued_queues_nothing_new(make_queue, store: RunStore,
                                                             data_file: str) -> None:
    loader = GatedLoader()
    queue = make_queue(backbone_loader=loader, save_models=False)
    blocker = queue.submit(probe(data_file))  # holds the worker
    wait_for(lambda: loading(queue, blocker))
    compare = tfidf(data_file, seeds=(0, 1))
    first = queue.submit_plan(compare, owner="ana")
    assert first.new and len(first.run_ids) == 2
    assert [queue.job(r).group for r in first.run_ids] == [first.group] * 2
    assert [queue.job(r).run.seed for r in first.run_ids] == [0, 1]  # in plan.runs() order
    assert queue.group_plan(first.group) == compare
    before = len(queue.jobs())
    again = queue.submit_plan(ExperimentPlan.from_json(compare.to_json()), owner="ana")
    assert (again.new, again.group, again.run_ids) == (False, first.group, first.run_ids)
    assert len(queue.jobs()) == before
    assert len([s for s in store.list_runs() if s.status == "queued"]) == 2
    other = queue.submit_plan(compare, owner="bo")  # another person's runs are their own
    assert other.new and set(other.run_ids).isdisjoint(first.run_ids)
    assert len(queue.jobs(owner="bo")) == 2
    different = queue.submit_plan(tfidf(data_file, seeds=(0, 2)), owner="ana")
    assert different.new and set(different.run_ids).isdisjoint(first.run_ids)
    loader.release()
    for run_id in [blocker, *first.run_ids, *other.run_ids, *different.run_ids]:
        assert queue.wait(run_id, TIMEOUT).state == "completed"
    later = queue.submit_plan(compare, owner="ana")  # its runs ended: a new submission
    assert later.new and set(later.run_ids).isdisjoint(first.run_ids)
    assert [queue.wait(r, TIMEOUT).state for r in later.run_ids] == ["completed"] * 2


def test_a_data_error_raises_before_anything_is_queued(make_queue, data_file: str,
                                                       tmp_path: Path) -> None:
    queue = make_queue(save_models=False)
    missing = tfidf(str(tmp_path / "missing.csv"))
    with pytest.raises(FileNotFoundError):
        queue.submit_plan(missing, owner="ana", prepared=lambda run: prepare(missing, run))
    assert queue.jobs() == []
    compare = tfidf(data_file, seeds=(0, 1))
    made = []

    def prepared(run):
        made.append(run)
        return prepare(compare, run)

    submission = queue.submit_plan(compare, owner="ana", prepared=prepared)
    assert [r.seed for r in made] == [0, 1]
    assert [queue.wait(r, TIMEOUT).state for r in submission.run_ids] == ["completed"] * 2


# --- tasks: any other background work, in the same queue -------------------------------------
def test_a_task_with_the_same_key_is_shared(make_queue) -> None:
    queue = make_queue()
    calls = []
    gate = threading.Event()

    def work(report):
        calls.append(1)
        report.progress(1, 2)
        assert gate.wait(TIMEOUT)
        report.partial.append("half")
        report.progress(2)
        return 42

    first = queue.submit_task("brief-meta-training", work, label="brief", owner="ana")
    second = queue.submit_task("brief-meta-training", work, owner="bo")
    assert second == first
    wait_for(lambda: queue.job(first).done == 1)
    view = queue.job(first)
    assert (view.kind, view.state, view.total, view.label) == ("task", "running", 2, "brief")
    assert view.fraction == 0.5
    gate.set()
    done = queue.wait(first, TIMEOUT)
    assert (done.state, done.value, done.done, done.partial) == ("completed", 42, 2, ["half"])
    assert queue.submit_task("brief-meta-training", work) == first  # done: still shared
    assert calls == [1]
    assert queue.task("brief-meta-training").job_id == first
    assert [j.job_id for j in queue.jobs(kind="task")] == [first]
    queue.forget(first)
    fresh = queue.submit_task("brief-meta-training", work)
    assert fresh != first and queue.wait(fresh, TIMEOUT).value == 42 and calls == [1, 1]


def test_a_task_waits_behind_a_run_on_the_same_device(make_queue, data_file: str) -> None:
    loader = GatedLoader()
    queue = make_queue(backbone_loader=loader, save_models=False)
    running = queue.submit(probe(data_file))
    wait_for(lambda: loading(queue, running))
    task = queue.submit_task("sweep", lambda report: "done", device="cpu")
    view = queue.job(task)
    assert (view.state, view.position, view.device) == ("queued", 1, queue.job(running).device)
    assert queue.job(running).position == 0
    loader.release()
    finished = queue.wait(task, TIMEOUT)
    assert (finished.state, finished.value, finished.position) == ("completed", "done", -1)
    assert finished.started >= queue.wait(running, TIMEOUT).finished


def test_a_failing_task_ends_failed_and_the_worker_goes_on(make_queue, data_file: str) -> None:
    queue = make_queue(save_models=False)

    def broken(report):
        raise RuntimeError("sweep exploded")

    bad = queue.submit_task("broken", broken, device="cpu")
    good_task = queue.submit_task("fine", lambda report: 7, device="cpu")
    good_run = queue.submit(tfidf(data_file))
    view = queue.wait(bad, TIMEOUT)
    assert (view.state, view.error, view.value) == ("failed", "RuntimeError: sweep exploded",
                                                    None)
    assert view.error_message.code == "run.error.crash"
    assert queue.wait(good_task, TIMEOUT).value == 7
    assert queue.wait(good_run, TIMEOUT).state == "completed"
    # a failed task is not shared: the same key runs again
    again = queue.submit_task("broken", lambda report: "fixed", device="cpu")
    assert again != bad and queue.wait(again, TIMEOUT).value == "fixed"
