"""The one entry point the CLI and the app share: a ``RunSpec`` in, a ``RunResult`` out.

Data flows one way: file -> ``LoadedData`` -> ``Split`` -> K-shot sample -> ``Method`` ->
events + ``RunResult``. Problems with the user's input (data, backbone, settings) raise
``ValueError`` subclasses with one clear sentence before anything trains; a failure during
training ends as a result with ``status="failed"`` and its error, so nothing is lost.
"""

from __future__ import annotations

import gc
import shlex
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from metacore.data import (
    DataError,
    Limits,
    LoadedData,
    Split,
    TextSet,
    cross_split_findings,
    load_dataset,
    make_split,
    require_usable,
    sample_k_shot,
    validate,
)
from metacore.runs.result import RunResult, library_versions
from metacore.training.events import Callback, EventBus, RunControl, RunEnded, RunStarted

MAX_PREDICTIONS = 20_000


@dataclass
class RunSpec:
    """Everything that defines a run; ``to_command()`` gives the CLI line that repeats it."""

    data: str
    method: str
    backbone: str = "minilm"
    method_config: dict[str, Any] = field(default_factory=dict)
    test: str | None = None
    text_col: str | None = None
    label_col: str | None = None
    shots: int | None = None  # None = all training examples
    seed: int = 0
    device: str = "auto"
    allow_download: bool = False
    test_size: float = 0.2
    val_size: float = 0.1
    use_split_column: bool = True
    save_model: bool = False
    out: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunSpec:
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})

    def to_command(self) -> str:
        """The exact ``metacore run`` command that reproduces this run."""
        parts = ["metacore", "run", "--data", self.data, "--method", self.method,
                 "--backbone", self.backbone, "--shots",
                 "all" if self.shots is None else str(self.shots), "--seed", str(self.seed)]
        if self.test_size != 0.2:
            parts += ["--test-size", str(self.test_size)]
        if self.val_size != 0.1:
            parts += ["--val-size", str(self.val_size)]
        if not self.use_split_column:
            parts.append("--ignore-split-column")
        parts += command_flags(self, [("--test", self.test), ("--text-col", self.text_col),
                                      ("--label-col", self.label_col), ("--out", self.out)])
        return shlex.join(parts)


def command_flags(spec: Any, optional: list[tuple[str, Any]]) -> list[str]:
    """The flags both commands share, for ``to_command``: each (flag, value) of ``optional``
    that is set, the device unless automatic, downloads, model saving and ``--set`` settings."""
    parts = [x for flag, value in optional if value is not None and value != ""
             for x in (flag, str(value))]
    if spec.device != "auto":
        parts += ["--device", spec.device]
    if spec.allow_download:
        parts.append("--allow-download")
    if spec.save_model:
        parts.append("--save-model")
    for key, value in sorted(spec.method_config.items()):
        parts += ["--set", f"{key}={value}"]
    return parts


@dataclass
class PreparedData:
    """The split and the K-shot samples every method in a comparison shares."""

    split: Split
    train: TextSet
    val: TextSet | None
    findings: list[Any]
    loaded: LoadedData

    @property
    def classes(self) -> list[str]:
        return self.train.classes


def prepare_data(
    spec: RunSpec, *, loaded: LoadedData | None = None, test_loaded: LoadedData | None = None,
    limits: Limits | None = None,
) -> PreparedData:
    """Load, validate, split and sample. Raises ``DataError`` when the data cannot be used."""
    loaded = loaded or load_dataset(spec.data, text_col=spec.text_col, label_col=spec.label_col,
                                    limits=limits)
    findings = list(validate(loaded, k_shot=spec.shots, limits=limits))
    require_usable(findings)
    if spec.test and test_loaded is None:
        test_loaded = load_dataset(spec.test, text_col=spec.text_col, label_col=spec.label_col,
                                   limits=limits)
    if test_loaded is not None:
        # A test file may hold a single class (the user tests one label); other errors stop.
        test_findings = [f for f in validate(test_loaded, limits=limits)
                         if f.code != "single_class"]
        require_usable(test_findings)
        findings += [f for f in test_findings if f.level != "info"]
    split = make_split(loaded, test_data=test_loaded, test_size=spec.test_size,
                       val_size=spec.val_size, seed=spec.seed,
                       use_split_column=spec.use_split_column)
    findings += cross_split_findings(split)
    train = sample_k_shot(split.train, spec.shots, seed=spec.seed)
    val = sample_k_shot(split.val, spec.shots, seed=spec.seed) if split.val else None
    if len(train.classes) < 2:
        raise DataError("The training split has fewer than two classes; a classifier needs at "
                        "least two.")
    return PreparedData(split=split, train=train, val=val if val and len(val) else None,
                        findings=findings, loaded=loaded)


