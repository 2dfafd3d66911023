"""Add a class live: how each family of methods absorbs a brand-new label from K examples.

* Prototype methods (nearest-centroid, protonet) keep one prototype per class; a new class is
  one more prototype, the mean of its K embeddings: no gradient step at all.
* Gradient meta-learners (ANIL, and MAML's head) start a Proto-MAML head from the prototypes
  and take a few inner SGD steps on the support set (Triantafillou et al. 2020).
* Fine-tuning has no slot for a new class: the linear probe is refitted on everything (a run of
  the one runner, as a comparison would run it), and full fine-tuning would retrain the whole
  network (estimated here from its cost model, ``metacore.estimate``).

Accuracy is measured on held-out texts of the old classes, and on the new class by
leave-one-out (each new example classified by a model built from the other K - 1).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from metacore.data import TextSet
from metacore.methods.episodic_base import EpisodicMethod, head_logits, proto_head
from metacore.methods.maml import HEAD, GradientMethod, inner_loop
from metacore.teaching.common import label_ids, prototypes, squared_distances
from metacore.training.context import RunContext

Features = Callable[[Sequence[str]], np.ndarray]
Predictor = Callable[[Sequence[str]], list[str]]
Absorber = Callable[[TextSet], Predictor]  # support set (old classes + new) -> predictor


@dataclass(frozen=True)
class Absorbed:
    """How one method took in the new class, what it cost and how well it then does."""

    method: str
    how: str  # "prototype" | "inner_steps" | "retrain" | "estimate"
    gradient_steps: int
    seconds: float
    old_accuracy: float | None  # on held-out texts of the old classes
    new_accuracy: float | None  # on the new examples, leave-one-out
    estimated: bool = False
    tried: tuple[str, ...] = ()  # predictions for the learner's own test sentences


def memo(features: Features) -> Features:
    """Remember each text's vector: leave-one-out then costs no extra forward pass."""
    store: dict[str, np.ndarray] = {}

    def cached(texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in store]
        if missing:
            store.update(zip(missing, np.asarray(features(missing), dtype=np.float64)))
        return np.stack([store[t] for t in texts]) if len(texts) else np.zeros((0, 1))

    return cached


def prototype_absorber(features: Features) -> Absorber:
    """Nearest prototype in ``features`` space; the new class is just one more mean."""

    def absorb(support: TextSet) -> Predictor:
        classes = support.classes
        protos = prototypes(features(support.texts), label_ids(support.labels, classes),
                            len(classes))
        return lambda texts: [classes[i] for i in
                              squared_distances(features(texts), protos).argmin(axis=1)]

    return absorb


def head_steps_absorber(features: Features, method: GradientMethod) -> Absorber:
    """Proto-MAML head from the prototypes, then the method's inner SGD steps on its head
    (ANIL's adaptation; MAML adapts top layers too, which this view leaves out)."""
    steps = method.config.inner_steps
    lrs = {k: v.detach().double() for k, v in method.lrs().items() if k in HEAD}

    def absorb(support: TextSet) -> Predictor:
        classes = support.classes
        fs = torch.as_tensor(features(support.texts))
        y = torch.as_tensor(label_ids(support.labels, classes))
        weight, bias = proto_head(fs, y, len(classes))

        def loss_fn(p: dict[str, torch.Tensor], step: int) -> torch.Tensor:
            return nn.functional.cross_entropy(head_logits(fs, p[HEAD[0]], p[HEAD[1]]), y)

        final = inner_loop(loss_fn, {HEAD[0]: weight, HEAD[1]: bias}, steps=steps, lrs=lrs,
                           second_order=False)[-1]
        return lambda texts: [classes[i] for i in head_logits(
            torch.as_tensor(features(texts)), final[HEAD[0]], final[HEAD[1]]).argmax(-1)]

    return absorb


