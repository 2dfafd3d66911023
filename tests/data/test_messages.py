"""Coded findings: every code has its words in English and Chinese, a finding keeps its
parameters through JSON, and the formatter's specs word counts and lists."""

from __future__ import annotations

import ast
import json
import pickle
import re
import string
from pathlib import Path

import pandas as pd
import pytest

from metacore.data import DataError, Finding, Limits, load_dataset, require_usable, validate
from metacore.data.dataset import TextSet
from metacore.data.episodes import episode_findings, resolve_class_split
from metacore.data.readers.encoding import too_large
from metacore.data.splits import Split
from metacore.data.validation import check_and_clean, cross_split_findings
from metacore.messages import Message, catalog, listing, msg, render

DATA = Path(__file__).resolve().parents[2] / "metacore" / "data"
BAD = Path(__file__).with_name("bad")
PREFIXES = ("finding.", "data.", "term.")  # the data layer's codes (metacore/locale/*.data.toml)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _data_codes() -> list[str]:
    return sorted(k for k in catalog("en") if k.startswith(PREFIXES)
                  and not k.startswith("term.protocol."))


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _constructed_codes() -> set[str]:
    """Message codes that metacore/data's source names: msg("..."), DataError("..."),
    Finding(level, "code", ...) and error("code", "variant")."""
    codes: set[str] = set()
    for path in DATA.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
            if name in ("msg", "DataError") and args and isinstance(args[0], str):
                if "." in args[0] and not args[0].endswith("."):
                    codes.add(args[0])
            elif name in ("Finding", "finding_for_rows") and len(args) > 1 and args[1]:
                codes.add(f"finding.{args[1]}")
            elif name == "error" and args and isinstance(args[0], str):
                variant = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
                codes.add(f"finding.{args[0]}" + (f"-{variant}" if variant else ""))
    return codes


def test_every_data_code_has_english_and_chinese_words() -> None:
    en, zh = catalog("en"), catalog("zh")
    constructed = _constructed_codes()
    assert len(constructed) > 50, sorted(constructed)
    assert not sorted(constructed - set(en)), "no English template: " + ", ".join(
        sorted(constructed - set(en)))
    missing = [code for code in _data_codes() if code not in zh]
    assert not missing, "no Chinese template: " + ", ".join(missing)
    odd = [code for code in _data_codes() if _fields(en[code]) != _fields(zh[code])]
    assert not odd, f"the two languages name different parameters: {odd}"


def test_every_finding_code_of_the_engine_has_a_template() -> None:
    """The codes findings are made with (the first part of finding.<code>[-variant])."""
    en = catalog("en")
    codes = {c.split(".", 1)[1].split("-")[0] for c in _constructed_codes()
             if c.startswith("finding.")}
    assert len(codes) > 40, sorted(codes)  # some are chosen in a variable, not named here
    assert all(f"finding.{c}" in en for c in codes), sorted(c for c in codes
                                                            if f"finding.{c}" not in en)


def _many_findings() -> list[Finding]:
    frame = pd.DataFrame({"text": ["x" * 50, "b", "c", "d", "d"],
                          "label": ["a", "b", "c", "c", "e"],
                          "split": ["train", "odd", "", "test", "test"]}, index=[2, 3, 4, 5, 6])
    out = check_and_clean(frame, Limits(max_text_chars=10))[1]
    out += [too_large(3 * 1024**2, Limits(max_file_bytes=500))]
    for path in sorted(BAD.iterdir()):
        out += validate(load_dataset(path), k_shot=3)
    out += load_dataset(BAD / "semicolon.csv", text_col="nope").findings
    split = Split(TextSet(("t1", "t2"), ("a", "b")), TextSet(("t1",), ("a",)),
                  TextSet(("t1", "t9"), ("a", "z")), "stratified")
    out += cross_split_findings(split)
    tiny = TextSet(("a", "b", "c"), ("x", "y", "z"))
    out += episode_findings(tiny, n_way=3, k_shot=2, n_query=1, part=msg("term.part.novel"))
    out += episode_findings(tiny, n_way=1, k_shot=1, n_query=1)
    return out


