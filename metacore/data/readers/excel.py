"""Excel workbooks (.xlsx/.xlsm): the first worksheet, read streaming with openpyxl.

A workbook is untrusted zip and XML, so every way of failing to open or read it becomes a
finding; an old .xls file is recognised by its magic bytes and explained, not parsed.

Nothing the workbook says about itself is trusted: the zip's sizes are checked before
openpyxl opens it (a small file can unpack to gigabytes of shared strings), the sheet's
declared dimension is dropped (``A1:XFD1048576`` would pad every row to 16 384 cells and
create every empty row up to a million), and every row produced, empty ones included, is paid
for from the read's budget.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Iterator
from typing import IO

import pandas as pd

from metacore.data.findings import Finding, error
from metacore.data.readers.budget import Budget, OverBudget
from metacore.data.readers.columns import has_header
from metacore.data.readers.encoding import human_size
from metacore.data.readers.rows import cell_text, collect, headerless_names, row_findings, to_frame

EXCEL_EXTENSIONS = frozenset({".xlsx", ".xlsm"})
_ZIP_MAGIC = b"PK"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls / .doc container
_CENTRAL_ENTRY = b"PK\x01\x02"  # one per member in the zip's central directory
# A workbook has a few dozen parts; thousands mean a zip made to be slow to open.
MAX_MEMBERS = 2_000


def is_workbook(raw: bytes, ext: str) -> bool:
    """A zip file (what .xlsx is), or a file named like a workbook."""
    return raw.startswith(_ZIP_MAGIC) or ext in EXCEL_EXTENSIONS


def is_old_excel(raw: bytes, ext: str) -> bool:
    return raw.startswith(_OLE_MAGIC) or ext == ".xls"


def old_excel() -> Finding:
    return error("old_excel")


def check_zip(raw: bytes, budget: Budget) -> Finding | None:
    """Refuse a zip with too many members or that unpacks to too much, before opening it.

    zipfile never unpacks a member past its declared ``file_size`` (it stops there and
    fails the CRC check), so the declared sizes bound what openpyxl can be made to read.
    """
    limit = budget.limits.max_unzipped_bytes
    if raw.count(_CENTRAL_ENTRY) > MAX_MEMBERS:  # before zipfile builds an object for each
        return error("zip_too_many_parts", limit=MAX_MEMBERS)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
    except Exception:  # noqa: BLE001 - a damaged zip is unreadable, whatever the reason
        return error("bad_excel")
    if len(members) > MAX_MEMBERS:
        return error("zip_too_many_parts", limit=MAX_MEMBERS)
    total = sum(m.file_size for m in members)
    if total > limit:
        return error("zip_too_large", size=human_size(total), limit=human_size(limit))
    return None


class _TimedPart:
    """A workbook part being unpacked, that checks the read's deadline at every chunk.

    openpyxl parses the whole shared-strings part inside ``load_workbook``, before any row:
    a part of millions of tiny strings, under the size limit, could otherwise keep it busy
    for many minutes.
    """

    def __init__(self, stream: IO[bytes], budget: Budget) -> None:
        self._stream = stream
        self._budget = budget

    def read(self, n: int = -1) -> bytes:
        self._budget.check_time()
        return self._stream.read(n)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)

    def __enter__(self) -> _TimedPart:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()


def _open_workbook(raw: bytes, budget: Budget) -> object:
    """``openpyxl.load_workbook(read_only=True, data_only=True)``, with every part it unpacks
    (now or while rows are read) checked against the deadline."""
    from openpyxl.reader.excel import ExcelReader  # imported here: only workbooks need it

    reader = ExcelReader(io.BytesIO(raw), read_only=True, data_only=True)
    archive = reader.archive
    plain_open = archive.open

    def timed_open(name: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        part = plain_open(name, mode, *args, **kwargs)
        return _TimedPart(part, budget) if mode == "r" else part

    archive.open = timed_open  # this archive only; ZipFile.read() goes through it too
    reader.read()
    return reader.wb


def _xlsx_records(sheet: object, budget: Budget) -> Iterator[tuple[int, list[str | None]]]:
    """Yield (sheet row number, cells as text) for non-empty rows of a worksheet.

    Every row openpyxl produces is paid for: the empty ones here, the others by ``collect``.
    """
    spend = budget.spend
    for row_no, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if not values:  # a missing row: openpyxl makes one for every gap in the numbering
            spend(1)
            continue
        cells = list(map(cell_text, values))
        if any(c is not None and c.strip() for c in cells):
            yield row_no, cells
        else:
            spend(len(values))


def parse_xlsx(raw: bytes, ext: str, budget: Budget) -> tuple[pd.DataFrame, list[Finding]]:
    """Read the first worksheet of an .xlsx file with openpyxl (streaming, read-only).

    Raises:
        OverBudget: When the sheet produces too many cells, has too many columns, or takes
            too long.
    """
    if not raw.startswith(_ZIP_MAGIC):
        return pd.DataFrame(), [error("bad_excel", "named", ext=ext)]
    problem = check_zip(raw, budget)
    if problem is not None:
        return pd.DataFrame(), [problem]
    try:
        book = _open_workbook(raw, budget)
    except OverBudget:
        raise
    except Exception:  # noqa: BLE001 - untrusted zip/XML can fail in many ways; all mean "unreadable"
        return pd.DataFrame(), [error("bad_excel")]
    findings: list[Finding] = []
    try:
        if len(book.worksheets) > 1:
            sheet = str(book.worksheets[0].title)
            findings.append(Finding("info", "other_sheets_ignored", {"sheet": sheet}))
        first = book.worksheets[0]
        if hasattr(first, "reset_dimensions"):  # a chart sheet has none
            first.reset_dimensions()  # rows as long as their last cell, no padding rows
        records = _xlsx_records(first, budget)
        head = list(itertools.islice(records, 100))  # read once: chained back in below
        # Past the column limit nothing is read anyway: 100 rows of 16 384 cells need not be.
        shown = budget.limits.max_columns + 1
        header = has_header([[c or "" for c in cells[:shown]] for _, cells in head])
        width = max((len(c) for _, c in head), default=0)
        names = None if header else headerless_names(width)
        collected = collect(itertools.chain(head, records), names, budget)
    except OverBudget:
        raise
    except Exception:  # noqa: BLE001 - same reason: a damaged sheet must become a finding
        return pd.DataFrame(), [error("bad_excel", "sheet")]
    finally:
        book.close()
    return to_frame(collected), findings + row_findings(collected, budget.limits)
