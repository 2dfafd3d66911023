"""Multi-label data: the three ways a file writes several labels a row, detection that leaves
single labels with commas alone, the checks, K-shot sampling per label, and the split."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from metacore.data import load_dataset, make_split, sample_k_shot, validate
from metacore.data.multilabel import decode, detect_format, encode, label_matrix
from metacore.data.splits import shortfall

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "support_tickets_multilabel.csv"


def _csv(rows: list[tuple[str, str]], header: str = "text,labels") -> bytes:
    lines = [header] + [f'"{t}","{y}"' for t, y in rows]
    return "\n".join(lines).encode()


def _codes(loaded) -> set[str]:
    return {f.code for f in loaded.findings}


def test_separated_labels_are_detected_and_read() -> None:
    rows = [("a b", "x;y"), ("c d", "x"), ("e f", "y"), ("g h", "z;x"), ("i j", "z")]
    loaded = load_dataset(_csv(rows), filename="d.csv")
    assert loaded.ok and loaded.label_format == ";"
    data = loaded.to_textset()
    assert data.multi_label and data.classes == ["x", "y", "z"]
    assert data.label_sets == (("x", "y"), ("x",), ("y",), ("x", "z"), ("z",))
    assert data.labels[0] == "x; y"
    info = next(f for f in loaded.findings if f.code == "multi_label")
    assert info.level == "info" and "separated by ';'" in str(info.message)


@pytest.mark.parametrize("sep", ["|", ","])
def test_other_separators(sep: str) -> None:
    rows = [("a", f"x{sep}y"), ("b", "x"), ("c", "y"), ("d", f"y{sep}z"), ("e", "z")]
    loaded = load_dataset(_csv(rows), filename="d.csv")
    assert loaded.label_format == sep
    assert loaded.to_textset().label_sets[3] == ("y", "z")


def test_names_with_commas_stay_single_labels() -> None:
    rows = [("a", "Arts, Culture"), ("b", "Sports"), ("c", "Food, Drink"), ("d", "Sports"),
            ("e", "Arts, Culture")]
    loaded = load_dataset(_csv(rows, "text,label"), filename="d.csv")
    assert loaded.label_format is None and not loaded.to_textset().multi_label
    assert loaded.to_textset().classes == ["Arts, Culture", "Food, Drink", "Sports"]


def test_the_user_can_overrule_detection() -> None:
    rows = [("a b", "x;y"), ("c d", "x"), ("e f", "y"), ("g h", "z;x"), ("i j", "z")]
    single = load_dataset(_csv(rows), filename="d.csv", label_format="none")
    assert single.label_format is None and "x;y" in single.to_textset().classes
    with pytest.raises(ValueError, match="label_format"):
        load_dataset(_csv(rows), filename="d.csv", label_format="tabs")


def test_json_lists_and_empty_rows(tmp_path) -> None:
    path = tmp_path / "d.jsonl"
    rows = [{"text": "a b", "labels": ["x", "y"]}, {"text": "c", "labels": ["x"]},
            {"text": "d", "labels": ["y"]}, {"text": "e", "labels": []}]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    loaded = load_dataset(path)
    assert loaded.label_format == "json"
    assert loaded.to_textset().label_sets == (("x", "y"), ("x",), ("y",), ())
    assert "no_label_rows" in _codes(loaded)  # kept, as negatives, and said


def test_zero_one_columns() -> None:
    raw = b"text,billing,refund,urgent\nI was charged twice,1,1,0\nRefund please,0,1,1\n" \
          b"Invoice wrong,1,0,0\nWhere is my money,0,1,0\nHello,0,0,0\n"
    loaded = load_dataset(raw, filename="d.csv")
    assert loaded.ok and loaded.label_format == "columns"
    assert loaded.text_column == "text" and loaded.label_column == "billing, refund, urgent"
    data = loaded.to_textset()
    assert data.classes == ["billing", "refund", "urgent"]
    assert data.label_sets[0] == ("billing", "refund") and data.label_sets[4] == ()
    codes = _codes(loaded)
    assert {"label_never_alone", "no_label_rows"} <= codes  # 'urgent' is never alone


def test_a_named_label_column_beats_zero_one_columns() -> None:
    raw = b"text,label,flag,other\nx y,pos,1,0\nz w,neg,0,1\nv u,pos,1,1\n"
    loaded = load_dataset(raw, filename="d.csv")
    assert loaded.label_format is None and loaded.label_column == "label"


def test_checks_name_labels_never_alone_and_rare_labels_for_k() -> None:
    loaded = load_dataset(SAMPLE)
    assert loaded.ok and loaded.label_format == ";"
    never = next(f for f in loaded.findings if f.code == "label_never_alone")
    assert "urgent" in str(never.message)
    findings = validate(loaded, k_shot=40)
    short = next(f for f in findings if f.code == "too_few_for_k")
    assert "feature_request" in str(short.message) and "label" in str(short.message)


def test_one_label_in_all_is_an_error() -> None:
    loaded = load_dataset(_csv([("a", "x;x"), ("b", "x"), ("c", "x")]), filename="d.csv",
                          label_format=";")
    assert not loaded.ok and "single_class" in _codes(loaded)


def test_k_shot_sampling_gives_every_label_k_where_it_can() -> None:
    data = load_dataset(SAMPLE).to_textset()
    sample = sample_k_shot(data, 8, seed=0)
    counts = pd.Series([lab for s in sample.label_sets for lab in s]).value_counts()
    assert set(counts.index) == set(data.classes) and counts.min() >= 8
    assert len(sample) < 8 * len(data.classes)  # co-occurring labels share texts
    assert sample_k_shot(data, 8, seed=0) == sample  # reproducible
    assert shortfall(sample, 8) == {}
    few = sample_k_shot(data.subset([i for i, s in enumerate(data.label_sets)
                                     if "urgent" not in s][:60] + [
        next(i for i, s in enumerate(data.label_sets) if "urgent" in s)]), 8, seed=1)
    assert shortfall(few, 8) == {"urgent": 1}  # says where the data does not allow K


def test_split_keeps_label_sets() -> None:
    loaded = load_dataset(SAMPLE)
    split = make_split(loaded, seed=0)
    assert split.train.multi_label and split.test.multi_label
    assert len(split.train) + len(split.val) + len(split.test) == len(loaded.frame)
    assert set(split.test.classes) <= set(split.train.classes)


def test_canonical_form_round_trips() -> None:
    assert decode(encode(["b", "a", "b", " "])) == ("a", "b")
    assert label_matrix([("a",), ("a", "c"), ()], ["a", "b", "c"]).tolist() == \
        [[1, 0, 0], [1, 0, 1], [0, 0, 0]]
    assert detect_format(pd.Series(['["a"]', '["a", "b"]'])) == "json"
    assert detect_format(pd.Series(["pos", "neg", "pos"])) is None
