"""The *adapt to my classes* protocol: K examples of each of the user's classes, scored on the
same classes' held-out texts.

file -> ``LoadedData`` -> ``Split`` (stratified, the file's split column, or a test file) ->
K-shot sample of the training split -> ``Method.fit`` -> ``predict_proba`` on the test texts ->
accuracy, macro-F1, per-class report, confusion matrix, predictions and a 2-D projection.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from metacore.messages import msg
from metacore.plan import ExperimentPlan, PlannedRun

MAX_PREDICTIONS = 20_000
PROJECTION_POINTS = 300


@dataclass
class PreparedData:
    """The split and the K-shot samples every method of one data seed and K shares."""

    split: Split
    train: TextSet
    val: TextSet | None
    findings: list[Any]
    loaded: LoadedData

    @property
    def classes(self) -> list[str]:
        return self.train.classes


@dataclass(frozen=True)
class _Given:
    """Stands in for ``LoadedData`` when the split was made elsewhere (sweeps, lessons)."""

    source: str = "(given split)"
    encoding: str = ""


def prepared_from_split(split: Split, run: PlannedRun) -> PreparedData:
    """A run's data from a split already made (the K-shot sweep, the lessons): the K-shot
    samples of its training and validation parts, drawn by the run's data seed."""
    train = sample_k_shot(split.train, run.shots, seed=run.seed)
    val = sample_k_shot(split.val, run.shots, seed=run.seed) if split.val else None
    return PreparedData(split=split, train=train, val=val if val and len(val) else None,
                        findings=[], loaded=_Given())


class AdaptProtocol:
    """Prepare, train, score and keep the model of one adapt-protocol run."""

    name = "adapt"
    training_phase = "training"

    def prepare(self, plan: ExperimentPlan, run: PlannedRun, *,
                loaded: LoadedData | None = None, test_loaded: LoadedData | None = None,
                limits: Limits | None = None) -> PreparedData:
        """Load, validate, split and sample. Raises ``DataError`` when the data cannot be
        used. The split is drawn by the plan's ``split_seed``, else the run's data seed; the
        K-shot samples always by the data seed."""
        d = plan.data
        loaded = loaded or load_dataset(d.path, text_col=d.text_col, label_col=d.label_col,
                                        label_format=d.label_format,
                                        limits=limits)
        findings = list(validate(loaded, k_shot=run.shots, limits=limits))
        require_usable(findings)
        if d.test_path and test_loaded is None:
            test_loaded = load_dataset(d.test_path, text_col=d.text_col,
                                       label_col=d.label_col, limits=limits,
                                       label_format=d.label_format or loaded.label_format
                                       or "none")
        if test_loaded is not None:
            # A test file may hold a single class (the user tests one label); other errors stop.
            test_findings = [f for f in validate(test_loaded, limits=limits)
                             if f.code != "single_class"]
            require_usable(test_findings)
            findings += [f for f in test_findings if f.level != "info"]
        split_seed = run.seed if d.split_seed is None else d.split_seed
        split = make_split(loaded, test_data=test_loaded, test_size=d.test_size,
                           val_size=d.val_size, seed=split_seed,
                           use_split_column=d.use_split_column)
        findings += cross_split_findings(split)
        train = sample_k_shot(split.train, run.shots, seed=run.seed)
        val = sample_k_shot(split.val, run.shots, seed=run.seed) if split.val else None
        if len(train.classes) < 2:
            raise DataError(msg("run.error.one_class"))
        return PreparedData(split=split, train=train, val=val if val and len(val) else None,
                            findings=findings, loaded=loaded)

    def data_summary(self, plan: ExperimentPlan, run: PlannedRun,
                     prepared: PreparedData) -> dict[str, Any]:
        return {"source": prepared.loaded.source, "encoding": prepared.loaded.encoding,
                "classes": prepared.classes, "n_train": len(prepared.train),
                "n_val": len(prepared.val) if prepared.val else 0,
                "n_test": len(prepared.split.test), "shots": run.shots,
                "split": prepared.split.to_dict(), **_label_summary(prepared, run)}

    def before_training(self, ctx: Any, prepared: PreparedData) -> None:
        """Measure whether the backbone reads these texts (a warning when it does not)."""
        from metacore.backbones import language_fit

        stats, warning = language_fit(ctx.backbone, list(prepared.train.texts))
        ctx.extras["language"] = stats
        if warning:
            ctx.warn(warning)

    def train(self, method: Any, prepared: PreparedData, ctx: Any) -> None:
        ctx.phase("training", texts=len(prepared.train), classes=len(prepared.classes))
        method.fit(prepared.train, val=prepared.val, ctx=ctx)
        if prepared.train.multi_label and prepared.val is not None:
            # each label's threshold: the best F1 on the validation texts that carry it
            from metacore.methods.multilabel import choose_thresholds

            proba = method.predict_proba(list(prepared.val.texts), ctx=ctx)
            chosen = choose_thresholds(proba, prepared.val.label_matrix(method.classes))
            method.thresholds = [round(float(t), 4) for t in chosen]

    def test(self, method: Any, prepared: PreparedData, ctx: Any, result: Any, *,
             run: PlannedRun, project: bool = True) -> None:
        test = prepared.split.test
        ctx.phase("predicting", texts=len(test))
        proba = method.predict_proba(list(test.texts), ctx=ctx)
        if test.multi_label:
            _score_labels(result, method, test, proba)
        else:
            _score(result, method.classes, test, proba, prepared.classes)
        if project and ctx.backbone is not None:
            ctx.phase("projecting", points=min(PROJECTION_POINTS, len(test)))
            result.extra["projection"] = embedding_projection(method, ctx, test, run.seed)

    def keep_model(self, method: Any, prepared: PreparedData, ctx: Any, run: PlannedRun,
                   result: Any, directory: Path) -> None:
        from metacore.runs.atomic import save_model_atomic

        save_model_atomic(method, directory)  # a crash never leaves half a model


