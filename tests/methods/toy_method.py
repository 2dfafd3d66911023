"""A whole method in one file, as a newcomer would write it: word-count naive Bayes.

Multinomial naive Bayes over lower-cased words with add-``smoothing`` counts (Manning, Raghavan
& Schütze 2008, "Introduction to Information Retrieval", ch. 13). Importing this file registers
it; nothing else in the code base names it. ``tests/methods/test_one_file_method.py`` finds it
in the CLI, the Train & compare form, the estimates and the contract suite.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metacore.config import MethodConfig, setting
from metacore.data import TextSet
from metacore.methods.base import Method, read_manifest, softmax
from metacore.methods.costs import DataSizes, Work
from metacore.methods.registry import register
from metacore.training.context import RunContext

NAME = "toy-bayes"


@dataclass
class ToyBayesConfig(MethodConfig):
    scope = NAME
    smoothing: float = setting(1.0, "Counts added to every word of every class, so a word "
                               "never seen with a class does not rule it out.", minimum=1e-3,
                               maximum=10.0, label="smoothing")
    lowercase: bool = setting(True, "Read 'Refund' and 'refund' as one word.", advanced=True)


def _words(text: str, lowercase: bool) -> list[str]:
    return (text.lower() if lowercase else text).split()


@register(NAME, config=ToyBayesConfig, family="classical", uses_backbone=False,
          colour="#0f766e", description="Word-count naive Bayes: a toy method in one file.")
class ToyBayes(Method):
    """Log class priors plus smoothed log word likelihoods."""

    config: ToyBayesConfig

    @classmethod
    def work(cls, config: ToyBayesConfig, sizes: DataSizes) -> Work:
        return Work(fixed_s=0.001 + 1e-5 * sizes.n_train)  # counting words: next to nothing

    def __init__(self, config: ToyBayesConfig) -> None:
        super().__init__(config)
        self.counts: dict[str, dict[str, float]] = {}
        self.priors: dict[str, float] = {}

    def fit(self, train: TextSet, *, val: TextSet | None, ctx: RunContext) -> None:
        self.classes = train.classes
        per_class = {c: Counter() for c in self.classes}
        for text, label in zip(train.texts, train.labels, strict=True):
            per_class[label].update(_words(text, self.config.lowercase))
        self.counts = {c: dict(words) for c, words in per_class.items()}
        sizes = Counter(train.labels)
        self.priors = {c: math.log(sizes[c] / len(train)) for c in self.classes}

    def predict_proba(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray:
        vocab = {w for words in self.counts.values() for w in words}
        a = self.config.smoothing
        scores = np.zeros((len(texts), len(self.classes)))
        for j, c in enumerate(self.classes):
            total = sum(self.counts[c].values()) + a * (len(vocab) + 1)
            for i, text in enumerate(texts):
                scores[i, j] = self.priors[c] + sum(
                    math.log((self.counts[c].get(w, 0) + a) / total)
                    for w in _words(text, self.config.lowercase))
        return softmax(scores)

    def parameter_counts(self) -> dict[str, int]:
        n = sum(len(words) for words in self.counts.values()) + len(self.priors)
        return {"trainable": n, "total": n}

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "counts.json").write_text(json.dumps(
            {"counts": self.counts, "priors": self.priors}), encoding="utf-8")
        self._write_manifest(directory, format="json")
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, ctx: RunContext) -> ToyBayes:
        manifest = read_manifest(directory)
        method = cls(ToyBayesConfig.from_dict(manifest["config"]))
        method.classes = manifest["classes"]
        saved = json.loads((Path(directory) / "counts.json").read_text(encoding="utf-8"))
        method.counts, method.priors = saved["counts"], saved["priors"]
        return method
