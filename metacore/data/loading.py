"""Load an uploaded labelled-text file of any common shape into a clean, checked frame.

Reading the file is the readers' job (:mod:`metacore.data.readers`: one module per format,
plus column detection); this module picks the text and label columns, cleans and checks the
rows (:mod:`metacore.data.validation`) and keeps what was found.

Nothing here raises for bad content: every problem becomes a
:class:`~metacore.data.findings.Finding`. Exceptions are kept for programming
errors (a path that does not exist, a wrong argument type).

Rows are tracked by their line number in the file (header = line 1; for Excel the
sheet row number; for JSONL the line number) so findings can point at them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from metacore.data.dataset import SPLIT_ALIASES, TextSet, canonical_split, canonical_splits
from metacore.data.findings import DataError, Finding
from metacore.data.limits import Limits
from metacore.data.readers import read_table, source_name
from metacore.data.readers.columns import choose_columns, detect_columns, match_column
from metacore.data.validation import check_and_clean
from metacore.messages import Message

__all__ = ["LoadedData", "detect_columns", "load_dataset", "read_table"]


@dataclass
class LoadedData:
    """A file after loading and cleaning.

    Attributes:
        frame: Columns "text", "label" and (if the file had one) "split", all str;
            rows without text or label dropped, texts truncated, labels stripped;
            index reset.
        source: File name.
        format: "csv", "tsv", "jsonl", "xlsx", "text-tab-label", or "unknown"
            when the file could not be read at all.
        encoding: Text encoding used, e.g. "utf-8" ("binary" for xlsx).
        text_column: Original name of the text column ("" if none was found).
        label_column: Original name of the label column ("" if none was found).
        findings: Problems and remarks from loading.
    """

    frame: pd.DataFrame
    source: str
    format: str
    encoding: str
    text_column: str
    label_column: str
    findings: list[Finding] = field(default_factory=list)

    @classmethod
    def bad_limit(cls, source: str, message: Message) -> LoadedData:
        """Nothing loaded because a limit variable is wrong (``message`` says which and why:
        ``limits.not_positive`` or ``limits.too_large``), as the error finding "bad_limit"."""
        finding = Finding("error", "bad_limit", message)
        return cls(_empty_frame(), source, "unknown", "", "", "", [finding])

    @property
    def ok(self) -> bool:
        """True when there is no error finding."""
        return not any(f.level == "error" for f in self.findings)

    def to_textset(self, split: str | None = None) -> TextSet:
        """Return the rows as a TextSet.

        Args:
            split: None for all rows, or "train", "validation" (or "val"/"dev") or
                "test" to keep only rows whose split column has that value.

        Returns:
            The texts and labels.

        Raises:
            ValueError: If ``split`` is not a known split name.
            DataError: If ``split`` is given but the file has no split column.
        """
        frame = self.frame
        if split is not None:
            wanted = canonical_split(split)
            if wanted is None:
                raise ValueError(f"unknown split {split!r}; use one of {sorted(SPLIT_ALIASES)}")
            if "split" not in frame.columns:
                raise DataError("data.no_split_to_select", source=self.source)
            frame = frame.loc[canonical_splits(frame["split"]) == wanted]
        # tolist() converts the whole column at once; iterating a Series is per element.
        return TextSet(tuple(frame["text"].tolist()), tuple(frame["label"].tolist()))


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({"text": pd.Series(dtype=object), "label": pd.Series(dtype=object)})


def load_dataset(
    source: str | Path | bytes | BinaryIO,
    *,
    filename: str | None = None,
    text_col: str | None = None,
    label_col: str | None = None,
    split_col: str | None = "split",
    limits: Limits | None = None,
) -> LoadedData:
    """Load, clean and check a labelled text file.

    Args:
        source: A path, the file's bytes, or a binary file object (e.g. an upload).
        filename: Name used for the extension and messages.
        text_col: Column holding the texts; None to detect it.
        label_col: Column holding the labels; None to detect it.
        split_col: Column with train/validation/test values, if present; None to ignore.
        limits: Size limits; defaults to :class:`Limits()`.

    Returns:
        The cleaned data with findings. Check ``ok`` or use ``validate``.

    Raises:
        FileNotFoundError: If ``source`` is a path that does not exist.
        TypeError: If ``source`` has an unsupported type.
    """
    limits = limits or Limits.from_env()
    name = source_name(source, filename)
    raw, fmt, encoding, findings = read_table(source, filename=name, limits=limits)
    failed = LoadedData(_empty_frame(), name, fmt, encoding, "", "", findings)
    if any(f.level == "error" for f in findings):
        return failed
    text, label, more = choose_columns(raw, text_col, label_col)
    failed.findings = findings = findings + more
    if text is None or label is None or any(f.level == "error" for f in more):
        return failed
    frame = pd.DataFrame({"text": raw[text], "label": raw[label]}, index=raw.index)
    split = match_column(raw, split_col) if split_col else None
    if split is not None and split not in (text, label):
        frame["split"] = raw[split]
    frame, checks = check_and_clean(frame, limits, text_column=text, label_column=label)
    frame = frame.reset_index(drop=True)
    return LoadedData(frame, name, fmt, encoding, text, label, findings + checks)