def run_experiment(
    spec: RunSpec,
    *,
    prepared: PreparedData | None = None,
    callbacks: Iterable[Callback] = (),
    control: RunControl | None = None,
    backbone: Any = None,
    run_id: str | None = None,
) -> RunResult:
    """Run one method on one split and seed (the *adapt to my classes* protocol).

    Args:
        spec: What to run.
        prepared: Data already prepared (a comparison prepares once for every method).
        callbacks: Receive events (progress, loss, validation, end).
        control: Its ``stop()`` ends training within one step; the result is then "stopped".
        backbone: A backbone already loaded (the app caches them per process).
        run_id: Identifier for the result; a new one if not given.

    Raises:
        DataError, BackboneError, ValueError: the input cannot be used (one sentence).
    """
    from metacore.methods import registry
    from metacore.training.context import RunContext
    from metacore.training.device import describe_device, resolve_device, seed_everything

    t_start = time.perf_counter()
    method_spec = registry.get(spec.method)
    method = registry.create(spec.method, spec.method_config)  # validates the settings
    prepared = prepared or prepare_data(spec)
    device = resolve_device(spec.device)
    bus = EventBus(callbacks)
    ctx = RunContext(device=device, seed=spec.seed, bus=bus, control=control or RunControl())
    if method_spec.uses_backbone:
        ctx.phase("loading backbone", spec.backbone)
        ctx.backbone = backbone or _load_backbone(spec)
        _check_language(ctx, prepared.train)
    load_s = time.perf_counter() - t_start
    run_id = run_id or new_run_id()
    seed_everything(spec.seed)
    ctx.emit(RunStarted(run_id=run_id, method=spec.method, device=describe_device(device),
                        total_steps=0))
    result = _new_result(spec, run_id, method, prepared, describe_device(device))
    _fit_and_score(method, prepared, ctx, result)
    result.timing["load_s"] = load_s
    result.timing["total_s"] = time.perf_counter() - t_start
    _finish(result, ctx, method, spec)
    bus.emit(RunEnded(status=result.status, metrics=result.metrics, error=result.error,
                      elapsed_s=result.timing["total_s"]))
    return result


def registry_uses_backbone(name: str) -> bool:
    from metacore.methods import registry

    return registry.get(name).uses_backbone


def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def _load_backbone(spec: RunSpec):
    from metacore.backbones import load_backbone

    return load_backbone(spec.backbone, allow_download=spec.allow_download)


def _check_language(ctx, train: TextSet) -> None:
    from metacore.backbones import language_fit

    stats, warning = language_fit(ctx.backbone, list(train.texts))
    ctx.extras["language"] = stats
    if warning:
        ctx.warn(warning)


