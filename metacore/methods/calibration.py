"""Temperature calibration of prototype and centroid heads (Guo et al. 2017, "On Calibration
of Modern Neural Networks": one scalar on the logits, fitted by minimising the negative
log-likelihood).

A softmax over distances or scaled cosine similarities to class means is a score, not a
probability: on L2-normalised sentence embeddings an easy, correct prediction reads 12 %
among 15 classes. ``fit_scale`` finds the positive factor ``s`` that makes ``softmax(s * z)``
fit the labels best, on leave-one-out logits of the support texts themselves (each text
scored against its own class's mean *without it*, so a centroid never sees the text it is
judged on). Multiplying every logit by one positive number keeps each text's order of
classes, so the predicted class, and every accuracy, stays exactly as it was; ``s`` is folded
into the head's weight and bias, so saved models need nothing new to load.

Deterministic (bisection on the derivative, which is monotone because the NLL is convex in
``s``) and cheap: one (N, C) matrix, no encoder pass. Not possible when no class has two
support texts (K = 1): then the head stays as it was and its outputs are scores.
"""

from __future__ import annotations

import math

import torch
from torch import nn

S_MIN, S_MAX = 1e-3, 1e3  # bounds of the fitted factor (separable data would take it to inf)
ITERATIONS = 40  # log-scale bisection: the factor to 1e-11 of its range


def loo_logits(feats: torch.Tensor, labels: torch.Tensor, n_classes: int, *,
               distance: str, scale: float) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Leave-one-out logits (M, C) and labels (M,) of the texts whose class has another text;
    None when there are fewer than two such texts or classes."""
    from metacore.methods.episodic_base import head_logits, proto_head

    feats = feats.double()
    counts = torch.bincount(labels, minlength=n_classes)
    keep = counts[labels] >= 2
    if int(keep.sum()) < 2 or n_classes < 2:
        return None
    weight, bias = proto_head(feats, labels, n_classes, distance=distance, scale=scale)
    normalize = distance == "cosine"
    f, y = feats[keep], labels[keep]
    logits = head_logits(f, weight, bias, normalize)  # (M, C) with full centroids
    sums = nn.functional.one_hot(labels, n_classes).to(feats.dtype).T @ feats  # (C, H)
    n = counts[y].to(feats.dtype).unsqueeze(1)
    own = (sums[y] - f) / (n - 1)  # each text's class mean without it (M, H)
    if normalize:
        w_own = scale * nn.functional.normalize(own, dim=-1)
        z_own = (nn.functional.normalize(f, dim=-1) * w_own).sum(-1)
    else:
        z_own = (f * 2 * own).sum(-1) - (own * own).sum(-1)
    logits[torch.arange(len(y)), y] = z_own
    return logits, y


def fit_scale(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The factor ``s`` in [S_MIN, S_MAX] minimising the mean cross-entropy of
    ``softmax(s * logits)`` against Platt-smoothed targets: the true class ``1 - e``, the others
    sharing ``e = 1 / (M + 2)`` for M texts (Platt 1999's targets; Laplace's rule of
    succession). On separable data the plain NLL would push ``s`` to infinity and every
    answer to 100 %; smoothed, the confidence grows with the evidence (30 texts: about 97 %)."""
    z = logits.double()
    m, c = z.shape
    eps = 1.0 / (m + 2)
    q = torch.full_like(z, eps / max(1, c - 1))
    q[torch.arange(m), labels] = 1.0 - eps
    target = (q * z).sum(1)

    def slope(s: float) -> float:  # d loss / d s = E_p[z] - E_q[z], increasing in s
        p = torch.softmax(s * z, dim=1)
        return float(((p * z).sum(1) - target).mean())

    lo, hi = math.log(S_MIN), math.log(S_MAX)
    if slope(S_MAX) <= 0:
        return S_MAX
    if slope(S_MIN) >= 0:
        return S_MIN
    for _ in range(ITERATIONS):
        mid = (lo + hi) / 2
        if slope(math.exp(mid)) > 0:
            hi = mid
        else:
            lo = mid
    return math.exp((lo + hi) / 2)


def calibrate_head(feats: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor,
                   bias: torch.Tensor, *, distance: str, scale: float
                   ) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """(weight, bias, record): the prototype head of ``feats`` with its fitted factor folded
    in; ``record`` is ``{"temperature": 1/s, "fitted_on": "leave-one-out", "texts": M}``, or
    ``{"temperature": None, ...}`` when calibration was not possible (the head unchanged)."""
    loo = loo_logits(feats, labels, weight.shape[0], distance=distance, scale=scale)
    if loo is None:
        return weight, bias, {"temperature": None, "fitted_on": None, "texts": 0}
    s = fit_scale(*loo)
    record = {"temperature": 1.0 / s, "fitted_on": "leave-one-out",
              "texts": int(len(loo[1]))}
    return weight * s, bias * s, record
