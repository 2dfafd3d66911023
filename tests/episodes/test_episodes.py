"""Episode sampler and class-disjoint splits: shapes, seeds, disjointness, feasibility."""

from __future__ import annotations

import pandas as pd
import pytest

from metacore.data import DataError, TextSet
from metacore.data.episodes import (
    ClassSplit,
    episode_findings,
    episode_labels,
    fitted_shape,
    parse_class_split,
    random_class_split,
    resolve_class_split,
    sample_episodes,
    support_set,
)


def textset(classes: int = 6, per_class: int = 10) -> TextSet:
    labels = [f"c{c}" for c in range(classes) for _ in range(per_class)]
    return TextSet.from_lists([f"text {i}" for i in range(len(labels))], labels)


def test_episode_shapes_and_disjoint_rows():
    data = textset()
    episodes = sample_episodes(data, 3, 2, 4, n_episodes=20, seed=0)
    assert len(episodes) == 20
    for ep in episodes:
        assert len(set(ep.classes)) == 3
        assert len(ep.support) == 3 * 2 and len(ep.query) == 3 * 4
        assert not set(ep.support) & set(ep.query)
        assert {data.labels[i] for i in ep.support} == set(ep.classes)
        ys, yq = episode_labels(data, ep)
        assert list(ys) == [0, 0, 1, 1, 2, 2] and sorted(set(yq)) == [0, 1, 2]
        assert support_set(data, ep).labels[0] == ep.classes[0]


def test_episodes_repeat_with_the_seed_and_respect_the_class_pool():
    data = textset()
    assert sample_episodes(data, 2, 1, 1, 5, seed=3) == sample_episodes(data, 2, 1, 1, 5, seed=3)
    assert sample_episodes(data, 2, 1, 1, 5, seed=3) != sample_episodes(data, 2, 1, 1, 5, seed=4)
    pool = ["c1", "c4"]
    assert all(set(ep.classes) == set(pool)
               for ep in sample_episodes(data, 2, 1, 1, 5, seed=0, classes=pool))


def test_feasibility_messages():
    data = textset(classes=3, per_class=4)
    with pytest.raises(DataError, match="fewer than 5 examples"):
        sample_episodes(data, 2, 2, 3, 1, seed=0)
    with pytest.raises(DataError, match="3 class\\(es\\) with enough examples but 4-way"):
        sample_episodes(data, 4, 1, 1, 1, seed=0)
    codes = {f.code for f in episode_findings(data, n_way=4, k_shot=3, n_query=2)}
    assert codes == {"episode_class_too_small", "episode_too_few_classes"}


def test_fitted_shape_shrinks_to_the_data():
    data = TextSet.from_lists(list("abcdefg"), ["x", "x", "x", "y", "y", "y", "z"])
    classes, n_way, k, q = fitted_shape(data, 5, 5, 5)
    assert classes == ["x", "y"] and (n_way, k, q) == (2, 1, 2)


def test_class_splits_column_random_explicit():
    frame = pd.DataFrame({"text": list("abcdef"), "label": ["p", "p", "q", "r", "s", "s"],
                          "split": ["meta_train", "meta_train", "meta_train", "meta_val",
                                    "meta_test", "meta_test"]})
    split = resolve_class_split("column", frame, seed=0)
    assert split == ClassSplit(("p", "q"), ("r",), ("s",), "column")
    rand = random_class_split([f"c{i}" for i in range(10)], seed=1)
    assert rand == random_class_split([f"c{i}" for i in range(10)], seed=1)
    parts = [set(rand.meta_train), set(rand.meta_val), set(rand.novel)]
    assert sum(map(len, parts)) == 10 and len(set.union(*parts)) == 10
    explicit = parse_class_split("meta_train=p,q; meta_val=r ;novel=s")
    assert explicit.novel == ("s",) and explicit.meta_train == ("p", "q")


def test_class_split_errors():
    frame = pd.DataFrame({"text": list("abcd"), "label": ["p", "q", "r", "s"]})
    with pytest.raises(DataError, match="in both meta_train and novel"):
        resolve_class_split("meta_train=p,q;novel=q,r", frame, seed=0)
    with pytest.raises(DataError, match="not in the data"):
        resolve_class_split("meta_train=p;novel=zzz", frame, seed=0)
    with pytest.raises(DataError, match="no split column"):
        resolve_class_split("column", frame, seed=0)
    mixed = frame.assign(label=["p", "p", "q", "r"],
                         split=["meta_train", "meta_test", "meta_train", "meta_test"])
    with pytest.raises(DataError, match="more than one part"):
        resolve_class_split("column", mixed, seed=0)
