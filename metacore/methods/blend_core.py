"""The numerical core of ``centroid-blend`` (the recommended method): numpy only, no encoder.

Three parts on top of nearest centroid (the squared Euclidean distance to class means of the
frozen, L2-normalised embeddings, as ``nearest-centroid``: with both weights at 0 the method
*is* nearest-centroid), each weighted per data set on the user's own examples (never tuned
to a benchmark):

1. **Calibrated prototypes**: one temperature fitted on leave-one-out support logits
   (``metacore.methods.calibration.fit_scale``). Cosine similarity to re-normalised
   prototypes was measured too: 1.1 points worse than the Euclidean rule on SST-5 and 0.6 on
   Emotion. Centring the features first (SimpleShot's
   CL2N, Wang et al. 2019) was measured too and left out: it helped on one of six data sets
   (SST-5, +2.3 points) and cost 0.5-1.2 points on the four others in English.
2. **Label names as extra support** when the labels are words (the label's embedding added to
   its class's prototype with weight ``w``, as in Luo et al. 2021, "Don't Miss the Labels:
   Label-semantic Augmented Meta-Learner for Few-Shot Text Classification"; the label-name
   prototypes of zero-shot classification, Yin et al. 2019). ``w`` is chosen among
   ``LABEL_WEIGHTS`` by the leave-one-out likelihood of the support texts (every text held out
   once, so the estimate uses all of them), and label names that do not help (codes, a
   script the backbone cannot read) mostly get weight 0.
3. **A character n-gram view** (TF-IDF + logistic regression, as ``tfidf-logreg``) blended in
   log-probability space with a weight chosen by cross-validation on the support texts
   (stacking, Wolpert 1992, with the blend weight as the only meta-parameter), under the
   one-standard-error rule (``one_se_choice``): a k-fold estimate from a few dozen texts is
   noisy, so the n-grams come in only when the held-out texts clearly want them. Where the
   backbone reads the script poorly (the run's language check: Chinese on an English model)
   the rule is turned round (``ngram_first``): the n-gram view alone (weight 1) is a
   candidate too and the *largest* weight within one standard error of the best is kept, so
   the embeddings, not the n-grams, have to earn their place. Measured on three Chinese sets
   on MiniLM (five seeds each; ``docs/benchmarks.md``), where the frozen embeddings' held-out
   probabilities are near uniform and the plain rule kept the n-grams out on most seeds:
   ChnSentiCorp 55.9 -> 58.4, and our own samples finance_news_zh 49.4 -> 55.4 and
   support_intents_zh 52.0 -> 60.3 % macro-F1. (Choosing the label weight by the
   same rule was measured and dropped: it kept helpful label names out on Emotion, -6
   points.)

The blend is a normalised log-linear mixture of two calibrated views, so its outputs are
probabilities, not only scores.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

LABEL_WEIGHTS = (0.0, 1.0, 2.0, 4.0, 8.0)
BLEND_WEIGHTS = (0.0, 0.2, 0.4, 0.6, 0.8)
FOLDS = 4


def label_words(label: str) -> str | None:
    """A class label as words for the backbone (``balance_not_updated`` -> "balance not
    updated", ``PlayMusic`` -> "play music", ``Sci/Tech`` -> "sci or tech"), or None when it
    is not words: no letter of any script (``0``, ``3.5``, ``-1``), or a code such as
    ``label_3``, ``LABEL_0``, ``c12``, ``A``."""
    text = str(label).strip()
    if not any(ch.isalpha() for ch in text):
        return None
    if re.fullmatch(r"(?i)(label|class|cat|category|c|l|y|type)?[\s_\-]*\d+", text):
        return None
    if len(text) == 1 and text.isascii():
        return None
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    text = re.sub(r"[_\-]+", " ", text).replace("/", " or ")
    return re.sub(r"\s+", " ", text).strip().lower()


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


@dataclass
class CentroidHead:
    """Prototypes of L2-normalised features, scored by negative squared Euclidean distance
    (as ``nearest-centroid``): ``logits = s * (2 n(x) @ P.T - |P|^2)`` (``n``: L2
    normalisation; the ``|x|^2`` term is the same for every class and left out)."""

    prototypes: np.ndarray  # (C, H), class means (with the label vectors) of unit vectors
    scale: float  # the fitted factor s (1.0 when it could not be fitted)
    label_weight: float
    calibrated: bool

    @property
    def weight(self) -> np.ndarray:
        return self.scale * 2 * self.prototypes

    @property
    def bias(self) -> np.ndarray:
        return -self.scale * (self.prototypes ** 2).sum(1)

    def logits(self, feats: np.ndarray) -> np.ndarray:
        return _normalise(np.asarray(feats, np.float64)) @ self.weight.T + self.bias


def _centroid_logits(x: np.ndarray, y: np.ndarray, n_classes: int, lab: np.ndarray | None,
                     w: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prototypes (C, H) and leave-one-out logits (M, C) with their labels for the texts
    whose prototype has something left without them (each text scored against its own
    class's prototype without it)."""
    onehot = np.eye(n_classes)[y]
    sums = onehot.T @ x
    counts = onehot.sum(0)
    if lab is not None and w > 0:
        sums = sums + w * lab
        counts = counts + w
    protos = sums / counts[:, None]
    keep = counts[y] - 1 > 1e-9
    xk, yk = x[keep], y[keep]
    own = (sums[yk] - xk) / (counts[yk] - 1)[:, None]
    z = 2 * xk @ protos.T - (protos ** 2).sum(1)
    z[np.arange(len(yk)), yk] = 2 * (xk * own).sum(1) - (own ** 2).sum(1)
    return protos, z, yk


def _fit_scale(z: np.ndarray, y: np.ndarray) -> float | None:
    from metacore.methods.calibration import fit_scale

    if len(y) < 2 or z.shape[1] < 2:
        return None
    return fit_scale(torch.as_tensor(z), torch.as_tensor(y))


def _losses(logp: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -logp[np.arange(len(y)), y]


def one_se_choice(candidates: Sequence[float], losses: dict[float, np.ndarray],
                  largest: bool = False) -> float:
    """The smallest candidate (``largest``: the largest) whose mean held-out loss is within
    one standard error of the best one's (the one-standard-error rule, Breiman et al. 1984,
    "Classification and Regression Trees"): with a few dozen held-out texts the best mean is
    partly luck, and the default model (less label weight, less n-gram view; with
    ``largest``, more) is kept unless the data insist."""
    means = {c: float(v.mean()) for c, v in losses.items()}
    best = min(means, key=means.get)
    v = losses[best]
    se = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0
    within = [c for c in candidates if c in means and means[c] <= means[best] + se]
    return max(within) if largest else min(within)


def fit_centroid(feats: np.ndarray, y: np.ndarray, n_classes: int,
                 labels: np.ndarray | None = None
                 ) -> tuple[CentroidHead, np.ndarray | None, dict]:
    """The centroid head with its label weight chosen by leave-one-out likelihood, the
    held-out log-probabilities (N, C) of the support texts (None where a class has one text
    and no label), and a record of the choice."""
    feats = np.asarray(feats, dtype=np.float64)
    x = _normalise(feats)
    lab = None if labels is None else _normalise(np.asarray(labels, np.float64))
    tried: dict[str, float] = {}
    fits: dict[float, tuple] = {}
    losses: dict[float, np.ndarray] = {}
    weights = LABEL_WEIGHTS if lab is not None else (0.0,)
    for w in weights:
        protos, z, yk = _centroid_logits(x, y, n_classes, lab, w)
        s = _fit_scale(z, yk)
        fits[w] = (protos, 1.0 if s is None else s, None if s is None else z, yk)
        if s is None or (w > 0 and len(yk) != len(fits[0.0][3])):
            continue  # compare weights on the same held-out texts only
        losses[w] = _losses(_log_softmax(s * z), yk)
        tried[f"{w:g}"] = round(float(losses[w].mean()), 4)
    w = min(losses, key=lambda c: (float(losses[c].mean()), c)) if losses else 0.0
    protos, s, z, yk = fits[w]
    head = CentroidHead(prototypes=protos, scale=float(s), label_weight=float(w),
                        calibrated=z is not None)
    held = None
    if z is not None and len(yk) == len(y):
        held = _log_softmax(s * z)
    return head, held, {"label_weight": float(w), "label_weight_nll": tried,
                        "temperature": (1.0 / s) if z is not None else None}


def centroid_head(feats: np.ndarray, y: np.ndarray, n_classes: int,
                  labels: np.ndarray | None, weight: float) -> CentroidHead:
    """The centroid head with the label weight ``weight`` chosen elsewhere (on features whose
    held-out texts were really unseen), its scale fitted on leave-one-out logits."""
    x = _normalise(np.asarray(feats, dtype=np.float64))
    lab = None if labels is None else _normalise(np.asarray(labels, np.float64))
    protos, z, yk = _centroid_logits(x, y, n_classes, lab, weight if lab is not None else 0.0)
    s = _fit_scale(z, yk)
    return CentroidHead(prototypes=protos, scale=1.0 if s is None else float(s),
                        label_weight=float(weight) if lab is not None else 0.0,
                        calibrated=s is not None)


@dataclass
class BlendChoice:
    weight: float
    nll: dict[str, float] = field(default_factory=dict)
    folds: int = 0


def cv_ngram_logprobs(build, texts: Sequence[str], y: np.ndarray, n_classes: int,
                      seed: int) -> np.ndarray | None:
    """Held-out log-probabilities (N, C) of the n-gram model by stratified k-fold (``FOLDS``,
    fewer when a class has fewer texts); None when a class has a single text."""
    from sklearn.model_selection import StratifiedKFold

    smallest = int(np.bincount(y, minlength=n_classes).min())
    folds = min(FOLDS, smallest)
    if folds < 2 or n_classes < 2:
        return None
    out = np.zeros((len(y), n_classes))
    texts = list(texts)
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y):
        model = build().fit([texts[i] for i in tr], y[tr])
        proba = np.full((len(te), n_classes), 1e-6)
        proba[:, model.classes_] = model.predict_proba([texts[i] for i in te])
        out[te] = np.log(proba / proba.sum(1, keepdims=True))
    return out


def blend(logp_centroid: np.ndarray, logp_ngram: np.ndarray, weight: float) -> np.ndarray:
    """Log-probabilities of the normalised log-linear mixture of the two views."""
    return _log_softmax((1.0 - weight) * logp_centroid + weight * logp_ngram)


def choose_blend(held_centroid: np.ndarray | None, held_ngram: np.ndarray | None,
                 y: np.ndarray, ngram_first: bool = False) -> BlendChoice:
    """The blend weight by held-out NLL under the one-standard-error rule: the smallest of
    ``BLEND_WEIGHTS`` within one standard error of the best, or, with ``ngram_first`` (the
    backbone reads the texts poorly), the largest of them and 1 (the n-gram view alone).
    0 when either view has no held-out predictions: the n-gram view is then left out."""
    if held_centroid is None or held_ngram is None:
        return BlendChoice(weight=0.0)
    weights = (*BLEND_WEIGHTS, 1.0) if ngram_first else BLEND_WEIGHTS
    losses = {a: _losses(blend(held_centroid, held_ngram, a), y) for a in weights}
    nll = {f"{a:g}": round(float(v.mean()), 4) for a, v in losses.items()}
    return BlendChoice(weight=float(one_se_choice(weights, losses, largest=ngram_first)),
                       nll=nll, folds=FOLDS)
