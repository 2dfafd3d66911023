"""Train / validation / test splits and seeded K-shot sampling."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metacore.data.dataset import TextSet, canonical_splits
from metacore.data.findings import DataError
from metacore.data.loading import LoadedData
from metacore.data.validation import require_usable
from metacore.messages import listing, msg


@dataclass(frozen=True)
class Split:
    """The parts a run trains, tunes and is scored on.

    Attributes:
        train: Training examples (before K-shot sampling).
        val: Validation examples, or None when no validation set was asked for.
        test: Test examples.
        strategy: "stratified", "column" (the file's split column) or "test-file".
    """

    train: TextSet
    val: TextSet | None
    test: TextSet
    strategy: str

    def to_dict(self) -> dict:
        """Sizes, class counts and strategy (no texts), JSON-serialisable."""
        return {
            "strategy": self.strategy,
            "train": len(self.train),
            "val": len(self.val) if self.val is not None else 0,
            "test": len(self.test),
            "train_classes": len(self.train.classes),
            "test_classes": len(self.test.classes),
        }


def _split_indices(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split positions into (keep, held out), stratified where the classes allow it.

    Classes with a single example always stay on the keep side: held out alone,
    they could never be predicted. If stratification is still impossible (more
    classes than held-out rows, say) a plain random split is used instead.
    """
    # Imported here: scikit-learn takes most of a second to import and only splitting needs it.
    from sklearn.model_selection import train_test_split

    positions = np.arange(len(labels))
    counts = pd.Series(labels).value_counts()
    single = np.isin(labels, counts.index[counts == 1].to_numpy())
    pool = positions[~single]
    if len(pool) < 2:
        return positions, positions[:0]
    try:
        keep, held = train_test_split(
            pool, test_size=fraction, random_state=seed, stratify=labels[pool]
        )
    except ValueError:
        # sklearn refuses stratification when a class cannot be in both parts.
        keep, held = train_test_split(pool, test_size=fraction, random_state=seed)
    return np.sort(np.concatenate([keep, positions[single]])), np.sort(held)


def _carve(part: TextSet, fraction: float, seed: int) -> tuple[TextSet, TextSet | None]:
    """Hold out ``fraction`` of ``part`` (stratified); None when nothing is held out."""
    if fraction <= 0:
        return part, None
    keep, held = _split_indices(np.asarray(part.labels, dtype=object), fraction, seed)
    if len(held) == 0:
        return part, None
    return part.subset(keep), part.subset(held)


def _column_parts(data: LoadedData) -> dict[str, TextSet]:
    """Group rows by the split column, refusing values we do not understand."""
    values = data.frame["split"]
    canonical = canonical_splits(values)
    unknown = sorted(set(values[canonical.isna()].astype(str)))
    if unknown:
        raise DataError("data.unknown_split_values",
                        values=listing([v or msg("term.empty") for v in unknown]))
    return {name: data.to_textset(name) for name in ("train", "validation", "test")}


def _by_column(data: LoadedData, test_size: float, val_size: float, seed: int) -> Split:
    """Honour the file's split column, carving missing parts from train."""
    parts = _column_parts(data)
    train, val, test = parts["train"], parts["validation"], parts["test"]
    if len(test) == 0:
        # No test rows marked: hold some out of train rather than refuse the file.
        train, held = _carve(train, test_size, seed)
        test = held if held is not None else test
    if len(val) == 0:
        train, val = _carve(train, val_size / (1 - test_size), seed + 1)
    return Split(train, val, test, "column")


def _stratified(data: LoadedData, test_size: float, val_size: float, seed: int) -> Split:
    """Split all rows into train / val / test, stratified by label."""
    full = data.to_textset()
    rest, test = _carve(full, test_size, seed)
    train, val = _carve(rest, val_size / (1 - test_size), seed + 1)
    return Split(train, val, test if test is not None else TextSet((), ()), "stratified")


def _check_fractions(test_size: float, val_size: float) -> None:
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, not {test_size}")
    if not 0 <= val_size < 1 or test_size + val_size >= 1:
        raise ValueError(f"val_size must be >= 0 and test_size + val_size < 1, not {val_size}")


def make_split(
    data: LoadedData,
    *,
    test_data: LoadedData | None = None,
    test_size: float = 0.2,
    val_size: float = 0.1,
    seed: int = 0,
    use_split_column: bool = True,
) -> Split:
    """Split loaded data into train, validation and test sets.

    With ``test_data`` the test set is that file and train/val come from all rows
    of ``data`` (its split column is then ignored). Otherwise a "split" column
    (train / validation, val, dev / test, any case) is honoured when present and
    ``use_split_column`` is set; validation rows the file marks are kept even if
    ``val_size`` is 0. Otherwise rows are split stratified by label.

    Args:
        data: The loaded training (or only) file.
        test_data: A separate test file.
        test_size: Fraction of rows held out for test when there is no test file.
        val_size: Fraction of all rows for validation; 0 means no validation set.
        seed: Random seed; the same seed gives the same split.
        use_split_column: Whether to honour the file's split column.

    Returns:
        The split. Test classes missing from train are kept; see
        :func:`~metacore.data.validation.cross_split_findings`.

    Raises:
        DataError: If the data has an error finding, the split column has unknown
            values, or there are too few rows for a training or test set.
        ValueError: If the fractions are out of range.
    """
    _check_fractions(test_size, val_size)
    require_usable(data.findings)
    if test_data is not None:
        require_usable(test_data.findings)
        train, val = _carve(data.to_textset(), val_size, seed + 1)
        split = Split(train, val, test_data.to_textset(), "test-file")
    elif use_split_column and "split" in data.frame.columns:
        split = _by_column(data, test_size, val_size, seed)
    else:
        split = _stratified(data, test_size, val_size, seed)
    if len(split.train) == 0:
        raise DataError("data.no_train_rows")
    if len(split.test) == 0:
        raise DataError("data.no_test_rows")
    return split


def sample_k_shot(train: TextSet, k: int | None, *, seed: int) -> TextSet:
    """Take K examples per class, reproducibly.

    Each class (in sorted order) gets a permutation from one
    ``numpy.random.default_rng(seed)``, so the result depends only on ``train``,
    ``k`` and ``seed``, and a smaller K gives a subset of a larger one. Classes
    with fewer than K examples keep all of theirs.

    Args:
        train: The training set.
        k: Examples per class; None keeps every example.
        seed: Random seed.

    Multi-label texts are drawn so that every label gets K where the data allows
    (``_sample_labels``).

    Returns:
        The sample, ordered by class and then by sampled order.

    Raises:
        ValueError: If ``k`` is smaller than 1.
    """
    if k is None:
        return train
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if train.multi_label:
        return _sample_labels(train, k, seed)
    rng = np.random.default_rng(seed)
    classes = train.classes
    codes = pd.Categorical(train.labels, categories=classes).codes
    # Positions grouped by class, ascending within a class (stable sort): one pass
    # instead of comparing every label with every class.
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(classes) + 1))
    chosen: list[int] = []
    for c in range(len(classes)):
        members = order[bounds[c] : bounds[c + 1]]
        chosen.extend(members[rng.permutation(len(members))][:k].tolist())
    return train.subset(chosen)


