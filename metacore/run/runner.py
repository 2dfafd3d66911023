"""The one runner: a plan and one of its runs in, a ``RunResult`` out, for both protocols.

Every run goes the same way: create the method (its settings checked), prepare the data (the
protocol's ``prepare``, shared by every method of one data seed), load the backbone, seed, then
the protocol's ``train`` and ``test`` inside one guard that turns any exception into a failed
result, then the history, warnings and parameter counts, then the model and result.json when
asked. Problems with the user's input (data, backbone, settings) raise ``ValueError``
subclasses with one clear sentence before anything trains; a failure during training ends as a
result with ``status="failed"`` and its error, so nothing is lost.
"""

from __future__ import annotations

import gc
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from metacore.messages import Message, message_of, msg
from metacore.plan import ExperimentPlan, PlannedRun, legacy_dict
from metacore.plan.command import to_command
from metacore.run.adapt import AdaptProtocol
from metacore.run.unseen import UnseenProtocol
from metacore.runs.result import RunResult, library_versions
from metacore.training.events import Callback, EventBus, RunControl, RunEnded, RunStarted

PROTOCOLS = {"adapt": AdaptProtocol(), "episodic": UnseenProtocol()}


def protocol_of(plan: ExperimentPlan) -> Any:
    """The strategy of the plan's protocol (``AdaptProtocol`` or ``UnseenProtocol``)."""
    return PROTOCOLS[plan.protocol]


def prepare(plan: ExperimentPlan, run: PlannedRun | None = None, **kwargs: Any) -> Any:
    """The data of ``run`` (default: the plan's first): split, samples, episodes. Runs with
    the same data seed (and K) share it. Raises ``DataError`` when the data cannot be used."""
    return protocol_of(plan).prepare(plan, run or plan.runs()[0], **kwargs)


def run(plan: ExperimentPlan, which: PlannedRun | None = None, *,
        callbacks: Iterable[Callback] = (), control: RunControl | None = None,
        backbone: Any = None, prepared: Any = None, run_id: str | None = None,
        out: str | Path | None = None, project: bool = True) -> RunResult:
    """Run one method of ``plan`` on one data seed and K (``which``; default: the plan's only
    run).

    Args:
        plan: What to run.
        which: One of ``plan.runs()``.
        callbacks: Receive events (phases, loss, validation, the end).
        control: Its ``stop()`` ends training within one step; the result is then "stopped".
        backbone: A backbone already loaded (the app caches them per process).
        prepared: Data already prepared for this data seed (``prepare``).
        run_id: Identifier for the result; a new one if not given.
        out: Folder for result.json (and ``model/`` when the plan saves models); default
            ``plan.out``.
        project: Compute the 2-D projection of the test embeddings (the sweep skips it).

    Raises:
        DataError, BackboneError, ValueError: the input cannot be used (one sentence).
    """
    from metacore.methods import registry
    from metacore.training.context import RunContext
    from metacore.training.device import describe_device, resolve_device, seed_everything

    which = which or _only_run(plan)
    protocol = protocol_of(plan)
    t_start = time.perf_counter()
    spec = registry.get(which.method)
    method = registry.create(which.method, plan.method_settings(which))  # checks the settings
    prepared = prepared if prepared is not None else protocol.prepare(plan, which)
    device = resolve_device(plan.device)
    ctx = RunContext(device=device, seed=which.init_seed, bus=EventBus(callbacks),
                     control=control or RunControl())
    if spec.uses_backbone:
        ctx.phase("loading_backbone", name=plan.backbone)
        ctx.backbone = backbone or _load_backbone(plan)
        protocol.before_training(ctx, prepared)
    load_s = time.perf_counter() - t_start
    seed_everything(which.init_seed)
    result = _new_result(plan, which, method, prepared, describe_device(device), run_id)
    ctx.emit(RunStarted(run_id=result.run_id, method=which.method, device=result.device,
                        total_steps=0))
    _train_and_test(protocol, method, prepared, ctx, result, which, project)
    result.timing["load_s"] = load_s
    result.timing["total_s"] = time.perf_counter() - t_start
    _finish(result, ctx, method, plan, which, prepared, out if out is not None else plan.out)
    ctx.bus.emit(RunEnded(status=result.status, metrics=result.metrics, error=result.error,
                          elapsed_s=result.timing["total_s"]))
    return result


def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def _only_run(plan: ExperimentPlan) -> PlannedRun:
    runs = plan.runs()
    if len(runs) != 1:
        from metacore.plan import PlanError

        raise PlanError("run.error.which_run", runs=len(runs))
    return runs[0]


def _load_backbone(plan: ExperimentPlan) -> Any:
    from metacore.backbones import load_backbone

    return load_backbone(plan.backbone, allow_download=plan.allow_download)


