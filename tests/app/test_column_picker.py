"""The Data page when the columns are not obvious: a picker of the file's own column names,
kept in the URL; the preview headed by those names; the format in words; the Chinese sample
for a session that arrives in Chinese."""

from __future__ import annotations

import json
from pathlib import Path

from tests.app.conftest import shown

APP = str(Path(__file__).resolve().parents[2] / "app.py")
LONG = ["balance_not_updated_after_cheque_or_cash_deposit",
        "card_payment_wrong_exchange_rate_applied"]
# Short texts and long labels under names no detector knows: the labels look like the texts.
BANKING = "Nachricht,Absicht\n" + "".join(f"money gone {i},{LONG[i % 2]}\n" for i in range(12))


def _app(**params):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(params)
    at.run()
    _clean(at)
    return at


def _clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _upload(at, home, name: str, text: str) -> None:
    path = home / "uploads" / "0123456789ab" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    at.session_state["dataset"] = {**at.session_state["dataset"], "kind": "upload",
                                   "path": str(path), "name": name}
    at.radio(key="data_source").set_value("upload").run()
    _clean(at)


def _keys(at) -> set[str]:
    return {w.key for w in at.selectbox}


def _params(at) -> dict[str, str]:
    return {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}


def test_guessed_columns_are_picked_by_their_names_and_kept_in_the_url(home) -> None:
    from streamlit.testing.v1 import AppTest

    at = _app()
    _upload(at, home, "intents.csv", BANKING)
    # the guess (the long labels taken for the texts) is said, pointing at the picker
    warned = [shown(w.value) for w in at.warning]
    assert any("Guessed that 'Absicht' holds the texts" in w and "Column mapping" in w
               and "--text-col" not in w for w in warned), warned
    text, label = at.selectbox(key="data_text_col"), at.selectbox(key="data_label_col")
    assert text.options == label.options == ["Nachricht", "Absicht"]
    text.set_value("Nachricht")
    label.set_value("Absicht")
    at.run()
    _clean(at)
    assert not at.error and not at.warning, [e.value for e in at.error]
    assert (at.metric[0].value, at.metric[1].value) == ("12", "2")
    preview = at.dataframe[0]
    assert set(preview.value["label"]) == set(LONG)  # the frame's own columns: text, label
    headers = {c: v.get("label") for c, v in json.loads(preview.proto.columns).items()}
    assert (headers["text"], headers["label"]) == ("Nachricht", "Absicht"), headers
    params = _params(at)
    assert (params["text"], params["label"]) == ("Nachricht", "Absicht")

    fresh = AppTest.from_file(APP, default_timeout=90)  # a reload keeps the choice
    fresh.query_params.update(params)
    fresh.run()
    _clean(fresh)
    data = fresh.session_state["dataset"]
    assert (data["text_col"], data["label_col"]) == ("Nachricht", "Absicht")
    assert not fresh.error and fresh.metric[0].value == "12"


def test_undetected_columns_offer_the_picker_with_nothing_chosen(home) -> None:
    at = _app()
    _upload(at, home, "codes.csv", "Code,Wert\n" + "".join(f"{i},{i * 7}\n" for i in range(6)))
    errors = [shown(e.value) for e in at.error]
    assert any("No column looks like it holds the texts" in e and "Column mapping" in e
               for e in errors), errors
    text = at.selectbox(key="data_text_col")
    assert text.options == ["Code", "Wert"] and text.value is None
    assert at.selectbox(key="data_label_col").value is None and not at.dataframe


def test_a_one_column_file_says_what_to_add(home) -> None:
    at = _app()
    _upload(at, home, "texts.csv", "words\nhello there\ngood bye\nsee you\n")
    errors = [shown(e.value) for e in at.error]
    assert any("only one column ('words')" in e and "add a column" in e for e in errors), errors
    assert "data_text_col" not in _keys(at)  # one column: nothing to pick between


def test_the_format_is_said_in_words(home) -> None:
    at = _app()
    _upload(at, home, "semi.csv", "text;label\n" + "".join(f"t {i};{'ab'[i % 2]}\n"
                                                         for i in range(6)))
    assert "Read as: CSV, separated by semicolons, UTF-8" in [c.value for c in at.caption]


def test_a_workbook_is_named_never_binary() -> None:
    import pandas as pd

    from metacore.data import LoadedData
    from ui.data_view import format_words

    def words(source: str, fmt: str, encoding: str) -> str:
        return format_words(LoadedData(pd.DataFrame(), source, fmt, encoding, "t", "l"))

    assert words("intents.xlsx", "xlsx", "binary") == "Excel workbook (.xlsx)"
    assert words("macro.xlsm", "xlsx", "binary") == "Excel workbook (.xlsm)"
    assert words("plain.tsv", "tsv", "utf-8") == "TSV, separated by tabs, UTF-8"
    assert words("notes.txt", "csv", "utf-8") == "Delimited text (CSV), UTF-8"
    assert words("old.csv", "csv", "gb18030") == "CSV, separated by commas, GB18030 (Chinese)"
    assert words("lines.jsonl", "jsonl", "utf-8-sig") == \
        "JSON Lines, one object per line, UTF-8 (with a byte-order mark)"
    assert "binary" not in words("broken.xlsx", "unknown", "binary")


def test_chinese_starts_on_the_chinese_sample(home) -> None:
    at = _app(lang="zh")
    assert at.session_state["dataset"]["name"] == "support_intents_zh.csv"
    assert at.selectbox(key="data_sample").value == "support_intents_zh.csv"
    assert "读取方式：CSV，以逗号分隔，UTF-8" in [c.value for c in at.caption]
    assert _params(at)["data"] == "sample:support_intents_zh.csv"
    # data chosen before (in the URL) wins over the language's sample; English keeps its own
    chosen = _app(lang="zh", data="sample:support_intents_en.csv")
    assert chosen.session_state["dataset"]["name"] == "support_intents_en.csv"
    assert _app().session_state["dataset"]["name"] == "support_intents_en.csv"