def test_a_finding_round_trips_through_json() -> None:
    findings = _many_findings()
    assert len({f.code for f in findings}) > 25
    for finding in findings:
        stored = json.loads(json.dumps(finding.to_dict()))
        assert stored["message"] == finding.message and "params" in stored
        back = Finding.from_dict(stored)
        assert back == finding and back.message == finding.message, finding.code
        assert back.as_message() == finding.as_message()
    part = next(f for f in findings if f.code == "episode_class_too_small")
    assert Finding.from_dict(json.loads(json.dumps(part.to_dict()))).params["part"] == msg(
        "term.part.novel")  # a term comes back as a message, not as a dict


def test_a_finding_stored_without_params_still_loads() -> None:
    old = {"level": "warning", "code": "missing_labels", "rows": [3, 4], "count": 2,
           "message": "2 rows have no label and will not be used; fill in the missing labels "
                      "if those rows matter."}
    finding = Finding.from_dict(old)
    assert finding.message == old["message"] and finding.rows == (3, 4) and finding.count == 2
    assert finding.to_dict()["message"] == old["message"]
    assert render(finding.as_message(), "zh") == old["message"]  # nothing to translate from


def test_a_finding_renders_in_chinese_with_its_parameters() -> None:
    cases = [
        (Finding("warning", "missing_labels", {"n": 3000}), "3,000 行没有标签"),
        (Finding("error", "column_not_found", {"column": "正文", "role": msg("term.role.labels"),
                                                "columns": ["甲", "乙"]}),
         "没有名为“正文”的标签列；该文件的列为 '甲'、'乙'，请从中选择。"),
        (Finding("warning", "tiny_class", {"n": 7, "classes": listing(list("甲乙丙丁戊己庚"))}),
         "7 个类别只有一个样本（'甲'、'乙'、'丙'、'丁'、'戊' 等另外 2 个）"),
        (Finding("warning", "unknown_split_values", {"values": [msg("term.empty"), "某"]}),
         "{'（空）'、'某'}"),
        (Finding("warning", "label_case_variants",
                 msg("finding.label_case_variants-more", groups=[["甲", "甲 "]], more=2)),
         "'甲'、'甲 '（另有 2 组）"),
        (Finding("info", "delimiter_detected",
                 {"ext": ".csv", "separator": msg("term.separator.semicolons")}), "以分号分隔"),
        (Finding("info", "encoding_detected", {"encoding": msg("term.encoding.gb18030")}),
         "已按 GB18030（中文） 读取"),
        (too_large(500, Limits(max_file_bytes=100)),
         "该文件大小为 500 字节，超过了 100 字节 的上限"),
    ]
    for finding, expected in cases:
        text = render(finding.as_message(), "zh")
        assert expected.strip("{}") in text, (text, expected)
        # values a file holds or is named by, not English words
        latin = set(re.findall(r"[A-Za-z]{2,}", text)) - {"GB", "UTF", "csv", "split",
                                                          "train", "validation", "test"}
        assert CJK.search(text) and not latin, text  # no English word left
    missing = render(Finding("warning", "no_such_code", {"n": 1}).as_message(), "zh")
    assert "finding.no_such_code" in missing  # never lost, even without a template


def test_episode_parts_and_hints_are_terms() -> None:
    tiny = TextSet(("a", "b", "c"), ("x", "y", "z"))
    small, few = episode_findings(tiny, n_way=3, k_shot=2, n_query=1, part="the novel classes")
    assert small.params["part"] == msg("term.part.novel_classes")  # English words: the term
    assert small.message.startswith("In the novel classes, 3 class(es) ('x', 'y' and 'z')")
    assert small.message.endswith("; lower --shots or --queries.")
    assert few.message.startswith("The novel classes has 0 class(es)")
    zh = render(few.as_message(), "zh")
    assert zh.startswith("新类别中只有 0 个类别") and zh.endswith("，或把更多类别移入新类别。")
    ui = {"term.hint.lower_ways": "lower N ways"}  # what an interface's msg.* keys give
    assert "; lower N ways or move" in render(few.as_message(), "en", ui)