def retrain_absorber(name: str, ctx: RunContext, asked: Sequence[str]) -> Absorber:
    """Fit a fresh ``name`` (e.g. the linear probe) on the whole support set with the one
    runner (``metacore.run.run``), exactly as a comparison runs it, and answer from its
    predictions. The runner scores a test set, not texts asked later, so every text the view
    will ask about (``asked``: the held-out texts, the new examples, the tried sentences) is
    that test set, and the predictor looks them up."""
    from metacore.data import Split
    from metacore.plan import ExperimentPlan
    from metacore.run import run
    from metacore.run.adapt import prepared_from_split

    plan = ExperimentPlan(methods={name: {}}, seeds=(ctx.seed,), device=str(ctx.device),
                          backbone=getattr(ctx.backbone, "name", None) or "minilm")
    which = plan.runs()[0]
    texts = tuple(dict.fromkeys(asked))

    def absorb(support: TextSet) -> Predictor:
        # the labels of the asked texts are not known (tried sentences): any class will do,
        # only the predictions are read
        test = TextSet(texts, tuple([support.labels[0]] * len(texts)))
        split = Split(train=support, val=None, test=test, strategy="given")
        result = run(plan, which, prepared=prepared_from_split(split, which),
                     backbone=ctx.backbone, control=ctx.control, project=False)
        if result.status != "completed":
            raise RuntimeError(result.error or result.status)
        said = {p["text"]: p["predicted"] for p in result.predictions}
        return lambda wanted: [said[t] for t in wanted]

    return absorb


def score_absorber(absorb: Absorber, train: TextSet, new: TextSet, test_old: TextSet,
                   tried: Sequence[str] = ()) -> tuple[float, float, float | None, list[str]]:
    """(seconds to absorb, old-class accuracy, new-class leave-one-out accuracy, tried)."""
    t0 = time.perf_counter()
    predict = absorb(_join(train, new))
    seconds = time.perf_counter() - t0
    old = float(np.mean([p == y for p, y in zip(predict(test_old.texts), test_old.labels)])) \
        if len(test_old) else float("nan")
    return seconds, old, leave_one_out(absorb, train, new), predict(list(tried)) if tried else []


def leave_one_out(absorb: Absorber, train: TextSet, new: TextSet) -> float | None:
    """Share of new examples classified as the new class by a model built without them."""
    if len(new) < 2:
        return None
    hits = 0
    for i in range(len(new)):
        rest = new.subset([j for j in range(len(new)) if j != i])
        hits += absorb(_join(train, rest))([new.texts[i]])[0] == new.labels[i]
    return hits / len(new)


def _join(a: TextSet, b: TextSet) -> TextSet:
    return TextSet(a.texts + b.texts, a.labels + b.labels)


def new_class_set(label: str, texts: Sequence[str]) -> TextSet:
    """The learner's examples as a ``TextSet`` (blank lines and repeats dropped).

    Raises:
        ValueError: no label, or fewer than one example (one sentence).
    """
    label = label.strip()
    kept = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
    if not label:
        raise ValueError("Give the new class a name.")
    if not kept:
        raise ValueError("Type at least one example of the new class, one per line.")
    return TextSet(tuple(kept), tuple([label] * len(kept)))


def frozen_features(ctx: RunContext) -> Features:
    return memo(lambda texts: ctx.embed(list(texts)))


def method_features(method: EpisodicMethod, ctx: RunContext) -> Features:
    return memo(lambda texts: method.embed(list(texts), ctx=ctx))


@dataclass(frozen=True)
class AddClassReport:
    """Every method's row, a 2-D picture of old and new classes, and the tried sentences.

    ``picture`` columns: x, y, kind ("example", "prototype", "new example", "new prototype",
    "tried"), label, text. ``tried`` has one row per sentence, one column per method.
    """

    rows: tuple[Absorbed, ...]
    picture: pd.DataFrame
    tried: pd.DataFrame


