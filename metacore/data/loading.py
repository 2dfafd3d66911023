"""Read uploaded labelled-text files of any common shape into a clean frame.

Nothing here raises for bad content: every problem becomes a
:class:`~metacore.data.validation.Finding`. Exceptions are kept for programming
errors (a path that does not exist, a wrong argument type).

Rows are tracked by their line number in the file (header = line 1; for Excel the
sheet row number; for JSONL the line number) so findings can point at them.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from metacore.data.dataset import SPLIT_ALIASES, TextSet, canonical_split, canonical_splits
from metacore.data.validation import (
    DataError,
    Finding,
    Limits,
    agree,
    check_and_clean,
    finding_for_rows,
)

TEXT_NAMES = (
    "text", "sentence", "content", "utterance", "review", "query", "document", "body",
    "review_text", "文本", "内容", "句子",
)  # fmt: skip
LABEL_NAMES = (
    "label", "labels", "category", "intent", "class", "target", "sentiment", "topic",
    "标签", "类别",
)  # fmt: skip
# Columns that never hold the text or the label, whatever their content looks like.
_ID_NAMES = frozenset({"id", "idx", "index", "row", "row_id", "split", "fold", "set"})
_DELIMITERS = (",", "\t", ";", "|")
_DELIMITER_NAMES = {",": "commas", "\t": "tabs", ";": "semicolons", "|": "vertical bars"}
_EXPECTED_DELIMITER = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": "\t"}
_JSON_EXTENSIONS = frozenset({".jsonl", ".ndjson", ".json"})
_EXCEL_EXTENSIONS = frozenset({".xlsx", ".xlsm"})
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls / .doc container
# Bytes that never occur in real text files (tab, newlines and form feed excluded).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13))
_SNIFF_CHARS = 64 * 1024


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
                raise DataError(f"The file {self.source} has no split column to select rows from.")
            frame = frame.loc[canonical_splits(frame["split"]) == wanted]
        # tolist() converts the whole column at once; iterating a Series is per element.
        return TextSet(tuple(frame["text"].tolist()), tuple(frame["label"].tolist()))


def _error(code: str, message: str) -> Finding:
    return Finding("error", code, message)


def _human_size(n_bytes: int) -> str:
    if n_bytes >= 1024**2:
        return f"{n_bytes / 1024**2:,.1f} MB"
    if n_bytes >= 1024:
        return f"{n_bytes / 1024:,.1f} KB"
    return f"{n_bytes:,} bytes"


def _too_large(size: int, limits: Limits) -> Finding:
    return _error(
        "file_too_large",
        f"The file is {_human_size(size)}, more than the limit of "
        f"{_human_size(limits.max_file_bytes)}; upload a smaller sample of it.",
    )


def _source_name(source: object, filename: str | None) -> str:
    """Pick the file name used for messages and extension checks."""
    if filename:
        return os.path.basename(filename)
    if isinstance(source, (str, Path)):
        return Path(source).name
    name = getattr(source, "name", None)
    return os.path.basename(name) if isinstance(name, str) else "upload"


def _stream_size(stream: BinaryIO) -> int | None:
    """Size of an upload without reading it (Streamlit uploads have .size)."""
    size = getattr(stream, "size", None)
    if isinstance(size, int):
        return size
    try:
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return end - here
    except (AttributeError, OSError, ValueError):
        return None


def _read_bytes(
    source: str | Path | bytes | BinaryIO, limits: Limits
) -> tuple[bytes | None, Finding | None]:
    """Read the raw bytes, refusing oversized input before reading it when possible.

    Raises:
        FileNotFoundError: If a path is given that does not exist.
        TypeError: If ``source`` is of an unsupported type.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
        if len(raw) > limits.max_file_bytes:
            return None, _too_large(len(raw), limits)
        return raw, None
    if isinstance(source, (str, Path)):
        path = Path(source)
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            return None, _too_large(size, limits)
        return path.read_bytes(), None
    if not hasattr(source, "read"):
        raise TypeError(f"source must be a path, bytes or a binary file object, not {type(source)}")
    size = _stream_size(source)
    if size is not None and size > limits.max_file_bytes:
        return None, _too_large(size, limits)
    # Read one byte past the limit so streams without a known size are still bounded.
    data = source.read(limits.max_file_bytes + 1)
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > limits.max_file_bytes:
        return None, _too_large(len(raw), limits)
    return raw, None


