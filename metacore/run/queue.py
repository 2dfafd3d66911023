"""The one queue: every job of the app (comparison runs, K-shot sweeps, the teaching pages'
meta-training) waits here for its device, one job per device at a time.

Two kinds of job share it. A *run* is one ``PlannedRun`` of an ``ExperimentPlan``, run by
``metacore.run.run`` and recorded in the ``RunStore`` (History lists it). A *task* is any other
background computation (``submit_task``: a sweep over many small runs, a brief meta-training)
that reports progress through a ``TaskReport`` and keeps its result in memory.

Submitting is idempotent: a plan submitted again by the same owner while its runs are still
queued or running returns those runs (a double click, or a page rerun, queues nothing new); a
task submitted again with the key of one that is waiting, running or done returns that one, so
twenty learners asking for the same brief meta-training share one.

The page polls ``job(id)`` snapshots; the worker never calls Streamlit (Streamlit's threading
guide: only the script thread may). Runs on one device wait their turn, because two trainings
on one GPU compete for its memory and both slow down. Every run ends as a ``RunResult`` in the
store: input errors and crashes become "failed" results, never an exception that would kill
the worker thread.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from metacore.messages import Message, msg
from metacore.plan import ExperimentPlan, PlannedRun
from metacore.plan.command import to_command
from metacore.run.runner import describe_error, fail, free_memory, new_run_id, warn
from metacore.runs.result import RunResult, library_versions
from metacore.runs.store import RunStore
from metacore.training.events import (
    Evaluated,
    Event,
    PhaseChanged,
    RunControl,
    RunEnded,
    RunStarted,
    StepEnded,
    event_to_dict,
)

FINISHED = ("completed", "stopped", "failed", "interrupted")
REMOTE = "remote"  # the queue of runs that a remote runner (Ray) executes
ACTIVE = ("queued", "running")
# Finished jobs kept in memory for polling; older ones live on in the store only.
MAX_FINISHED_JOBS = 200

BackboneLoader = Callable[[str, bool], Any]


@dataclass
class JobView:
    """A snapshot of one job, safe to read from any thread (the worker never touches it).

    ``kind`` is "run" or "task". Runs have ``plan`` (the single run's plan), ``run`` and, when
    finished, ``result``; tasks have ``done``/``total``, ``message``, ``partial`` (what they
    produced so far) and ``value`` (their result).
    """

    job_id: str
    kind: str
    owner: str
    group: str
    label: str  # the method of a run; what a task computes
    state: str  # queued | running | completed | stopped | failed | interrupted
    position: int  # 0 = running now, k = k-th waiting in its device queue, -1 = finished
    phase: Message
    steps: list[dict]
    evals: list[dict]
    total_steps: int
    result: RunResult | None
    error: str | None
    error_message: Message | None
    plan: ExperimentPlan | None
    run: PlannedRun | None
    submitted: float
    started: float | None
    finished: float | None
    device: str = ""
    testing: dict = field(default_factory=dict)  # episodic runs: episode, total, accuracy
    done: int = 0
    total: int = 0
    partial: list[Any] = field(default_factory=list)
    value: Any = None
    estimate_s: float | None = None

    @property
    def run_id(self) -> str:
        return self.job_id

    @property
    def method(self) -> str:
        return self.label

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.time()) - self.started


@dataclass
class TaskReport:
    """What a task's function writes while it works (read through ``JobQueue.job``)."""

    control: RunControl
    done: int = 0
    total: int = 0
    message: Message = field(default_factory=lambda: msg("phase.starting"))
    partial: list[Any] = field(default_factory=list)

    def progress(self, done: int, total: int | None = None,
                 message: Message | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if message is not None:
            self.message = message


@dataclass
class _Job:
    """The worker's mutable record of a job; read and written only under the queue's lock."""

    job_id: str
    kind: str
    owner: str
    group: str
    label: str
    device: str
    plan: ExperimentPlan | None = None
    run: PlannedRun | None = None
    prepared: Any = None
    work: Callable[[TaskReport], Any] | None = None
    key: str = ""
    control: RunControl = field(default_factory=RunControl)
    state: str = "queued"
    phase: Message = field(default_factory=lambda: msg("phase.queued"))
    steps: list[dict] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)
    total_steps: int = 0
    testing: dict = field(default_factory=dict)
    result: RunResult | None = None
    error: Message | None = None
    report: TaskReport | None = None
    value: Any = None
    estimate_s: float | None = None
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None


@dataclass(frozen=True)
class Submission:
    """What ``submit_plan`` queued (or found already queued: ``new`` is False)."""

    group: str
    run_ids: list[str]
    new: bool


def _default_loader(name: str, allow_download: bool) -> Any:
    from metacore.backbones import load_backbone

    return load_backbone(name, allow_download=allow_download)


class JobQueue:
    """FIFO jobs, one worker thread per device, run results recorded in a ``RunStore``.

    Args:
        store: Where queued rows and results go; ``None`` keeps jobs in memory only. Given a
            store, rows left queued or running by an earlier process are marked interrupted.
        backbone_loader: ``(spec, allow_download) -> Backbone``; the default is
            ``metacore.backbones.load_backbone``, cached per process.
        save_models: Save each run's model into ``store.artifact_dir(run_id)/model`` when its
            plan has no ``out`` of its own.
        retention: Apply the store's retention policy (``metacore.runs.retention``: models
            and uploads by age and quota) at start and after each run.
        remote: Run the runs elsewhere (``metacore.run.ray_backend.RayRunner``: Ray tasks on
            a cluster), ``remote.slots`` of them at once from one queue, instead of one per
            device in this process. Tasks still run here. A remote run reports its result
            when it ends, not its live steps.
    """

    def __init__(self, store: RunStore | None = None, *,
                 backbone_loader: BackboneLoader | None = None, save_models: bool = True,
                 retention: bool = True, remote: Any = None) -> None:
        self.store = store
        self.remote = remote
        self.retention = retention
        self.backbone_loader = backbone_loader or _default_loader
        self.save_models = save_models
        self._cond = threading.Condition()
        self._jobs: dict[str, _Job] = {}
        self._queues: dict[str, deque[str]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._groups: dict[str, tuple[str, str, list[str]]] = {}  # key -> (owner, group, ids)
        self._plans: dict[str, ExperimentPlan] = {}  # group -> the plan it runs
        self._closed = False
        if store is not None:
            store.mark_interrupted()
            self._apply_retention()

    # --- submitting ---------------------------------------------------------------------------
    def submit_plan(self, plan: ExperimentPlan, *, owner: str = "",
                    prepared: Callable[[PlannedRun], Any] | None = None,
                    estimates: Sequence[float | None] | None = None) -> Submission:
        """Queue every run of ``plan`` (in ``plan.runs()`` order) as one group.

        The same plan from the same owner while any of its runs is still queued or running
        returns those runs instead of queueing them again. ``prepared(run)`` gives each run's
        data (called here, so a data error raises before anything is queued); ``estimates``
        the expected seconds of each run, for the page's time left.
        """
        key = f"{owner}|{plan.key()}"
        with self._cond:
            found = self._groups.get(key)
            if found and any(self._jobs[i].state in ACTIVE for i in found[2] if i in self._jobs):
                return Submission(found[1], list(found[2]), new=False)
        runs = plan.runs()
        data = [prepared(r) if prepared is not None else None for r in runs]
        group = datetime.now().strftime(f"{plan.kind}-%Y%m%d-%H%M%S-") + new_run_id()[-4:]
        ids = [self.submit(plan, r, owner=owner, group=group, prepared=d,
                           estimate_s=None if estimates is None else estimates[i])
               for i, (r, d) in enumerate(zip(runs, data, strict=True))]
        with self._cond:
            self._groups[key] = (owner, group, ids)
            self._plans[group] = plan
        return Submission(group, ids, new=True)

    def submit(self, plan: ExperimentPlan, run: PlannedRun | None = None, *, owner: str = "",
               group: str = "", prepared: Any = None, estimate_s: float | None = None) -> str:
        """Queue one run of ``plan`` (default: its only one) and return its id. A device that
        is not available fails the job at once (as a "failed" result) rather than raising."""
        run = run or plan.runs()[0]
        single = plan.only(run)
        device, device_error = (REMOTE, None) if self.remote is not None else \
            _device_key(plan.device)
        job = _Job(job_id=new_run_id(), kind="run", owner=owner, group=group,
                   label=run.method, device=device, plan=single, run=run, prepared=prepared,
                   estimate_s=estimate_s)
        self._record(lambda store: store.record_queued(job.job_id, single, owner=owner,
                                                       group=group), job)
        self._enqueue(job, device_error)
        if device_error is not None:
            self._finish(job, _ended_result(job, "failed", device_error))
        return job.job_id

    def submit_task(self, key: str, work: Callable[[TaskReport], Any], *, label: str = "",
                    owner: str = "", group: str = "", device: str = "auto",
                    estimate_s: float | None = None) -> str:
        """Queue ``work(report)`` unless a task with ``key`` is waiting, running or done (then
        return that one). It runs in the device's queue like any run; its return value is
        the job's ``value``."""
        with self._cond:
            for job in self._jobs.values():
                if job.kind == "task" and job.key == key and job.state in (*ACTIVE, "completed"):
                    return job.job_id
        device_key, device_error = _device_key(device)
        job = _Job(job_id=new_run_id(), kind="task", owner=owner, group=group,
                   label=label or key, device=device_key, work=work, key=key,
                   estimate_s=estimate_s)
        job.report = TaskReport(control=job.control)
        self._enqueue(job, device_error)
        if device_error is not None:
            self._finish_task(job, "failed", None, device_error)
        return job.job_id

    def _enqueue(self, job: _Job, device_error: Message | None) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("The job queue has been shut down.")
            self._jobs[job.job_id] = job
            if device_error is None:
                self._queues.setdefault(job.device, deque()).append(job.job_id)
                self._ensure_worker(job.device)
                self._cond.notify_all()

    def forget(self, job_id: str) -> None:
        """Drop a finished task (so the same key can run again)."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is not None and job.state in FINISHED:
                del self._jobs[job_id]

    # --- stopping -----------------------------------------------------------------------------
    def stop(self, job_id: str, *, owner: str | None = None) -> bool:
        """Stop a job: a queued one leaves the queue, a running one ends within one step and
        keeps its partial result. Only its owner may stop it (``owner=None``: anyone).
        Returns False for an unknown, finished or someone else's job."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None or job.state in FINISHED or (owner is not None and owner != job.owner):
                return False
            if job.state == "running":
                job.control.stop(f"stopped by {owner or 'user'}")
                job.phase = msg("phase.stopping")
                return True
            queue = self._queues.get(job.device)
            if queue is None or job_id not in queue:  # failing at submit: about to finish
                return False
            queue.remove(job_id)
            job.state = "stopped"  # claimed under the lock: the worker can no longer start it
        if job.kind == "task":
            self._finish_task(job, "stopped", None, None)
        else:
            self._finish(job, _ended_result(job, "stopped", None,
                                            warning=msg("run.warning.stopped_queued")))
        return True

    # --- reading ------------------------------------------------------------------------------
    def job(self, job_id: str) -> JobView:
        """A snapshot of one job. Raises ``KeyError`` if this queue does not know it."""
        with self._cond:
            return self._view(self._jobs[job_id])

    def jobs(self, *, owner: str | None = None, group: str | None = None,
             kind: str | None = None) -> list[JobView]:
        """Snapshots in submission order, optionally one owner's, group's or kind's."""
        with self._cond:
            return [self._view(job) for job in self._jobs.values()
                    if (owner is None or job.owner == owner)
                    and (group is None or job.group == group)
                    and (kind is None or job.kind == kind)]

    def task(self, key: str) -> JobView | None:
        """The newest task submitted with ``key``, if this queue still knows it."""
        with self._cond:
            found = [j for j in self._jobs.values() if j.kind == "task" and j.key == key]
            return self._view(found[-1]) if found else None

    def group_plan(self, group: str) -> ExperimentPlan | None:
        """The plan a group of runs was submitted with (for the page to show it again)."""
        with self._cond:
            return self._plans.get(group)

    def wait(self, job_id: str, timeout: float | None = None) -> JobView:
        """Block until the job has finished and its result is recorded. Raises
        ``TimeoutError`` after ``timeout`` s and ``KeyError`` for an unknown job."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._jobs[job_id].finished is None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"Job {job_id} has not finished after {timeout} s.")
                self._cond.wait(left)
            return self._view(self._jobs[job_id])

    def shutdown(self, wait: bool = False) -> None:
        """Accept no more jobs. ``wait=True`` runs what is queued and joins the workers;
        ``wait=False`` cancels queued jobs, asks running ones to stop, and returns at once."""
        with self._cond:
            self._closed = True
            queued = [] if wait else [self._jobs[i] for q in self._queues.values() for i in q]
            if not wait:
                for queue in self._queues.values():
                    queue.clear()
                for job in self._jobs.values():
                    if job.state == "running":
                        job.control.stop("the job queue was shut down")
            for job in queued:
                job.state = "stopped"
            threads = list(self._threads.values())
            self._cond.notify_all()
        for job in queued:
            if job.kind == "task":
                self._finish_task(job, "stopped", None, None)
            else:
                self._finish(job, _ended_result(job, "stopped", None,
                                                warning=msg("run.warning.shut_down")))
        if wait:
            for thread in threads:
                thread.join()

    # --- the worker ---------------------------------------------------------------------------
    def _ensure_worker(self, device: str) -> None:
        """Start the device's worker thread on first use (called under the lock)."""
        slots = self.remote.slots if device == REMOTE and self.remote is not None else 1
        for slot in range(slots):  # several remote runs in flight, one local one per device
            name = device if slot == 0 else f"{device}#{slot}"
            thread = self._threads.get(name)
            if thread is None or not thread.is_alive():
                thread = threading.Thread(target=self._work, args=(device,), daemon=True,
                                          name=f"metacore-worker-{name}")
                self._threads[name] = thread
                thread.start()

    def _work(self, device: str) -> None:
        """The worker loop: take the oldest job of this device, run it, repeat."""
        while (job := self._next_job(device)) is not None:
            if job.kind == "task":
                self._run_task(job)
            else:
                self._run_job(job)

    def _next_job(self, device: str) -> _Job | None:
        """Wait for the device's oldest queued job; None once the queue is closed and empty."""
        with self._cond:
            queue = self._queues[device]
            while not queue and not self._closed:
                self._cond.wait()
            if not queue:
                return None
            job = self._jobs[queue.popleft()]
            job.state, job.started, job.phase = "running", time.time(), msg("phase.starting")
            self._cond.notify_all()  # positions changed
            return job

    def _run_task(self, job: _Job) -> None:
        try:
            value = job.work(job.report)
            state = "stopped" if job.control.should_stop else "completed"
            self._finish_task(job, state, value, None)
        except Exception as exc:  # noqa: BLE001 - shown on the page, never lost
            free_memory()
            self._finish_task(job, "failed", None, describe_error(exc))

    def _finish_task(self, job: _Job, state: str, value: Any, error: Message | None) -> None:
        with self._cond:
            job.value, job.error, job.state = value, error, state
            job.finished, job.phase = time.time(), msg("phase.finished")
            self._forget_old_jobs()
            self._cond.notify_all()

    def _run_job(self, job: _Job) -> None:
        try:
            self._record(lambda store: store.record_running(job.job_id), job)
            result = self._execute(job)
        except Exception as exc:  # noqa: BLE001 - the worker must survive anything
            result = _ended_result(job, "failed", describe_error(exc, before_training=True))
        self._finish(job, result)

    def _execute(self, job: _Job) -> RunResult:
        """Run the job once, and once more with lighter settings (half the batch size, or
        first-order MAML: ``metacore.retry``) when the GPU ran out of memory."""
        from metacore.retry import is_out_of_memory, lighter_settings

        result = self._attempt(job, job.plan)
        if result.status == "failed":
            free_memory()  # the failed attempt's tensors are unreachable now: give them back
        retry = None
        if is_out_of_memory(result.status, result.error):
            retry = lighter_settings(job.run.method, dict(job.run.settings))
        if retry is None or job.control.should_stop:
            return result
        with self._cond:
            job.steps, job.evals, job.total_steps, job.testing = [], [], 0, {}
            job.phase = msg("phase.retrying", changes=", ".join(
                f"{k.replace('_', ' ')} {v}" for k, v in retry.changed.items()))
        plan = dataclasses.replace(job.plan, methods={job.run.method: retry.method_config})
        first_error = result.error
        result = self._attempt(job, plan)
        warn(result, retry.note)
        result.extra["oom_retry"] = {"first_error": first_error, "changed": retry.changed}
        if result.status == "failed":
            free_memory()
        return result

    def _attempt(self, job: _Job, plan: ExperimentPlan) -> RunResult:
        """One call of the runner; input errors and crashes become failed results."""
        from metacore.run.runner import run

        try:
            out = None
            if plan.out is None and self.save_models and self.store is not None:
                out = str(self.store.artifact_dir(job.job_id))
                plan = dataclasses.replace(plan, save_model=True)
            if job.control.should_stop:
                return _ended_result(job, "stopped", None,
                                     warning=msg("run.warning.stopped_queued"))
            if job.device == REMOTE and self.remote is not None:
                return self._remote_attempt(job, plan, out)
            backbone = self._backbone(job, plan)
            result = run(plan, plan.runs()[0], prepared=job.prepared,
                         callbacks=[self._collector(job)], control=job.control,
                         backbone=backbone, run_id=job.job_id, out=out)
        except Exception as exc:  # noqa: BLE001 - ValueError: bad input; else a crash
            return _ended_result(job, "failed", describe_error(exc, before_training=True),
                                 plan=plan)
        if plan is not job.plan and plan.save_model != job.plan.save_model:
            # the command repeats what the user asked for, not the app's own model saving
            result.command = to_command(dataclasses.replace(plan, save_model=job.plan.save_model))
        return result

    def _remote_attempt(self, job: _Job, plan: ExperimentPlan, out: str | None) -> RunResult:
        """The run as a task of ``remote`` (its model unpacked into ``out/model``)."""
        with self._cond:
            job.phase = msg("phase.remote")
        future = self.remote.start(plan, keep_model=out is not None)
        return self.remote.collect(future, job.plan, job.job_id, control=job.control,
                                   model_dir=Path(out) / "model" if out else None)

    def _backbone(self, job: _Job, plan: ExperimentPlan) -> Any:
        from metacore.methods import registry

        if not registry.get(job.run.method).uses_backbone:
            return None
        with self._cond:
            job.phase = msg("phase.loading_backbone", name=plan.backbone)
        return self.backbone_loader(plan.backbone, plan.allow_download)

    def _collector(self, job: _Job) -> Callable[[Event], None]:
        """A callback that folds the run's events into the job (read by ``job()``)."""

        def collect(event: Event) -> None:
            with self._cond:
                if isinstance(event, RunEnded):
                    job.phase = msg("phase.finished")
                elif job.testing or job.phase.code == "phase.testing":
                    # An episodic run scoring its test episodes reports progress as StepEnded
                    # with epoch=0 (the unseen protocol); other events then come from fits on
                    # each support set (non-episodic methods), which are not the training
                    # curve.
                    if isinstance(event, StepEnded) and event.epoch == 0:
                        job.testing = {"episode": event.step, "total": event.total_steps,
                                       "accuracy": event.metrics.get("accuracy")}
                elif isinstance(event, StepEnded):
                    job.steps.append(event_to_dict(event))
                    job.total_steps = event.total_steps
                elif isinstance(event, Evaluated):
                    job.evals.append(event_to_dict(event))
                elif isinstance(event, PhaseChanged):
                    job.phase = event.message
                elif isinstance(event, RunStarted):
                    job.total_steps = event.total_steps or job.total_steps

        return collect

    def _finish(self, job: _Job, result: RunResult) -> None:
        """Record the result, then publish the job as finished and wake waiters."""
        problem = self._record(lambda store: store.record_result(result, owner=job.owner,
                                                                 group=job.group), job, result)
        if problem is not None and result.status != "failed":
            fail(result, problem)  # the store marked the row failed: say the same here
        self._apply_retention()
        with self._cond:
            job.result = result
            job.error = _error_message(result)
            job.state = result.status if result.status in FINISHED else "failed"
            job.finished = time.time()
            job.phase = msg("phase.finished")
            job.prepared = None  # the data can be large; the result has what is needed
            self._forget_old_jobs()
            self._cond.notify_all()

    def _record(self, write: Callable[[RunStore], None], job: _Job,
                result: RunResult | None = None) -> Message | None:
        """Write to the store if there is one; a store failure is reported (and returned),
        never raised."""
        if self.store is None:
            return None
        try:
            write(self.store)
        except Exception as exc:  # noqa: BLE001 - a full disk must not kill the worker
            problem = describe_error(exc)
            message = msg("run.warning.not_stored", detail=str(problem))
            if result is not None:
                warn(result, message)
            with self._cond:
                job.phase = message
            return problem
        return None

    def _apply_retention(self) -> None:
        """Delete what the retention policy says (old models and uploads beyond the quotas;
        ``metacore.runs.retention``); a setting that makes no sense, or a failure, deletes
        nothing and never stops the worker."""
        if self.store is None or not self.retention:
            return
        from metacore.runs.retention import apply_policy

        try:
            apply_policy(self.store)
        except Exception:  # noqa: BLE001 - the History page says what is wrong with the setting
            pass

    def _forget_old_jobs(self) -> None:
        """Drop the oldest finished jobs beyond ``MAX_FINISHED_JOBS`` (called under the lock)."""
        finished = [k for k, j in self._jobs.items() if j.state in FINISHED]
        for job_id in finished[: max(0, len(finished) - MAX_FINISHED_JOBS)]:
            del self._jobs[job_id]

    def _view(self, job: _Job) -> JobView:
        """Copy a job for another thread (called under the lock). Step dicts are never changed
        after they are appended, so copying the lists is enough."""
        report = job.report
        return JobView(
            job_id=job.job_id, kind=job.kind, owner=job.owner, group=job.group,
            label=job.label, state=job.state, position=self._position(job),
            phase=report.message if report is not None and job.state == "running"
            else job.phase, steps=list(job.steps), evals=list(job.evals),
            total_steps=job.total_steps, result=job.result,
            error=None if job.error is None else str(job.error), error_message=job.error,
            plan=job.plan, run=job.run, submitted=job.submitted, started=job.started,
            finished=job.finished, device=job.device, testing=dict(job.testing),
            done=report.done if report else 0, total=report.total if report else 0,
            partial=list(report.partial) if report else [], value=job.value,
            estimate_s=job.estimate_s)

    def _position(self, job: _Job) -> int:
        if job.state == "running":
            return 0
        queue = self._queues.get(job.device)
        if job.state == "queued" and queue is not None and job.job_id in queue:
            return queue.index(job.job_id) + 1
        return -1


def _error_message(result: RunResult) -> Message | None:
    if result.error is None:
        return None
    for item in result.messages:
        if item.get("level") == "error":
            return Message.from_dict(item)
    return msg("error.plain", text=result.error)


def _device_key(name: str) -> tuple[str, Message | None]:
    """The queue a device belongs to ("cuda" and "cuda:0" are the same GPU), or an error."""
    from metacore.training.device import resolve_device

    try:
        device = resolve_device(name)
    except ValueError as exc:
        return "invalid", describe_error(exc, before_training=True)
    if device.type == "cuda" and device.index is None:
        import torch

        return f"cuda:{torch.cuda.current_device()}", None
    return str(device), None


def _ended_result(job: _Job, status: str, error: Message | None, *,
                  warning: Message | None = None, plan: ExperimentPlan | None = None
                  ) -> RunResult:
    """A result for a job that produced none itself (failed early, or stopped while queued)."""
    result = result_without_run(job.job_id, plan or job.plan, job.run.method, status, error,
                                command_plan=job.plan, started=job.started)
    if warning is not None:
        warn(result, warning)
    return result


def result_without_run(run_id: str, plan: ExperimentPlan, method: str, status: str,
                       error: Message | None, *, command_plan: ExperimentPlan | None = None,
                       started: float | None = None) -> RunResult:
    """The result of a run that the runner never finished (an input error, a crash, a run
    stopped while it waited, a lost worker): what the plan says, and why."""
    from metacore.methods import registry
    from metacore.plan import legacy_dict

    try:
        backbone = plan.backbone if registry.get(method).uses_backbone else None
    except ValueError:
        backbone = plan.backbone
    result = RunResult(
        run_id=run_id, method=method, backbone=backbone, protocol=plan.protocol,
        status=status, config={"run": legacy_dict(plan), "plan": plan.to_dict()},
        data={"source": plan.data.path}, command=to_command(command_plan or plan),
        versions=library_versions(),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        timing={"total_s": time.time() - started} if started else {},
    )
    if error is not None:
        fail(result, error)
    return result
