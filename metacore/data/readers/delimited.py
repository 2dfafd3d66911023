"""CSV, TSV, other separators and header-less ``text<TAB>label`` files.

The separator is the one that splits most sample rows into the same number of fields (a file
named .csv may really use semicolons); a broken quote only loses its own line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pandas as pd

from metacore.data.findings import Finding, finding_for_rows
from metacore.data.readers.budget import Budget
from metacore.data.readers.columns import has_header
from metacore.data.readers.encoding import SNIFF_CHARS
from metacore.data.readers.rows import collect, headerless_names, row_findings, to_frame
from metacore.messages import msg

_DELIMITERS = (",", "\t", ";", "|")
# The separators by name, as terms (term.separator.<name>) an interface words itself.
_DELIMITER_NAMES = {",": "commas", "\t": "tabs", ";": "semicolons", "|": "vertical_bars"}
_EXPECTED_DELIMITER = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": "\t"}


def _sample_rows(sample: str, delimiter: str, limit: int = 100) -> list[list[str]]:
    """Parse the first rows of a sample leniently (sniffing must never fail)."""
    rows: list[list[str]] = []
    try:
        for fields in csv.reader(io.StringIO(sample), delimiter=delimiter):
            if any(f.strip() for f in fields):
                rows.append(fields)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def _sniff_delimiter(sample: str, expected: str) -> str:
    """Choose the delimiter that splits most sample rows into the same number of fields.

    csv.Sniffer guesses wrong on short files and on texts full of punctuation, so
    we score each candidate by how consistent its field count is instead.
    """
    best, best_score = expected, (0.0, False)
    for delimiter in _DELIMITERS:
        counts = pd.Series([len(r) for r in _sample_rows(sample, delimiter)], dtype="int64")
        if counts.empty or counts.mode().iloc[0] < 2:
            continue
        share = float((counts == counts.mode().iloc[0]).mean())
        score = (share, delimiter == expected)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` (newlines already normalised to \\n), one at a time.

    io.StringIO would copy the whole text into a 4-bytes-per-character buffer first; this
    keeps the parser's memory at one line.
    """
    start, end = 0, text.find("\n")
    while end >= 0:
        yield text[start : end + 1]
        start, end = end + 1, text.find("\n", end + 1)
    if start < len(text):
        yield text[start:]


def bare_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` without their newline, one at a time (no list of them all)."""
    for line in _lines(text):
        yield line[:-1] if line.endswith("\n") else line


def _csv_records(text: str, delimiter: str, budget: Budget) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, fields) per record; raises csv.Error on broken quotes.

    Blank records are not yielded but still paid for, so a file of a million empty lines
    stops at the budget too.
    """
    reader = csv.reader(_lines(text), delimiter=delimiter, strict=True)
    start = 1
    for fields in reader:
        # The first-field test is a fast path: the generator only runs for odd rows.
        if fields and (fields[0].strip() or any(f.strip() for f in fields)):
            yield start, fields
        else:
            budget.spend(len(fields))
        start = reader.line_num + 1


def _line_records(
    text: str, delimiter: str, broken: list[int], budget: Budget
) -> Iterator[tuple[int, list[str]]]:
    """Parse each line on its own so one unclosed quote only loses its own line."""
    for line_no, line in enumerate(bare_lines(text), start=1):
        if not line.strip():
            budget.spend(1)
            continue
        try:
            fields = next(csv.reader([line], delimiter=delimiter, strict=True))
        except csv.Error:
            broken.append(line_no)
            budget.spend(1)
            continue
        yield line_no, fields


def _tab_label_records(
    text: str, broken: list[int], budget: Budget
) -> Iterator[tuple[int, list[str]]]:
    """Parse `text<TAB>label` lines; the label is after the last tab, quotes are literal."""
    for line_no, line in enumerate(bare_lines(text), start=1):
        if not line.strip():
            budget.spend(1)
            continue
        if "\t" not in line:
            broken.append(line_no)
            budget.spend(1)
            continue
        yield line_no, line.rsplit("\t", 1)


def parse_delimited(
    text: str, ext: str, budget: Budget
) -> tuple[pd.DataFrame, str, list[Finding]]:
    """Parse CSV, TSV, other delimiters and header-less `text<TAB>label` files.

    Raises:
        OverBudget: When the file holds too many cells or columns, or takes too long.
    """
    limits = budget.limits
    # The csv module refuses fields over 128 KiB by default; the file size limit
    # already bounds memory, so allow fields as large as the file (as a C long can hold).
    csv.field_size_limit(max(csv.field_size_limit(), min(limits.max_file_bytes, 2**31 - 1)))
    expected = _EXPECTED_DELIMITER.get(ext, ",")
    sample = text[:SNIFF_CHARS]
    delimiter = _sniff_delimiter(sample, expected)
    findings: list[Finding] = []
    if ext in (".csv", ".tsv") and delimiter != expected:
        separator = msg(f"term.separator.{_DELIMITER_NAMES[delimiter]}")
        findings.append(Finding("info", "delimiter_detected", {"ext": ext, "separator": separator}))
    rows = _sample_rows(sample, delimiter)
    width = max((len(r) for r in rows), default=1)
    broken: list[int] = []
    header = has_header(rows, default=ext != ".txt")
    if delimiter == "\t" and not header and (ext == ".txt" or width == 2):
        records = _tab_label_records(text, broken, budget)
        collected = collect(records, ["text", "label"], budget)
        fmt = "text-tab-label"
    else:
        names = None if header else headerless_names(width)
        fmt = "tsv" if delimiter == "\t" else "csv"
        try:
            collected = collect(_csv_records(text, delimiter, budget), names, budget)
        except csv.Error:
            budget.cells = 0  # the same rows again, line by line: pay for them once
            collected = collect(_line_records(text, delimiter, broken, budget), names, budget)
    if broken:
        lines = pd.Index(broken)
        if fmt == "text-tab-label":  # the same code as a ragged line, worded for tabs
            wording = msg("finding.skipped_lines-tab", n=len(lines))
            findings.append(finding_for_rows("warning", "skipped_lines", wording, lines))
        else:
            findings.append(finding_for_rows("warning", "unbalanced_quotes", {"n": len(lines)},
                                             lines))
    return to_frame(collected), fmt, findings + row_findings(collected, limits)
