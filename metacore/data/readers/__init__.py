"""Readers: any supported file, as bytes, into a raw frame of text cells, never raising for bad
content (every problem becomes a :class:`~metacore.data.findings.Finding`).

One module per concern: ``encoding`` (size, bytes, decoding, line endings), ``delimited``
(CSV, TSV, ``text<TAB>label``), ``jsonl``, ``excel``, ``rows`` (records into a frame) and
``columns`` (which column holds what). :func:`read_table` picks the reader.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from metacore.data.findings import Finding, error
from metacore.data.limits import Limits
from metacore.data.readers import excel
from metacore.data.readers.budget import Budget, OverBudget
from metacore.data.readers.columns import detect_columns
from metacore.data.readers.delimited import parse_delimited
from metacore.data.readers.encoding import (
    decode,
    empty_file,
    looks_binary,
    normalise_newlines,
    read_bytes,
    source_name,
)
from metacore.data.readers.jsonl import JSON_EXTENSIONS, parse_jsonl

__all__ = ["detect_columns", "read_table", "source_name"]


def _parse_bytes(
    raw: bytes, ext: str, budget: Budget
) -> tuple[pd.DataFrame, str, str, list[Finding]]:
    """Detect the format from magic bytes, extension and content, then parse.

    Raises:
        OverBudget: From the parser, when the file costs more than its budget.
    """
    if excel.is_workbook(raw, ext):
        frame, findings = excel.parse_xlsx(raw, ext, budget)
        return frame, "xlsx", "binary", findings
    if excel.is_old_excel(raw, ext):
        return pd.DataFrame(), "unknown", "binary", [excel.old_excel()]
    if looks_binary(raw):
        return pd.DataFrame(), "unknown", "binary", [error("not_text")]
    text, encoding, findings = decode(raw)
    text, newline_findings = normalise_newlines(text)
    findings += newline_findings
    if not text.strip():
        return pd.DataFrame(), "unknown", encoding, findings + [empty_file()]
    first_line = text.lstrip().split("\n", 1)[0].strip()
    if ext in JSON_EXTENSIONS or (first_line.startswith("{") and first_line.endswith("}")):
        frame, more = parse_jsonl(text, budget)
        return frame, "jsonl", encoding, findings + more
    frame, fmt, more = parse_delimited(text, ext, budget)
    return frame, fmt, encoding, findings + more


def read_table(
    source: str | Path | bytes | BinaryIO,
    *,
    filename: str | None = None,
    limits: Limits | None = None,
) -> tuple[pd.DataFrame, str, str, list[Finding]]:
    """Read any supported file into a raw frame without interpreting its columns.

    Args:
        source: A path, the file's bytes, or a binary file object (e.g. an upload).
        filename: Name used for the extension; defaults to the path or object name.
        limits: Size limits; defaults to :class:`Limits()`.

    Returns:
        (frame, format, encoding, findings). All columns are object dtype holding
        str or None; the index holds the file row numbers (header = 1). On an error
        finding the frame may be empty. Never raises for bad content: whatever the file
        declares, reading it stops at ``limits`` (cells, columns, unzipped bytes, seconds)
        with an error finding.

    Raises:
        FileNotFoundError: If ``source`` is a path that does not exist.
        TypeError: If ``source`` has an unsupported type.
    """
    limits = limits or Limits.from_env()
    name = source_name(source, filename)
    ext = Path(name).suffix.lower()
    raw, problem = read_bytes(source, limits)
    if problem is not None or raw is None:
        return pd.DataFrame(), "unknown", "", [problem or empty_file()]
    if not raw.strip(b" \t\r\n" + codecs.BOM_UTF8):
        return pd.DataFrame(), "unknown", "utf-8", [empty_file()]
    try:
        return _parse_bytes(raw, ext, Budget(limits))
    except OverBudget as stop:  # too many cells or columns, nested too deep, or too slow
        fmt = "xlsx" if excel.is_workbook(raw, ext) else "unknown"
        return pd.DataFrame(), fmt, "binary" if fmt == "xlsx" else "", [stop.finding]
