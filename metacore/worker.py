"""Background execution: a FIFO job queue with one worker thread per device.

The app submits ``RunSpec``s (or ``EpisodicSpec``s, the unseen-class protocol) and polls
``job(run_id)`` snapshots; it never calls Streamlit from here (Streamlit's threading guide:
only the script thread may). Runs on one device wait their
turn, because two trainings on one GPU compete for its memory and both slow down. Every job ends
as a ``RunResult`` recorded in the store: input errors and crashes become "failed" results, never
an exception that would kill the worker thread.
"""

from __future__ import annotations

import dataclasses
import gc
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from metacore.api import PreparedData, RunSpec, new_run_id, run_experiment
from metacore.episodic import EpisodicData, EpisodicSpec, run_episodic
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
# Finished jobs kept in memory for polling; older ones live on in the store only.
MAX_FINISHED_JOBS = 200

BackboneLoader = Callable[[str, bool], Any]
AnySpec = RunSpec | EpisodicSpec


@dataclass
class JobView:
    """A snapshot of one job, safe to read from any thread (the worker never touches it)."""

    run_id: str
    owner: str
    group: str
    method: str
    state: str  # queued | running | completed | stopped | failed | interrupted
    position: int  # 0 = running now, k = k-th waiting in its device queue, -1 = finished
    phase: str
    steps: list[dict]
    evals: list[dict]
    total_steps: int
    result: RunResult | None
    error: str | None
    spec: RunSpec
    submitted: float
    started: float | None
    finished: float | None
    phase_detail: str = ""
    device: str = ""
    # Episodic runs only: {"episode": n, "total": m, "accuracy": running mean} while testing.
    testing: dict = field(default_factory=dict)


@dataclass
class _Job:
    """The worker's mutable record of a job; read and written only under the queue's lock."""

    run_id: str
    owner: str
    group: str
    spec: AnySpec
    device: str
    prepared: PreparedData | EpisodicData | None
    control: RunControl = field(default_factory=RunControl)
    state: str = "queued"
    phase: str = "queued"
    phase_detail: str = ""
    steps: list[dict] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)
    total_steps: int = 0
    testing: dict = field(default_factory=dict)
    result: RunResult | None = None
    error: str | None = None
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None


def _default_loader(name: str, allow_download: bool) -> Any:
    from metacore.backbones import load_backbone

    return load_backbone(name, allow_download=allow_download)


