"""Prototypes and distances against hand-computed values."""

from __future__ import annotations

import numpy as np
import torch

from metacore.methods import create
from metacore.methods.base import softmax
from metacore.methods.episodic_base import head_logits, proto_head


def test_prototype_head_equals_negative_squared_distance():
    feats = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [0.0, 4.0]])
    weight, bias = proto_head(feats, torch.tensor([0, 0, 1, 1]), 2)
    torch.testing.assert_close(weight, torch.tensor([[2.0, 0.0], [0.0, 6.0]]))  # 2p
    torch.testing.assert_close(bias, torch.tensor([-1.0, -9.0]))  # -||p||^2
    query = torch.tensor([[1.0, 1.0], [0.0, 3.0]])
    logits = head_logits(query, weight, bias)
    # squared distances to p0 = (1, 0) and p1 = (0, 3): [[1, 5], [10, 0]]
    expected = softmax(-np.array([[1.0, 5.0], [10.0, 0.0]]))
    np.testing.assert_allclose(softmax(logits.numpy()), expected, rtol=1e-6)


def test_cosine_head_is_scaled_cosine_similarity():
    feats = torch.tensor([[3.0, 0.0], [0.0, 1.0]])
    weight, bias = proto_head(feats, torch.tensor([0, 1]), 2, distance="cosine", scale=10.0)
    logits = head_logits(torch.tensor([[1.0, 1.0]]), weight, bias, normalize=True)
    torch.testing.assert_close(logits, torch.tensor([[10 / 2**0.5, 10 / 2**0.5]]))


def test_an_extra_vector_per_class_counts_as_that_many_support_texts():
    """Class names as support: the prototype is the mean of the texts and w copies of the
    name's vector (w = 2 here), in both distances; weight 0 leaves the class means."""
    feats = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    labels, names = torch.tensor([0, 0, 1]), torch.tensor([[4.0, 0.0], [0.0, 5.0]])
    weight, bias = proto_head(feats, labels, 2, extra=names, extra_weight=2.0)
    # p0 = (0 + 2 + 2*4) / 4 = (2.5, 0); p1 = (2 + 2*5) / 3 = (0, 4)
    torch.testing.assert_close(weight, torch.tensor([[5.0, 0.0], [0.0, 8.0]]))
    torch.testing.assert_close(bias, torch.tensor([-6.25, -16.0]))
    cos_w, _ = proto_head(feats, labels, 2, distance="cosine", scale=10.0, extra=names,
                          extra_weight=2.0)
    torch.testing.assert_close(cos_w, torch.tensor([[10.0, 0.0], [0.0, 10.0]]))
    plain = proto_head(feats, labels, 2)
    for got, want in zip(proto_head(feats, labels, 2, extra=names, extra_weight=0.0), plain,
                         strict=True):
        torch.testing.assert_close(got, want)


def test_nearest_centroid_matches_hand_computation(separable, ctx):
    train, test = separable
    method = create("nearest-centroid")
    method.fit(train, val=None, ctx=ctx)
    x_train, x_test = ctx.embed(list(train.texts), 128), ctx.embed(list(test.texts), 128)
    y = np.array(train.labels)
    protos = np.stack([x_train[y == c].mean(0) for c in train.classes])
    dist = ((x_test[:, None, :] - protos[None]) ** 2).sum(-1)
    temperature = method.calibration["temperature"]  # fitted: metacore.methods.calibration
    proba = method.predict_proba(list(test.texts), ctx=ctx)
    np.testing.assert_allclose(proba, softmax(-dist / temperature), atol=1e-5)
    assert (proba.argmax(1) == dist.argmin(1)).all()  # the nearest centroid, as before