def _looks_binary(raw: bytes) -> bool:
    """True for images, archives and other non-text bytes."""
    head = raw[:8192]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    n_control = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return n_control > 0.05 * len(head)


def _gb2312_share(raw: bytes) -> float:
    """Share of multi-byte characters whose bytes are both in the GB2312 range.

    Real Chinese GBK text almost only uses GB2312 pairs (both bytes 0xA1-0xFE),
    while Latin-1 text that happens to decode as GB18030 pairs an accented letter
    with a plain ASCII letter, so this separates the two without a detector.
    """
    sample, i, pairs, gb_pairs = raw[:_SNIFF_CHARS], 0, 0, 0
    while i < len(sample) - 1:
        first = sample[i]
        if first < 0x80:
            i += 1
            continue
        second = sample[i + 1]
        pairs += 1
        gb_pairs += 0xA1 <= first <= 0xFE and 0xA1 <= second <= 0xFE
        i += 4 if 0x30 <= second <= 0x39 else 2
    return gb_pairs / pairs if pairs else 0.0


def _encoding_note(name: str, why: str) -> Finding:
    return Finding(
        "info",
        "encoding_detected",
        f"Read as {name} because {why}; if some characters look wrong, save the file as UTF-8.",
    )


def _decode(raw: bytes) -> tuple[str, str, list[Finding]]:
    """Decode bytes, trying UTF-8 first and falling back to GB18030 or Latin-1."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        note = _encoding_note("UTF-16", "the file starts with a UTF-16 marker")
        return raw.decode("utf-16", errors="replace"), "utf-16", [note]
    encoding = "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        return raw.decode(encoding), encoding, []
    except UnicodeDecodeError:
        pass
    text = raw.decode(encoding, errors="replace")
    n_bad = text.count("\ufffd")
    n_valid = sum(1 for ch in text[: _SNIFF_CHARS * 4] if ord(ch) > 127) - n_bad
    # A few stray bytes among many valid UTF-8 characters: keep UTF-8, replace them.
    # Without any valid multi-byte character the file is more likely Latin-1 or GBK.
    if encoding == "utf-8-sig" or (n_valid > 0 and n_bad <= max(2, n_valid // 20)):
        msg = (
            f"{agree(n_bad, 'character is', 'characters are')} not valid UTF-8 and "
            "will show as '\ufffd'; save the file as UTF-8 to keep them."
        )
        return text, encoding, [Finding("warning", "undecodable_bytes", msg, (), n_bad)]
    if _gb2312_share(raw) >= 0.8:
        try:
            text = raw.decode("gb18030")
            return text, "gb18030", [_encoding_note("GB18030 (Chinese)", "the file is not UTF-8")]
        except UnicodeDecodeError:
            pass
    try:
        text = raw.decode("cp1252")
        # cp1252 and Latin-1 only differ in bytes 0x80-0x9F; name the simpler one if unused.
        uses_cp1252 = any(0x80 <= b <= 0x9F for b in raw)
        encoding = "cp1252" if uses_cp1252 else "latin-1"
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "latin-1"
    label = "Windows-1252" if encoding == "cp1252" else "Latin-1"
    note = _encoding_note(f"{label} (Western European)", "the file is not UTF-8")
    return text, encoding, [note]


def _normalise_newlines(text: str) -> tuple[str, list[Finding]]:
    """Turn \\r\\n and lone \\r into \\n, noting when a file really mixes styles.

    A style must make up at least 1% of the line breaks to count: files written by
    Python's csv module end records with \\r\\n but keep \\n inside quoted texts,
    and that is normal, not worth a remark.
    """
    crlf = text.count("\r\n")
    counts = (crlf, text.count("\r") - crlf, text.count("\n") - crlf)
    if counts[0] or counts[1]:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    total = sum(counts)
    if sum(1 for n in counts if n and n >= 0.01 * total) < 2:
        return text, []
    msg = (
        "The file mixes line-ending styles (Windows, Unix and old Mac); "
        "all of them were read as line breaks, so nothing needs to be done."
    )
    return text, [Finding("info", "mixed_newlines", msg)]


def _norm_name(name: object) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


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


def _has_header(rows: Sequence[Sequence[str]], *, default: bool = True) -> bool:
    """Decide whether the first row names the columns.

    A known column name in the first row means a header. Otherwise the first row
    is data when one of its cells repeats as a value further down (labels repeat,
    column names do not). Without either clue, ``default`` decides: plain .txt
    files are usually header-less `text<TAB>label` lines, other formats have headers.
    """
    known = set(TEXT_NAMES) | set(LABEL_NAMES) | _ID_NAMES
    first = rows[0] if rows else []
    if any(_norm_name(cell) in known for cell in first):
        return True
    for j, cell in enumerate(first):
        column = {r[j].strip() for r in rows[1:] if len(r) > j}
        if cell.strip() and cell.strip() in column:
            return False
    return default


def _column_names(header: Sequence[object]) -> list[str]:
    """Clean header cells into unique, non-empty column names."""
    names: list[str] = []
    for i, cell in enumerate(header):
        name = "" if cell is None else str(cell).strip().lstrip("\ufeff").strip()
        name = name or f"column {i + 1}"
        base, n = name, 2
        while name in names:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return names


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


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, fields) per record; raises csv.Error on broken quotes."""
    reader = csv.reader(_lines(text), delimiter=delimiter, strict=True)
    start = 1
    for fields in reader:
        # The first-field test is a fast path: the generator only runs for odd rows.
        if fields and (fields[0].strip() or any(f.strip() for f in fields)):
            yield start, fields
        start = reader.line_num + 1


