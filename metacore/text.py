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


def _cell_width(ch: str) -> int:
    """Columns a character takes: 2 for wide (CJK) characters, 1 otherwise."""
    import unicodedata

    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def short_label(name: Any, width: int = 28) -> str:
    """``name`` (a class label, plain text) cut to at most ``width`` columns for a chart's
    tick, legend entry or text on the plot; the full name belongs in the hover.

    A wide (CJK) character counts as two columns. A longer name keeps its start and its end
    with "…" between (``balance_not_updated_after_cheque_or_cash_deposit`` ->
    ``balance_not_upd…cash_deposit``): labels that share a prefix (``card_payment_*``) stay
    apart by their endings. Plain text in, plain text out: escape the result with
    ``plotly_literal`` (or ``markdown_literal``) like any label.
    """
    text = _BREAKS.sub(" ", "" if name is None else str(name))
    width = max(int(width), 3)
    if sum(_cell_width(ch) for ch in text) <= width:
        return text
    budget = width - 1  # the "…"
    head_budget = (budget + 1) // 2
    head, used = [], 0
    for ch in text:
        w = _cell_width(ch)
        if used + w > head_budget:
            break
        head.append(ch)
        used += w
    tail, used_tail = [], 0
    for ch in reversed(text):
        w = _cell_width(ch)
        if used + used_tail + w > budget:
            break
        tail.append(ch)
        used_tail += w
    return "".join(head) + "…" + "".join(reversed(tail))


def short_labels(names: Any, width: int = 28) -> list[str]:
    """``short_label`` of each name, kept distinct: names whose short forms would be the same
    get a wider cut, and the full name when no cut up to its length tells them apart."""
    names = ["" if n is None else str(n) for n in names]
    out = [short_label(n, width) for n in names]
    for _ in range(64):
        seen: dict[str, list[int]] = {}
        for i, s in enumerate(out):
            seen.setdefault(s, []).append(i)
        clashes = [idx for idx in seen.values() if len(idx) > 1
                   and len({names[i] for i in idx}) > 1]
        if not clashes:
            break
        for idx in clashes:
            for i in idx:
                longer = short_label(names[i], len(out[i]) + 4 + out[i].count("…"))
                out[i] = longer if longer != out[i] else names[i]
    return out
