"""User text shown as text: the one place that says how to make a string inert.

Everything that comes from a file or a person (texts, labels, column names, file names, model
ids and folders, run names, error messages that quote them) is data. Three renderers would
otherwise read it as markup:

* **Markdown** (Streamlit's ``st.markdown``, ``st.write`` of a string, ``st.error``/``warning``/
  ``info``/``success``/``caption``/``toast``, expander, tab and metric labels, widget labels
  and help): ``[Reset your password](https://example.com)`` would be a live link and
  ``![x](http://127.0.0.1:9/t.png)`` an image every viewer's browser fetches.
  ``markdown_literal`` backslash-escapes every ASCII punctuation character (CommonMark shows
  an escaped punctuation character as itself, so the text looks the same), which also stops
  Streamlit's own directives (``:red[...]``, ``:material/icon:``, ``$math$``), headings,
  lists, quotes, tables and HTML. GitHub-flavoured autolinks (``https://...``, ``www.``, an
  e-mail address) are found in the text *after* the escapes are read, so an invisible word
  joiner (U+2060) goes between ``:`` and ``//``, after ``www`` and before ``@``: the text
  reads the same, and is no link.
* **HTML** written into ``st.markdown(..., unsafe_allow_html=True)`` (the episode cards):
  ``html_literal`` writes every character HTML or Markdown would act on as a character
  reference (``&lt;``, ``&#91;`` ...), which both show as the character, and line breaks as
  spaces (a blank line would end the HTML block and start Markdown again).
* **Plotly's HTML subset** (titles, tick labels, legend names, hover text, annotations, text
  on the plot): ``<a href=...>``, ``<b>``, ``<br>``, ``<img>`` would be links and formatting.
  ``plotly_literal`` writes ``&``, ``<`` and ``>`` as HTML entities, which Plotly shows as the
  characters themselves, in the app and in an exported HTML figure.

Only the interpolated user text is escaped, never a template's own markup.
"""

from __future__ import annotations

import re
import string
from typing import Any

_MARKDOWN_ACTIVE = frozenset(string.punctuation)  # every ASCII punctuation character
# Line breaks would end a paragraph, a list item or a table cell early; a user's text is one
# line wherever a sentence quotes it.
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
# Where a GitHub-flavoured autolink would start: "scheme:" before "//", "www" before ".",
# and "@" (an e-mail address); a word joiner there keeps the text as it reads.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
JOINER = "\u2060"


def markdown_literal(value: Any) -> str:
    """``value`` as text that Markdown (and Streamlit's Markdown) shows literally.

    Every ASCII punctuation character gets a backslash (``\\[``, ``\\(``, ``\\!``, ``\\*``,
    ``\\:`` ...), line breaks become spaces, and a word joiner breaks each would-be autolink.
    The rendered text reads as the original; none of it can become a link, an image, emphasis,
    a heading or a directive.
    """
    text = _BREAKS.sub(" ", "" if value is None else str(value))
    text = _AUTOLINK.sub(JOINER, text)
    return "".join("\\" + ch if ch in _MARKDOWN_ACTIVE else ch for ch in text)


# Characters HTML or Markdown act on; "/", ",", ";", "?" and "%" are inert in both and stay.
_HTML_ACTIVE = frozenset(_MARKDOWN_ACTIVE - set("/,;?%"))


def html_literal(value: Any) -> str:
    """``value`` as text inside HTML that Streamlit also reads as Markdown: ``&``, ``<``,
    ``>`` and quotes as named references (like ``html.escape``), every other Markdown-active
    character as a numeric one (``[`` -> ``&#91;``), line breaks as spaces."""
    text = _AUTOLINK.sub(JOINER, _BREAKS.sub(" ", "" if value is None else str(value)))
    named = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
    return "".join(named.get(ch) or (f"&#{ord(ch)};" if ch in _HTML_ACTIVE else ch)
                   for ch in text)


def plotly_literal(value: Any) -> str:
    """``value`` as text that Plotly's HTML subset shows literally: ``&``, ``<`` and ``>`` as
    ``&amp;``, ``&lt;`` and ``&gt;`` (Plotly turns the entities back into the characters)."""
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plotly_literals(values: Any) -> list[str]:
    """``plotly_literal`` of each item (class names, texts)."""
    return [plotly_literal(v) for v in values]
