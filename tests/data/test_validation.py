"""validate(), require_usable() and cross_split_findings()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metacore.data import (
    DataError,
    Finding,
    Limits,
    cross_split_findings,
    load_dataset,
    make_split,
    require_usable,
    validate,
)

BAD = Path(__file__).with_name("bad")


def _load(lines: list[str], name: str = "data.csv", **kwargs):
    return load_dataset(("\n".join(lines) + "\n").encode("utf-8"), filename=name, **kwargs)


def _by_code(findings: list[Finding], code: str) -> Finding:
    matches = [f for f in findings if f.code == code]
    assert len(matches) == 1, [f.code for f in findings]
    return matches[0]


def test_finding_and_limits_are_plain_data() -> None:
    finding = Finding("warning", "x_y", "Something happened; do this.", tuple(range(1, 50)), 49)
    assert len(finding.rows) == 20
    assert json.loads(json.dumps(finding.to_dict()))["count"] == 49
    assert Limits().to_dict() == {
        "max_file_bytes": 50 * 1024**2,
        "max_rows": 200_000,
        "max_classes": 500,
        "max_text_chars": 2_000,
        "max_cells": 2_000_000,
        "max_columns": 1_000,
        "max_unzipped_bytes": 200 * 1024**2,
        "max_parse_seconds": 30.0,
    }
    with pytest.raises(ValueError):
        Finding("fatal", "x", "No.")


def test_validate_adds_k_shot_findings_only_when_asked() -> None:
    data = load_dataset(BAD / "k_too_big.csv")
    assert "too_few_for_k" not in {f.code for f in validate(data)}
    assert "too_few_for_k" not in {f.code for f in validate(data, k_shot=3)}
    finding = _by_code(validate(data, k_shot=5), "too_few_for_k")
    assert finding.level == "warning" and "'a' (4)" in finding.message and "K=5" in finding.message
    assert finding.count == 4
    # K examples to learn from plus one to test on: 4 examples are too few for K=4.
    assert "too_few_for_k" in {f.code for f in validate(data, k_shot=4)}
    with pytest.raises(ValueError):
        validate(data, k_shot=0)


def test_k_shot_counts_only_training_rows_when_the_file_has_a_split_column() -> None:
    lines = ["text,label,split"] + [f"a{i},a,train" for i in range(3)]
    lines += [f"b{i},b,train" for i in range(5)] + [f"a{i},a,test" for i in range(5, 9)]
    data = _load(lines)
    finding = _by_code(validate(data, k_shot=4), "too_few_for_k")
    assert "'a' (3)" in finding.message and "'b'" not in finding.message
    assert "too_few_for_k" not in {f.code for f in validate(data, k_shot=3)}


def test_validate_does_not_pile_on_after_an_error() -> None:
    data = load_dataset(BAD / "one_class.csv")
    assert [f.code for f in validate(data, k_shot=50)] == ["single_class"]


def test_validate_rechecks_stricter_limits() -> None:
    data = load_dataset(BAD / "numeric_labels.csv")
    codes = {f.code for f in validate(data, limits=Limits(max_rows=5, max_classes=2))}
    assert {"too_many_rows", "too_many_classes"} <= codes
    assert validate(data, limits=Limits()) == data.findings


def test_require_usable() -> None:
    warning = Finding("warning", "w", "Careful; check it.")
    require_usable([warning, Finding("info", "i", "Fine.")])
    with pytest.raises(DataError, match="^First; fix it.$"):
        require_usable(
            [warning, Finding("error", "e1", "First; fix it."), Finding("error", "e2", "X.")]
        )
    assert issubclass(DataError, ValueError)


@pytest.mark.parametrize(
    ("lines", "code", "level"),
    [
        (["text,label", "a,x", "b,y", "a,x"], "duplicate_rows", "warning"),
        (["text,label", "a,x", "a,y", "b,y"], "conflicting_labels", "warning"),
        (["text,label", "a,x", "b,x", "c,y"], "tiny_class", "warning"),
        (["text,label", "a,1", "b,2", "c,1", "d,2"], "numeric_labels", "info"),
        (["text,label", "a,x", "b,y", "c,x", ",y"], "empty_texts", "warning"),
        (["text,label", "a,x", "b,y", "c,", "d,y"], "missing_labels", "warning"),
        (["text,label", "a,x", "b,x"], "single_class", "error"),
        (["text,label", "a,", "b,"], "all_labels_missing", "error"),
        (["text,label", ",x", " ,y"], "no_rows", "error"),
    ],
)
def test_content_checks(lines: list[str], code: str, level: str) -> None:
    finding = _by_code(validate(_load(lines)), code)
    assert finding.level == level


def test_float_labels_are_suspicious_but_integer_labels_are_fine() -> None:
    floats = _load(["text,label"] + [f"t{i},{i * 0.37:.2f}" for i in range(1, 9)])
    assert _by_code(floats.findings, "float_labels").level == "warning"
    assert "looks like a number, not a class" in _by_code(floats.findings, "float_labels").message
    ints = _load(["text,label"] + [f"t{i},{i % 2}.0" for i in range(8)])
    assert "float_labels" not in {f.code for f in ints.findings}


def test_class_count_limit_names_the_numbers() -> None:
    data = _load(
        ["text,label"] + [f"t{i},c{i % 4}" for i in range(8)], limits=Limits(max_classes=3)
    )
    finding = _by_code(data.findings, "too_many_classes")
    assert "4" in finding.message and "3" in finding.message and not data.ok


def test_cross_split_findings_with_a_test_file() -> None:
    train = load_dataset(BAD / "cross_train.csv")
    test = load_dataset(BAD / "cross_test.csv")
    split = make_split(train, test_data=test, val_size=0)
    findings = cross_split_findings(split)
    assert _by_code(findings, "test_in_train").count == 1
    unseen = _by_code(findings, "test_unseen_classes")
    assert unseen.count == 1 and "'z'" in unseen.message
    absent = _by_code(findings, "train_classes_missing_from_test")
    assert absent.count == 1 and "'c'" in absent.message
    assert all(f.level == "warning" for f in findings)
    assert "z" in split.test.labels  # unseen test rows are kept, not dropped


def test_cross_split_findings_clean_split_has_none() -> None:
    lines = ["text,label"] + [f"text {i},{'abc'[i % 3]}" for i in range(60)]
    split = make_split(_load(lines), seed=3)
    assert cross_split_findings(split) == []


def test_duplicates_across_train_and_validation_are_reported() -> None:
    lines = ["text,label"] + [f"same text {i % 10},{'ab'[i % 10 % 2]}" for i in range(60)]
    split = make_split(_load(lines), seed=0)
    codes = {f.code for f in cross_split_findings(split)}
    assert {"test_in_train", "val_in_train"} <= codes
