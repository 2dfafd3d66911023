"""No interface string is written in the code: every label, help text and message of a
Streamlit call in app.py, app_pages/ and ui/ comes from the translation files (``t(...)``).

Scans the source for Streamlit calls whose label, body or help is a literal with words in it.
Exempt: page paths given to ``page_link`` / ``switch_page``, markup templates whose words all
come from placeholders, and the product's name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CALLS = {"title", "header", "subheader", "markdown", "caption", "write", "info", "warning",
         "error", "success", "button", "checkbox", "toggle", "radio", "selectbox",
         "multiselect", "slider", "select_slider", "text_input", "text_area", "number_input",
         "file_uploader", "expander", "tabs", "metric", "download_button", "toast", "spinner",
         "status", "popover", "segmented_control", "pills", "text", "link_button",
         "form_submit_button", "dialog", "date_input", "color_picker", "data_editor"}
KEYWORDS = {"label", "help", "body", "placeholder", "caption"}
ALLOWED = {"### :material/science: metacore"}  # the product's name


def literal_words(node: ast.AST) -> str:
    """The literal text of a string or f-string argument, placeholders left out."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    else:
        return ""
    if text in ALLOWED or text.startswith(":material/"):
        return ""
    text = re.sub(r"<[^>]*>|&nbsp;|:[\w-]+\[|:material/\w+:", " ", text)  # markup, not words
    return text if re.search(r"[A-Za-z]{3,}|[\u4e00-\u9fff]", text) else ""


def test_every_interface_string_comes_from_the_translation_files() -> None:
    files = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")),
             *sorted((ROOT / "ui").glob("*.py"))]
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in CALLS:
                continue
            args = [*node.args[:1], *(k.value for k in node.keywords if k.arg in KEYWORDS)]
            for arg in args:
                words = literal_words(arg)
                if words and not (node.func.attr == "header" and re.fullmatch(r"\w+", words)):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {words[:50]!r}")
    assert not found, found


def test_the_scan_catches_a_hard_coded_label() -> None:
    call = ast.parse('st.button("Start the run", key="x")').body[0].value
    assert literal_words(call.args[0]) == "Start the run"
    assert literal_words(ast.parse('st.caption(t("a.b"))').body[0].value.args[0]) == ""
    assert literal_words(ast.parse('st.markdown(f"**{a}** · {b}")').body[0].value.args[0]) == ""