def _new_result(plan: ExperimentPlan, run: PlannedRun, method: Any, prepared: Any, device: str,
                run_id: str | None) -> RunResult:
    from metacore.methods import registry

    single = plan.only(run)
    return RunResult(
        run_id=run_id or new_run_id(), method=run.method,
        backbone=plan.backbone if registry.get(run.method).uses_backbone else None,
        protocol=plan.protocol, status="running", device=device,
        config={"method": method.config.to_dict(), "run": legacy_dict(single),
                "plan": single.to_dict()},
        data=protocol_of(plan).data_summary(plan, run, prepared),
        findings=[f.to_dict() for f in prepared.findings], command=to_command(single),
        versions=library_versions(),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def _train_and_test(protocol: Any, method: Any, prepared: Any, ctx: Any, result: RunResult,
                    run: PlannedRun, project: bool) -> None:
    """Train and test; any exception becomes a failed result instead of a traceback."""
    t0 = time.perf_counter()
    try:
        protocol.train(method, prepared, ctx)
        result.timing["train_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        protocol.test(method, prepared, ctx, result, run=run, project=project)
        result.timing["predict_s"] = time.perf_counter() - t1
        result.status = "stopped" if ctx.control.should_stop else "completed"
    except Exception as exc:  # noqa: BLE001 - recorded, never lost
        fail(result, exc)
        result.timing.setdefault("train_s", time.perf_counter() - t0)
    if result.status == "failed":
        free_memory()  # out here the exception's traceback no longer pins the step's tensors


def fail(result: RunResult, error: BaseException | Message) -> None:
    """Mark ``result`` failed with ``error`` in one sentence (and as a coded message)."""
    message = error if isinstance(error, Message) else describe_error(error)
    result.status = "failed"
    result.error = str(message)
    result.messages = [m for m in result.messages if m.get("level") != "error"]
    result.messages.append({"level": "error", **message.to_dict()})


def warn(result: RunResult, message: Message | str) -> None:
    """Add a warning to ``result``: its English sentence in ``warnings`` (the schema's list of
    strings) and its code in ``messages`` (for interfaces in other languages)."""
    if not isinstance(message, Message):
        message = msg("error.plain", text=str(message))
    text = str(message)
    if text not in result.warnings:
        result.warnings.append(text)
        result.messages.append({"level": "warning", **message.to_dict()})


def describe_error(exc: BaseException, *, before_training: bool = False) -> Message:
    """An exception as one coded sentence: input errors and a diverged loss already are one;
    out-of-memory gets what to do; anything else its type in front. ``before_training``: the
    run never started (a missing file, a plain ``ValueError`` about the input)."""
    from metacore.messages import MessageError

    if isinstance(exc, MessageError) or isinstance(getattr(exc, "message", None), Message):
        return exc.message
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, PermissionError) and exc.filename:
        return msg("store.error.permission", path=str(exc.filename))
    if before_training:
        if isinstance(exc, FileNotFoundError) and exc.filename:
            return msg("run.error.file_not_found", path=str(exc.filename))
        if isinstance(exc, ValueError) and str(exc).strip():
            return message_of(exc)
    if "out of memory" in text.lower():
        return msg("run.error.out_of_memory", detail=text)
    return msg("run.error.crash", kind=type(exc).__name__, detail=text)


def _finish(result: RunResult, ctx: Any, method: Any, plan: ExperimentPlan, run: PlannedRun,
            prepared: Any, out: str | Path | None) -> None:
    result.history = {"steps": ctx.steps, "evals": ctx.evals}
    for warning in ctx.warnings:
        warn(result, warning)
    for error in ctx.bus.errors[:3]:
        warn(result, msg("run.warning.callback", detail=error))
    result.extra.update({k: v for k, v in ctx.extras.items() if k != "inner_loop"})
    try:
        result.parameters = method.parameter_counts()
        result.inner_loop = method.extra_results().get("inner_loop", [])
    except Exception as exc:  # noqa: BLE001
        warn(result, msg("run.warning.no_counts", detail=str(exc)))
    if out is None:
        return
    save_pair(result, out, lambda staged: protocol_of(plan).keep_model(
        method, prepared, ctx, run, result, staged) if plan.save_model else None)


def save_pair(result: RunResult, out: str | Path, keep_model: Any = None) -> None:
    """Write ``out/model`` (when ``keep_model(folder)`` saves one) and ``out/result.json``
    as one pair (``metacore.runs.atomic.commit_pair``): a crash at any point leaves the old
    model and result or the new ones, never one of each. A model that cannot be saved is a
    warning; files that cannot be written at all fail the run with one sentence."""
    from metacore.runs.atomic import commit_pair, recover_pair, staging_dir

    out = Path(out)
    staged = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        recover_pair(out)  # a commit an earlier crash interrupted: finish or undo it first
        if keep_model is not None and result.status != "failed":
            staged = staging_dir(out)
            try:
                keep_model(staged)
                if not staged.is_dir():
                    staged = None  # this run keeps no model
                else:
                    result.extra["model_dir"] = str(out / "model")
            except Exception as exc:  # noqa: BLE001 - the result is kept even if the model is not
                warn(result, msg("run.warning.model_not_saved", detail=str(exc)))
                staged = None
        commit_pair(out, result, staged)
    except OSError as exc:
        import shutil

        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
        result.extra.pop("model_dir", None)
        fail(result, msg("store.error.run_files", path=str(out), detail=exc.strerror or str(exc)))


def free_memory() -> None:
    """Give back what a failed attempt held (the GPU's cache too)."""
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001 - best effort
        pass
