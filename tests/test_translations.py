"""Every word the engine can show has a translation in every language it ships.

The English lives in one place per kind: message templates in ``metacore/locale/en*.toml``,
a method's description and its settings' labels and help in the method's own file. Other
languages translate by code (``metacore/locale/<lang>*.toml``). These tests list every key a
language lacks, so adding a method or a message without its translation fails by name.
"""

from __future__ import annotations

import string

import pytest

from metacore.messages import catalog, languages
from metacore.methods import registry

OTHER = [lang for lang in languages() if lang != "en"]


def method_keys() -> list[str]:
    """The translation keys of every registered method: description, settings, family."""
    keys = []
    for spec in registry.available():
        keys.append(f"method.{spec.name}.description")
        keys.append(f"term.family.{spec.family}")
        for info in spec.config_cls.fields():
            keys += [f"{info.key}.label", f"{info.key}.help"]
    return sorted(set(keys))


def fields_of(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in
            string.Formatter().parse(template) if name}


def test_there_is_another_language() -> None:
    assert "zh" in OTHER


@pytest.mark.parametrize("lang", OTHER)
def test_every_engine_message_is_translated(lang: str) -> None:
    missing = sorted(set(catalog("en")) - set(catalog(lang)))
    assert missing == [], f"{lang} lacks: {missing}"


@pytest.mark.parametrize("lang", OTHER)
def test_every_method_and_setting_is_translated(lang: str) -> None:
    missing = [key for key in method_keys() if key not in catalog(lang)]
    assert missing == [], f"{lang} lacks: {missing}"


@pytest.mark.parametrize("lang", OTHER)
def test_translations_use_the_same_parameters(lang: str) -> None:
    """A translation may leave a parameter out, never name one the message does not have."""
    english, other = catalog("en"), catalog(lang)
    wrong = {code: sorted(fields_of(other[code]) - fields_of(text))
             for code, text in english.items()
             if code in other and fields_of(other[code]) - fields_of(text)}
    assert wrong == {}


def test_no_translation_is_left_over() -> None:
    """Keys a language has that the English no longer has (a renamed code, a removed
    method) are stale: they would never be shown."""
    known = set(catalog("en")) | set(method_keys())
    for lang in OTHER:
        stale = sorted(set(catalog(lang)) - known)
        assert stale == [], f"{lang} has stale keys: {stale}"


def test_a_missing_key_is_named(monkeypatch) -> None:
    """The check above really finds a method without its translations."""
    from dataclasses import dataclass

    from metacore.config import MethodConfig, setting
    from metacore.methods.base import Method

    @dataclass
    class UntranslatedConfig(MethodConfig):
        depth: int = setting(2, "How deep.", minimum=1)

    registry.register("untranslated", config=UntranslatedConfig, description="No words.",
                      family="classical", uses_backbone=False)(type("U", (Method,), {}))
    try:
        missing = [k for k in method_keys() if k not in catalog("zh")]
        assert missing == ["method.untranslated.description",
                           "setting.untranslated.depth.help",
                           "setting.untranslated.depth.label"]
    finally:
        registry.unregister("untranslated")