def add_class(train: TextSet, test_old: TextSet, new: TextSet, *, ctx: RunContext,
              meta: dict[str, EpisodicMethod] | None = None, tried: Sequence[str] = (),
              finetune_seconds: float | None = None) -> AddClassReport:
    """Absorb ``new`` (K examples of one new label) into a model of ``train``'s classes.

    Every text is embedded by every model before the clock starts, so the times compare what
    the methods do with the new class, not the shared cost of reading it.

    Args:
        train: The K-shot training texts of the old classes.
        test_old: Held-out texts of the old classes.
        new: The new class's examples (``new_class_set``).
        meta: Set-up meta-learners by name ("protonet", "anil"); ANIL is made untrained
            (pretrained encoder, no meta-training) when missing.
        tried: The learner's own sentences; each method's prediction is reported.
        finetune_seconds: Estimated time to retrain full fine-tuning
            (``metacore.estimate.estimate_seconds``), if known.
    """
    frozen = frozen_features(ctx)
    plan = _plan(train, frozen, dict(meta or {}), ctx, [*test_old.texts, *new.texts, *tried])
    everything = [*train.texts, *test_old.texts, *new.texts, *tried]
    for features in {id(f): f for *_, f in plan}.values():
        features(everything)
    rows, tried_cols = [], {}
    for name, how, steps, absorb, _ in plan:
        seconds, old, new_acc, said = score_absorber(absorb, train, new, test_old, tried)
        rows.append(Absorbed(name, how, steps, seconds, old, new_acc, tried=tuple(said)))
        tried_cols[name] = said
    rows.append(Absorbed("full-finetune", "estimate", 0, finetune_seconds or float("nan"),
                         None, None, estimated=True))
    table = pd.DataFrame({"text": list(tried), **tried_cols}) if tried else pd.DataFrame()
    return AddClassReport(tuple(rows), new_class_picture(frozen, train, new, tried), table)


def _plan(train: TextSet, frozen: Features, meta: dict[str, EpisodicMethod],
          ctx: RunContext, asked: Sequence[str]) -> list[tuple[str, str, int, Absorber, Features]]:
    """(method, how, gradient steps, absorber, its feature space) for every method shown;
    ``asked``: every text the methods will be asked to classify."""
    if "anil" not in meta:
        from metacore.teaching.meta import create_brief

        meta["anil"] = create_brief("anil", episodes=0, shape=(2, 1, 1))
        meta["anil"].meta_train(train, val=None, ctx=ctx)  # 0 episodes: only sets up
    plan = [("nearest-centroid", "prototype", 0, prototype_absorber(frozen), frozen)]
    if "protonet" in meta:
        feats = method_features(meta["protonet"], ctx)
        plan.append(("protonet", "prototype", 0, prototype_absorber(feats), feats))
    anil = meta["anil"]
    feats = method_features(anil, ctx)
    plan.append(("anil", "inner_steps", anil.config.inner_steps,
                 head_steps_absorber(feats, anil), feats))
    # the linear probe reads the process-wide cache that ``frozen`` fills
    plan.append(("linear-probe", "retrain", 0, retrain_absorber("linear-probe", ctx, asked),
                 frozen))
    return plan


def new_class_picture(features: Features, train: TextSet, new: TextSet,
                      tried: Sequence[str] = ()) -> pd.DataFrame:
    """2-D PCA of old examples and prototypes, the new examples and their prototype."""
    from metacore.teaching.common import project_2d

    classes = train.classes
    old = features(train.texts)
    fresh = features(new.texts)
    protos = prototypes(old, label_ids(train.labels, classes), len(classes))
    new_proto = fresh.mean(axis=0, keepdims=True)
    extra = features(list(tried)) if tried else np.zeros((0, old.shape[1]))
    xy = project_2d(np.vstack([old, protos, fresh, new_proto, extra]))
    label = new.labels[0]
    kinds = (["example"] * len(old) + ["prototype"] * len(classes)
             + ["new example"] * len(fresh) + ["new prototype"] + ["tried"] * len(extra))
    labels = [*train.labels, *classes, *new.labels, label, *([""] * len(extra))]
    texts = [*train.texts, *classes, *new.texts, label, *tried]
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "kind": kinds, "label": labels,
                         "text": texts})
