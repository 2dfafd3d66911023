"""Loading files of every supported shape, and the corpus of bad and hostile files."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from metacore.data import (
    DataError,
    Finding,
    Limits,
    detect_columns,
    load_dataset,
    read_table,
    validate,
)


def _corpus_module():
    # Loaded by path so the tests work whatever pytest import mode is configured.
    path = Path(__file__).with_name("make_bad_files.py")
    spec = importlib.util.spec_from_file_location("make_bad_files", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module


corpus = _corpus_module()
BAD = corpus.BAD_DIR


def _codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


def test_corpus_is_big_enough_and_committed() -> None:
    names = set(corpus.SMALL)
    assert len(names) >= 30
    assert names <= {p.name for p in BAD.iterdir()}
    assert {c.name for c in corpus.CASES} <= names


def test_committed_files_match_the_generator() -> None:
    # xlsx files embed a timestamp, so only the text files are compared byte for byte.
    for name, content in corpus.small_files().items():
        if not name.endswith(".xlsx"):
            assert (BAD / name).read_bytes() == content, name


@pytest.mark.parametrize("case", corpus.CASES, ids=lambda c: f"{c.name}{sorted(c.load)}")
def test_corpus_file(case) -> None:
    data = load_dataset(BAD / case.name, **case.load)
    findings = validate(data, k_shot=case.k_shot)
    codes = _codes(findings)
    assert set(case.codes) <= codes, [f.to_dict() for f in findings]
    assert (not any(f.level == "error" for f in findings)) == case.ok
    assert data.ok == case.ok
    if case.fmt:
        assert data.format == case.fmt
    if case.encoding:
        assert data.encoding == case.encoding
    if case.rows >= 0:
        assert len(data.frame) == case.rows
    assert list(data.frame.columns)[:2] == ["text", "label"]
    if case.ok:
        assert data.frame["text"].map(len).gt(0).all()
        assert (data.frame["label"] == data.frame["label"].str.strip()).all()


@pytest.mark.parametrize("case", corpus.CASES, ids=lambda c: f"{c.name}{sorted(c.load)}")
def test_every_message_is_one_plain_sentence(case) -> None:
    data = load_dataset(BAD / case.name, **case.load)
    for finding in validate(data, k_shot=case.k_shot or 3):
        assert finding.level in ("error", "warning", "info")
        assert finding.code.replace("_", "").isalnum() and finding.code.islower()
        assert finding.message.endswith(".") and "\n" not in finding.message
        assert "Traceback" not in finding.message and "Error(" not in finding.message
        assert len(finding.rows) <= 20
        json.dumps(finding.to_dict())


@pytest.fixture(scope="module")
def big_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return corpus.write_big_files(tmp_path_factory.mktemp("big"))


def test_one_megabyte_text_is_truncated(big_files: dict[str, Path]) -> None:
    data = load_dataset(big_files["one_mb_text"])
    truncated = [f for f in data.findings if f.code == "texts_truncated"]
    assert data.ok and len(truncated) == 1
    assert truncated[0].count == 1 and truncated[0].rows == (2,)
    assert data.frame["text"].str.len().max() == Limits().max_text_chars


def test_500k_rows_are_refused_without_reading_them_all(big_files: dict[str, Path]) -> None:
    raw, _, _, findings = read_table(big_files["rows_500k"])
    assert "too_many_rows" in _codes(findings)
    assert len(raw) == Limits().max_rows  # stopped reading right after the limit
    assert not load_dataset(big_files["rows_500k"]).ok


def test_5000_classes_are_refused(big_files: dict[str, Path]) -> None:
    findings = load_dataset(big_files["classes_5000"]).findings
    error = next(f for f in findings if f.code == "too_many_classes")
    assert "5,000" in error.message and "500" in error.message


def test_oversized_file_is_refused_before_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args, **kwargs):
        raise AssertionError("the file must not be read")

    monkeypatch.setattr(Path, "read_bytes", forbidden)
    data = load_dataset(BAD / "semicolon.csv", limits=Limits(max_file_bytes=10))
    assert [f.code for f in data.findings] == ["file_too_large"]


def test_oversized_upload_is_refused_by_its_size() -> None:
    class Upload(io.BytesIO):
        name = "big.csv"
        size = 10**12

        def read(self, *args):  # noqa: ARG002
            raise AssertionError("the upload must not be read")

    data = load_dataset(Upload())
    assert data.source == "big.csv" and _codes(data.findings) == {"file_too_large"}


def test_stream_without_size_is_read_only_up_to_the_limit() -> None:
    class Stream:
        def __init__(self) -> None:
            self.asked: list[int] = []

        def read(self, n: int = -1) -> bytes:
            self.asked.append(n)
            return b"x" * (n if n > 0 else 10**6)

    stream = Stream()
    _, _, _, findings = read_table(stream, limits=Limits(max_file_bytes=100))
    assert stream.asked == [101] and _codes(findings) == {"file_too_large"}


@pytest.mark.parametrize("kind", ["bytes", "stream", "path"])
def test_sources(kind: str) -> None:
    path = BAD / "utterance_intent.csv"
    source = {"bytes": path.read_bytes(), "stream": io.BytesIO(path.read_bytes()), "path": path}
    data = load_dataset(source[kind], filename="mine.csv" if kind != "path" else None)
    assert data.ok and len(data.frame) == 4
    assert data.source == ("mine.csv" if kind != "path" else "utterance_intent.csv")
    assert (data.text_column, data.label_column) == ("utterance", "intent")


def test_missing_path_is_a_programming_error() -> None:
    with pytest.raises(FileNotFoundError):
        load_dataset(BAD / "does_not_exist.csv")


def test_read_table_gives_raw_strings_and_file_row_numbers() -> None:
    frame, fmt, encoding, findings = read_table(BAD / "ragged_rows.csv")
    assert (fmt, encoding) == ("csv", "utf-8")
    assert list(frame.columns) == ["text", "label"]
    assert all(frame[c].dtype == object for c in frame.columns)
    assert list(frame.index) == [2, 4, 5, 6, 7]  # line 3 had too many cells
    assert frame.loc[4, "label"] is None
    assert _codes(findings) == {"skipped_lines"}


def test_read_table_never_raises_on_binary() -> None:
    frame, fmt, _, findings = read_table(bytes(range(256)) * 10, filename="x.csv")
    assert frame.empty and fmt == "unknown"
    assert findings[0].level == "error" and findings[0].message.startswith("This file is not text")


def test_rows_point_at_file_lines() -> None:
    data = load_dataset(BAD / "nan_empty_texts.csv")
    empty = next(f for f in data.findings if f.code == "empty_texts")
    assert empty.rows == (3, 4, 5) and empty.count == 3
    ragged = load_dataset(BAD / "ragged_rows.csv").findings
    assert next(f for f in ragged if f.code == "skipped_lines").rows == (3,)
    assert next(f for f in ragged if f.code == "missing_labels").rows == (4,)


def test_finding_rows_are_capped_at_20_but_counted() -> None:
    content = "text,label\n" + "".join(f"t{i},\n" for i in range(30)) + "a,x\nb,y\n"
    data = load_dataset(content.encode(), filename="m.csv")
    missing = next(f for f in data.findings if f.code == "missing_labels")
    assert missing.count == 30 and len(missing.rows) == 20 and missing.rows[0] == 2


def test_encodings_give_the_right_text() -> None:
    assert load_dataset(BAD / "gbk.csv").frame.loc[0, "text"] == "这个产品很好，我很满意"
    gbk_note = next(f for f in load_dataset(BAD / "gbk.csv").findings)
    assert gbk_note.level == "info" and "GB18030 (Chinese)" in gbk_note.message
    assert load_dataset(BAD / "latin1.csv").frame.loc[0, "text"] == "Café très bon"
    assert (
        load_dataset(BAD / "cp1252.csv").frame.loc[0, "text"] == "\u201cGreat\u201d \u2013 really"
    )
    bom = load_dataset(BAD / "utf8_bom.csv")
    assert bom.text_column == "text" and bom.frame.loc[0, "text"] == "pos example number 0"
    assert load_dataset(BAD / "utf16.csv").frame.loc[0, "label"] == "pos"
    chinese = load_dataset(BAD / "chinese.csv")
    assert (chinese.text_column, chinese.label_column) == ("文本", "标签")
    assert chinese.frame.loc[0, "label"] == "挂失"


def test_content_beats_the_extension() -> None:
    semicolon = load_dataset(BAD / "semicolon.csv")
    assert semicolon.frame.loc[0, "text"] == "Hello, world"
    tabbed = load_dataset(BAD / "tab_named_csv.csv")
    assert tabbed.format == "tsv" and tabbed.frame.loc[0, "text"] == "a, b and c"
    xlsx = load_dataset((BAD / "data.xlsx").read_bytes(), filename="upload.bin")
    assert xlsx.format == "xlsx" and xlsx.ok  # detected by the PK magic bytes
    jsonl = load_dataset(b'{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n')
    assert jsonl.format == "jsonl" and len(jsonl.frame) == 2


def test_mixed_newlines_and_quotes() -> None:
    assert list(load_dataset(BAD / "mixed_newlines.csv").frame["text"]) == [
        "one", "two", "three", "four", "five",
    ]  # fmt: skip
    multiline = load_dataset(BAD / "quoted_multiline.csv").frame
    assert multiline.loc[0, "text"] == "line one\nline two, with comma"
    assert multiline.loc[1, "text"] == 'she said "hi"'
    quotes = load_dataset(BAD / "unbalanced_quotes.csv")
    assert list(quotes.frame["text"]) == ["fine", "also fine", "quoted, ok", "last"]
    assert next(f for f in quotes.findings if f.code == "unbalanced_quotes").rows == (3,)


def test_formula_cells_stay_plain_text() -> None:
    data = load_dataset(BAD / "formula_cells.csv")
    assert data.frame.loc[0, "text"] == "=cmd|' /C calc'!A0"
    assert next(f for f in data.findings if f.code == "formula_cells").rows == (2, 4, 6)


def test_jsonl_and_xlsx_details() -> None:
    broken = next(f for f in load_dataset(BAD / "broken.jsonl").findings)
    assert broken.code == "broken_json_lines" and broken.rows == (3, 6, 7)
    xlsx = load_dataset(BAD / "data.xlsx")
    assert (xlsx.text_column, xlsx.label_column) == ("Text", "Label")
    assert set(xlsx.frame["label"]) == {"0", "1"}  # integers, not "1.0"
    assert xlsx.frame["text"].iloc[-1] == "late good thing"


def test_text_tab_label_lines() -> None:
    data = load_dataset(BAD / "text_tab_label.txt")
    assert data.frame.loc[1, "text"] == 'Terrible "film"'  # quotes are literal
    assert data.frame.loc[3].tolist() == ["a\ttab inside", "neg"]  # label after the last tab
    assert next(f for f in data.findings if f.code == "skipped_lines").rows == (5,)
    headerless = load_dataset(BAD / "headerless.csv")
    assert headerless.frame.loc[0, "text"] == "great movie"


def test_label_cleaning() -> None:
    data = load_dataset(BAD / "label_variants.csv")
    assert sorted(data.frame["label"].unique()) == ["Refund", "refund", "shipping"]
    variants = next(f for f in data.findings if f.code == "label_case_variants")
    assert "'Refund' and 'refund'" in variants.message and variants.level == "warning"
    assert variants.count == 4


def test_custom_text_limit() -> None:
    data = load_dataset(BAD / "utterance_intent.csv", limits=Limits(max_text_chars=5))
    assert data.frame["text"].str.len().max() == 5
    assert next(f for f in data.findings if f.code == "texts_truncated").count == 4


def test_split_column_kept_and_selectable() -> None:
    data = load_dataset(BAD / "split_column.csv")
    assert list(data.frame.columns) == ["text", "label", "split"]
    assert len(data.to_textset("train")) == 12
    assert len(data.to_textset("dev")) == len(data.to_textset("validation")) == 6
    assert len(data.to_textset("TEST")) == 6 and len(data.to_textset()) == 24
    with pytest.raises(ValueError):
        data.to_textset("holdout")
    with pytest.raises(DataError):
        load_dataset(BAD / "duplicates.csv").to_textset("train")
    assert "split" not in load_dataset(BAD / "split_column.csv", split_col=None).frame.columns


def test_explicit_columns_are_case_insensitive() -> None:
    data = load_dataset(BAD / "unusual_columns.csv", text_col="MSG_BODY", label_col="Bucket")
    assert data.ok and (data.text_column, data.label_column) == ("msg_body", "bucket")
    missing = load_dataset(BAD / "unusual_columns.csv", label_col="category").findings
    assert "'msg_body'" in missing[0].message and "'bucket'" in missing[0].message


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["ID", "Sentence", "INTENT"], ("Sentence", "INTENT", True)),
        (["review_text", "sentiment"], ("review_text", "sentiment", True)),
        (["内容", "类别"], ("内容", "类别", True)),
        (["Query", "Topic", "split"], ("Query", "Topic", True)),
    ],
)
def test_detect_columns_by_name(columns: list[str], expected: tuple) -> None:
    frame = pd.DataFrame([["1", "x", "y"][: len(columns)]], columns=columns, dtype=object)
    assert detect_columns(frame) == expected


def test_detect_columns_falls_back_to_content() -> None:
    frame = pd.DataFrame(
        {
            "id": [str(i) for i in range(8)],
            "tag": ["a", "b"] * 4,
            "words": [f"a fairly long sentence number {i}" for i in range(8)],
            "score": [str(i) for i in range(8)],
        },
        dtype=object,
    )
    assert detect_columns(frame) == ("words", "tag", False)
    assert detect_columns(pd.DataFrame({"a": ["1", "2"], "b": ["3", "4"]})) == (None, None, False)
    only_text = pd.DataFrame({"text": ["x", "y"], "n": ["1", "1"]}, dtype=object)
    assert detect_columns(only_text) == ("text", "n", False)
