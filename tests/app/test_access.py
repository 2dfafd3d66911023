"""The optional workshop password (METACORE_PASSWORD): nothing renders until it is given.

AppTest replays later runs on the page the first run selected, so each test here is one run;
typing the password (wrong, then right) was checked in a real browser against a real server
(`streamlit run` with METACORE_PASSWORD set: direct links to /results, /history and /train
showed only the password form, a wrong password the error, the right one the pages).
"""

from __future__ import annotations

GATE_TITLE = "This workbench needs a password"


def test_without_a_password_the_app_is_open(app, monkeypatch) -> None:
    monkeypatch.delenv("METACORE_PASSWORD", raising=False)
    app.run()
    assert not app.exception
    assert GATE_TITLE not in [x.value for x in app.title]
    assert app.sidebar.markdown


def test_nothing_but_the_form_before_the_password(app, monkeypatch) -> None:
    monkeypatch.setenv("METACORE_PASSWORD", "s3cret-words")
    app.run()
    assert not app.exception
    assert [x.value for x in app.title] == [GATE_TITLE]
    assert not app.sidebar.markdown  # no device, queue, runs folder or page content
    assert [w.key for w in app.text_input] == ["access_password"]
    assert app.text_input[0].proto.type == app.text_input[0].proto.PASSWORD


def test_a_session_that_gave_the_password_sees_the_pages(app, monkeypatch) -> None:
    monkeypatch.setenv("METACORE_PASSWORD", "s3cret-words")
    app.session_state["access_granted"] = True
    app.run()
    assert not app.exception
    assert GATE_TITLE not in [x.value for x in app.title]
    assert app.sidebar.markdown


def test_password_gate_speaks_chinese(app, monkeypatch) -> None:
    monkeypatch.setenv("METACORE_PASSWORD", "x")
    app.query_params["lang"] = "zh"
    app.run()
    assert [x.value for x in app.title] == ["进入本工作台需要密码"]
