"""Prototype math, distances, projections and episode drawing of the teaching engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metacore.data import TextSet
from metacore.methods.episodic_base import proto_head
from metacore.teaching import (
    class_pools,
    draw_episode,
    inspect_episode,
    project_2d,
    prototypes,
    squared_distances,
)
from tests.conftest import make_texts


def class_features(textset: TextSet, noise: float = 0.05):
    """Texts -> vectors near a one-hot per class: a feature space where classes separate."""
    classes = textset.classes
    lookup = dict(zip(textset.texts, textset.labels))

    def features(texts):
        rng = np.random.default_rng(len(texts))
        base = np.eye(8)[[classes.index(lookup[t]) for t in texts]]
        return base + noise * rng.normal(size=base.shape)

    return features


def test_prototypes_are_class_means_and_match_proto_head() -> None:
    feats = np.array([[0.0, 2.0], [2.0, 0.0], [4.0, 4.0], [1.0, 1.0]])
    labels = [0, 0, 1, 1]
    protos = prototypes(feats, labels, 2)
    np.testing.assert_allclose(protos, [[1.0, 1.0], [2.5, 2.5]])
    weight, bias = proto_head(torch.as_tensor(feats), torch.as_tensor(labels), 2)
    np.testing.assert_allclose(weight.numpy(), 2 * protos)  # W = 2p
    np.testing.assert_allclose(bias.numpy(), -(protos**2).sum(1))  # b = -||p||^2


def test_squared_distances_match_brute_force() -> None:
    rng = np.random.default_rng(0)
    q, p = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    brute = ((q[:, None, :] - p[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(squared_distances(q, p), brute, atol=1e-12)


def test_project_2d_shape_and_small_inputs() -> None:
    rng = np.random.default_rng(1)
    assert project_2d(rng.normal(size=(10, 6))).shape == (10, 2)
    assert project_2d(rng.normal(size=(2, 6))).shape == (2, 2)


def test_draw_episode_is_reproducible_and_steps() -> None:
    data = make_texts(4, 10)
    first = draw_episode(data, n_way=3, k_shot=2, n_query=3, seed=5, index=0)
    assert first == draw_episode(data, n_way=3, k_shot=2, n_query=3, seed=5, index=0)
    assert first != draw_episode(data, n_way=3, k_shot=2, n_query=3, seed=5, index=1)
    assert len(first.support) == 6 and len(first.query) == 9
    only = draw_episode(data, n_way=2, k_shot=1, n_query=1, seed=0, classes=["food", "sports"])
    assert set(only.classes) == {"food", "sports"}


def test_inspect_episode_geometry() -> None:
    data = make_texts(3, 8)
    episode = draw_episode(data, n_way=3, k_shot=3, n_query=4, seed=0)
    view = inspect_episode(data, episode, class_features(data))
    assert view.support_xy.shape == (9, 2) and view.query_xy.shape == (12, 2)
    assert view.prototype_xy.shape == (3, 2) and view.distances.shape == (12, 3)
    np.testing.assert_allclose(view.probabilities.sum(1), 1.0)
    # PCA is affine, so each prototype lands on the mean of its support points in 2-D
    for j, name in enumerate(view.classes):
        rows = [i for i, y in enumerate(view.support_labels) if y == name]
        np.testing.assert_allclose(view.prototype_xy[j], view.support_xy[rows].mean(0),
                                   atol=1e-9)
    assert view.accuracy == 1.0  # classes separate in this feature space
    table = view.query_table()
    assert list(table.columns[:4]) == ["text", "label", "predicted", "confidence"]


@pytest.mark.parametrize("n, disjoint", [(9, True), (4, True), (3, False)])
def test_class_pools(n: int, disjoint: bool) -> None:
    classes = [f"c{i}" for i in range(n)]
    pools = class_pools(classes)
    assert pools.disjoint is disjoint
    if disjoint:
        assert not set(pools.novel) & set(pools.base)
        assert len(pools.novel) >= 2 and len(pools.base) >= 2
    assert class_pools(classes) == pools  # deterministic
