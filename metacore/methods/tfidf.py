"""TF-IDF + logistic regression: the classical baseline every other method must beat."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, make_pipeline

from metacore.config import MethodConfig, setting
from metacore.data import TextSet
from metacore.methods.base import Method
from metacore.methods.costs import DataSizes, Work
from metacore.methods.registry import register
from metacore.training.context import RunContext

# Measured per-fit costs on the CPU (no encoder): fixed seconds plus seconds per training text
# (TF-IDF word 1-2 + char 2-4 and logistic regression, predictions of the sample's 69 test texts
# and the runner's work around the fit included). From the fits of K-shot sweeps on the English
# sample, 2 CPU cores (bench/sweep_estimate.py): 0.06 s at 9 texts to 0.30 s at 238 when idle,
# about 1.4x that at load 1.3; 0.1 s + 0.003 s per text estimated a 30-run sweep 1.7-2.4x long.
FIXED_S, PER_TEXT_S = 0.06, 0.0012


@dataclass
class TfidfLogregConfig(MethodConfig):
    scope = "tfidf-logreg"
    c: float = setting(10.0, "Inverse regularisation strength of the logistic regression: "
                       "larger fits the training examples more closely.", minimum=1e-4)
    word_ngrams: int = setting(2, "Longest run of words used as a feature (1 = single words).",
                               minimum=1, maximum=3, advanced=True)
    char_ngrams: int = setting(4, "Longest run of characters used as a feature; characters "
                               "make it work for Chinese, which has no spaces.", minimum=1,
                               maximum=6, advanced=True)
    max_features: int = setting(100_000, "Most features kept per kind, to bound memory.",
                                minimum=100, advanced=True)


@register("tfidf-logreg", config=TfidfLogregConfig, family="classical", uses_backbone=False,
          colour="#64748b",
          description="TF-IDF word and character n-grams + logistic regression (no neural net).")
class TfidfLogreg(Method):
    """Bag of n-grams weighted by TF-IDF, classified by logistic regression (scikit-learn);
    multi-label data gets one-vs-rest logistic regression (``OneVsRestClassifier``)."""

    config: TfidfLogregConfig
    supports_multi_label = True

    def __init__(self, config: TfidfLogregConfig) -> None:
        super().__init__(config)
        self.pipeline = None

    @classmethod
    def work(cls, config: TfidfLogregConfig, sizes: DataSizes) -> Work:
        """No encoder: a fit costs fixed seconds plus a little per text (char n-grams up to 3
        and single words: about 4x less, measured on the sample)."""
        light = 0.25 if config.char_ngrams <= 3 and config.word_ngrams <= 1 else 1.0
        if sizes.protocol == "episodic":  # a fresh fit on every test episode's support set
            per = FIXED_S + PER_TEXT_S * light * sizes.support_texts
            return Work(fixed_s=sizes.test_episodes * per)
        return Work(fixed_s=FIXED_S + PER_TEXT_S * light * sizes.n_train)

    def _build(self):
        c = self.config
        # A token pattern that also takes single characters: CJK words are one character long.
        words = TfidfVectorizer(ngram_range=(1, c.word_ngrams), token_pattern=r"(?u)\b\w+\b",
                                sublinear_tf=True, max_features=c.max_features)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, c.char_ngrams),
                                sublinear_tf=True, max_features=c.max_features)
        features = FeatureUnion([("words", words), ("chars", chars)])
        head = LogisticRegression(C=c.c, max_iter=2000)
        if self.multi_label:  # a logistic regression per label (constant for a label on all)
            head = OneVsRestClassifier(head)
        return make_pipeline(features, head)

    def fit(self, train: TextSet, *, val: TextSet | None, ctx: RunContext) -> None:
        self.start_fit(train)
        self.pipeline = self._build()
        if self.multi_label:
            with warnings.catch_warnings():  # "label not present in all training examples"
                warnings.simplefilter("ignore", UserWarning)
                self.pipeline.fit(list(train.texts), train.label_matrix(self.classes))
            return
        if len(self.classes) == 1:  # logistic regression needs two classes; predict the one
            self.pipeline = None
            return
        self.pipeline.fit(list(train.texts), train.label_ids(self.classes))

    def predict_proba(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray:
        if self.pipeline is None:
            return np.ones((len(texts), 1))
        return self.pipeline.predict_proba(list(texts))

    def parameter_counts(self) -> dict[str, int]:
        if self.pipeline is None:
            return {"trainable": 0, "total": 0}
        heads = getattr(self.pipeline[-1], "estimators_", [self.pipeline[-1]])
        n = int(sum(h.coef_.size + h.intercept_.size for h in heads if hasattr(h, "coef_")))
        return {"trainable": n, "total": n}

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        # joblib (pickle) is fine for our own artefacts; never load one from a stranger.
        joblib.dump(self.pipeline, directory / "pipeline.joblib")
        self._write_manifest(directory, format="joblib")
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, ctx: RunContext) -> TfidfLogreg:
        method, _ = cls._from_manifest(directory)
        method.pipeline = joblib.load(Path(directory) / "pipeline.joblib")
        return method
