"""The methods that learn several labels a text: independent probabilities, thresholds,
saving and loading, scores; and the others refuse with the names of those that can."""

from __future__ import annotations

import random

import numpy as np
import pytest

from metacore.data import DataError, TextSet
from metacore.methods import registry
from metacore.methods.base import load_method, multi_label_methods
from metacore.methods.multilabel import choose_thresholds
from metacore.metrics import cooccurrence, multilabel_metrics
from tests.conftest import VOCAB

MULTI = ["tfidf-logreg", "linear-probe", "nearest-centroid", "full-finetune", "lora"]
QUICK = {"full-finetune": {"epochs": 2}, "lora": {"epochs": 2}}


def multi_texts(n: int = 30, seed: int = 0) -> TextSet:
    """Texts mixing the words of one or two topics, labelled with those topics."""
    rng = random.Random(seed)
    topics = list(VOCAB)[:3]
    texts, sets = [], []
    for i in range(n):
        chosen = [topics[i % 3]] + ([topics[(i + 1) % 3]] if i % 2 else [])
        words = [w for t in chosen for w in rng.sample(VOCAB[t].split(), 3)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        sets.append(chosen)
    return TextSet.multi(texts, sets)


def test_the_declared_methods_are_those_the_issue_names() -> None:
    assert set(MULTI) <= set(multi_label_methods())
    assert "protonet" not in multi_label_methods()


@pytest.mark.parametrize("name", MULTI)
def test_multi_label_fit_predict_save_load(name: str, ctx, tmp_path) -> None:
    train, test = multi_texts(30, seed=1), multi_texts(12, seed=2)
    method = registry.create(name, QUICK.get(name))
    method.fit(train, val=None, ctx=ctx)
    assert method.multi_label and method.classes == train.classes
    proba = method.predict_proba(list(test.texts), ctx=ctx)
    assert proba.shape == (len(test), 3) and ((proba >= 0) & (proba <= 1)).all()
    labels = method.labels_of(proba)
    assert len(labels) == len(test) and all(set(x) <= set(train.classes) for x in labels)
    method.thresholds = [0.4, 0.5, 0.6]
    method.save(tmp_path / "m")
    again = load_method(tmp_path / "m", ctx=ctx)
    assert again.multi_label and again.thresholds == [0.4, 0.5, 0.6]
    assert np.allclose(again.predict_proba(list(test.texts), ctx=ctx), proba, atol=1e-5)


def test_tfidf_learns_the_labels(ctx) -> None:
    train, test = multi_texts(60, seed=3), multi_texts(30, seed=4)
    method = registry.create("tfidf-logreg")
    method.fit(train, val=None, ctx=ctx)
    guess = TextSet.multi(test.texts, method.labels_of(
        method.predict_proba(list(test.texts), ctx=ctx))).label_matrix(train.classes)
    metrics, _ = multilabel_metrics(test.label_matrix(train.classes), guess, train.classes)
    assert metrics["micro_f1"] > 0.8


@pytest.mark.parametrize("name", ["protonet", "centroid-blend"])
def test_single_label_methods_refuse_with_the_alternatives(name: str, ctx) -> None:
    method = registry.create(name)
    with pytest.raises(DataError, match="tfidf-logreg"):
        method.fit(multi_texts(12), val=None, ctx=ctx)


def test_thresholds_maximise_f1_and_fall_back() -> None:
    proba = np.array([[0.9, 0.2], [0.35, 0.3], [0.3, 0.1], [0.1, 0.05]])
    truth = np.array([[1, 0], [1, 0], [0, 0], [0, 0]])
    chosen = choose_thresholds(proba, truth)
    assert 0.3 < chosen[0] <= 0.35  # both positives above, the negatives below
    assert chosen[1] == 0.5  # no positive to choose by: the default


def test_multilabel_metrics_match_hand_counts() -> None:
    truth = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]])
    pred = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0]])
    metrics, per = multilabel_metrics(truth, pred, ["a", "b", "c"])
    assert metrics["subset_accuracy"] == pytest.approx(2 / 3)
    assert metrics["hamming_loss"] == pytest.approx(1 / 9)
    assert metrics["micro_f1"] == pytest.approx(2 * 4 / (2 * 4 + 1))
    assert per["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert cooccurrence(truth) == [[2, 1, 1], [1, 2, 0], [1, 0, 1]]
