"""TextSet, make_split and sample_k_shot."""

from __future__ import annotations

from collections import Counter
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pytest

from metacore.data import DataError, Split, TextSet, load_dataset, make_split, sample_k_shot

BAD = Path(__file__).with_name("bad")


def _load(lines: list[str], name: str = "data.csv"):
    return load_dataset(("\n".join(lines) + "\n").encode("utf-8"), filename=name)


def _imbalanced(seed_rows: int = 0):
    """100 rows: 50 a, 30 b, 15 c, 5 d."""
    sizes = {"a": 50, "b": 30, "c": 15, "d": 5}
    lines = ["text,label"] + [f"{c} text {i},{c}" for c, n in sizes.items() for i in range(n)]
    return _load(lines)


def _texts(part: TextSet | None) -> list[str]:
    return list(part.texts) if part is not None else []


# --- TextSet -----------------------------------------------------------------------------


def test_textset_basics() -> None:
    ts = TextSet.from_lists(["x", "y", "z", 4], ["b", "a", "b", 1])
    assert len(ts) == 4 and ts.texts[3] == "4" and ts.labels[3] == "1"
    assert ts.classes == ["1", "a", "b"]
    assert ts.subset([2, 0]) == TextSet(("z", "x"), ("b", "b"))
    ids = ts.label_ids(["a", "b"])
    assert ids.dtype == np.int64 and ids.tolist() == [1, 0, 1, -1]  # -1: not in classes
    with pytest.raises(ValueError):
        TextSet(("a",), ())
    with pytest.raises(FrozenInstanceError):
        ts.texts = ()  # type: ignore[misc]
    ts.classes.append("mutated")
    assert ts.classes == ["1", "a", "b"]


# --- make_split --------------------------------------------------------------------------


def test_stratified_split_keeps_class_proportions() -> None:
    split = make_split(_imbalanced(), test_size=0.2, val_size=0.1, seed=0)
    assert split.strategy == "stratified"
    assert (len(split.train), len(split.val), len(split.test)) == (70, 10, 20)
    assert Counter(split.test.labels) == {"a": 10, "b": 6, "c": 3, "d": 1}
    everything = _texts(split.train) + _texts(split.val) + _texts(split.test)
    assert len(everything) == len(set(everything)) == 100
    assert split.to_dict() == {
        "strategy": "stratified", "train": 70, "val": 10, "test": 20,
        "train_classes": 4, "test_classes": 4,
    }  # fmt: skip


def test_same_seed_same_split_other_seed_other_split() -> None:
    data = _imbalanced()
    first, again = make_split(data, seed=7), make_split(data, seed=7)
    assert first == again
    assert _texts(make_split(data, seed=8).test) != _texts(first.test)


def test_val_size_zero_means_no_validation_set() -> None:
    split = make_split(_imbalanced(), val_size=0)
    assert split.val is None and len(split.train) == 80
    assert split.to_dict()["val"] == 0


def test_single_example_classes_stay_in_train_without_crashing() -> None:
    lines = ["text,label"] + [f"a{i},a" for i in range(10)] + [f"b{i},b" for i in range(10)]
    lines += ["only one,lonely"]
    split = make_split(_load(lines), seed=1)
    assert "lonely" in split.train.labels and "lonely" not in split.test.labels


def test_stratification_impossible_falls_back_to_random() -> None:
    # 6 classes with 2 rows each: a 20% test set (3 rows) cannot hold every class.
    lines = ["text,label"] + [f"t{c}{i},{c}" for c in "abcdef" for i in range(2)]
    split = make_split(_load(lines), seed=0)
    assert len(split.test) == 3 and len(split.train) + len(_texts(split.val)) == 9


def test_split_column_is_honoured() -> None:
    data = load_dataset(BAD / "split_column.csv")
    split = make_split(data, val_size=0.3)
    assert split.strategy == "column"
    assert (len(split.train), len(split.val), len(split.test)) == (12, 6, 6)
    assert set(split.test.texts) == {f"text {i}" for i in range(3, 24, 4)}
    ignored = make_split(data, use_split_column=False)
    assert ignored.strategy == "stratified"


def test_split_column_without_validation_or_test_rows_carves_them() -> None:
    lines = ["text,label,split"] + [f"t{i},{'ab'[i % 2]},train" for i in range(40)]
    lines += [f"x{i},{'ab'[i % 2]},Test" for i in range(10)]
    split = make_split(_load(lines), val_size=0.1, test_size=0.2)
    assert split.strategy == "column" and len(split.test) == 10
    assert split.val is not None and 0 < len(split.val) < 10
    assert abs(Counter(split.val.labels)["a"] - Counter(split.val.labels)["b"]) <= 1
    no_test = ["text,label,split"] + [f"t{i},{'ab'[i % 2]},train" for i in range(40)]
    assert len(make_split(_load(no_test), val_size=0).test) == 8


def test_unknown_split_values_are_a_data_error() -> None:
    with pytest.raises(DataError, match="'holdout'"):
        make_split(load_dataset(BAD / "bad_split_values.csv"))


def test_test_file_is_used_as_the_test_set() -> None:
    train = load_dataset(BAD / "cross_train.csv")
    test = load_dataset(BAD / "cross_test.csv")
    split = make_split(train, test_data=test, val_size=0)
    assert split.strategy == "test-file" and split.val is None
    assert split.test == test.to_textset() and split.train == train.to_textset()


def test_impossible_splits_raise_data_error() -> None:
    with pytest.raises(DataError, match="same label"):
        make_split(load_dataset(BAD / "one_class.csv"))
    only_test = ["text,label,split", "a,x,test", "b,y,test"]
    with pytest.raises(DataError, match="training"):
        make_split(_load(only_test))
    with pytest.raises(ValueError):
        make_split(_imbalanced(), test_size=0)
    with pytest.raises(ValueError):
        make_split(_imbalanced(), test_size=0.6, val_size=0.5)


def test_split_is_a_frozen_dataclass() -> None:
    split = make_split(_imbalanced())
    assert isinstance(split, Split)
    with pytest.raises(FrozenInstanceError):
        split.strategy = "other"  # type: ignore[misc]


# --- sample_k_shot -----------------------------------------------------------------------


def test_k_shot_counts_and_order() -> None:
    train = make_split(_imbalanced(), seed=0).train
    sample = sample_k_shot(train, 5, seed=0)
    available = Counter(train.labels)
    assert available["d"] < 5  # so one class keeps fewer than K
    assert Counter(sample.labels) == {c: min(5, n) for c, n in available.items()}
    assert list(sample.labels) == sorted(sample.labels)  # grouped by class, classes sorted
    assert set(sample.texts) <= set(train.texts)
    assert sample_k_shot(train, None, seed=0) is train


def test_k_shot_is_deterministic_and_seeded() -> None:
    train = make_split(_imbalanced(), seed=0).train
    first = sample_k_shot(train, 4, seed=11)
    sample_k_shot(train, 4, seed=99)  # other calls in between change nothing
    np.random.seed(123)
    assert sample_k_shot(train, 4, seed=11) == first
    assert sample_k_shot(train, 4, seed=12) != first


def test_smaller_k_is_a_subset_of_larger_k() -> None:
    train = make_split(_imbalanced(), seed=0).train
    small, large = sample_k_shot(train, 2, seed=5), sample_k_shot(train, 8, seed=5)
    assert set(small.texts) <= set(large.texts)


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError):
        sample_k_shot(TextSet(("a",), ("x",)), 0, seed=0)