def _line_records(text: str, delimiter: str, broken: list[int]) -> Iterator[tuple[int, list[str]]]:
    """Parse each line on its own so one unclosed quote only loses its own line."""
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            fields = next(csv.reader([line], delimiter=delimiter, strict=True))
        except csv.Error:
            broken.append(line_no)
            continue
        yield line_no, fields


def _tab_label_records(text: str, broken: list[int]) -> Iterator[tuple[int, list[str]]]:
    """Parse `text<TAB>label` lines; the label is after the last tab, quotes are literal."""
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if "\t" not in line:
            broken.append(line_no)
            continue
        yield line_no, line.rsplit("\t", 1)


@dataclass
class _Collected:
    """Rows gathered from a record stream."""

    names: list[str]
    rows: list[list[str | None]]
    index: list[int]
    ragged: list[int]
    too_many: bool


def _collect(
    records: Iterator[tuple[int, Sequence[object]]],
    names: list[str] | None,
    max_rows: int,
) -> _Collected:
    """Gather up to max_rows rows; the first record is the header when names is None."""
    ragged: list[int] = []
    rows: list[list[str | None]] = []
    index: list[int] = []
    for line_no, fields in records:
        if names is None:
            names = _column_names(fields)
            continue
        if len(fields) == len(names):  # the common case, kept cheap for 200k-row files
            if len(rows) == max_rows:
                return _Collected(names, rows, index, ragged, True)
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
            return _Collected(names, rows, index, ragged, True)
        rows.append(values + [None] * (len(names) - len(values)))
        index.append(line_no)
    return _Collected(names or [], rows, index, ragged, False)


def _frame(collected: _Collected) -> pd.DataFrame:
    """Build the raw frame: object columns, index = file row numbers."""
    return pd.DataFrame(
        collected.rows,
        columns=collected.names,
        index=pd.Index(collected.index, dtype="int64"),
        dtype=object,
    )


