"""Coded messages: what the engine tells a person, as a code and parameters, never as a sentence.

A ``Message`` is a code (``finding.single_class``, ``phase.meta_training``) and plain
parameters. Its words live in one catalog per language, ``metacore/locale/<lang>.toml`` (English
is ``en.toml``, the one place where the engine's sentences are written); an interface renders
a message in its own language by code, so nothing is ever parsed back out of English.

Templates are ``str.format`` strings with extra format specs:

* ``{n:count:row has|rows have}`` -> ``1 row has`` / ``3,000 rows have``;
* ``{n:plural:class|classes}`` -> the word alone;
* ``{items:list}`` (``{items:list:10}``) -> ``'a', 'b' and 3 more`` in English, ``'a'、'b' 等另外
  3 个`` in Chinese: a list parameter, quoted, at most 5 (or 10) items;
* ``{items:join}`` -> ``a, b, c``: every item, unquoted;
* ``{columns:names}`` -> ``'a', 'b'``: every item, in plain quotes, commas only;
* ``{classes:tally}`` -> ``'a' (4), 'b' (3) and 2 more``: ``[name, count]`` pairs, at most 5;
* ``{groups:groups}`` -> ``'A' and 'a'; 'B' and 'b'``: a list of lists of names;
* ``{part:capitalize}`` -> the value (a term, say) with its first letter capitalised.

A list parameter may be given whole or as ``listing(items)``: its first few items and how many
there are in all, so that a finding about 200,000 distinct values does not carry them all.
Items of a list may be messages too (``term.empty``), and a message in place of a list
(``term.none``) is rendered as it is.

A parameter may itself be a ``Message`` (a term such as ``term.part.novel``), rendered in the
same language. A template that cannot be filled falls back to English, then to the code and its
parameters, so a message is never lost.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

LOCALE = Path(__file__).resolve().parent / "locale"
ENGLISH = "en"


@dataclass(frozen=True)
class Message:
    """A code and its parameters; ``str()`` is the English sentence."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str = ENGLISH, catalog: Mapping[str, str] | None = None) -> str:
        return render(self, lang, catalog)

    def __str__(self) -> str:
        return render(self)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": _plain(self.params)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Message:
        return cls(str(values["code"]), _revive(dict(values.get("params") or {})))


def msg(code: str, **params: Any) -> Message:
    """``Message(code, params)`` written as a call: ``msg("finding.single_class", label=x)``."""
    return Message(code, params)


class MessageError(ValueError):
    """A ``ValueError`` that carries a ``Message``: one clear sentence about the user's input.

    ``str(error)`` is the English sentence; interfaces render ``error.message`` in their own
    language. Construct with a message, or with a code and parameters.
    """

    def __init__(self, message: Message | str, **params: Any) -> None:
        self.message = message if isinstance(message, Message) else Message(message, params)
        super().__init__(render(self.message))


def message_of(error: BaseException) -> Message:
    """The coded message of an exception: its own, else its text as ``error.plain``."""
    if isinstance(error, MessageError):
        return error.message
    return Message("error.plain", {"text": str(error).strip() or type(error).__name__})


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = str(value)
    return out


def read_catalog(folder: Path, lang: str) -> dict[str, str]:
    """Every string of ``lang`` in ``folder`` by dotted key: ``<lang>.toml`` and the area files
    ``<lang>.<area>.toml``, merged (TOML tables become dotted keys); a key defined twice is an
    error. The engine's catalog and the interface's strings (``ui.i18n``) are read alike."""
    out: dict[str, str] = {}
    for path in [folder / f"{lang}.toml", *sorted(folder.glob(f"{lang}.*.toml"))]:
        if not path.exists():
            continue
        table = _flatten(tomllib.loads(path.read_text(encoding="utf-8")))
        clash = sorted(set(table) & set(out))
        if clash:
            raise ValueError(f"{path.name} redefines {clash[:5]}")
        out.update(table)
    return out


@functools.lru_cache(maxsize=8)
def catalog(lang: str = ENGLISH) -> dict[str, str]:
    """Every template of ``lang`` by code (``locale/<lang>.toml`` and ``<lang>.*.toml``)."""
    return read_catalog(LOCALE, lang)


def languages() -> list[str]:
    """Languages that have a catalog, English first."""
    found = {p.name.split(".")[0] for p in LOCALE.glob("*.toml")}
    return [ENGLISH, *sorted(found - {ENGLISH})]