class JobQueue:
    """FIFO runs, one worker thread per device, results recorded in a ``RunStore``.

    Args:
        store: Where queued rows and results go; ``None`` keeps jobs in memory only. Given a
            store, rows left queued or running by an earlier process are marked interrupted.
        backbone_loader: ``(spec, allow_download) -> Backbone``; the default is
            ``metacore.backbones.load_backbone``, cached per process.
        save_models: Save each model into ``store.artifact_dir(run_id)/model`` when the spec
            has no ``out`` of its own.
    """

    def __init__(self, store: RunStore | None = None, *,
                 backbone_loader: BackboneLoader | None = None, save_models: bool = True) -> None:
        self.store = store
        self.backbone_loader = backbone_loader or _default_loader
        self.save_models = save_models
        self._cond = threading.Condition()
        self._jobs: dict[str, _Job] = {}
        self._queues: dict[str, deque[str]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._closed = False
        if store is not None:
            store.mark_interrupted()

    # --- submitting and stopping ------------------------------------------------------------
    def submit(self, spec: AnySpec, *, owner: str = "", group: str = "",
               prepared: PreparedData | EpisodicData | None = None) -> str:
        """Queue a run and return its id. A device that is not available fails the job at
        once (as a "failed" result) rather than raising. An ``EpisodicSpec`` (with
        ``EpisodicData`` as ``prepared``) runs ``run_episodic`` in the same queue."""
        spec = dataclasses.replace(spec, method_config=dict(spec.method_config))
        run_id = new_run_id()
        device, device_error = _device_key(spec.device)
        job = _Job(run_id=run_id, owner=owner, group=group, spec=spec, device=device,
                   prepared=prepared)
        if self._closed:
            raise RuntimeError("The job queue has been shut down.")
        self._record(lambda store: store.record_queued(run_id, spec, owner=owner, group=group),
                     job)
        with self._cond:
            self._jobs[run_id] = job
            if device_error is None:
                self._queues.setdefault(device, deque()).append(run_id)
                self._ensure_worker(device)
                self._cond.notify_all()
        if device_error is not None:
            self._finish(job, _ended_result(job, "failed", device_error))
        return run_id

    def stop(self, run_id: str, *, owner: str | None = None) -> bool:
        """Stop a job: a queued one leaves the queue, a running one ends within one step and
        keeps its partial result. Only its owner may stop it (``owner=None``: anyone).
        Returns False for an unknown, finished or someone else's job."""
        with self._cond:
            job = self._jobs.get(run_id)
            if job is None or job.state in FINISHED or (owner is not None and owner != job.owner):
                return False
            if job.state == "running":
                job.control.stop(f"stopped by {owner or 'user'}")
                job.phase = "stopping"
                return True
            queue = self._queues.get(job.device)
            if queue is None or run_id not in queue:  # failing at submit: about to finish
                return False
            queue.remove(run_id)
            job.state = "stopped"  # claimed under the lock: the worker can no longer start it
        self._finish(job, _ended_result(job, "stopped", None,
                                        warning="Stopped before it started."))
        return True

    # --- reading ----------------------------------------------------------------------------
    def job(self, run_id: str) -> JobView:
        """A snapshot of one job. Raises ``KeyError`` if this queue does not know it."""
        with self._cond:
            return self._view(self._jobs[run_id])

    def jobs(self, *, owner: str | None = None, group: str | None = None) -> list[JobView]:
        """Snapshots in submission order, optionally one owner's or one group's."""
        with self._cond:
            return [self._view(job) for job in self._jobs.values()
                    if (owner is None or job.owner == owner)
                    and (group is None or job.group == group)]

    def wait(self, run_id: str, timeout: float | None = None) -> JobView:
        """Block until the job has finished and its result is recorded. Raises
        ``TimeoutError`` after ``timeout`` s and ``KeyError`` for an unknown job."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._jobs[run_id].finished is None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"Run {run_id} has not finished after {timeout} s.")
                self._cond.wait(left)
            return self._view(self._jobs[run_id])

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
            self._finish(job, _ended_result(job, "stopped", None,
                                            warning="The job queue was shut down first."))
        if wait:
            for thread in threads:
                thread.join()

    # --- the worker -------------------------------------------------------------------------
    def _ensure_worker(self, device: str) -> None:
        """Start the device's worker thread on first use (called under the lock)."""
        thread = self._threads.get(device)
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=self._work, args=(device,), daemon=True,
                                      name=f"metacore-worker-{device}")
            self._threads[device] = thread
            thread.start()

    def _work(self, device: str) -> None:
        """The worker loop: take the oldest job of this device, run it, repeat."""
        while (job := self._next_job(device)) is not None:
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
            job.state, job.started, job.phase = "running", time.time(), "starting"
            self._cond.notify_all()  # positions changed
            return job

    def _run_job(self, job: _Job) -> None:
        try:
            self._record(lambda store: store.record_running(job.run_id), job)
            result = self._execute(job)
        except Exception as exc:  # noqa: BLE001 - the worker must survive anything
            result = _ended_result(job, "failed", _describe(exc))
        self._finish(job, result)

    def _execute(self, job: _Job) -> RunResult:
        """Run the job's experiment once, and once more with lighter settings (half the batch
        size, or first-order MAML: ``metacore.retry``) when the GPU ran out of memory."""
        from metacore.retry import is_out_of_memory, lighter_settings

        result = self._attempt(job, job.spec)
        if result.status == "failed":
            _free_memory()  # the failed attempt's tensors are unreachable now: give them back
        retry = None
        if is_out_of_memory(result.status, result.error):
            retry = lighter_settings(job.spec.method, job.spec.method_config)
        if retry is None or job.control.should_stop:
            return result
        with self._cond:
            job.steps, job.evals, job.total_steps, job.testing = [], [], 0, {}
            job.phase, job.phase_detail = "retrying", ", ".join(
                f"{k.replace('_', ' ')} {v}" for k, v in retry.changed.items())
        spec = dataclasses.replace(job.spec, method_config=retry.method_config)
        first_error = result.error
        result = self._attempt(job, spec)
        result.warnings.append(retry.note)
        result.extra["oom_retry"] = {"first_error": first_error, "changed": retry.changed}
        if result.status == "failed":
            _free_memory()
        return result

    def _attempt(self, job: _Job, spec: AnySpec) -> RunResult:
        """One call of ``run_experiment`` (or ``run_episodic``); input errors and crashes
        become failed results."""
        run_spec = spec
        episodic = isinstance(spec, EpisodicSpec)
        try:
            if spec.out is None and self.save_models and self.store is not None:
                out = str(self.store.artifact_dir(job.run_id))
                run_spec = dataclasses.replace(spec, out=out, save_model=True)
            if job.control.should_stop:
                return _ended_result(job, "stopped", None, warning="Stopped before it started.")
            backbone = self._backbone(job, spec)
            run = run_episodic if episodic else run_experiment
            key = "data" if episodic else "prepared"
            result = run(run_spec, **{key: job.prepared}, callbacks=[self._collector(job)],
                         control=job.control, backbone=backbone, run_id=job.run_id)
        except Exception as exc:  # noqa: BLE001 - ValueError: bad input; else a crash
            return _ended_result(job, "failed", _describe(exc), spec=spec)
        if run_spec is not spec:  # the command should not point into the app's data folder
            result.command = spec.to_command()
            result.config["run"] = spec.to_dict()
        return result

    def _backbone(self, job: _Job, spec: AnySpec) -> Any:
        from metacore.api import registry_uses_backbone

        if not registry_uses_backbone(spec.method):
            return None
        with self._cond:
            job.phase, job.phase_detail = "loading backbone", spec.backbone
        return self.backbone_loader(spec.backbone, spec.allow_download)

    def _collector(self, job: _Job) -> Callable[[Event], None]:
        """A callback that folds the run's events into the job (read by ``job()``)."""

        def collect(event: Event) -> None:
            with self._cond:
                if isinstance(event, RunEnded):
                    job.phase, job.phase_detail = "finished", event.status
                elif job.testing or job.phase == "testing":
                    # An episodic run scoring its test episodes reports progress as StepEnded
                    # with epoch=0 (run_episodic); other events then come from fits on each
                    # support set (non-episodic methods), which are not the training curve.
                    if isinstance(event, StepEnded) and event.epoch == 0:
                        job.testing = {"episode": event.step, "total": event.total_steps,
                                       "accuracy": event.metrics.get("accuracy")}
                elif isinstance(event, StepEnded):
                    job.steps.append(event_to_dict(event))
                    job.total_steps = event.total_steps
                elif isinstance(event, Evaluated):
                    job.evals.append(event_to_dict(event))
                elif isinstance(event, PhaseChanged):
                    job.phase, job.phase_detail = event.phase, event.detail
                elif isinstance(event, RunStarted):
                    job.total_steps = event.total_steps or job.total_steps

        return collect

    def _finish(self, job: _Job, result: RunResult) -> None:
        """Record the result, then publish the job as finished and wake waiters."""
        self._record(lambda store: store.record_result(result, owner=job.owner,
                                                       group=job.group), job, result)
        with self._cond:
            job.result, job.error = result, result.error
            job.state = result.status if result.status in FINISHED else "failed"
            job.finished = time.time()
            job.phase = "finished"
            job.prepared = None  # the data can be large; the result has what is needed
            self._forget_old_jobs()
            self._cond.notify_all()

    def _record(self, write: Callable[[RunStore], None], job: _Job,
                result: RunResult | None = None) -> None:
        """Write to the store if there is one; a store failure is reported, never raised."""
        if self.store is None:
            return
        try:
            write(self.store)
        except Exception as exc:  # noqa: BLE001 - a full disk must not kill the worker
            message = f"The run could not be saved to the history: {_describe(exc)}"
            if result is not None:
                result.warnings.append(message)
            with self._cond:
                job.phase_detail = message

    def _forget_old_jobs(self) -> None:
        """Drop the oldest finished jobs beyond ``MAX_FINISHED_JOBS`` (called under the lock)."""
        finished = [k for k, j in self._jobs.items() if j.state in FINISHED]
        for run_id in finished[: max(0, len(finished) - MAX_FINISHED_JOBS)]:
            del self._jobs[run_id]

    def _view(self, job: _Job) -> JobView:
        """Copy a job for another thread (called under the lock). Step dicts are never changed
        after they are appended, so copying the lists is enough."""
        return JobView(
            run_id=job.run_id, owner=job.owner, group=job.group, method=job.spec.method,
            state=job.state, position=self._position(job), phase=job.phase,
            steps=list(job.steps), evals=list(job.evals), total_steps=job.total_steps,
            result=job.result, error=job.error, spec=job.spec, submitted=job.submitted,
            started=job.started, finished=job.finished, phase_detail=job.phase_detail,
            device=job.device, testing=dict(job.testing),
        )

    def _position(self, job: _Job) -> int:
        if job.state == "running":
            return 0
        queue = self._queues.get(job.device)
        if job.state == "queued" and queue is not None and job.run_id in queue:
            return queue.index(job.run_id) + 1
        return -1


