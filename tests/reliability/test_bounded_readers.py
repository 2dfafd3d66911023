"""Every reader works within a budget of cells, columns, unzipped bytes and seconds (issue 13).

Small files that cost minutes or gigabytes to read naively (generated here, see ``hostile``)
end in a clear finding, or load, quickly and within a bounded memory; so do a device, a FIFO,
stray NUL bytes and nonsense values in the limit variables.
"""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from metacore.cli import main
from metacore.data import Limits, load_dataset, read_table
from metacore.data.limits import MOST
from metacore.data.readers.columns import has_header
from metacore.data.readers.rows import column_names
from tests.reliability import hostile

SECONDS = 10  # what any one of these may take on the 2-core test machine
MB = 1024**2


def _measured(fn: Callable[[], Any], *, memory: bool = True) -> tuple[Any, float, int]:
    """(result, seconds, peak traced bytes); tracemalloc slows Python code, so time-only runs
    pass ``memory=False``."""
    if memory:
        tracemalloc.start()
    start = time.perf_counter()
    try:
        result = fn()
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] if memory else 0
    finally:
        if memory:
            tracemalloc.stop()
    return result, seconds, peak


def _codes(findings) -> list[str]:
    return [f.code for f in findings]


def _errors(data) -> list[str]:
    return [f.code for f in data.findings if f.level == "error"]


# --- Excel: never trust what the workbook declares --------------------------------------------
def test_declared_huge_sheet_is_read_without_padding() -> None:
    raw = hostile.declared_huge_sheet()
    assert len(raw) < 10_000
    # Padded to its declared A1:XFD1048576 the sheet would be 17 billion cells; read as it
    # is, it is a million empty rows (one cell each) and one row of 16 384.
    limits = Limits(max_cells=1_100_000)
    data, seconds, _ = _measured(lambda: load_dataset(raw, filename="huge.xlsx", limits=limits),
                                 memory=False)
    print(f"declared A1:XFD1048576: {seconds:.1f} s")
    assert seconds < SECONDS
    assert data.ok and len(data.frame) == 4
    skipped = next(f for f in data.findings if f.code == "skipped_lines")
    assert skipped.rows == (1_048_576,)  # the far cell is named by its sheet row


def test_sheet_rows_wider_than_the_header_stop_at_the_cell_budget() -> None:
    raw = hostile.wide_rows_sheet(2_000)  # 2 000 rows of 16 384 cells once read
    limits = Limits(max_cells=1_000_000)  # the default, 2 000 000, only takes longer
    data, seconds, peak = _measured(lambda: load_dataset(raw, filename="w.xlsx", limits=limits))
    print(f"2 000 rows of 16 384 cells: {seconds:.1f} s, peak {peak / MB:.0f} MB")
    assert _errors(data) == ["too_many_cells"]
    assert "more than 1,000,000 cells" in data.findings[0].message
    assert seconds < SECONDS and peak < 1024 * MB


def test_a_few_wide_sheet_rows_are_skipped_not_refused() -> None:
    data = load_dataset(hostile.wide_rows_sheet(20), filename="wide.xlsx")
    assert data.ok and len(data.frame) == 4
    assert next(f for f in data.findings if f.code == "skipped_lines").count == 20


def test_shared_strings_bomb_is_refused_before_any_part_is_unpacked(monkeypatch) -> None:
    def forbidden(*args, **kwargs):
        raise AssertionError("no part of a zip bomb may be unpacked")

    raw = hostile.shared_strings_bomb(24)  # 24 MB of shared strings in a ~0.1 MB file
    assert len(raw) < MB
    monkeypatch.setattr(zipfile.ZipFile, "open", forbidden)
    limits = Limits(max_unzipped_bytes=16 * MB)
    data, seconds, peak = _measured(lambda: load_dataset(raw, filename="b.xlsx", limits=limits))
    assert _errors(data) == ["zip_too_large"]
    assert "unpacks to 24.0 MB, more than the limit of 16.0 MB" in data.findings[0].message
    assert seconds < 1 and peak < 16 * MB


