"""The inner loop made visible: per-step support and query loss and accuracy on one episode.

MAML (Finn et al. 2017), FOMAML, ANIL (Raghu et al. 2020) and Reptile (Nichol et al. 2018)
all adapt to a support set with a few SGD steps from a Proto-MAML head (Triantafillou et al.
2020). ``inner_loop_trace`` runs those steps with the methods' own pieces (``inner_loop``,
``proto_head``, ``functional_features``, each method's choice of what adapts and its inner
learning rates) and scores the support and the query after every step. A k-step inner loop is
the first k steps of a longer one (full-batch SGD, one learning rate per step), so one trace of
the longest loop answers every slider position.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from metacore.data import TextSet
from metacore.methods.episodic_base import head_logits, proto_head
from metacore.methods.maml import (
    HEAD,
    GradientMethod,
    Params,
    functional_features,
    inner_loop,
    layer_names,
    step_stats,
)
from metacore.teaching.common import label_ids, model_threads
from metacore.training.batching import collate
from metacore.training.context import RunContext

GRADIENT_METHODS = ("maml", "fomaml", "anil", "reptile")


@dataclass(frozen=True)
class InnerTrace:
    """The inner loop on one episode, step 0 (the prototype head) to ``steps``.

    Attributes:
        frame: One row per step: ``step``, ``support_loss``, ``support_accuracy``,
            ``query_loss``, ``query_accuracy``.
        query_proba: Query class probabilities after each step, (steps + 1, Q, N).
        adapted: Names of the parameter tensors the inner loop changes.
        seconds: Wall time of the whole trace.
    """

    method: str
    classes: tuple[str, ...]
    query_texts: tuple[str, ...]
    query_labels: tuple[str, ...]
    frame: pd.DataFrame
    query_proba: np.ndarray
    adapted: tuple[str, ...]
    seconds: float

    @property
    def steps(self) -> int:
        return len(self.frame) - 1

    def upto(self, k: int) -> pd.DataFrame:
        """Rows of steps 0..k (the slider's view)."""
        return self.frame[self.frame["step"] <= k].reset_index(drop=True)

    def predictions(self, k: int) -> pd.DataFrame:
        """Each query's predicted class and confidence after ``k`` steps."""
        proba = self.query_proba[min(k, self.steps)]
        pred = [self.classes[i] for i in proba.argmax(axis=1)]
        frame = pd.DataFrame({"text": self.query_texts, "label": self.query_labels,
                              "predicted": pred, "confidence": proba.max(axis=1)})
        frame["correct"] = frame["label"] == frame["predicted"]
        return frame


def step_lrs(method: GradientMethod, steps: int, lr: float | None = None
             ) -> dict[str, torch.Tensor]:
    """Inner learning rates for ``steps`` steps: the method's own (the last one repeated),
    or ``lr`` everywhere."""
    out = {}
    for name, lrs in method.lrs().items():
        lrs = lrs.detach() if lr is None else torch.full((steps,), float(lr))
        extra = lrs[-1:].repeat(max(0, steps - len(lrs)))
        out[name] = torch.cat([lrs, extra])[:steps]
    return out


def inner_loop_trace(method: GradientMethod, support: TextSet, query: TextSet, *, steps: int,
                     ctx: RunContext, head: str = "prototypes", lr: float | None = None
                     ) -> InnerTrace:
    """Run ``steps`` inner steps on ``support`` and score support and query after each.

    The method's stored weights do not change (the inner loop works on copies, as
    ``predict_episode`` does). ``method`` must be set up, e.g. by ``meta_train``.

    Args:
        head: Where the head starts: "prototypes" (Proto-MAML, what the methods do) or "zero"
            (the original MAML head, so the inner loop has to do all the work).
        lr: One inner learning rate for every step and tensor instead of the method's own.
    """
    with model_threads():
        return _trace(method, support, query, steps=steps, ctx=ctx, head=head, lr=lr)


def _trace(method: GradientMethod, support: TextSet, query: TextSet, *, steps: int,
           ctx: RunContext, head: str, lr: float | None) -> InnerTrace:
    t0 = time.perf_counter()
    enc = method.encoder
    enc.eval()  # no dropout in inner loops, as in the methods
    classes = tuple(support.classes)
    names = layer_names(enc, *method.adapt_part())
    ids = method.backbone.tokenize([*support.texts, *query.texts], method.config.max_length)
    batch = collate(ids, method.backbone.pad_id(), ctx.device)
    s = len(support)
    ys = torch.as_tensor(label_ids(support.labels, classes), device=ctx.device)
    yq = torch.as_tensor(label_ids(query.labels, classes), device=ctx.device)
    with torch.no_grad():
        feats = functional_features(enc, {}, batch["input_ids"], batch["attention_mask"])
    weight, bias = proto_head(feats[:s], ys, len(classes))
    if head == "zero":
        weight, bias = torch.zeros_like(weight), torch.zeros_like(bias)
    own = dict(enc.named_parameters())
    fast: Params = {**{n: own[n].detach() for n in names}, HEAD[0]: weight, HEAD[1]: bias}
    sup = (batch["input_ids"][:s], batch["attention_mask"][:s])

    def loss_fn(p: Params, step: int) -> torch.Tensor:
        f = functional_features(enc, p, *sup) if names else feats[:s]
        return nn.functional.cross_entropy(head_logits(f, p[HEAD[0]], p[HEAD[1]]), ys)

    lrs = step_lrs(method, steps, lr)
    rows, probas = [], []
    for step in range(steps + 1):
        row, proba = _score(enc, fast, names, feats, batch, s, ys, yq)
        rows.append({"step": step, **row})
        probas.append(proba)
        if step < steps:  # one step at a time: only one copy of the adapted weights is kept
            fast = inner_loop(loss_fn, fast, steps=1, second_order=False,
                              lrs={k: v[step : step + 1] for k, v in lrs.items()})[-1]
    return InnerTrace(method.name, classes, query.texts, query.labels, pd.DataFrame(rows),
                      np.stack(probas), (*names, *HEAD), time.perf_counter() - t0)


@torch.no_grad()
def _score(enc: nn.Module, params: Params, names: list[str], feats: torch.Tensor,
           batch: dict[str, torch.Tensor], s: int, ys: torch.Tensor, yq: torch.Tensor
           ) -> tuple[dict[str, float], np.ndarray]:
    """Support/query loss and accuracy under ``params``, and the query probabilities."""
    params = {k: v.detach() for k, v in params.items()}
    if names:
        feats = functional_features(enc, params, batch["input_ids"], batch["attention_mask"])
    fs, fq = feats[:s], feats[s:]
    keep = yq >= 0  # a query class missing from the support set cannot be scored
    row = step_stats((fs, ys), (fq[keep], yq[keep]), params)
    logits = head_logits(fq, params[HEAD[0]], params[HEAD[1]])
    return row, torch.softmax(logits.float(), dim=-1).cpu().numpy()