def _device_key(name: str) -> tuple[str, str | None]:
    """The queue a device belongs to ("cuda" and "cuda:0" are the same GPU), or an error."""
    from metacore.training.device import resolve_device

    try:
        device = resolve_device(name)
    except ValueError as exc:
        return "invalid", str(exc)
    if device.type == "cuda" and device.index is None:
        import torch

        return f"cuda:{torch.cuda.current_device()}", None
    return str(device), None


def _ended_result(job: _Job, status: str, error: str | None, *, warning: str | None = None,
                  spec: AnySpec | None = None) -> RunResult:
    """A result for a job that produced none itself (failed early, or stopped while queued)."""
    from metacore.api import registry_uses_backbone

    spec = spec or job.spec
    try:
        backbone = spec.backbone if registry_uses_backbone(spec.method) else None
    except ValueError:
        backbone = spec.backbone
    return RunResult(
        run_id=job.run_id, method=spec.method, backbone=backbone,
        protocol="episodic" if isinstance(spec, EpisodicSpec) else "adapt",
        status=status, error=error, config={"run": spec.to_dict()},
        data={"source": spec.data}, command=spec.to_command(), versions=library_versions(),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        warnings=[warning] if warning else [],
        timing={"total_s": time.time() - job.started} if job.started else {},
    )


def _describe(exc: BaseException) -> str:
    """Input errors already are one clear sentence; anything else gets its type in front."""
    text = str(exc).strip()
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"File not found: {exc.filename}"
    if isinstance(exc, ValueError) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _free_memory() -> None:
    """Release what the failed attempt held so the retry gets the whole GPU."""
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001 - best effort
        pass
