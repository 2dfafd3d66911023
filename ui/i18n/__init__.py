"""Interface strings in one place: ``t("learn.title")`` in the learner's language.

Strings live in ``en.toml`` and ``zh.toml`` beside this file, plus one file per area of the
interface (``en.data.toml``, ``zh.data.toml`` …), merged; dotted keys are TOML tables and a key
defined twice is an error.
The language is ``st.session_state["lang"]``, else the ``lang`` query parameter, else English;
a key missing in Chinese falls back to English, and a key missing everywhere shows as itself
so a typo is visible rather than fatal. ``{name}`` placeholders are filled from ``kwargs``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT = "en"


@functools.lru_cache(maxsize=len(LANGUAGES))
def strings(lang: str) -> dict[str, str]:
    """Every string of ``lang`` by dotted key (read once per process)."""
    from metacore.messages import read_catalog

    return read_catalog(HERE, lang)


def language() -> str:
    """The chosen language code: session state, then the ``lang`` query parameter."""
    try:
        import streamlit as st
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        if get_script_run_ctx(suppress_warning=True) is None:  # not in a Streamlit run
            return DEFAULT
        lang = st.session_state.get("lang") or st.query_params.get("lang", DEFAULT)
    except Exception:  # noqa: BLE001 - an odd runtime must never break a label
        lang = DEFAULT
    return lang if lang in LANGUAGES else DEFAULT


def t(key: str, lang: str | None = None, **kwargs: Any) -> str:
    """The string for ``key`` in the current language, with ``{placeholders}`` filled."""
    text = strings(lang or language()).get(key) or strings(DEFAULT).get(key) or key
    if not kwargs:
        return text
    try:
        return text.format(**kwargs)
    except (KeyError, IndexError, ValueError):  # a translation with a wrong placeholder
        return strings(DEFAULT).get(key, key).format(**kwargs)


def set_language(lang: str) -> None:
    """Remember ``lang`` for this session and in the URL (so a shared link keeps it)."""
    import streamlit as st

    lang = lang if lang in LANGUAGES else DEFAULT
    st.session_state["lang"] = lang
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang


def say(message: Any, lang: str | None = None, *, markdown: bool = True) -> str:
    """A coded engine message (``metacore.messages.Message``, or an exception carrying one)
    in the interface language. The interface's own wording of a code (a ``msg.<code>`` key in
    these files, e.g. a form's label where the engine names a command-line flag) wins over the
    engine's catalog. A data finding (``metacore.data.Finding``) says its sentence. Anything
    else is shown as its text.

    For Markdown by default (``st.error``, ``st.warning``, captions, labels all render it): the
    values a message quotes (a label, a column or file name, a model id) and any other text
    are escaped with ``metacore.text.markdown_literal``, so they show literally; the template's
    own words are kept. ``markdown=False`` gives the plain sentence (a table cell, a figure,
    a text that is said again later)."""
    from metacore.messages import Message, MessageError, render
    from metacore.text import markdown_literal

    escape = markdown_literal if markdown else None
    if isinstance(message, MessageError):
        message = message.message
    elif callable(getattr(message, "as_message", None)):  # a finding: its coded sentence
        message = message.as_message()
    if not isinstance(message, Message):
        return markdown_literal(message) if markdown else str(message)
    lang = lang or language()
    return render(message, lang, _overrides(lang), escape=escape)


@functools.lru_cache(maxsize=len(LANGUAGES))
def _overrides(lang: str) -> dict[str, str]:
    """``msg.<code>`` keys of ``lang`` (English ones for other languages are not used)."""
    prefix = "msg."
    return {k[len(prefix):]: v for k, v in strings(lang).items() if k.startswith(prefix)}


def lkey(key: str) -> str:
    """A widget key that changes with the language, for widgets whose options are shown in
    it (select boxes, multiselects, radios, segmented controls with a translated
    ``format_func``): the browser keeps a choice by its label, so after a switch of language
    a widget under the old key would hand back the old label as if it were a value. The
    page's own state holds the choice and gives it to the new widget as its default."""
    lang = language()
    return key if lang == DEFAULT else f"{key}__{lang}"
