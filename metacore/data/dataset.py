"""The in-memory labelled text collection shared by every model in metacore."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TextSet:
    """Labelled texts.

    ``texts`` and ``labels`` are parallel tuples of str. Lists passed to the
    constructor are converted to tuples so instances stay hashable and immutable.

    Attributes:
        texts: The input texts.
        labels: The class label of each text.
    """

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    # Multi-label data: each text's labels (sorted; empty = none of them). ``labels`` is then
    # each row's labels as shown ("billing; refund"), which splits stratify by, and ``classes``
    # every label that occurs.
    label_sets: tuple[tuple[str, ...], ...] | None = None

    def __post_init__(self) -> None:
        # object.__setattr__ because the dataclass is frozen; coercion here lets
        # callers pass lists or pandas Series without breaking immutability.
        object.__setattr__(self, "texts", tuple(str(t) for t in self.texts))
        if self.label_sets is not None:
            from metacore.data.multilabel import shown

            sets = tuple(tuple(sorted({str(x) for x in s})) for s in self.label_sets)
            object.__setattr__(self, "label_sets", sets)
            object.__setattr__(self, "labels", tuple(shown(s) for s in sets))
        object.__setattr__(self, "labels", tuple(str(lab) for lab in self.labels))
        if len(self.texts) != len(self.labels):
            raise ValueError(
                f"texts and labels must have the same length "
                f"({len(self.texts)} != {len(self.labels)})"
            )

    def __len__(self) -> int:
        """Return the number of examples."""
        return len(self.texts)

    @classmethod
    def multi(cls, texts: Iterable[object], label_sets: Iterable[Iterable[object]]) -> TextSet:
        """A multi-label set: each text with its labels (any iterable; empty = none)."""
        texts = tuple(str(t) for t in texts)
        sets = tuple(tuple(str(x) for x in s) for s in label_sets)
        return cls(texts=texts, labels=(), label_sets=sets)

    @property
    def multi_label(self) -> bool:
        return self.label_sets is not None

    @cached_property
    def _sorted_classes(self) -> tuple[str, ...]:
        # Cached because models ask for the class list often and sets are O(n);
        # cached_property writes to __dict__ directly, so it works on a frozen dataclass.
        if self.label_sets is not None:
            return tuple(sorted({lab for s in self.label_sets for lab in s}))
        return tuple(sorted(set(self.labels)))

    def label_matrix(self, classes: Sequence[str]) -> np.ndarray:
        """(N, C) 0/1 float32: which of ``classes`` each text carries (multi-label sets; a
        single-label set gives its one-hot rows)."""
        from metacore.data.multilabel import label_matrix

        sets = self.label_sets if self.label_sets is not None else [(x,) for x in self.labels]
        return label_matrix(sets, classes)

    @property
    def classes(self) -> list[str]:
        """Sorted unique labels (a fresh list, safe to mutate)."""
        return list(self._sorted_classes)

    def subset(self, indices: Sequence[int]) -> TextSet:
        """Return the examples at ``indices``, in that order.

        Args:
            indices: Positions into this set (any int sequence or numpy array).

        Returns:
            A new TextSet.
        """
        idx = [int(i) for i in indices]
        if self.label_sets is not None:
            return TextSet.multi([self.texts[i] for i in idx],
                                 [self.label_sets[i] for i in idx])
        return TextSet(
            texts=tuple(self.texts[i] for i in idx),
            labels=tuple(self.labels[i] for i in idx),
        )

    def label_ids(self, classes: Sequence[str]) -> np.ndarray:
        """Map each label to its index in ``classes``.

        Labels that are not in ``classes`` (e.g. a test class never seen in
        training) get ``-1`` so that evaluation can count them as errors instead
        of crashing; callers that index arrays with the result must mask them.

        Args:
            classes: The class order, usually ``train.classes``.

        Returns:
            An int64 array of length ``len(self)``.
        """
        if self.label_sets is not None:
            raise ValueError("multi-label texts have several labels each: use label_matrix")
        lookup = {c: i for i, c in enumerate(classes)}
        return np.fromiter(
            (lookup.get(lab, -1) for lab in self.labels), dtype=np.int64, count=len(self)
        )

    @classmethod
    def from_lists(cls, texts: Iterable[object], labels: Iterable[object]) -> TextSet:
        """Build a TextSet from any two iterables, converting items to str.

        Args:
            texts: The texts.
            labels: The labels, parallel to ``texts``.

        Returns:
            A new TextSet.
        """
        return cls(texts=tuple(str(t) for t in texts), labels=tuple(str(x) for x in labels))


SPLIT_ALIASES: dict[str, str] = {
    "train": "train",
    "training": "train",
    "trn": "train",
    "validation": "validation",
    "val": "validation",
    "valid": "validation",
    "dev": "validation",
    "development": "validation",
    "test": "test",
    "testing": "test",
    "tst": "test",
}


def canonical_split(value: object) -> str | None:
    """Map a split-column value to "train", "validation" or "test".

    Args:
        value: A cell of the split column.

    Returns:
        The canonical name, or None when the value is not a known split name.
    """
    return SPLIT_ALIASES.get(str(value).strip().lower())


def canonical_splits(values: pd.Series) -> pd.Series:
    """Vectorised :func:`canonical_split`: unknown values become NaN.

    Args:
        values: A split column.

    Returns:
        A Series of "train" / "validation" / "test" / NaN with the same index.
    """
    # Map each distinct value once; split columns have a handful of them.
    mapping = {v: canonical_split(v) for v in pd.unique(values)}
    return values.map(mapping)
