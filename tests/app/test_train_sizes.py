"""Train & compare with every method chosen: the picker keeps all twelve in sight and across a
language switch, and the estimate table gives each column the width its words need."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
ALL = ["tfidf-logreg", "full-finetune", "linear-probe", "lora", "setfit", "maml", "fomaml",
       "anil", "protonet", "centroid-blend", "nearest-centroid", "reptile"]


def _clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def at(home):
    from streamlit.testing.v1 import AppTest

    from metacore.methods import registry

    assert [s.name for s in registry.available()] == ALL  # the twelve this page shows
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page("app_pages/train.py")
    app.query_params.update({"methods": ",".join(ALL)})
    app.run()
    _clean(app)
    return app


def _columns(frame) -> dict[str, dict]:
    """The dataframe's column config as the browser gets it, by column name."""
    config = json.loads(frame.proto.columns) if frame.proto.columns else {}
    return {key.removeprefix("col:"): value for key, value in config.items()}


def test_every_method_stays_chosen_and_in_sight_across_a_language_switch(at) -> None:
    picker = at.multiselect(key="train_methods")
    assert picker.value == ALL
    assert picker.proto.wrap  # chips wrap onto more rows, never scroll sideways
    style = [h.proto.body for h in at.get("html")]
    assert any(".st-key-train_methods div" in s and "max-height: none" in s for s in style)
    at.session_state["lang"] = "zh"
    at.run()
    _clean(at)
    assert at.multiselect(key="train_methods__zh").value == ALL
    table = at.dataframe[0].value
    assert table["方法"].tolist() == ALL  # every method's full name, in the Chinese table


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_estimate_table_columns_fit_their_words(at, lang) -> None:
    from ui.i18n import strings

    if lang == "zh":
        at.session_state["lang"] = "zh"
        at.run()
        _clean(at)
    words = strings(lang)
    frame = at.dataframe[0]
    headers = [words[f"train.est.{k}"] for k in ("method", "trainable", "time", "memory", "note")]
    assert list(frame.value.columns) == headers
    assert frame.value[headers[0]].tolist() == ALL  # full names, never cut
    config = _columns(frame)
    widths = {h: config[h].get("width") for h in headers}
    assert widths[headers[0]] >= 8.5 * max(map(len, ALL))  # "nearest-centroid" whole
    for header in headers[:4]:  # a pixel width that holds the header and the values
        longest = max([len(header) * (2 if lang == "zh" else 1),
                       *map(len, frame.value[header].astype(str))])
        assert widths[header] >= 7.5 * longest, (header, widths[header])
    assert widths[headers[4]] == "large"  # the note takes the rest of the row
    assert all(config[h].get("help") for h in headers)
