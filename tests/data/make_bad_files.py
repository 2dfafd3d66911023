"""A corpus of bad and hostile input files for the data-layer tests.

Small files are committed in ``tests/data/bad/``; rewrite them with::

    python tests/data/make_bad_files.py

Big files (a 1 MB text, 500k rows, 5,000 classes) are not committed: tests write
them into a temporary folder with :func:`write_big_files`.

``CASES`` says what loading each committed file must report, so the corpus and
its expectations live side by side.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BAD_DIR = Path(__file__).resolve().parent / "bad"


@dataclass(frozen=True)
class Case:
    """What loading one corpus file must give.

    Attributes:
        name: File name in ``bad/``.
        codes: Finding codes that must be among the findings.
        ok: Whether the data is usable (no error finding after validate).
        load: Extra keyword arguments for ``load_dataset``.
        k_shot: Passed to ``validate``.
        fmt: Expected ``LoadedData.format`` ("" = do not check).
        encoding: Expected ``LoadedData.encoding`` ("" = do not check).
        rows: Expected number of rows in the cleaned frame (-1 = do not check).
    """

    name: str
    codes: tuple[str, ...] = ()
    ok: bool = True
    load: dict = field(default_factory=dict)
    k_shot: int | None = None
    fmt: str = ""
    encoding: str = ""
    rows: int = -1


def _csv(lines: list[str], newline: str = "\n") -> bytes:
    return (newline.join(lines) + newline).encode("utf-8")


def _balanced(n_per_class: int = 3, classes: tuple[str, ...] = ("pos", "neg")) -> list[str]:
    """Plain data rows: distinct texts, ``n_per_class`` per class."""
    return [f"{c} example number {i}" + f",{c}" for c in classes for i in range(n_per_class)]


def _binary() -> bytes:
    rng = random.Random(7)
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.randrange(256) for _ in range(2000))


def _gbk() -> bytes:
    rows = [
        "文本,标签",
        "这个产品很好，我很满意,正面",
        "质量太差了，要求退款,负面",
        "物流很快，包装完好,正面",
        "客服态度恶劣,负面",
        "价格便宜，值得购买,正面",
        "收到的东西坏了,负面",
    ]
    return "\n".join(rows).encode("gbk") + b"\n"


def _latin1() -> bytes:
    rows = [
        "text,label",
        "Café très bon,pos",
        "Naïve façade à la crème,neg",
        "Gar nicht schön,neg",
        "Très bien fait,pos",
        "Mauvais goût,neg",
        "Délicieux,pos",
    ]
    return "\n".join(rows).encode("latin-1") + b"\n"


def _cp1252() -> bytes:
    rows = [
        "text,label",
        "\u201cGreat\u201d \u2013 really,pos",
        "Awful \u2026 never again,neg",
        "Fine,pos",
        "Broken,neg",
    ]
    return "\n".join(rows).encode("cp1252") + b"\n"


def _xlsx(sheets: int = 2) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "data"
    sheet.append(["Text", "Label"])
    for i in range(4):
        sheet.append([f"good thing {i}", 1])
        sheet.append([f"bad thing {i}", 0])
    sheet.append([None, None])  # a blank row in the middle must be skipped
    sheet.append(["late good thing", 1])
    for n in range(1, sheets):
        book.create_sheet(f"notes {n}").append(["ignored"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _jsonl_broken() -> bytes:
    good = [json.dumps({"text": f"item {i}", "label": "a" if i % 2 else "b"}) for i in range(6)]
    lines = good[:2] + ['{"text": "no closing brace", "label": "a"'] + good[2:4]
    lines += ["[1, 2, 3]", "not json at all"] + good[4:]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _ragged() -> bytes:
    rows = [
        "text,label",
        "fine row,pos",
        "too,many,cells,here",
        "short row without label",
        "another fine row,neg",
        "trailing delimiter row,neg,",
        "last row,pos",
    ]
    return _csv(rows)


SMALL: dict[str, Callable[[], bytes]] = {
    "empty.csv": lambda: b"",
    "whitespace_only.csv": lambda: b"\n  \n\t\n",
    "header_only.csv": lambda: b"text,label\n",
    "binary_renamed.csv": _binary,
    "semicolon.csv": lambda: _csv(
        [
            "text;label",
            "Hello, world;greet",
            "Bye, then;leave",
            "Hi, you;greet",
            "See you, soon;leave",
        ]
    ),
    "tab_named_csv.csv": lambda: _csv(
        ["sentence\tcategory", "a, b and c\tx", "d, e\ty", "f\tx", "g\ty"]
    ),
    "unbalanced_quotes.csv": lambda: _csv(
        [
            "text,label",
            "fine,pos",
            '"never closed, oops,neg',
            "also fine,neg",
            '"quoted, ok",pos',
            "last,neg",
        ]
    ),
    "ragged_rows.csv": _ragged,
    "numbers_only.csv": lambda: _csv(["a,b", "1,2", "3,4", "5,6", "7,8"]),
    "one_column.csv": lambda: _csv(["text", "hello there", "general kenobi"]),
    "numeric_labels.csv": lambda: _csv(
        ["text,label"] + [f"sample text {i},{i % 3}" for i in range(9)]
    ),
    "float_labels.csv": lambda: _csv(
        ["text,score"] + [f"review {i},{i / 7:.3f}" for i in range(1, 13)]
    ),
    "one_class.csv": lambda: _csv(["text,label", "a,spam", "b,spam", "c,spam"]),
    "all_labels_missing.csv": lambda: _csv(["text,label", "a,", "b, ", "c,NaN"]),
    "nan_empty_texts.csv": lambda: _csv(
        [
            "text,label",
            "real text,pos",
            ",neg",
            "NaN,pos",
            '"   ",neg',
            "more text,neg",
            "again,pos",
        ]
    ),
    "tiny_class.csv": lambda: _csv(["text,label"] + _balanced(3) + ["lonely example,rare"]),
    "k_too_big.csv": lambda: _csv(["text,label"] + _balanced(4, ("a",)) + _balanced(10, ("b",))),
    "gbk.csv": _gbk,
    "latin1.csv": _latin1,
    "cp1252.csv": _cp1252,
    "utf8_bom.csv": lambda: b"\xef\xbb\xbf" + _csv(["text,label"] + _balanced(2)),
    "utf16.csv": lambda: "\n".join(["text,label"] + _balanced(2)).encode("utf-16"),
    "invalid_utf8_byte.csv": lambda: _csv(
        ["text,label", "naïve café,pos", "crème brûlée,neg", "déjà vu,pos", "résumé,neg"]
    ).replace(b"vu", b"v\xff"),
    "mixed_newlines.csv": lambda: b"text,label\r\none,a\ntwo,b\rthree,a\r\nfour,b\nfive,a\r",
    "label_variants.csv": lambda: _csv(
        [
            "text,label",
            "money back,Refund",
            "refund me,refund",
            "give it back,refund ",
            "where is it,shipping",
            "late parcel,shipping",
            "no money,refund",
        ]
    ),
    "duplicates.csv": lambda: _csv(["text,label", "same,a", "other,b", "same,a", "same,a", "x,b"]),
    "conflicting_labels.csv": lambda: _csv(
        ["text,label", "it is fine,pos", "it is fine,neg", "great,pos", "bad,neg"]
    ),
    "formula_cells.csv": lambda: _csv(
        [
            "text,label",
            "=cmd|' /C calc'!A0,pos",
            "normal,neg",
            "@SUM(A1:A2),pos",
            "-2 degrees outside,neg",
            '+HYPERLINK("x"),pos',
        ]
    ),
    "broken.jsonl": _jsonl_broken,
    "all_broken.jsonl": lambda: b"{not json\n[1,2]\nplain text\n",
    "array.json": lambda: json.dumps(
        [
            {"text": "one", "label": "a"},
            {"text": "two", "label": "b"},
            {"text": "three", "label": "a"},
        ]
    ).encode("utf-8"),
    "data.xlsx": _xlsx,
    "not_really.xlsx": lambda: _csv(["text,label", "a,b"]),
    "old_excel.xls": lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
    "text_tab_label.txt": lambda: _csv(
        [
            "I loved it\tpos",
            'Terrible "film"\tneg',
            "meh, fine\tpos",
            "a\ttab inside\tneg",
            "no tab here",
            "Awful\tneg",
        ]
    ),
    "headerless.tsv": lambda: _csv(["great movie\tpos", "bad movie\tneg", "fine movie\tpos"]),
    "headerless.csv": lambda: _csv(["great movie,pos", "bad movie,neg", "fine movie,pos"]),
    "chinese.csv": lambda: _csv(
        ["文本,标签", "我的银行卡丢了,挂失", "怎么退款,退款", "卡被偷了,挂失", "退货退款,退款"]
    ),
    "utterance_intent.csv": lambda: _csv(
        [
            "id,utterance,intent",
            "1,book a table for two,book",
            "2,cancel my booking,cancel",
            "3,reserve tonight,book",
            "4,drop the reservation,cancel",
        ]
    ),
    "unusual_columns.csv": lambda: _csv(
        ["id,msg_body,bucket"]
        + [
            f"{i},customer message number {i} about things,{'b1' if i % 2 else 'b2'}"
            for i in range(10)
        ]
    ),
    "quoted_multiline.csv": lambda: _csv(
        [
            "text,label",
            '"line one\nline two, with comma",a',
            '"she said ""hi""",b',
            "plain,a",
            "other,b",
        ]
    ),
    "split_column.csv": lambda: _csv(
        ["text,label,split"]
        + [f"text {i},{'ab'[i % 2]},{['train', 'TRAIN', 'dev', 'Test'][i % 4]}" for i in range(24)]
    ),
    "bad_split_values.csv": lambda: _csv(
        ["text,label,split"]
        + [f"text {i},{'ab'[i % 2]},{['train', 'holdout', 'test'][i % 3]}" for i in range(12)]
    ),
    "cross_train.csv": lambda: _csv(
        [
            "text,label",
            "shared text,a",
            "only train,b",
            "train a,a",
            "train b,b",
            "train c,c",
            "train c2,c",
        ]
    ),
    "cross_test.csv": lambda: _csv(["text,label", "shared text,a", "test b,b", "brand new,z"]),
}

