"""Small hostile files, generated where a test needs them (nothing large is committed).

Each one is cheap to make and costs minutes or gigabytes to read naively: a workbook that
declares a huge sheet, one whose shared strings unpack to hundreds of megabytes, rows far wider
than their header, thousands of header names, and JSON nested 200 000 deep.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import escape

SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')

MB = 1024**2
Row = tuple[int, list[tuple[str, str]]]  # (row number, [(column letters, text)])


def labelled_rows(n: int = 4) -> list[Row]:
    """A header and ``n`` usable rows of two classes."""
    return [(1, [("A", "text"), ("B", "label")])] + [
        (i + 2, [("A", f"text number {i}"), ("B", "ab"[i % 2])]) for i in range(n)
    ]


def sheet_xml(rows: Iterable[Row], dimension: str | None = None) -> Iterator[bytes]:
    """A worksheet's XML, in chunks, with inline strings and an optional declared size."""
    yield (_HEAD + (f'<dimension ref="{dimension}"/>' if dimension else "")
           + "<sheetData>").encode()
    for number, cells in rows:
        parts = "".join(f'<c r="{col}{number}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'
                        for col, text in cells)
        yield f'<row r="{number}">{parts}</row>'.encode()
    yield b"</sheetData></worksheet>"


_STRINGS_TYPE = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                 'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
_STRINGS_REL = ('<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/'
                'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>')


def _template() -> bytes:
    from openpyxl import Workbook

    out = io.BytesIO()
    Workbook().save(out)
    return out.getvalue()


def _write(book: zipfile.ZipFile, name: str, chunks: Iterable[bytes]) -> None:
    with book.open(name, "w", force_zip64=True) as part:
        for chunk in chunks:
            part.write(chunk)


def xlsx(sheet: Iterable[bytes], strings: Iterable[bytes] | None = None) -> bytes:
    """A real workbook (made by openpyxl) with its sheet replaced by the given chunks and,
    optionally, a shared-strings part, written streaming so a huge part costs no memory."""
    template = zipfile.ZipFile(io.BytesIO(_template()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for info in template.infolist():
            text = template.read(info.filename).decode()
            if info.filename == SHEET:
                _write(book, SHEET, sheet)
                continue
            if strings is not None and info.filename == "[Content_Types].xml":
                text = text.replace("</Types>", _STRINGS_TYPE + "</Types>")
            if strings is not None and info.filename == "xl/_rels/workbook.xml.rels":
                text = text.replace("</Relationships>", _STRINGS_REL + "</Relationships>")
            book.writestr(info.filename, text)
        if strings is not None:
            _write(book, STRINGS, strings)
    return out.getvalue()


def declared_huge_sheet() -> bytes:
    """2 KB: declares A1:XFD1048576 and has one cell in the last row (issue 13)."""
    rows = [*labelled_rows(), (1_048_576, [("XFD", "the last cell")])]
    return xlsx(sheet_xml(rows, dimension="A1:XFD1048576"))


def shared_strings_bomb(megabytes: int, text: bytes = b"aaaaaaaaaa") -> bytes:
    """A workbook whose shared strings unpack to about ``megabytes`` MB (a ~1000:1 zip) of
    strings ``text`` (empty: the most strings per byte, each costing openpyxl time)."""
    block = b"<si><t>" + text + b"</t></si>"
    block *= MB // len(block)
    head = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats'
            b'.org/spreadsheetml/2006/main">')
    strings = [head, *(block for _ in range(megabytes)), b"</sst>"]
    return xlsx(sheet_xml(labelled_rows()), strings)


def wide_rows_sheet(n_rows: int) -> bytes:
    """A two-column header, then rows with one cell in the sheet's last column (XFD): each
    row is 16 384 cells wide once read."""
    rows = labelled_rows() + [(i + 10, [("XFD", "far away")]) for i in range(n_rows)]
    return xlsx(sheet_xml(rows))


def csv_wide_row(fields: int) -> bytes:
    """A good CSV with one row of ``fields`` fields."""
    return b"text,label\nhello there,a\ngood bye,b\n" + b"," * (fields - 1) + b"x\n"


def csv_wide_header(fields: int, name: bytes = b"") -> bytes:
    """A CSV whose header is text, label and ``fields - 2`` more cells, all ``name`` (empty:
    blank), then a few two-cell rows."""
    return b"text,label" + (b"," + name) * (fields - 2) + b"\n" + b"hello,a\nbye,b\n" * 3


def jsonl_wide_line(keys: int) -> bytes:
    """JSON Lines whose first object has ``keys`` keys."""
    wide = "{" + ",".join(f'"k{i}": 1' for i in range(keys)) + "}"
    return (wide + '\n{"text": "hi", "label": "a"}\n').encode()


def deep_json(depth: int) -> bytes:
    """``[`` repeated ``depth`` times: JSON nested deeper than any parser recurses."""
    return b"[" * depth


def entity_bomb_sheet(levels: int = 9) -> bytes:
    """A sheet whose one cell is "billion laughs": entities of ten entities, ``levels`` deep
    (10**levels characters once expanded, from a few hundred bytes)."""
    entities = '<!ENTITY a0 "aaaaaaaaaa">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, levels + 1))
    head = _HEAD.replace("<worksheet", f"<!DOCTYPE worksheet [{entities}]><worksheet", 1)
    rows = "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{text}</t></is></c>'
                   f'<c r="B{n}" t="inlineStr"><is><t>{label}</t></is></c></row>'
                   for n, text, label in [(1, "text", "label"), (2, f"&a{levels};", "x")])
    return xlsx([(head + "<sheetData>" + rows + "</sheetData></worksheet>").encode()])