def test_formatter_specs_count_plural_and_lists() -> None:
    def say(template: str, lang: str = "en", **params) -> str:
        return Message("x", params).text(lang, {"x": template})

    assert say("{n:count:row has|rows have}", n=1) == "1 row has"
    assert say("{n:count:row has|rows have}", n=3000) == "3,000 rows have"
    assert say("{n:plural:class|classes}", n=2) == "classes"
    assert say("{items:list}", items=["a"]) == "'a'"
    assert say("{items:list}", items=["a", "b", "c"]) == "'a', 'b' and 'c'"
    assert say("{items:list}", items=list("abcdefg")) == "'a', 'b', 'c', 'd', 'e' and 2 more"
    assert say("{items:list:3}", items=listing(list("abcdefg"), 3)) == "'a', 'b', 'c' and 4 more"
    assert say("{items:list}", "zh", items=listing(list("abcdefg"))) == (
        "'a'、'b'、'c'、'd'、'e' 等另外 2 个")
    assert say("{c:names}", c=["x", "it's"]) == "'x', 'it's'"
    assert say("{c:names}", c=msg("term.none")) == "none"
    pairs = [[f"c{i}", i] for i in range(7)]
    assert say("{c:tally}", c=listing(pairs)) == (
        "'c0' (0), 'c1' (1), 'c2' (2), 'c3' (3), 'c4' (4) and 2 more")
    assert say("{g:groups}", g=[["A", "a", "a "], ["B", "b"]]) == (
        "'A' and 'a' and 'a '; 'B' and 'b'")
    assert say("{g:groups}", "zh", g=[["A", "a"], ["B", "b"]]) == "'A'、'a'；'B'、'b'"
    assert say("{p:capitalize} has", p=msg("term.part.meta_training")) == (
        "The meta-training part has")
    assert say("{items:list}", items=[msg("term.empty")]) == "'(empty)'"


def test_data_error_carries_a_coded_message() -> None:
    frame = pd.DataFrame({"text": ["a", "b"], "label": ["x", "y"]})
    with pytest.raises(DataError) as caught:
        resolve_class_split("column", frame, 0)
    error = caught.value
    assert isinstance(error, ValueError) and error.message.code == "data.no_split_column"
    assert str(error) == ("The file has no split column; use --classes-split random or list "
                          "the classes.")
    assert "随机类别划分" not in render(error.message, "zh")  # the engine's own words: the flag
    assert pickle.loads(pickle.dumps(error)).message == error.message
    plain = DataError("Something else went wrong.")
    assert str(plain) == "Something else went wrong." and plain.message.code == "error.plain"
    coded = DataError("data.no_test_rows")
    assert coded.message.code == "data.no_test_rows" and str(coded).startswith("No rows are left")


def test_require_usable_raises_the_first_error_finding() -> None:
    findings = [Finding("warning", "missing_labels", {"n": 2}),
                Finding("error", "single_class", {"label": "spam"}, (), 4),
                Finding("error", "no_rows", {"column": "text"})]
    with pytest.raises(DataError) as caught:
        require_usable(findings)
    assert caught.value.message == findings[1].as_message()
    assert str(caught.value) == findings[1].message
    assert "所有行的标签都相同（'spam'）" in render(caught.value.message, "zh")


def test_findings_are_hashable_and_compare_by_value() -> None:
    a = Finding("warning", "missing_labels", {"n": 2}, (3, 4), 2)
    b = Finding("warning", "missing_labels", {"n": 2}, [3, 4], 2)
    assert a == b and len({a, b}) == 1
    assert a != Finding("warning", "missing_labels", {"n": 3}, (3, 4), 2)
