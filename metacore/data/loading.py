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
from metacore.data.multilabel import (
    FORMATS,
    binary_columns,
    decode,
    detect_format,
    from_columns,
    parse,
)
from metacore.data.readers import read_table, source_name
from metacore.data.readers.columns import (
    LABEL_NAMES,
    _by_name,
    choose_columns,
    detect_columns,
    match_column,
)
from metacore.data.validation import _is_missing, check_and_clean
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
        label_format: None when each row has one label; for multi-label data how the file
            writes a row's labels (a separator, "json" or "columns",
            ``metacore.data.multilabel``), the "label" column then holding each row's
            labels in canonical form (a JSON list).
    """

    frame: pd.DataFrame
    source: str
    format: str
    encoding: str
    text_column: str
    label_column: str
    findings: list[Finding] = field(default_factory=list)
    label_format: str | None = None

    @property
    def multi_label(self) -> bool:
        return self.label_format is not None

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
        if self.multi_label:
            return TextSet.multi(frame["text"].tolist(), map(decode, frame["label"].tolist()))
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
    label_format: str | None = None,
) -> LoadedData:
    """Load, clean and check a labelled text file.

    Args:
        source: A path, the file's bytes, or a binary file object (e.g. an upload).
        filename: Name used for the extension and messages.
        text_col: Column holding the texts; None to detect it.
        label_col: Column holding the labels; None to detect it.
        split_col: Column with train/validation/test values, if present; None to ignore.
        limits: Size limits; defaults to :class:`Limits()`.
        label_format: How a row's labels are written: None to detect; "none" for one label
            per row; ";", "|" or "," for labels separated in the label column; "json" for a
            JSON list there; "columns" for one 0/1 column per label (``label_col`` is then
            ignored). Detection reports what it found as the finding "multi_label".

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
    if label_format is not None and label_format not in FORMATS:
        raise ValueError(f"label_format must be one of {FORMATS} or None, not {label_format!r}")
    split = match_column(raw, split_col) if split_col else None
    columns = _label_columns(raw, text_col, label_col, label_format, split)
    if columns:
        text, more = _text_for_columns(raw, text_col, columns)
        label, how = ", ".join(columns), "columns"
    else:
        text, label, more = choose_columns(raw, text_col, label_col)
    failed.findings = findings = findings + more
    if text is None or label is None or any(f.level == "error" for f in more):
        return failed
    if columns:
        labels = from_columns(raw, columns)
    else:
        how = detect_format(raw[label]) if label_format is None else \
            (None if label_format in ("none", "columns") else label_format)
        labels = parse(raw[label].mask(_is_missing(raw[label])), how) if how else raw[label]
    frame = pd.DataFrame({"text": raw[text], "label": labels}, index=raw.index)
    if split is not None and split not in (text, label, *columns):
        frame["split"] = raw[split]
    frame, checks = check_and_clean(frame, limits, text_column=text, label_column=label,
                                    multi=how)
    frame = frame.reset_index(drop=True)
    return LoadedData(frame, name, fmt, encoding, text, label, findings + checks,
                      label_format=how)


def _label_columns(raw: pd.DataFrame, text_col: str | None, label_col: str | None,
                   label_format: str | None, split: str | None) -> list[str]:
    """The 0/1 label columns when the labels are written that way: asked for ("columns"), or
    detected (two or more such columns and no label column named or chosen)."""
    if label_format not in (None, "columns") or (label_format is None and label_col):
        return []
    text = match_column(raw, text_col) if text_col else None
    binary = binary_columns(raw, exclude={text, split} - {None})
    if label_format is None:  # a column named like a label ("label", "intent") wins
        named = _by_name([str(c) for c in raw.columns], LABEL_NAMES, set())
        if len(binary) < 2 or named is not None:
            return []
    return binary


def _text_for_columns(raw: pd.DataFrame, text_col: str | None, columns: list[str]
                      ) -> tuple[str | None, list[Finding]]:
    """The text column beside 0/1 label columns: the one asked for, else the detected one."""
    if text_col is not None:
        found = match_column(raw, text_col)
        if found is None:
            return None, choose_columns(raw, text_col, columns[0])[2]
        return found, []
    rest = raw.drop(columns=columns)
    text, _, _ = detect_columns(rest) if len(rest.columns) else (None, None, False)
    if text is None:
        return None, [Finding("error", "no_text_column",
                              {"columns": [str(c) for c in raw.columns[:20]]})]
    return text, []