def render(message: Message, lang: str = ENGLISH,
           catalog_: Mapping[str, str] | None = None, *,
           escape: Callable[[str], str] | None = None) -> str:
    """The sentence of ``message`` in ``lang``; ``catalog_`` (an interface's own wording of
    some codes) is looked up first. Falls back to English, then to the code.

    ``escape`` (``metacore.text.markdown_literal``, say) is applied to every value filled into
    the template, never to the template's own words or markup: the sentence of a message that
    quotes a user's label, for an interface that renders Markdown."""
    tables = [t for t in (catalog_, catalog(lang) if lang != ENGLISH else None, catalog())
              if t is not None]
    for table in tables:
        template = table.get(message.code)
        if template is None:
            continue
        try:
            return _Formatter(lang, catalog_, escape).format(template, **dict(message.params))
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            lang = ENGLISH  # a translation that cannot be filled: English, then the code
    fallback = message.code + (f" {dict(message.params)}" if message.params else "")
    return escape(fallback) if escape else fallback


class _Formatter(string.Formatter):
    """``str.format`` with ``count``, ``plural`` and ``list`` specs and nested messages."""

    def __init__(self, lang: str, overrides: Mapping[str, str] | None,
                 escape: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self.lang = lang
        self.overrides = overrides
        self.escape = escape

    def format_field(self, value: Any, format_spec: str) -> str:
        kind, _, rest = format_spec.partition(":")
        if kind == "capitalize":
            return self.format_field(value, rest).capitalize()
        if isinstance(value, Message):  # a term, also one in place of a list ("none"): its
            # template's own words stay, its values are escaped
            return render(value, self.lang, self.overrides, escape=self.escape)
        text = self._field(value, format_spec)
        return self.escape(text) if self.escape else text

    def _field(self, value: Any, format_spec: str) -> str:
        kind, _, rest = format_spec.partition(":")
        if kind in ("count", "plural"):
            one, _, many = rest.partition("|")
            word = one if value == 1 else (many or one)
            return f"{value:,} {word}" if kind == "count" else word
        if kind == "list":
            items, total = _items(value)
            return quote_list([self._text(i) for i in items], int(rest or 5), lang=self.lang,
                              total=total)
        if kind == "join":
            return ("、" if self.lang == "zh" else ", ").join(map(str, value))
        if kind in ("names", "tally", "groups"):
            return self._joined(kind, *_items(value), int(rest or 5))
        return super().format_field(value, format_spec)

    def _text(self, item: Any) -> str:
        return render(item, self.lang, self.overrides) if isinstance(item, Message) else str(item)

    def _joined(self, kind: str, items: list, total: int, limit: int) -> str:
        """The ``names``, ``tally`` and ``groups`` specs (see the module docstring)."""
        words = _JOINS.get(self.lang, _JOINS[ENGLISH])
        if kind == "names":
            return words["comma"].join(f"'{self._text(i)}'" for i in items)
        if kind == "groups":
            return words["semicolon"].join(
                words["and"].join(repr(self._text(x)) for x in group) for group in items)
        shown = [f"{self._text(name)!r} ({count})" for name, count in items[:limit]]
        more = total - len(shown)
        return words["comma"].join(shown) + (words["more"].format(more) if more > 0 else "")

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if isinstance(value, Message) and conversion is None:
            return value  # rendered in format_field, in this formatter's language
        return super().convert_field(value, conversion)


# How the names, tally and groups specs join items, by language.
_JOINS = {
    ENGLISH: {"comma": ", ", "and": " and ", "semicolon": "; ", "more": " and {} more"},
    "zh": {"comma": "、", "and": "、", "semicolon": "；", "more": " 等另外 {} 个"},
}


def listing(items: Sequence[Any], limit: int = 5) -> dict[str, Any]:
    """A list parameter that keeps its first ``limit`` items and the total: for lists that can
    be long (every label of a file). The list specs read it like the whole list."""
    items = list(items)
    return {"items": items[:limit], "total": len(items)}


def _items(value: Any) -> tuple[list, int]:
    """(items, how many in all) of a list parameter, whole or a ``listing``."""
    if isinstance(value, Mapping):
        items = list(value.get("items", ()))
        return items, int(value.get("total", len(items)))
    items = list(value)
    return items, len(items)


def quote_list(items: Sequence[Any], limit: int = 5, *, lang: str = ENGLISH,
               total: int | None = None) -> str:
    """Quote and join up to ``limit`` items: ``'a', 'b' and 3 more`` (English); ``total`` is
    how many there are when ``items`` holds only the first few."""
    shown = [repr(str(i)) for i in items[:limit]]
    more = (len(items) if total is None else total) - len(shown)
    if lang == "zh":
        text = "、".join(shown)
        return f"{text} 等另外 {more:,} 个" if more > 0 else text
    if more > 0:
        return ", ".join(shown) + f" and {more:,} more"
    return " and ".join([", ".join(shown[:-1]), shown[-1]]) if len(shown) > 1 else "".join(shown)


def _plain(value: Any) -> Any:
    """JSON-friendly parameters: nested messages as ``{"code", "params"}`` dicts."""
    if isinstance(value, Message):
        return {"$message": value.to_dict()}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _revive(value: Any) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"$message"}:
            return Message.from_dict(value["$message"])
        return {k: _revive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revive(v) for v in value]
    return value
