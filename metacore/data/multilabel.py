"""Rows that carry several labels: how a file writes them, and one canonical form inside.

A file may write a row's labels in its label column separated by ``;``, ``|`` or ``,``
(``billing;refund``), as a JSON list (``["billing", "refund"]``), or as one 0/1 column per
label. Loading turns each into the canonical form, a JSON list of the row's sorted, distinct
labels (``'["billing", "refund"]'``): one string, so the frame's "label" column stays a column
of strings that every check, split and table can carry, and nothing is lost to a separator that
also occurs in a label's name. ``[]`` is a row with none of the labels (a negative example).

Which of these a file uses is *detected* (``detect_format``) and can be *confirmed or changed*
(``label_format`` of ``load_dataset``: one of ``FORMATS``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

SEPARATORS = (";", "|", ",")
# "none": one label per row (the separators are part of the names); "columns": 0/1 columns.
FORMATS = ("none", *SEPARATORS, "json", "columns")
NO_LABEL = "—"  # how a row with none of the labels is shown
_TRUE = frozenset({"1", "1.0", "true", "yes", "y"})
_FALSE = frozenset({"0", "0.0", "false", "no", "n", ""})
_SAMPLE = 5000  # rows looked at to detect the format


def encode(labels: Iterable[str]) -> str:
    """The canonical form of one row's labels."""
    return json.dumps(sorted({str(x).strip() for x in labels} - {""}), ensure_ascii=False)


def decode(value: str) -> tuple[str, ...]:
    """The labels of one canonical value (``encode``'s inverse)."""
    return tuple(json.loads(value))


def shown(labels: Sequence[str]) -> str:
    """A row's labels as people read them: ``billing; refund`` (``—`` for none)."""
    return "; ".join(labels) if labels else NO_LABEL


def _json_list(value: str) -> list[str] | None:
    text = value.strip()
    if not text.startswith("["):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parsed, list) or any(isinstance(x, (list, dict)) for x in parsed):
        return None
    return [str(x) for x in parsed]


def _parts(value: str, sep: str) -> list[str]:
    return [p.strip() for p in value.split(sep) if p.strip()]


def detect_format(values: pd.Series) -> str | None:
    """``"json"``, a separator, or None (one label per row), from a label column's values.

    JSON when most non-empty values are JSON lists. A separator when at least 5 % of the
    values (and two of them) hold it and splitting on it *shrinks* the vocabulary: the parts
    are fewer than the distinct values, and most parts recur in other rows. Class names that
    merely contain a comma ("Arts, Culture") split into parts that occur nowhere else, so they
    stay single labels.
    """
    sample = values.dropna().astype(str).str.strip().head(_SAMPLE)
    sample = sample[sample != ""]
    if sample.empty:
        return None
    if sample.map(lambda v: _json_list(v) is not None).mean() >= 0.8:
        return "json"
    distinct = set(sample)
    for sep in SEPARATORS:
        holding = sample[sample.str.contains(sep, regex=False)]
        if len(holding) < 2 or len(holding) < 0.05 * len(sample):
            continue
        counts = Counter(p for v in sample for p in _parts(v, sep))
        combined = Counter(p for v in set(holding) for p in _parts(v, sep))
        if not combined or len(counts) >= len(distinct):
            continue
        recurring = sum(1 for p in combined if counts[p] >= 2) / len(combined)
        if recurring >= 0.8 and max(len(p) for p in counts) <= 100:
            return sep
    return None


def parse(values: pd.Series, fmt: str) -> pd.Series:
    """Canonical values of a label column written in ``fmt`` (a separator or "json"); a
    missing or empty cell stays missing (NaN), a cell that is not a JSON list under "json"
    is taken as one label."""
    def one(value: object) -> object:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return np.nan
        text = str(value).strip()
        if not text:
            return np.nan
        if fmt == "json":
            parsed = _json_list(text)
            return encode(parsed if parsed is not None else [text])
        return encode(_parts(text, fmt))

    return values.map(one)


def _is_binary(values: pd.Series) -> bool:
    present = values.dropna().astype(str).str.strip().str.lower()
    return bool(len(present)) and present.isin(_TRUE | _FALSE).all() \
        and present.isin(_TRUE).any()


def binary_columns(frame: pd.DataFrame, exclude: Iterable[str] = ()) -> list[str]:
    """Columns holding only 0/1 (true/false, yes/no) with at least one 1: one label each."""
    skip = set(exclude)
    return [str(c) for c in frame.columns
            if c not in skip and _is_binary(frame[c].head(_SAMPLE))]


def from_columns(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """Canonical values from 0/1 columns: each row's labels are the columns holding a 1."""
    flags = {c: frame[c].astype(str).str.strip().str.lower().isin(_TRUE) for c in columns}
    table = pd.DataFrame(flags, index=frame.index)
    return table.apply(lambda row: encode([c for c in columns if row[c]]), axis=1) \
        if len(table) else pd.Series(dtype=object, index=frame.index)


def label_matrix(label_sets: Sequence[Sequence[str]], classes: Sequence[str]) -> np.ndarray:
    """(N, C) 0/1 float32 matrix: ``[i, j]`` is 1 when row i carries ``classes[j]``; labels
    not in ``classes`` are left out."""
    lookup = {c: j for j, c in enumerate(classes)}
    out = np.zeros((len(label_sets), len(classes)), dtype=np.float32)
    for i, labels in enumerate(label_sets):
        for lab in labels:
            j = lookup.get(lab)
            if j is not None:
                out[i, j] = 1.0
    return out


def label_counts(label_sets: Iterable[Sequence[str]]) -> Counter:
    """Rows per label."""
    return Counter(lab for labels in label_sets for lab in labels)
