"""Excel workbooks (.xlsx/.xlsm): the first worksheet, read streaming with openpyxl.

A workbook is untrusted zip and XML, so every way of failing to open or read it becomes a
finding; an old .xls file is recognised by its magic bytes and explained, not parsed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pandas as pd

from metacore.data.findings import Finding, error
from metacore.data.limits import Limits
from metacore.data.readers.columns import has_header
from metacore.data.readers.rows import cell_text, collect, headerless_names, row_findings, to_frame

EXCEL_EXTENSIONS = frozenset({".xlsx", ".xlsm"})
_ZIP_MAGIC = b"PK"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls / .doc container


def is_workbook(raw: bytes, ext: str) -> bool:
    """A zip file (what .xlsx is), or a file named like a workbook."""
    return raw.startswith(_ZIP_MAGIC) or ext in EXCEL_EXTENSIONS


def is_old_excel(raw: bytes, ext: str) -> bool:
    return raw.startswith(_OLE_MAGIC) or ext == ".xls"


def old_excel() -> Finding:
    return error("old_excel")


def _xlsx_records(sheet: object) -> Iterator[tuple[int, list[str | None]]]:
    """Yield (sheet row number, cells as text) for non-empty rows of a worksheet."""
    for row_no, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [cell_text(v) for v in values]
        if any(c is not None and c.strip() for c in cells):
            yield row_no, cells


def parse_xlsx(raw: bytes, ext: str, limits: Limits) -> tuple[pd.DataFrame, list[Finding]]:
    """Read the first worksheet of an .xlsx file with openpyxl (streaming, read-only)."""
    if not raw.startswith(_ZIP_MAGIC):
        return pd.DataFrame(), [error("bad_excel", "named", ext=ext)]
    from openpyxl import load_workbook  # imported here: only workbooks need it

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - untrusted zip/XML can fail in many ways; all mean "unreadable"
        return pd.DataFrame(), [error("bad_excel")]
    findings: list[Finding] = []
    try:
        if len(book.worksheets) > 1:
            sheet = str(book.worksheets[0].title)
            findings.append(Finding("info", "other_sheets_ignored", {"sheet": sheet}))
        head = []
        for pair in _xlsx_records(book.worksheets[0]):
            head.append(pair)
            if len(head) >= 100:
                break
        header = has_header([[c or "" for c in cells] for _, cells in head])
        width = max((len(c) for _, c in head), default=0)
        names = None if header else headerless_names(width)
        collected = collect(_xlsx_records(book.worksheets[0]), names, limits.max_rows)
    except Exception:  # noqa: BLE001 - same reason: a damaged sheet must become a finding
        return pd.DataFrame(), [error("bad_excel", "sheet")]
    finally:
        book.close()
    return to_frame(collected), findings + row_findings(collected, limits)