CASES: list[Case] = [
    Case("empty.csv", ("file_empty",), ok=False),
    Case("whitespace_only.csv", ("file_empty",), ok=False),
    Case("header_only.csv", ("header_only",), ok=False),
    Case("binary_renamed.csv", ("not_text",), ok=False),
    Case("semicolon.csv", ("delimiter_detected",), fmt="csv", rows=4),
    Case("tab_named_csv.csv", ("delimiter_detected",), fmt="tsv", rows=4),
    Case("unbalanced_quotes.csv", ("unbalanced_quotes",), rows=4),
    Case("ragged_rows.csv", ("skipped_lines", "missing_labels"), rows=4),
    Case("numbers_only.csv", ("no_text_column",), ok=False),
    Case("one_column.csv", ("no_label_column",), ok=False),
    Case("numeric_labels.csv", ("numeric_labels",), rows=9),
    Case("float_labels.csv", ("float_labels", "columns_guessed")),
    Case("one_class.csv", ("single_class",), ok=False),
    Case("all_labels_missing.csv", ("all_labels_missing",), ok=False),
    Case("nan_empty_texts.csv", ("empty_texts",), rows=3),
    Case("tiny_class.csv", ("tiny_class",), rows=7),
    Case("k_too_big.csv", ("too_few_for_k",), k_shot=5),
    Case("gbk.csv", ("encoding_detected",), encoding="gb18030", rows=6),
    Case("latin1.csv", ("encoding_detected",), encoding="latin-1", rows=6),
    Case("cp1252.csv", ("encoding_detected",), encoding="cp1252", rows=4),
    Case("utf8_bom.csv", (), encoding="utf-8-sig", rows=4),
    Case("utf16.csv", ("encoding_detected",), encoding="utf-16", rows=4),
    Case("invalid_utf8_byte.csv", ("undecodable_bytes",), encoding="utf-8", rows=4),
    Case("mixed_newlines.csv", ("mixed_newlines",), rows=5),
    Case("label_variants.csv", ("label_case_variants", "label_whitespace"), rows=6),
    Case("duplicates.csv", ("duplicate_rows",), rows=5),
    Case("conflicting_labels.csv", ("conflicting_labels",), rows=4),
    Case("formula_cells.csv", ("formula_cells",), rows=5),
    Case("broken.jsonl", ("broken_json_lines",), fmt="jsonl", rows=6),
    Case("all_broken.jsonl", ("bad_json",), ok=False, fmt="jsonl"),
    Case("array.json", (), fmt="jsonl", rows=3),
    Case("data.xlsx", ("other_sheets_ignored", "numeric_labels"), fmt="xlsx", rows=9),
    Case("not_really.xlsx", ("bad_excel",), ok=False),
    Case("old_excel.xls", ("old_excel",), ok=False),
    Case("text_tab_label.txt", ("skipped_lines",), fmt="text-tab-label", rows=5),
    Case("headerless.tsv", (), fmt="text-tab-label", rows=3),
    Case("headerless.csv", (), fmt="csv", rows=3),
    Case("chinese.csv", (), rows=4),
    Case("utterance_intent.csv", (), rows=4),
    Case("unusual_columns.csv", ("columns_guessed",), rows=10),
    Case("unusual_columns.csv", (), load={"text_col": "msg_body", "label_col": "bucket"}, rows=10),
    Case("unusual_columns.csv", ("column_not_found",), ok=False, load={"text_col": "body"}),
    Case(
        "unusual_columns.csv",
        ("same_column",),
        ok=False,
        load={"text_col": "msg_body", "label_col": "msg_body"},
    ),
    Case("quoted_multiline.csv", (), rows=4),
    Case("split_column.csv", (), rows=24),
    Case("bad_split_values.csv", ("unknown_split_values",), rows=12),
    Case("cross_train.csv", (), rows=6),
    Case("cross_test.csv", ("tiny_class",), rows=3),
]


