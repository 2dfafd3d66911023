"""Loading, checking, splitting and sampling labelled text (no streamlit, no torch)."""

from __future__ import annotations

from metacore.data.dataset import TextSet
from metacore.data.loading import LoadedData, detect_columns, load_dataset, read_table
from metacore.data.splits import Split, make_split, sample_k_shot
from metacore.data.validation import (
    DataError,
    Finding,
    Limits,
    cross_split_findings,
    require_usable,
    validate,
)

__all__ = [
    "DataError",
    "Finding",
    "Limits",
    "LoadedData",
    "Split",
    "TextSet",
    "cross_split_findings",
    "detect_columns",
    "load_dataset",
    "make_split",
    "read_table",
    "require_usable",
    "sample_k_shot",
    "validate",
]