def test_millions_of_tiny_shared_strings_stop_at_the_deadline() -> None:
    # Under the size limit, but openpyxl parses every string before the first row.
    raw = hostile.shared_strings_bomb(16, text=b"")
    limits = Limits(max_parse_seconds=0.5)
    data, seconds, _ = _measured(lambda: load_dataset(raw, filename="s.xlsx", limits=limits),
                                 memory=False)
    assert _errors(data) == ["parse_too_slow"] and seconds < 3


def test_the_same_workbook_under_the_limit_loads() -> None:
    data = load_dataset(hostile.shared_strings_bomb(1, text=b"a" * 1000), filename="ok.xlsx")
    assert data.ok and len(data.frame) == 4


def test_entity_expansion_bomb_is_unreadable_not_expanded() -> None:
    raw = hostile.entity_bomb_sheet()  # a gigabyte of "a" once expanded
    data, seconds, peak = _measured(lambda: load_dataset(raw, filename="laughs.xlsx"))
    assert _errors(data) == ["bad_excel"] and seconds < 2 and peak < 64 * MB  # expat refuses it


def test_zip_with_thousands_of_parts_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(3_000):
            archive.writestr(f"part{i}.xml", "")
    data, seconds, _ = _measured(lambda: load_dataset(path))
    assert _errors(data) == ["zip_too_many_parts"] and seconds < 2


# --- delimited and JSON: wide rows, wide headers ----------------------------------------------
def test_csv_row_of_a_million_fields_is_skipped_quickly() -> None:
    raw = hostile.csv_wide_row(1_000_000)
    data, seconds, peak = _measured(lambda: load_dataset(raw, filename="wide.csv"))
    print(f"CSV row of 1 000 000 fields: {seconds:.1f} s, peak {peak / MB:.0f} MB")
    assert data.ok and len(data.frame) == 2
    assert next(f for f in data.findings if f.code == "skipped_lines").rows == (4,)
    assert seconds < SECONDS and peak < 1024 * MB


def test_csv_rows_past_the_cell_budget_stop() -> None:
    raw = hostile.csv_wide_row(1_000_000) + b"," * 999_999 + b"x\n"  # 2 million cells and more
    data = load_dataset(raw, filename="wider.csv")
    assert _errors(data) == ["too_many_cells"]
    assert "more than 2,000,000 cells" in data.findings[0].message


def test_blank_lines_stop_at_the_cell_budget() -> None:
    raw = b"text,label\nhello,a\nbye,b\n" + b"\n" * 300_000 + b"ciao,a\n"
    data, seconds, _ = _measured(lambda: load_dataset(raw, filename="blank.csv",
                                                      limits=Limits(max_cells=200_000)),
                                 memory=False)
    assert _errors(data) == ["too_many_cells"] and seconds < SECONDS


@pytest.mark.parametrize(
    ("name", "raw"),
    [("3 000 identical names", hostile.csv_wide_header(3_000, b"text")),
     ("100 000 empty names", hostile.csv_wide_header(100_000)),
     ("200 000 JSON keys", hostile.jsonl_wide_line(200_000))],
)
def test_headers_wider_than_the_column_limit_are_refused_quickly(name: str, raw: bytes) -> None:
    filename = "wide.jsonl" if raw.startswith(b"{") else "wide.csv"
    data, seconds, peak = _measured(lambda: load_dataset(raw, filename=filename))
    print(f"{name}: {seconds:.2f} s, peak {peak / MB:.0f} MB")
    assert _errors(data) == ["too_many_columns"]
    assert "more than the limit of 1,000" in data.findings[-1].message
    assert seconds < SECONDS and peak < 1024 * MB


def test_3000_identical_header_names_load_when_the_limit_allows() -> None:
    raw = hostile.csv_wide_header(3_000, b"text")
    limits = Limits(max_columns=5_000)
    (frame, *_), seconds, _ = _measured(lambda: read_table(raw, filename="w.csv", limits=limits),
                                        memory=False)
    assert list(frame.columns[:4]) == ["text", "label", "text (2)", "text (3)"]
    assert frame.columns.is_unique and len(frame.columns) == 3_000 and seconds < SECONDS