def small_files() -> dict[str, bytes]:
    """Return every committed corpus file as name -> bytes."""
    return {name: build() for name, build in SMALL.items()}


def write_small_files(directory: Path = BAD_DIR) -> list[Path]:
    """Write the committed corpus into ``directory``.

    Args:
        directory: Target folder, created if needed.

    Returns:
        The paths written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in small_files().items():
        path = directory / name
        path.write_bytes(content)
        paths.append(path)
    return paths


def write_big_files(directory: Path) -> dict[str, Path]:
    """Write the large hostile files (not committed) into ``directory``.

    Args:
        directory: A temporary folder.

    Returns:
        "one_mb_text", "rows_500k" and "classes_5000" mapped to their paths.
    """
    paths = {
        "one_mb_text": directory / "one_mb_text.csv",
        "rows_500k": directory / "rows_500k.csv",
        "classes_5000": directory / "classes_5000.csv",
    }
    huge = "word " * 210_000  # just over 1 MB in one cell
    paths["one_mb_text"].write_text(
        "text,label\n" + f"{huge},long\n" + "short one,short\nshort two,short\nlong two,long\n",
        encoding="utf-8",
    )
    lines = (f"row {i},c{i % 3}\n" for i in range(500_000))
    paths["rows_500k"].write_text("text,label\n" + "".join(lines), encoding="utf-8")
    lines = (f"text {i},class {i % 5000}\n" for i in range(10_000))
    paths["classes_5000"].write_text("text,label\n" + "".join(lines), encoding="utf-8")
    return paths


if __name__ == "__main__":
    write_small_files()
