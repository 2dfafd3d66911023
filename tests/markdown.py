"""What a reader sees of an element's Markdown in an AppTest: user text in it is escaped
(``metacore.text.markdown_literal``), so this drops its backslashes and word joiners."""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    return _ESCAPE.sub(r"\1", markdown).replace("\u2060", "")
