"""Records (line number, cells) gathered into the raw frame every reader returns.

Shared by the delimited, JSON Lines and Excel readers: header cells become unique column
names, rows with too many cells are skipped, at most ``max_rows`` rows are kept, and the
index holds the file row numbers so that findings can point at them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

import pandas as pd

from metacore.data.findings import Finding, error, finding_for_rows
from metacore.data.limits import Limits
from metacore.data.readers.budget import Budget


def column_names(header: Sequence[object]) -> list[str]:
    """Clean header cells into unique, non-empty column names ("x", "x (2)", "x (3)"...).

    Linear in the number of cells: a set of the names taken and, per repeated name, the next
    number to try (3 000 identical names must not cost 3 000 scans of the list).
    """
    names: list[str] = []
    taken: set[str] = set()
    next_number: dict[str, int] = {}
    for i, cell in enumerate(header):
        name = "" if cell is None else str(cell).strip().lstrip("\ufeff").strip()
        name = name or f"column {i + 1}"
        base, n = name, next_number.get(name, 2)
        while name in taken:
            name, n = f"{base} ({n})", n + 1
        next_number[base] = n
        taken.add(name)
        names.append(name)
    return names


def headerless_names(width: int) -> list[str]:
    """Column names for a file without a header: text/label when there are two columns."""
    return ["text", "label"] if width == 2 else column_names([None] * width)


def cell_text(value: object) -> str | None:
    """Convert a JSON or Excel cell to str, keeping missing values as None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 3 as 3.0; the user typed 3
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        try:
            return json.dumps(value, ensure_ascii=False)
        except RecursionError:  # nested almost as deep as the parser allows: not a text
            return None
    return str(value)


@dataclass
class Collected:
    """Rows gathered from a record stream."""

    names: list[str]
    rows: list[list[str | None]]
    index: list[int]
    ragged: list[int]
    too_many: bool


def collect(
    records: Iterator[tuple[int, Sequence[object]]],
    names: list[str] | None,
    budget: Budget,
) -> Collected:
    """Gather up to max_rows rows; the first record is the header when names is None.

    Every record is paid for (its cells, kept or not) before anything else is done with it.

    Raises:
        OverBudget: When the records hold too many cells, the header too many columns, or
            the deadline passes.
    """
    ragged: list[int] = []
    rows: list[list[str | None]] = []
    index: list[int] = []
    max_rows = budget.limits.max_rows
    spend = budget.spend
    if names is not None:
        budget.check_columns(len(names))
    for line_no, fields in records:
        spend(len(fields))
        if names is None:
            budget.check_columns(len(fields))
            names = column_names(fields)
            continue
        if len(fields) == len(names):  # the common case, kept cheap for 200k-row files
            if len(rows) == max_rows:
                return Collected(names, rows, index, ragged, True)
            rows.append(list(fields) if not isinstance(fields, list) else fields)
            index.append(line_no)
            continue
        values = list(fields)
        # Trailing empty cells (a trailing delimiter) are harmless; more real cells are not.
        while len(values) > len(names) and values[-1] in ("", None):
            values.pop()
        if len(values) > len(names):
            ragged.append(line_no)
            continue
        if len(rows) == max_rows:
            return Collected(names, rows, index, ragged, True)
        rows.append(values + [None] * (len(names) - len(values)))
        index.append(line_no)
    return Collected(names or [], rows, index, ragged, False)


def to_frame(collected: Collected) -> pd.DataFrame:
    """Build the raw frame: object columns, index = file row numbers."""
    return pd.DataFrame(
        collected.rows,
        columns=collected.names,
        index=pd.Index(collected.index, dtype="int64"),
        dtype=object,
    )


def row_findings(collected: Collected, limits: Limits) -> list[Finding]:
    """Findings shared by all parsers: header only, ragged rows, too many rows."""
    findings: list[Finding] = []
    if collected.ragged:
        rows = pd.Index(collected.ragged)
        findings.append(finding_for_rows("warning", "skipped_lines", {"n": len(rows)}, rows))
    if collected.too_many:
        findings.append(error("too_many_rows", limit=limits.max_rows))
    elif not collected.rows:
        findings.append(error("header_only"))
    return findings