def _row_findings(collected: _Collected, limits: Limits) -> list[Finding]:
    """Findings shared by all parsers: header only, ragged rows, too many rows."""
    findings: list[Finding] = []
    if collected.ragged:
        rows = pd.Index(collected.ragged)
        msg = (
            f"{agree(len(rows), 'line has', 'lines have')} more cells than the header and will "
            "not be used; check them for a separator character inside an unquoted text."
        )
        findings.append(finding_for_rows("warning", "skipped_lines", msg, rows))
    if collected.too_many:
        msg = (
            f"The file has more than {limits.max_rows:,} rows, the most that can be used; "
            "upload a smaller sample of it."
        )
        findings.append(_error("too_many_rows", msg))
    elif not collected.rows:
        msg = "The file has column names but no data rows; add your labelled texts below them."
        findings.append(_error("header_only", msg))
    return findings


def _parse_delimited(
    text: str, ext: str, limits: Limits
) -> tuple[pd.DataFrame, str, list[Finding]]:
    """Parse CSV, TSV, other delimiters and header-less `text<TAB>label` files."""
    # The csv module refuses fields over 128 KiB by default; the file size limit
    # already bounds memory, so allow fields as large as the file.
    csv.field_size_limit(max(csv.field_size_limit(), limits.max_file_bytes))
    expected = _EXPECTED_DELIMITER.get(ext, ",")
    sample = text[:_SNIFF_CHARS]
    delimiter = _sniff_delimiter(sample, expected)
    findings: list[Finding] = []
    if ext in (".csv", ".tsv") and delimiter != expected:
        msg = (
            f"The file is named {ext} but its columns are separated by "
            f"{_DELIMITER_NAMES[delimiter]}, so it was read that way."
        )
        findings.append(Finding("info", "delimiter_detected", msg))
    rows = _sample_rows(sample, delimiter)
    width = max((len(r) for r in rows), default=1)
    broken: list[int] = []
    header = _has_header(rows, default=ext != ".txt")
    if delimiter == "\t" and not header and (ext == ".txt" or width == 2):
        records = _tab_label_records(text, broken)
        collected = _collect(records, ["text", "label"], limits.max_rows)
        fmt, why = "text-tab-label", ("has", "have", "no tab between the text and the label")
    else:
        names = None if header else _headerless_names(width)
        fmt = "tsv" if delimiter == "\t" else "csv"
        why = ("has", "have", "quotation marks that do not pair up")
        try:
            collected = _collect(_csv_records(text, delimiter), names, limits.max_rows)
        except csv.Error:
            collected = _collect(_line_records(text, delimiter, broken), names, limits.max_rows)
    if broken:
        code = "skipped_lines" if fmt == "text-tab-label" else "unbalanced_quotes"
        msg = (
            f"{agree(len(broken), 'line ' + why[0], 'lines ' + why[1])} {why[2]} and will not "
            "be used; fix those lines to use them."
        )
        findings.append(finding_for_rows("warning", code, msg, pd.Index(broken)))
    return _frame(collected), fmt, findings + _row_findings(collected, limits)


def _headerless_names(width: int) -> list[str]:
    """Column names for a file without a header: text/label when there are two columns."""
    return ["text", "label"] if width == 2 else _column_names([None] * width)


