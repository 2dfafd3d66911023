"""Safety of a shared server: no remote code, safetensors only, allowed model folders only, user
text never rendered as HTML, spreadsheet formulas defused in exports."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

from metacore.backbones import BackboneError
from metacore.security import (
    allowed_model_dirs,
    check_backbone_spec,
    downloads_permitted,
    in_local_cache,
)

ROOT = Path(__file__).resolve().parents[2]
ENGINE = sorted((ROOT / "metacore").rglob("*.py"))
APP = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")),
       *sorted((ROOT / "ui").rglob("*.py"))]
XSS_TEXT = "<img src=x onerror=alert(1)>"
XSS_LABEL = "<b>x</b>"
FORMULA = "@SUM(A1:A9)"


# --- no remote code, no pickled weights ----------------------------------------------------------
def test_trust_remote_code_is_never_enabled() -> None:
    found = 0
    for path in ENGINE + APP:
        for match in re.finditer(r"trust_remote_code\s*=\s*([^,)\s]+)", path.read_text("utf-8")):
            found += 1
            assert match.group(1) == "False", f"{path.relative_to(ROOT)}: {match.group(0)}"
        assert "trust_remote_code=True" not in path.read_text("utf-8").replace(" ", "")
    assert found >= 3  # the loader passes it explicitly, so a default change cannot enable it


def test_model_weights_load_from_safetensors_only() -> None:
    for path in ENGINE + APP:
        source = path.read_text("utf-8")
        for match in re.finditer(r"(\w+)\.from_pretrained\(", source):
            if match.group(1) in ("AutoTokenizer", "AutoConfig", "BertConfig"):
                continue  # no weights
            call = source[match.end(): source.find(")", match.end()) + 200]
            assert "use_safetensors=True" in call, f"{path.relative_to(ROOT)}: {match.group(0)}"
        assert "torch.load(" not in source, path  # unpickles by default in older torch


# --- HTML in the app -----------------------------------------------------------------------------
def _escaped(node: ast.AST) -> bool:
    """A value that is safe inside HTML: escaped, a constant, or a translation with numbers."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Call):
        name = ast.unparse(node.func)
        if name in ("escape", "html.escape"):
            return True
        if name == "t":  # ui.i18n texts are written by us; their parameters must be numbers
            values = list(node.args[1:]) + [k.value for k in node.keywords]
            return all(isinstance(v, (ast.Constant, ast.BinOp, ast.Name)) and not (
                isinstance(v, ast.Constant) and isinstance(v.value, str)) for v in values)
    return False