def _score(result: Any, method_classes: list[str], test: TextSet, proba: np.ndarray,
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


def _label_summary(prepared: PreparedData, run: PlannedRun) -> dict[str, Any]:
    """Multi-label data: that it is, the training texts per label, and the labels the K-shot
    sample could not give K texts (the data did not have them)."""
    if not prepared.train.multi_label:
        return {}
    from metacore.data.multilabel import label_counts
    from metacore.data.splits import shortfall

    counts = label_counts(prepared.train.label_sets or ())
    return {"multi_label": True, "train_per_label": {c: int(counts[c]) for c in
                                                     prepared.classes},
            "short_labels": shortfall(prepared.train, run.shots)}


def _score_labels(result: Any, method: Any, test: TextSet, proba: np.ndarray) -> None:
    """Multi-label scores: every label above its threshold is predicted."""
    from metacore.data.multilabel import label_matrix, shown
    from metacore.metrics import cooccurrence, multilabel_metrics

    classes = list(method.classes)
    unseen = sorted(set().union(*map(set, test.label_sets or ())) - set(classes))
    labels = classes + unseen  # a test label never trained on counts as always missed
    predicted = method.labels_of(proba)
    truth = test.label_matrix(labels)
    guess = label_matrix(predicted, labels)
    result.metrics, result.per_class = multilabel_metrics(truth, guess, labels)
    result.confusion = {"labels": [], "matrix": []}  # none between labels: co-occurrence
    result.extra["multi_label"] = True
    result.extra["thresholds"] = dict(zip(classes, map(float, method.thresholds or ())))
    result.extra["cooccurrence"] = {"labels": labels, "truth": cooccurrence(truth),
                                    "predicted": cooccurrence(guess)}
    result.predictions = [
        {"text": t, "label": shown(y), "predicted": shown(p), "labels": list(y),
         "predicted_labels": list(p), "confidence": round(float(row.max()), 4) if len(row)
         else 0.0, "proba": [round(float(x), 4) for x in row]}
        for t, y, p, row in zip(test.texts[:MAX_PREDICTIONS], test.label_sets or (), predicted,
                                proba)
    ]
    result.extra["proba_labels"] = classes


def embedding_projection(method: Any, ctx: Any, test: TextSet, seed: int = 0
                         ) -> dict[str, Any] | None:
    """2-D PCA of test embeddings before (frozen backbone) and after adaptation (the method's
    own features), on a sample of at most ``PROJECTION_POINTS`` test texts drawn by the data
    seed."""
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