def _cell_text(value: object) -> str | None:
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
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _json_records(text: str, broken: list[int]) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each JSON-object line, noting broken lines."""
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            broken.append(line_no)
            continue
        if isinstance(obj, dict):
            yield line_no, obj
        else:
            broken.append(line_no)


def _json_array(text: str) -> list[tuple[int, dict]]:
    """Read a whole-file JSON array of objects (a .json export), numbered from 1."""
    try:
        items = json.loads(text)
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    return [(i, obj) for i, obj in enumerate(items, start=1) if isinstance(obj, dict)]


def _parse_jsonl(text: str, limits: Limits) -> tuple[pd.DataFrame, list[Finding]]:
    """Parse JSON Lines (or a JSON array of objects)."""
    broken: list[int] = []
    # A pretty-printed JSON array must be read whole: some of its lines may parse alone.
    pairs = _json_array(text)[: limits.max_rows + 1] if text.lstrip().startswith("[") else []
    for pair in _json_records(text, broken) if not pairs else ():
        pairs.append(pair)
        if len(pairs) > limits.max_rows:
            break
    if not pairs:
        msg = (
            "No line of the file is a valid JSON object; each line should look like "
            '{"text": "...", "label": "..."}.'
        )
        return pd.DataFrame(), [_error("bad_json", msg)]
    findings: list[Finding] = []
    if broken:
        msg = (
            f"{agree(len(broken), 'line is', 'lines are')} not a valid JSON object and will not "
            "be used; fix those lines to use them."
        )
        findings.append(finding_for_rows("warning", "broken_json_lines", msg, pd.Index(broken)))
    raw_keys = list(dict.fromkeys(k for _, obj in pairs for k in obj))
    names = _column_names(raw_keys)
    rows = [[_cell_text(obj.get(k)) for k in raw_keys] for _, obj in pairs]
    index = [n for n, _ in pairs][: limits.max_rows]
    too_many = len(rows) > limits.max_rows
    collected = _Collected(names, rows[: limits.max_rows], index, [], too_many)
    return _frame(collected), findings + _row_findings(collected, limits)


def _xlsx_records(sheet: object) -> Iterator[tuple[int, list[str | None]]]:
    """Yield (sheet row number, cells as text) for non-empty rows of a worksheet."""
    for row_no, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_cell_text(v) for v in values]
        if any(c is not None and c.strip() for c in cells):
            yield row_no, cells


def _parse_xlsx(raw: bytes, limits: Limits) -> tuple[pd.DataFrame, list[Finding]]:
    """Read the first worksheet of an .xlsx file with openpyxl (streaming, read-only)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - untrusted zip/XML can fail in many ways; all mean "unreadable"
        msg = (
            "This file could not be opened as an Excel workbook; "
            "open it in Excel and save it again as .xlsx or CSV."
        )
        return pd.DataFrame(), [_error("bad_excel", msg)]
    findings: list[Finding] = []
    try:
        if len(book.worksheets) > 1:
            msg = (
                f"Only the first sheet ('{book.worksheets[0].title}') was read; "
                "move your data there if it is on another sheet."
            )
            findings.append(Finding("info", "other_sheets_ignored", msg))
        head = []
        for pair in _xlsx_records(book.worksheets[0]):
            head.append(pair)
            if len(head) >= 100:
                break
        header = _has_header([[c or "" for c in cells] for _, cells in head])
        width = max((len(c) for _, c in head), default=0)
        names = None if header else _headerless_names(width)
        collected = _collect(_xlsx_records(book.worksheets[0]), names, limits.max_rows)
    except Exception:  # noqa: BLE001 - same reason: a damaged sheet must become a finding
        msg = "The Excel sheet could not be read; open it in Excel and save it again as .xlsx."
        return pd.DataFrame(), [_error("bad_excel", msg)]
    finally:
        book.close()
    return _frame(collected), findings + _row_findings(collected, limits)


def _parse_bytes(
    raw: bytes, ext: str, limits: Limits
) -> tuple[pd.DataFrame, str, str, list[Finding]]:
    """Detect the format from magic bytes, extension and content, then parse."""
    if raw.startswith(b"PK") or ext in _EXCEL_EXTENSIONS:
        if not raw.startswith(b"PK"):
            msg = (
                f"The file is named {ext} but is not an Excel workbook; "
                "save it again from Excel as .xlsx."
            )
            return pd.DataFrame(), "xlsx", "binary", [_error("bad_excel", msg)]
        frame, findings = _parse_xlsx(raw, limits)
        return frame, "xlsx", "binary", findings
    if raw.startswith(_OLE_MAGIC) or ext == ".xls":
        msg = (
            "Old Excel .xls files are not supported; "
            "open the file in Excel and save it as .xlsx or CSV."
        )
        return pd.DataFrame(), "unknown", "binary", [_error("old_excel", msg)]
    if _looks_binary(raw):
        msg = (
            "This file is not text (it looks like an image, archive or program); save your "
            "data as CSV, TSV, JSONL or Excel .xlsx and upload that."
        )
        return pd.DataFrame(), "unknown", "binary", [_error("not_text", msg)]
    text, encoding, findings = _decode(raw)
    text, newline_findings = _normalise_newlines(text)
    findings += newline_findings
    if not text.strip():
        return pd.DataFrame(), "unknown", encoding, findings + [_empty_file()]
    first_line = text.lstrip().split("\n", 1)[0].strip()
    if ext in _JSON_EXTENSIONS or (first_line.startswith("{") and first_line.endswith("}")):
        frame, more = _parse_jsonl(text, limits)
        return frame, "jsonl", encoding, findings + more
    frame, fmt, more = _parse_delimited(text, ext, limits)
    return frame, fmt, encoding, findings + more


