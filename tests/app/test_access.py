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
    monkeypatch.setenv("METACORE_MAX_SESSION_UPLOAD_MB", "lots")  # and a bad cap is said
    app.run()
    assert not app.exception
    assert GATE_TITLE not in [x.value for x in app.title]
    assert app.sidebar.markdown
    assert any("METACORE_MAX_SESSION_UPLOAD_MB" in w.value and "lots" in w.value
               for w in app.sidebar.warning)


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


# --- ownership: a cookie, never the URL (issue 13) --------------------------------------------
OWNER_ID = "0123456789abcdef0123456789abcdef"


def test_owner_comes_from_the_cookie_only() -> None:
    from ui.state import OWNER_COOKIE, owner_from_cookies

    assert owner_from_cookies({OWNER_COOKIE: OWNER_ID}) == OWNER_ID
    for bad in ("", "abc123", "g" * 32, OWNER_ID + "'; alert(1)", "A" * 32, "0" * 65):
        assert owner_from_cookies({OWNER_COOKIE: bad}) is None, bad
    assert owner_from_cookies({"owner": OWNER_ID}) is None and owner_from_cookies({}) is None


def test_owner_is_never_put_in_the_url_and_an_old_owner_link_is_ignored(app) -> None:
    app.query_params["owner"] = "cafe0123beef"  # an old link that used to grant this owner
    app.run()
    assert not app.exception
    owner = app.session_state["owner"]
    assert owner != "cafe0123beef" and len(owner) == 32
    assert "owner" not in app.query_params  # dropped from the URL, and never written
    assert not any(owner in c.value for c in app.sidebar.caption)  # the sidebar hides it
    app.switch_page("app_pages/history.py").run()
    assert "owner" not in app.query_params and app.session_state["owner"] == owner


def test_the_cookie_gives_a_new_session_the_same_owner_and_its_runs(app, home,
                                                                     monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    from metacore.runs.store import RunStore
    from tests.app.test_i18n_workbench import _result
    from ui import state

    RunStore(home).record_result(_result("mine1"), owner=OWNER_ID)
    monkeypatch.setattr(state, "_cookies", lambda: {state.OWNER_COOKIE: OWNER_ID})
    for session in (app, AppTest.from_file("../../app.py", default_timeout=60)):  # a reload
        session.run()
        assert session.session_state["owner"] == OWNER_ID
        assert not session.get("html")  # the cookie is already right: nothing to write
        session.switch_page("app_pages/history.py").run()
        assert not session.exception
        assert session.dataframe[0].value["run"].tolist() == ["mine1"]
    monkeypatch.setattr(state, "_cookies", lambda: {})  # another browser: none of them
    stranger = AppTest.from_file("../../app.py", default_timeout=60)
    stranger.run()
    assert stranger.session_state["owner"] != OWNER_ID
    [cookie] = stranger.get("html")  # its new id goes into its own cookie, SameSite=Strict
    assert stranger.session_state["owner"] in cookie.proto.body
    assert "SameSite=Strict" in cookie.proto.body and "path=/" in cookie.proto.body
    stranger.switch_page("app_pages/history.py").run()
    assert not stranger.dataframe


# --- read-only links to one run ---------------------------------------------------------------
def _shared_app(home, token: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../../app.py", default_timeout=60)
    at.query_params["share"] = token
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_share_link_shows_the_result_read_only(home) -> None:
    from metacore.runs.store import RunStore
    from tests.app.test_i18n_workbench import _result

    store = RunStore(home)
    store.record_result(_result("mine1"), owner=OWNER_ID)
    store.record_result(_result("mine2"), owner=OWNER_ID)
    at = _shared_app(home, store.create_share("mine1"))
    assert [x.value.replace("\\", "") for x in at.title] == ["Shared run: linear-probe"]
    assert at.dataframe[0].value["run_id"].tolist() == ["mine1"]  # that run only
    assert at.session_state["owner"] != OWNER_ID  # the visitor does not become its owner
    labels = [b.label for b in at.button]
    keys = [str(b.key) for b in at.button]
    assert not any(w in " ".join(labels) for w in ("Stop", "Delete", "Re-run", "Share")), labels
    assert not any(k.startswith(("stop_", "history_", "train_")) for k in keys), keys
    assert any(s.value == "Confusion matrix" for s in at.subheader)

    store.revoke_share("mine1")
    gone = _shared_app(home, store.share_token("mine2") or "nosuchtoken00000000")
    assert not gone.dataframe and gone.error  # a token that finds nothing shows a sentence
    assert "revoked" in gone.error[0].value


def test_the_link_is_the_server_root_with_the_token() -> None:
    from ui.share import link

    assert link("tok", "history", url="http://10.0.0.2:8501/history") == \
        "http://10.0.0.2:8501/?share=tok"
    assert link("tok", "history", url="https://lab.example/metacore/history/?lang=zh") == \
        "https://lab.example/metacore/?share=tok"  # behind a path prefix; no other params
    assert link("tok", "history", url="") == "?share=tok"


def test_the_owner_makes_and_revokes_the_link_in_history(home) -> None:
    from streamlit.testing.v1 import AppTest

    from metacore.runs.store import RunStore
    from tests.app.test_i18n_workbench import _result

    def control() -> None:
        from ui import history_view, state

        history_view.share_link("mine1", state.store().list_runs())

    store = RunStore(home)
    store.record_result(_result("mine1"), owner=OWNER_ID)
    at = AppTest.from_function(control, default_timeout=60)
    at.session_state["owner"] = OWNER_ID
    at.run()
    at.button(key="history_link_create").click().run()
    token = store.share_token("mine1")
    assert token and store.shared_run(token) == "mine1"
    assert at.code[0].value.endswith(f"?share={token}")
    at.button(key="history_link_revoke").click().run()
    assert store.share_token("mine1") is None and store.shared_run(token) is None
    other = AppTest.from_function(control, default_timeout=60)  # not the owner: no control
    other.session_state["owner"] = "f" * 32
    other.run()
    assert not other.button and not other.code
