"""Loading, checking, splitting and sampling labelled text (no streamlit, no torch)."""

from __future__ import annotations

from metacore.data.dataset import TextSet
from metacore.data.findings import DataError, Finding
from metacore.data.limits import Limits
from metacore.data.loading import LoadedData, load_dataset
from metacore.data.readers import read_table
from metacore.data.readers.columns import detect_columns
from metacore.data.splits import Split, make_split, sample_k_shot
from metacore.data.validation import cross_split_findings, require_usable, validate

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