def _empty_file() -> Finding:
    msg = "The file is empty; choose a file that contains your labelled texts."
    return _error("file_empty", msg)


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
        finding the frame may be empty. Never raises for bad content.

    Raises:
        FileNotFoundError: If ``source`` is a path that does not exist.
        TypeError: If ``source`` has an unsupported type.
    """
    limits = limits or Limits.from_env()
    name = _source_name(source, filename)
    ext = Path(name).suffix.lower()
    raw, problem = _read_bytes(source, limits)
    if problem is not None or raw is None:
        return pd.DataFrame(), "unknown", "", [problem or _empty_file()]
    if not raw.strip(b" \t\r\n" + codecs.BOM_UTF8):
        return pd.DataFrame(), "unknown", "utf-8", [_empty_file()]
    return _parse_bytes(raw, ext, limits)


def _by_name(columns: Sequence[str], names: Sequence[str], exclude: set[str]) -> str | None:
    """First column (in the priority order of ``names``) whose normalised name matches."""
    normalised = {_norm_name(c): c for c in reversed(columns) if c not in exclude}
    for wanted in names:
        if wanted in normalised:
            return normalised[wanted]
    return None


def _candidates(frame: pd.DataFrame, exclude: set[str]) -> dict[str, pd.Series]:
    """Non-empty values (first 5,000 rows) of columns that could hold text or labels."""
    result: dict[str, pd.Series] = {}
    for column in frame.columns:
        name = _norm_name(column)
        if column in exclude or name in _ID_NAMES or name.startswith("unnamed"):
            continue
        values = frame[column].head(5000).dropna().astype(str).str.strip()
        values = values[values != ""]
        if not values.empty:
            result[column] = values
    return result


def _guess_text(frame: pd.DataFrame, exclude: set[str]) -> str | None:
    """The mostly non-numeric column with the longest mean length."""
    best, best_len = None, 0.0
    for column, values in _candidates(frame, exclude).items():
        if pd.to_numeric(values, errors="coerce").notna().mean() >= 0.5:
            continue
        mean_len = float(values.str.len().mean())
        if mean_len > best_len:
            best, best_len = column, mean_len
    return best


def _guess_label(frame: pd.DataFrame, exclude: set[str]) -> str | None:
    """The column with the fewest distinct values relative to its rows."""
    candidates = _candidates(frame, exclude)
    ratios = {c: v.nunique() / len(v) for c, v in candidates.items()}
    if not ratios:
        return None
    best = min(ratios, key=lambda c: ratios[c])
    # With a single remaining column we take it; otherwise it must really repeat.
    return best if len(ratios) == 1 or ratios[best] <= 0.5 else None


def detect_columns(frame: pd.DataFrame) -> tuple[str | None, str | None, bool]:
    """Find the text and label columns.

    Known names (case-insensitive, e.g. "text", "sentence", "utterance", "文本" and
    "label", "intent", "category", "标签") win; otherwise the text column is the
    mostly non-numeric column with the longest mean length and the label column the
    one with the fewest distinct values relative to its rows.

    Args:
        frame: A raw frame from :func:`read_table`.

    Returns:
        (text column, label column, confident); confident is False when either
        column was guessed from its content. Columns not found are None.
    """
    columns = [str(c) for c in frame.columns]
    text = _by_name(columns, TEXT_NAMES, set())
    label = _by_name(columns, LABEL_NAMES, {text} if text else set())
    confident = text is not None and label is not None
    if text is None:
        text = _guess_text(frame, {label} if label else set())
    if label is None and text is not None:
        label = _guess_label(frame, {text})
    return text, label, confident


def _match_column(frame: pd.DataFrame, wanted: str) -> str | None:
    """Exact column match first, then a unique case-insensitive one."""
    if wanted in frame.columns:
        return wanted
    matches = [c for c in frame.columns if _norm_name(c) == _norm_name(wanted)]
    return matches[0] if len(matches) == 1 else None


def _explicit_column(
    frame: pd.DataFrame, wanted: str, role: str
) -> tuple[str | None, list[Finding]]:
    """Resolve a user-chosen column, or explain which columns exist."""
    found = _match_column(frame, wanted)
    if found is not None:
        return found, []
    existing = ", ".join(f"'{c}'" for c in frame.columns[:20]) or "none"
    msg = (
        f"There is no column '{wanted}' for the {role}; "
        f"the file has the columns {existing}, so choose one of them."
    )
    return None, [_error("column_not_found", msg)]


def _choose_columns(
    frame: pd.DataFrame, text_col: str | None, label_col: str | None
) -> tuple[str | None, str | None, list[Finding]]:
    """Combine explicit choices with detection and report what could not be found."""
    findings: list[Finding] = []
    guessed_text, guessed_label, confident = detect_columns(frame)
    text, label = guessed_text, guessed_label
    if text_col is not None:
        text, more = _explicit_column(frame, text_col, "texts")
        findings += more
    if label_col is not None:
        label, more = _explicit_column(frame, label_col, "labels")
        findings += more
    if findings:
        return None, None, findings
    if label_col is None and label == text and text is not None:
        label = _guess_label(frame, {text})
    if text_col is None and text == label and label is not None:
        text = _guess_text(frame, {label})
    explicit = text_col is not None and label_col is not None
    return text, label, _column_problems(frame, text, label, confident or explicit)


def _column_problems(
    frame: pd.DataFrame, text: str | None, label: str | None, confident: bool
) -> list[Finding]:
    """Errors for missing columns and a warning when columns were guessed."""
    existing = ", ".join(f"'{c}'" for c in frame.columns[:20])
    if text is None:
        msg = (
            f"No column looks like it holds the texts (the columns are {existing}); "
            "name it 'text' or choose it yourself."
        )
        return [_error("no_text_column", msg)]
    if label is None:
        msg = (
            f"No column looks like it holds the labels (the columns are {existing}); "
            "name it 'label' or choose it yourself."
        )
        return [_error("no_label_column", msg)]
    if text == label:
        msg = (
            f"The same column '{text}' was chosen for the texts and the labels; "
            "choose two different columns."
        )
        return [_error("same_column", msg)]
    if not confident:
        msg = (
            f"Guessed that '{text}' holds the texts and '{label}' the labels; "
            "choose the columns yourself if that is wrong."
        )
        return [Finding("warning", "columns_guessed", msg)]
    return []


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
    name = _source_name(source, filename)
    raw, fmt, encoding, findings = read_table(source, filename=name, limits=limits)
    failed = LoadedData(_empty_frame(), name, fmt, encoding, "", "", findings)
    if any(f.level == "error" for f in findings):
        return failed
    text, label, more = _choose_columns(raw, text_col, label_col)
    failed.findings = findings = findings + more
    if text is None or label is None or any(f.level == "error" for f in more):
        return failed
    frame = pd.DataFrame({"text": raw[text], "label": raw[label]}, index=raw.index)
    split = _match_column(raw, split_col) if split_col else None
    if split is not None and split not in (text, label):
        frame["split"] = raw[split]
    frame, checks = check_and_clean(frame, limits, text_column=text, label_column=label)
    frame = frame.reset_index(drop=True)
    return LoadedData(frame, name, fmt, encoding, text, label, findings + checks)