def test_header_naming_is_linear() -> None:
    start = time.perf_counter()
    same = column_names(["x"] * 100_000)
    blank = column_names([None] * 100_000)
    clash = column_names(["x", "x (2)", "x", "x (2)"])
    assert time.perf_counter() - start < 2  # quadratic, this took hours
    assert len(set(same)) == 100_000 and same[:3] == ["x", "x (2)", "x (3)"]
    assert blank[:2] == ["column 1", "column 2"] and len(set(blank)) == 100_000
    assert clash == ["x", "x (2)", "x (3)", "x (2) (2)"]  # the same names as before


def test_header_detection_is_linear_in_the_cells() -> None:
    first = [f"name {i}" for i in range(60_000)]
    rows = [first] + [["a", "b"] for _ in range(99)]
    start = time.perf_counter()
    assert has_header(rows) is True
    assert has_header([["a", "x"], ["b", "x"]]) is False  # "x" repeats below: data
    assert time.perf_counter() - start < 1


# --- JSON nested deeper than the parser recurses ----------------------------------------------
@pytest.mark.parametrize("filename", ["deep.json", "deep.jsonl"])
def test_deeply_nested_json_is_a_finding(filename: str) -> None:
    data, seconds, _ = _measured(lambda: load_dataset(hostile.deep_json(200_000),
                                                      filename=filename))
    assert _errors(data) == ["json_too_deep"] and seconds < SECONDS
    assert "nested too deeply" in data.findings[0].message


@pytest.mark.parametrize("depth", [900, 200_000])
def test_one_deep_line_among_good_ones_is_skipped(depth: int) -> None:
    good = "".join(f'{{"text": "text {i}", "label": "{"ab"[i % 2]}"}}\n' for i in range(4))
    deep = '{"text": "deep", "label": "a", "x": ' + "[" * depth + "]" * depth + "}\n"
    data = load_dataset((good + deep).encode(), filename="mixed.jsonl")
    assert data.ok and len(data.frame) in (4, 5)  # parsed (900) or skipped (200 000)
    if len(data.frame) == 4:
        assert next(f for f in data.findings if f.code == "broken_json_lines").rows == (5,)


def test_cli_deep_json_is_one_sentence(tmp_path: Path, capsys) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(hostile.deep_json(200_000))
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert "nested too deeply" in out and "Traceback" not in out + err