def _sample_labels(train: TextSet, k: int, seed: int) -> TextSet:
    """K examples of every label of a multi-label set, reproducibly.

    Labels are served rarest first; each takes texts carrying it, in one seeded order, until
    K of the chosen texts carry it (texts chosen for other labels count too, so co-occurring
    labels need fewer). A label with fewer than K texts keeps all of them: ``shortfall`` and
    the validation finding "too_few_for_k" say which. Up to K texts with none of the labels
    are kept as negatives. Frequent labels can end up with more than K, since they ride along
    with rarer ones.
    """
    sets = train.label_sets or ()
    order = np.random.default_rng(seed).permutation(len(train))
    counts = {c: 0 for c in train.classes}
    freq = {c: 0 for c in counts}
    for labels in sets:
        for lab in labels:
            freq[lab] += 1
    chosen: list[int] = []
    taken = np.zeros(len(train), dtype=bool)
    for label in sorted(counts, key=lambda c: (freq[c], c)):
        for i in order:
            if counts[label] >= k:
                break
            if not taken[i] and label in sets[i]:
                taken[i] = True
                chosen.append(int(i))
                for lab in sets[i]:
                    counts[lab] += 1
    empty = [int(i) for i in order if not sets[i]][:k]
    return train.subset(chosen + empty)


def shortfall(sample: TextSet, k: int | None) -> dict[str, int]:
    """Labels (classes) of a K-shot sample with fewer than K texts, and how many they got."""
    if k is None:
        return {}
    if sample.multi_label:
        from metacore.data.multilabel import label_counts

        counts = label_counts(sample.label_sets or ())
    else:
        counts = pd.Series(sample.labels).value_counts().to_dict()
    return {c: int(counts.get(c, 0)) for c in sample.classes if counts.get(c, 0) < k}
