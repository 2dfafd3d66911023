"""Calibrated prototype and centroid heads: probabilities that mean something, the same
predictions as before.

A softmax over distances to class means on L2-normalised embeddings is flat (about 1/n for
every class); the fitted temperature (``metacore.methods.calibration``) must make a correct,
easy prediction confident while leaving every text's predicted class exactly as it was.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metacore.methods import create, load_method
from metacore.methods.base import softmax
from metacore.methods.calibration import calibrate_head, fit_scale
from metacore.methods.episodic_base import head_logits, proto_head
from metacore.training.context import EmbeddingCache, RunContext
from tests.conftest import make_texts


def uncalibrated(train, texts, ctx, distance):
    feats = torch.as_tensor(ctx.embed(train.texts), dtype=torch.float64)
    w, b = proto_head(feats, torch.as_tensor(train.label_ids(train.classes)),
                      len(train.classes), distance=distance)
    query = torch.as_tensor(ctx.embed(texts), dtype=torch.float64)
    return softmax(head_logits(query, w, b, distance == "cosine").numpy())


@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
def test_nearest_centroid_is_confident_where_it_is_right_and_predicts_the_same(tiny, distance):
    train, test = make_texts(3, 10, seed=1), make_texts(3, 6, seed=2)
    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    method = create("nearest-centroid", {"distance": distance})
    method.fit(train, val=None, ctx=ctx)
    proba = method.predict_proba(test.texts, ctx=ctx)
    old = uncalibrated(train, test.texts, ctx, distance)
    truth = np.array(test.label_ids(method.classes))
    assert (proba.argmax(1) == old.argmax(1)).all()  # every text: the same class
    assert (proba.argmax(1) == truth).all()
    assert old.max(1).mean() < 0.5 < proba.max(1).min()  # was near 1/3, now confident
    assert proba.max(1).mean() < 0.99  # and not 100 % from 30 training texts
    assert np.allclose(proba.sum(1), 1.0)
    assert method.scores_are_probabilities()
    assert method.calibration["fitted_on"] == "leave-one-out"
    assert ctx.extras["calibration"] == method.calibration
    again = create("nearest-centroid", {"distance": distance})
    again.fit(train, val=None, ctx=RunContext(backbone=tiny, seed=7, cache=EmbeddingCache()))
    assert np.array_equal(again.predict_proba(test.texts, ctx=ctx), proba)  # deterministic


def test_one_shot_cannot_be_calibrated_and_says_scores(tiny, tmp_path):
    train = make_texts(3, 1, seed=1)
    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    method = create("nearest-centroid", {})
    method.fit(train, val=None, ctx=ctx)
    assert method.calibration["temperature"] is None and not method.scores_are_probabilities()
    texts = make_texts(3, 3, seed=4).texts
    assert np.allclose(method.predict_proba(texts, ctx=ctx), uncalibrated(train, texts, ctx,
                                                                          "euclidean"))
    loaded = load_method(method.save(tmp_path / "m"), ctx=ctx)
    assert not loaded.scores_are_probabilities()


def test_the_calibration_travels_with_the_saved_model(tiny, tmp_path):
    train = make_texts(3, 6, seed=3)
    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    method = create("nearest-centroid", {})
    method.fit(train, val=None, ctx=ctx)
    loaded = load_method(method.save(tmp_path / "m"), ctx=ctx)
    assert loaded.calibration == method.calibration and loaded.scores_are_probabilities()
    texts = make_texts(3, 2, seed=9).texts
    assert np.allclose(loaded.predict_proba(texts, ctx=ctx), method.predict_proba(texts, ctx=ctx),
                       atol=1e-5)


def test_episodes_are_calibrated_on_their_support_and_keep_their_answers(tiny):
    support, query = make_texts(3, 4, seed=5), make_texts(3, 3, seed=6)
    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    method = create("nearest-centroid", {})
    classes, proba = method.predict_episode(support, query.texts, ctx=ctx)
    old = uncalibrated(support, query.texts, ctx, "euclidean")
    assert classes == support.classes and (proba.argmax(1) == old.argmax(1)).all()
    assert proba.max(1).mean() > old.max(1).mean()
    assert method.parameter_counts()["trainable"] == 0  # as in the adapt protocol


def test_protonet_prototypes_are_calibrated_without_changing_a_prediction(tiny):
    train, test = make_texts(3, 6, seed=1), make_texts(3, 4, seed=2)
    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    method = create("protonet", {"meta_episodes": 0})  # prototypes of the encoder as it is
    method.fit(train, val=None, ctx=ctx)
    proba = method.predict_proba(test.texts, ctx=ctx)
    assert method.calibration["fitted_on"] == "leave-one-out"
    old = uncalibrated(train, test.texts, RunContext(backbone=tiny, seed=0,
                                                     cache=EmbeddingCache()), "euclidean")
    assert (proba.argmax(1) == old.argmax(1)).all()
    assert proba.max(1).mean() > max(0.5, old.max(1).mean())


def test_fit_scale_recovers_a_known_temperature_and_stays_in_bounds():
    rng = np.random.default_rng(0)
    logits = torch.as_tensor(rng.normal(size=(4000, 5)))
    labels = torch.as_tensor([int(rng.choice(5, p=row)) for row in softmax(3.0 * logits.numpy())])
    assert fit_scale(logits, labels) == pytest.approx(3.0, rel=0.1)
    separable = torch.eye(4).repeat(5, 1)
    s = fit_scale(separable, torch.arange(4).repeat(5))
    assert 1.0 < s < 1e3  # finite: the smoothed targets stop it short of 100 %
    w, b = torch.ones(2, 3), torch.zeros(2)
    one_each = calibrate_head(torch.eye(2, 3), torch.arange(2), w, b, distance="euclidean",
                              scale=10.0)
    assert one_each[2]["temperature"] is None and one_each[0] is w
