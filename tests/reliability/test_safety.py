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
# Markdown a file may hold: a live link and an image every viewer's browser would fetch.
MD_LINK = "[Reset your password](https://example.com)"
MD_IMAGE = "![x](http://127.0.0.1:9/t.png)"
HOSTILE_HOSTS = ("example.com", "127.0.0.1")


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
        if name in ("escape", "html.escape", "markdown_literal", "html_literal"):
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
def _check_cookie_script() -> None:
    from ui.state import cookie_script

    assert "metacore_owner=" + "ab" * 16 + ";" in cookie_script("ab" * 16)
    for hostile in ("x'; alert(1); '", "ab" * 16 + "</script><script>alert(1)", "", "AB" * 16):
        with pytest.raises(ValueError):
            cookie_script(hostile)


AUDITED_BUILDERS = {"teach_episode.episode_card": _check_episode_card,
                    "cookie_script": _check_cookie_script}


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
    """Upload them (in a file whose name and column names are Markdown too), look at the data,
    train on them, open every page that shows them: no HTML, no live Markdown link or image,
    and the escaped form is what the page writes."""
    from streamlit.testing.v1 import AppTest

    from metacore.text import markdown_literal
    from tests.app.conftest import train_form

    monkeypatch.setenv("METACORE_HOME", str(tmp_path / "home"))
    rows = [f"{XSS_TEXT} number {i},{XSS_LABEL}" for i in range(6)]
    rows += [f"plain text {i},{FORMULA}" for i in range(6)]  # a label Excel would run
    rows += [f'"{MD_LINK} please {i}","{MD_LINK}"' for i in range(6)]
    rows += [f'"look {i} {MD_IMAGE}","{MD_IMAGE}"' for i in range(6)]
    header = f'"{MD_LINK} text","{MD_IMAGE} label"'  # guessed by their contents
    raw = (header + "\n" + "\n".join(rows) + "\n").encode()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.radio(key="data_source").set_value("upload").run()
    at.file_uploader(key="data_upload").set_value((f"{MD_LINK}.csv", raw, "text/csv")).run()
    _no_html(at)
    # the finding that names the guessed columns quotes them escaped
    assert any(markdown_literal(f"{MD_LINK} text") in w.value for w in at.warning)
    preview = at.dataframe[0].value
    assert XSS_TEXT + " number 0" in set(preview["text"]) and XSS_LABEL in set(preview["label"])
    assert MD_LINK in set(preview["label"])  # a table cell is plain text: shown as it is
    at.session_state["train_form"] = train_form(methods=["tfidf-logreg"], shots=(4,))
    at.switch_page("app_pages/train.py").run()
    assert any(markdown_literal(f"{MD_LINK}.csv") in m.value for m in at.markdown)
    at.button(key="train_start").click().run()
    run_id = at.session_state["comparison"][0]
    from ui import state

    state.queue().wait(run_id, 120)
    # the teaching pages that embed the texts (learn, inspector, inner loop) are visited by the
    # browser test (tests/browser/test_sessions.py), to keep this one fast
    for page in ("train", "results", "playground", "history", "sweep", "add_class"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
        _no_html(at)
        _no_live_markdown(at, page)
    at.switch_page("app_pages/playground.py").run()
    at.text_area(key="play_text").set_value(f"{MD_LINK} please 1").run()
    at.button(key="play_predict").click().run()
    assert at.metric[0].value == markdown_literal(MD_LINK)  # a metric's value is Markdown
    _no_live_markdown(at, "playground")
    _exports_defuse_formulas(state.store().get(run_id))


def _no_html(at) -> None:
    for element in at.markdown:
        if getattr(element, "allow_html", False):
            assert "<img" not in element.value and XSS_LABEL not in element.value, element.value


def _markdown_bodies(at):
    """Every string on the page that Streamlit renders as Markdown: texts, alerts, toasts,
    headings, metrics, and the labels and help of every widget and container."""
    from streamlit.testing.v1 import element_tree as et

    for node in at._tree:
        if isinstance(node, (et.Markdown, et.AlertBase, et.Toast, et.HeadingBase, et.Metric)):
            yield str(node.value)
        for attr in ("label", "help", "placeholder"):
            value = getattr(node, attr, None)
            if isinstance(value, str):
                yield value
        if isinstance(node, (et.Radio, et.ButtonGroup)):
            yield from (str(o) for o in node.options)


def _live_markdown(body: str) -> list[str]:
    """Links, images and HTML a CommonMark reader finds in ``body`` that point at the hostile
    hosts, and any hostile host written unescaped (which GitHub-flavoured Markdown would
    turn into a link by itself)."""
    from markdown_it import MarkdownIt

    found = [h for h in HOSTILE_HOSTS if h in body]
    tokens = MarkdownIt("commonmark").parse(body)
    for token in [*tokens, *(c for t in tokens for c in (t.children or []))]:
        target = f"{token.attrGet('href') or ''} {token.attrGet('src') or ''}"
        if token.type in ("link_open", "image") and any(h in target for h in HOSTILE_HOSTS):
            found.append(f"{token.type} {target}")
        if token.type in ("html_inline", "html_block") and "<img" in token.content:
            found.append(token.content)
    return found


def _no_live_markdown(at, page: str) -> None:
    bodies = list(_markdown_bodies(at))
    assert bodies, page
    live = [(b, found) for b in bodies if (found := _live_markdown(b))]
    assert not live, (page, live)


def test_the_markdown_rule_catches_a_live_link() -> None:
    from metacore.text import markdown_literal

    assert _live_markdown(f"Data: **{MD_LINK}**") and _live_markdown(MD_IMAGE)
    assert _live_markdown("see https://example.com/x")
    assert not _live_markdown(f"Data: **{markdown_literal(MD_LINK)}**")
    assert not _live_markdown(markdown_literal(MD_IMAGE))


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
    page = export.figures_html(result).decode("utf-8")  # Plotly's JSON writes "/" as \u002f
    assert "&lt;b&gt;x&lt;/b&gt;" in page.replace("\\u002f", "/")
    assert "\\u003cb\\u003ex" not in page and "<b>x" not in page  # drawn as text, not bold


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