def _html_calls(tree: ast.AST):
    """Calls that render HTML: anything with unsafe_allow_html=True, st.html, components.html."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        unsafe = any(k.arg == "unsafe_allow_html" and not (
            isinstance(k.value, ast.Constant) and k.value.value is False) for k in node.keywords)
        if unsafe or ast.unparse(node.func).split(".")[-1] == "html":  # st.html, components
            yield node


def _check_episode_card() -> None:
    from metacore.data import TextSet
    from metacore.teaching import draw_episode
    from ui import teach_episode

    labels = [XSS_LABEL, "<i>y</i>", "z"] * 4
    textset = TextSet.from_lists([f"{XSS_TEXT} {i}" for i in range(12)], labels)
    episode = draw_episode(textset, n_way=3, k_shot=2, n_query=2, seed=0, index=0)
    card = teach_episode.episode_card(textset, episode)
    assert "&lt;img" in card and "&lt;b&gt;x&lt;/b&gt;" in card
    assert "<img" not in card and XSS_LABEL not in card and "<i>y" not in card


# HTML builders that interpolate user text through html.escape inside them, which the static
# rule cannot follow: each is checked by calling it with hostile text and labels.
AUDITED_BUILDERS = {"teach_episode.episode_card": _check_episode_card}


def _unsafe_parts(node: ast.AST) -> list[str]:
    """Interpolated pieces of an HTML body that are not escaped."""
    if isinstance(node, ast.Constant):
        return []
    if isinstance(node, ast.Call) and ast.unparse(node.func) in AUDITED_BUILDERS:
        return []
    if isinstance(node, ast.JoinedStr):
        return [ast.unparse(v.value) for v in node.values
                if isinstance(v, ast.FormattedValue) and not _escaped(v.value)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _unsafe_parts(node.left) + _unsafe_parts(node.right)
    return [] if _escaped(node) else [ast.unparse(node)]


def test_html_rendering_never_interpolates_unescaped_values() -> None:
    problems = []
    for path in APP:
        tree = ast.parse(path.read_text("utf-8"))
        for call in _html_calls(tree):
            body = call.args[0] if call.args else next(
                (k.value for k in call.keywords if k.arg in ("body", "html")), None)
            for part in _unsafe_parts(body) if body is not None else []:
                problems.append(f"{path.relative_to(ROOT)}:{call.lineno}: {part}")
    assert not problems, "unescaped values in HTML:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", sorted(AUDITED_BUILDERS))
def test_audited_html_builders_escape_hostile_text(name) -> None:
    AUDITED_BUILDERS[name]()


def test_the_rule_catches_user_data() -> None:
    bad = ast.parse('st.markdown(f"<b>{label}</b>", unsafe_allow_html=True)')
    good = ast.parse('st.markdown(f"<b>{escape(label)}</b>", unsafe_allow_html=True)')
    assert [p for c in _html_calls(bad) for p in _unsafe_parts(c.args[0])] == ["label"]
    assert [p for c in _html_calls(good) for p in _unsafe_parts(c.args[0])] == []


def test_hostile_text_and_label_are_never_html_in_the_app(tmp_path, monkeypatch) -> None:
    """Upload them, look at the data, train on them, open Results and History."""
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import train_form

    monkeypatch.setenv("METACORE_HOME", str(tmp_path / "home"))
    rows = [f"{XSS_TEXT} number {i},{XSS_LABEL}" for i in range(6)]
    rows += [f"plain text {i},{FORMULA}" for i in range(6)]  # a label Excel would run
    raw = ("text,label\n" + "\n".join(rows) + "\n").encode()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.radio(key="data_source").set_value("upload").run()
    at.file_uploader(key="data_upload").set_value(("xss.csv", raw, "text/csv")).run()
    _no_html(at)
    preview = at.dataframe[0].value
    assert XSS_TEXT + " number 0" in set(preview["text"]) and XSS_LABEL in set(preview["label"])
    at.session_state["train_form"] = train_form(methods=["tfidf-logreg"], shots=(4,))
    at.switch_page("app_pages/train.py").run()
    at.button(key="train_start").click().run()
    run_id = at.session_state["comparison"][0]
    from ui import state

    state.queue().wait(run_id, 120)
    for page in ("app_pages/train.py", "app_pages/results.py", "app_pages/history.py"):
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        _no_html(at)
    _exports_defuse_formulas(state.store().get(run_id))


def _no_html(at) -> None:
    for element in at.markdown:
        if getattr(element, "allow_html", False):
            assert "<img" not in element.value and XSS_LABEL not in element.value, element.value


def _exports_defuse_formulas(result) -> None:
    import csv
    import io

    from metacore.runs import export

    for build in (export.predictions_csv, export.per_class_csv):
        cells = [c for row in csv.reader(io.StringIO(build(result).decode("utf-8-sig")))
                 for c in row]
        assert "'" + FORMULA in cells and FORMULA not in cells
        assert not any(c.startswith(("=", "+", "@")) for c in cells)
    assert XSS_LABEL in export.per_class_csv(result).decode("utf-8-sig")
    assert "&lt;b&gt;x&lt;/b&gt;" in export.figures_html(result).decode("utf-8") or \
        "\\u003cb\\u003ex" in export.figures_html(result).decode("utf-8")


@pytest.mark.parametrize("value", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x"])
def test_export_escapes_every_formula_prefix(value) -> None:
    from metacore.runs.export import escape_cell

    assert escape_cell(value) == "'" + value
    assert escape_cell(3.5) == 3.5 and escape_cell("plain") == "plain"


# --- which backbones a user of the app may load --------------------------------------------------
@pytest.fixture
def allowed(tmp_path) -> Path:
    folder = tmp_path / "models"
    (folder / "good").mkdir(parents=True)
    return folder


@pytest.mark.parametrize("spec", ["minilm", "MiniLM", "tiny", "", "random-init:minilm",
                                  "sentence-transformers/all-MiniLM-L6-v2"])
def test_built_in_backbones_are_always_allowed(spec, allowed) -> None:
    assert check_backbone_spec(spec, allowed_dirs=[allowed]) == spec.strip()


def test_folders_inside_the_allowed_ones_are_allowed(allowed) -> None:
    good = str(allowed / "good")
    assert check_backbone_spec(good, allowed_dirs=[allowed]) == good
    assert check_backbone_spec(f"random-init:{good}", allowed_dirs=[allowed])


@pytest.mark.parametrize("spec", ["/etc", "/", "~", "..", "../..", "./models/../../etc",
                                  "a/b/c", "C:\\Windows", "\\\\server\\share"])
def test_folders_outside_are_refused(spec, allowed) -> None:
    with pytest.raises(BackboneError, match="not in a folder this server allows"):
        check_backbone_spec(spec, allowed_dirs=[allowed])


def test_path_traversal_and_symlinks_out_are_refused(allowed, tmp_path, monkeypatch) -> None:
    outside = tmp_path / "secret"
    outside.mkdir()
    for spec in (f"{allowed}/../secret", f"{allowed}/good/../../secret"):
        with pytest.raises(BackboneError):
            check_backbone_spec(spec, allowed_dirs=[allowed])
    (allowed / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(BackboneError):
        check_backbone_spec(str(allowed / "link"), allowed_dirs=[allowed])
    with pytest.raises(BackboneError):
        check_backbone_spec(f"random-init:{allowed / 'link'}", allowed_dirs=[allowed])
    # A relative name that exists next to the server is a folder, checked like any other.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BackboneError, match="not in a folder"):
        check_backbone_spec("secret", allowed_dirs=[allowed])


def test_the_refusal_does_not_reveal_whether_a_folder_exists(allowed) -> None:
    messages = []
    for spec in ("/etc", "/no/such/folder/at/all"):
        with pytest.raises(BackboneError) as caught:
            check_backbone_spec(spec, allowed_dirs=[allowed])
        messages.append(str(caught.value).replace(spec, "X"))
    assert messages[0] == messages[1] and messages[0].endswith(".")


def test_hub_ids_only_from_the_cache_unless_the_operator_allows(allowed, monkeypatch) -> None:
    monkeypatch.delenv("METACORE_ALLOW_DOWNLOAD", raising=False)
    with pytest.raises(BackboneError, match="not in this server's model cache"):
        check_backbone_spec("no-such-org/no-such-model", allowed_dirs=[allowed])
    with pytest.raises(BackboneError, match="METACORE_ALLOW_DOWNLOAD=1"):
        check_backbone_spec("BAAI/bge-small-zh-v1.5", allowed_dirs=[allowed],
                            allow_download=True)
    monkeypatch.setenv("METACORE_ALLOW_DOWNLOAD", "1")
    assert downloads_permitted()
    assert check_backbone_spec("BAAI/bge-small-zh-v1.5", allowed_dirs=[allowed],
                               allow_download=True)
    with pytest.raises(BackboneError, match="tick 'Allow downloading'"):
        check_backbone_spec("no-such-org/no-such-model", allowed_dirs=[allowed])
    monkeypatch.setattr("metacore.security.in_local_cache", lambda repo: True)
    monkeypatch.delenv("METACORE_ALLOW_DOWNLOAD")
    assert check_backbone_spec("BAAI/bge-small-zh-v1.5", allowed_dirs=[allowed])


@pytest.mark.parametrize("spec", ["<script>", "org/../x", "a b", "org/name?x=1", "x" * 300])
def test_malformed_ids_are_refused(spec, allowed) -> None:
    with pytest.raises(BackboneError):
        check_backbone_spec(spec, allowed_dirs=[allowed])
    assert not in_local_cache("../../etc")


def test_allowed_dirs_come_from_the_operator(tmp_path) -> None:
    env = {"METACORE_HOME": str(tmp_path / "home"),
           "METACORE_MODEL_DIRS": os.pathsep.join([str(tmp_path / "a"), "", str(tmp_path / "b")])}
    dirs = allowed_model_dirs(env)
    assert dirs[1:] == [tmp_path / "home" / "models", tmp_path / "a", tmp_path / "b"]
    assert (dirs[0] / "config.json").exists()  # the bundled MiniLM


def test_the_app_refuses_a_folder_outside_and_queues_nothing(tmp_path, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import train_form

    monkeypatch.setenv("METACORE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("METACORE_ALLOW_DOWNLOAD", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state["train_form"] = train_form(methods=["linear-probe"], backbone="/etc",
                                                allow_download=True)
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert at.text_input(key="train_backbone_id").value == "/etc"
    assert at.checkbox(key="train_download").disabled  # downloads are the operator's call
    assert any("not in a folder this server allows" in e.value for e in at.error)
    at.button(key="train_start").click().run()
    assert not at.exception
    assert any("not in a folder this server allows" in e.value for e in at.error)
    from ui import state

    assert state.queue().jobs() == []


def test_server_binds_to_localhost_and_keeps_xsrf_and_cors() -> None:
    """The app listens on this machine only by default, and Streamlit's XSRF protection and
    CORS checks are never turned off (in the config or by the start script)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; 3.10 checks the text below

    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    server = config["server"]
    assert server["address"] in {"localhost", "127.0.0.1"}
    assert server.get("enableXsrfProtection", True) is True
    assert server.get("enableCORS", True) is True
    script = (root / "scripts" / "app.sh").read_text(encoding="utf-8")
    for flag in ("enableXsrfProtection", "enableCORS", "ENABLE_XSRF", "ENABLE_CORS"):
        assert flag not in script


def test_no_pages_folder_that_streamlit_would_serve_around_app_py() -> None:
    """Streamlit serves the files of a ``pages/`` folder next to the main script directly (the
    old multipage mode) to the first visitor of a fresh server who opens a sub-page link,
    skipping app.py and its password gate; the pages live in ``app_pages/`` instead."""
    root = Path(__file__).resolve().parents[2]
    assert not (root / "pages").exists()
    assert "app_pages/data.py" in (root / "app.py").read_text(encoding="utf-8")