# --- the time budget --------------------------------------------------------------------------
@pytest.mark.parametrize("filename", ["slow.csv", "slow.jsonl", "slow.xlsx"])
def test_parse_stops_at_its_deadline(filename: str) -> None:
    rows = [(f"text {i}", "ab"[i % 2]) for i in range(3_000)]
    if filename.endswith(".csv"):
        raw = ("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows)).encode()
    elif filename.endswith(".jsonl"):
        raw = "".join(f'{{"text": "{t}", "label": "{lab}"}}\n' for t, lab in rows).encode()
    else:
        cells = [(i + 2, [("A", t), ("B", lab)]) for i, (t, lab) in enumerate(rows)]
        raw = hostile.xlsx(hostile.sheet_xml(hostile.labelled_rows(0) + cells))
    assert load_dataset(raw, filename=filename).ok
    data = load_dataset(raw, filename=filename, limits=Limits(max_parse_seconds=1e-6))
    assert _errors(data) == ["parse_too_slow"]
    assert "took longer than 1e-06 seconds" in data.findings[0].message


# --- devices, FIFOs and NUL bytes -------------------------------------------------------------
@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_is_read_only_up_to_the_limit(monkeypatch, capsys) -> None:
    monkeypatch.setenv("METACORE_MAX_FILE_MB", "1")
    start = time.perf_counter()
    assert main(["validate", "/dev/zero"]) == 2
    assert "larger than the limit of 1.0 MB" in capsys.readouterr().out
    assert main(["run", "--data", "/dev/zero", "--method", "tfidf-logreg", "--quiet"]) == 2
    assert "larger than the limit of 1.0 MB" in capsys.readouterr().err
    assert time.perf_counter() - start < SECONDS


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("size", ["small", "endless"])
def test_fifo_is_read_only_up_to_the_limit(tmp_path: Path, size: str) -> None:
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    good = b"text,label\nhello,a\nbye,b\nhi,a\nciao,b\n"

    def write() -> None:
        try:
            with open(fifo, "wb") as pipe:
                pipe.write(good if size == "small" else good + b"x,y\n" * 100_000)  # 400 KB
        except BrokenPipeError:  # the reader had enough
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    data = load_dataset(fifo, limits=Limits(max_file_bytes=100_000))
    writer.join(timeout=SECONDS)
    if size == "small":
        assert data.ok and len(data.frame) == 4
    else:
        assert _codes(data.findings) == ["file_too_large"]
        assert "larger than the limit of 97.7 KB" in data.findings[0].message


def test_nul_bytes_past_the_first_8_kb_are_removed_and_named() -> None:
    lines = [f"an ordinary text number {i},{'ab'[i % 2]}" for i in range(400)]  # ~12 KB
    lines[350] = "a text with a \x00 NUL in it,a"
    data = load_dataset(("text,label\n" + "\n".join(lines) + "\n").encode(), filename="n.csv")
    assert data.ok
    nul = next(f for f in data.findings if f.code == "nul_characters")
    assert nul.level == "warning" and nul.rows == (352,)  # header = line 1
    assert not data.frame["text"].str.contains("\x00", regex=False).any()
    assert "a text with a  NUL in it" in data.frame["text"].tolist()


def test_json_escaped_nul_is_removed_too() -> None:
    raw = b'{"text": "one\\u0000", "label": "a"}\n{"text": "two", "label": "b"}\n'
    data = load_dataset(raw, filename="n.jsonl")
    assert next(f for f in data.findings if f.code == "nul_characters").rows == (1,)


def test_binary_after_a_text_start_is_not_text() -> None:
    head = b"text,label\n" + b"a plain line of text,a\n" * 400  # 9 KB
    data = load_dataset(head + bytes(range(256)) * 400, filename="mixed.csv")
    assert _codes(data.findings) == ["not_text"]


# --- the limit variables ----------------------------------------------------------------------
BAD_VALUES = ["1e400", "9" * 400, "inf", "-inf", "nan", "-5", "0", "abc", "1e10"]
VARIABLES = ["METACORE_MAX_FILE_MB", "METACORE_MAX_ROWS", "METACORE_MAX_CLASSES",
             "METACORE_MAX_TEXT_CHARS", "METACORE_MAX_CELLS", "METACORE_MAX_COLUMNS",
             "METACORE_MAX_UNZIPPED_MB", "METACORE_MAX_PARSE_S"]


@pytest.mark.parametrize("name", VARIABLES)
def test_every_limit_variable_refuses_nonsense_with_one_sentence(name: str) -> None:
    for bad in BAD_VALUES:
        with pytest.raises(ValueError) as caught:
            Limits.from_env({name: bad})
        text = str(caught.value)
        assert text.startswith(f"{name} ") and repr(bad) in text, text
        assert "positive number" in text or f"most it accepts ({MOST:,})" in text, text


def test_limit_variables_are_read() -> None:
    env = {"METACORE_MAX_CELLS": "1000", "METACORE_MAX_COLUMNS": "7",
           "METACORE_MAX_UNZIPPED_MB": "0.5", "METACORE_MAX_PARSE_S": "0.25"}
    assert Limits.from_env(env) == Limits(max_cells=1000, max_columns=7,
                                          max_unzipped_bytes=MB // 2, max_parse_seconds=0.25)
    assert Limits.from_env({"METACORE_MAX_ROWS": str(MOST)}).max_rows == MOST


@pytest.mark.parametrize("bad", ["1e400", "nan", "-5"])
def test_cli_bad_limit_is_exit_2_naming_the_variable(monkeypatch, capsys, bad: str) -> None:
    monkeypatch.setenv("METACORE_MAX_ROWS", bad)
    path = Path(__file__).resolve().parents[1] / "data" / "bad" / "semicolon.csv"
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: METACORE_MAX_ROWS ") and "Traceback" not in out + err