def _new_result(spec: RunSpec, run_id: str, method, prepared: PreparedData, device: str):
    return RunResult(
        run_id=run_id, method=spec.method,
        backbone=spec.backbone if registry_uses_backbone(spec.method) else None,
        protocol="adapt", status="running", device=device,
        config={"method": method.config.to_dict(), "run": spec.to_dict()},
        data={"source": prepared.loaded.source, "encoding": prepared.loaded.encoding,
              "classes": prepared.classes, "n_train": len(prepared.train),
              "n_val": len(prepared.val) if prepared.val else 0,
              "n_test": len(prepared.split.test), "shots": spec.shots,
              "split": prepared.split.to_dict()},
        findings=[f.to_dict() for f in prepared.findings],
        command=spec.to_command(), versions=library_versions(),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def _fit_and_score(method, prepared: PreparedData, ctx, result: RunResult) -> None:
    """Train and evaluate; any exception becomes a failed result instead of a traceback."""
    t0 = time.perf_counter()
    try:
        ctx.phase("training")
        method.fit(prepared.train, val=prepared.val, ctx=ctx)
        result.timing["train_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        ctx.phase("predicting", f"{len(prepared.split.test)} test texts")
        test = prepared.split.test
        proba = method.predict_proba(list(test.texts), ctx=ctx)
        result.timing["predict_s"] = time.perf_counter() - t1
        _score(result, method.classes, test, proba, prepared.classes)
        if ctx.backbone is not None:
            ctx.phase("projecting", "2-D view of test embeddings")
            result.extra["projection"] = embedding_projection(method, ctx, test, ctx.seed)
        result.status = "stopped" if ctx.control.should_stop else "completed"
    except Exception as exc:  # noqa: BLE001 - recorded, never lost
        result.status = "failed"
        result.error = _describe_error(exc)
        result.timing.setdefault("train_s", time.perf_counter() - t0)
    if result.status == "failed":
        _free_memory()  # out here the exception's traceback no longer pins the step's tensors


def _score(result: RunResult, method_classes: list[str], test: TextSet, proba: np.ndarray,
           classes: list[str]) -> None:
    from metacore.metrics import classification_metrics

    labels = list(dict.fromkeys(list(classes) + sorted(set(test.labels) - set(classes))))
    predicted = [method_classes[i] for i in proba.argmax(axis=1)]
    metrics, per_class, matrix = classification_metrics(test.labels, predicted, labels)
    result.metrics = metrics
    result.per_class = per_class
    result.confusion = {"labels": labels, "matrix": matrix}
    result.predictions = [
        {"text": t, "label": y, "predicted": p, "confidence": round(float(row.max()), 4),
         "proba": [round(float(x), 4) for x in row]}
        for t, y, p, row in zip(test.texts[:MAX_PREDICTIONS], test.labels, predicted, proba)
    ]
    result.extra["proba_labels"] = list(method_classes)


def _finish(result: RunResult, ctx, method, spec: RunSpec) -> None:
    result.history = {"steps": ctx.steps, "evals": ctx.evals}
    result.warnings = list(ctx.warnings) + [f"callback error: {e}" for e in ctx.bus.errors[:3]]
    result.extra.update({k: v for k, v in ctx.extras.items() if k != "inner_loop"})
    try:
        result.parameters = method.parameter_counts()
        result.inner_loop = method.extra_results().get("inner_loop", [])
    except Exception as exc:  # noqa: BLE001
        result.warnings.append(f"could not count parameters: {exc}")
    if spec.out:
        out = Path(spec.out)
        if spec.save_model and result.status != "failed":
            try:
                from metacore.runs.atomic import save_model_atomic

                save_model_atomic(method, out / "model")  # a crash never leaves half a model
                result.extra["model_dir"] = str(out / "model")
            except Exception as exc:  # noqa: BLE001
                result.warnings.append(f"The model could not be saved: {exc}")
        result.save(out / "result.json")


def _describe_error(exc: BaseException) -> str:
    from metacore.training.loop import TrainingDiverged

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, TrainingDiverged):
        return text  # already one sentence that says what to do
    if "out of memory" in text.lower():
        return f"Out of memory: {text}. Try a smaller batch size or max length."
    return f"{type(exc).__name__}: {text}"


def _free_memory() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001
        pass


PROJECTION_POINTS = 300


def embedding_projection(method, ctx, test: TextSet, seed: int = 0) -> dict[str, Any] | None:
    """2-D PCA of test embeddings before (frozen backbone) and after adaptation (the method's
    own features), on a seeded sample of at most ``PROJECTION_POINTS`` test texts."""
    from sklearn.decomposition import PCA

    if ctx.backbone is None or len(test) < 3:
        return None
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(test), size=min(PROJECTION_POINTS, len(test)), replace=False))
    texts = [test.texts[i] for i in idx]
    out: dict[str, Any] = {"index": idx.tolist(), "labels": [test.labels[i] for i in idx]}
    views = {"before": ctx.embed(texts), "after": method.embed(texts, ctx=ctx)}
    for name, vectors in views.items():
        if vectors is None:
            continue
        coords = PCA(n_components=2, random_state=seed).fit_transform(np.asarray(vectors))
        out[name] = np.round(coords, 4).tolist()
    return out
