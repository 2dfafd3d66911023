"""Configuration dataclasses with help text, shared by the CLI, the app's forms and results.

Borrowed from peft's ``field(metadata={"help": ...})`` style: every setting carries its own help,
so the UI can draw a form from the metadata and the CLI can list it. Configs hold JSON-friendly
values only (names, numbers, strings), round-trip through ``to_dict``/``from_dict``, and check
themselves in ``__post_init__``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from metacore.messages import MessageError

T = TypeVar("T", bound="MethodConfig")

SCHEMA_VERSION = 1


class SettingError(MessageError):
    """A method setting that does not fit (a ``ValueError`` with one sentence)."""


def setting(
    default: Any,
    help: str,
    *,
    advanced: bool = False,
    choices: tuple[Any, ...] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    label: str | None = None,
) -> Any:
    """Declare a config field with its help text and UI hints.

    Args:
        default: The default value (must be JSON-friendly).
        help: One sentence that explains the setting to a non-expert (English; other
            languages translate it by the field's ``key`` in ``metacore/locale``).
        label: Its name on a form (default: the field name with spaces).
        advanced: Hidden behind the "advanced" view in the app.
        choices: Allowed values, for a select box.
        minimum: Smallest allowed value for numbers.
        maximum: Largest allowed value for numbers.
    """
    meta = {"help": help, "advanced": advanced, "choices": choices, "min": minimum,
            "max": maximum, "label": label}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class FieldInfo:
    """What a form needs to draw one setting.

    ``key`` names its translations: ``<key>.label`` and ``<key>.help`` in the message
    catalogs (``metacore/locale/<lang>*.toml``), ``setting.<scope>.<name>`` where the scope is
    the config class that declares the field, so a setting that several methods inherit is
    translated once.
    """

    name: str
    type: str
    default: Any
    help: str
    advanced: bool
    choices: tuple[Any, ...] | None
    minimum: float | None
    maximum: float | None
    label: str = ""
    key: str = ""


@dataclass
class MethodConfig:
    """Base class of every method's settings."""

    schema_version: ClassVar[int] = SCHEMA_VERSION
    # The translation scope of the fields this class declares (``FieldInfo.key``); a class
    # that does not set one is named after itself (``ProtoNetConfig`` -> ``protonet``).
    scope: ClassVar[str] = ""

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise ``ValueError`` with one clear sentence when a value is out of range."""
        for info in self.fields():
            value = getattr(self, info.name)
            if info.choices is not None and value not in info.choices:
                raise SettingError("setting.not_one_of", name=info.name,
                                   choices=list(info.choices), value=value)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if value != value:  # nan
                raise SettingError("setting.not_a_number", name=info.name)
            if info.minimum is not None and value < info.minimum:
                raise SettingError("setting.at_least", name=info.name, low=info.minimum,
                                   value=value)
            if info.maximum is not None and value > info.maximum:
                raise SettingError("setting.at_most", name=info.name, high=info.maximum,
                                   value=value)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls: type[T], values: dict[str, Any] | None) -> T:
        """Build a config, coercing numbers from strings and naming unknown keys."""
        values = dict(values or {})
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise SettingError("setting.unknown", names=unknown, valid=sorted(known))
        coerced = {k: _coerce(v, known[k]) for k, v in values.items()}
        return cls(**coerced)

    @classmethod
    def fields(cls) -> list[FieldInfo]:
        """The settings with their help text, in declaration order."""
        out = []
        for f in dataclasses.fields(cls):
            meta = f.metadata
            out.append(
                FieldInfo(
                    name=f.name,
                    type=_type_name(f),
                    default=f.default,
                    help=meta.get("help", ""),
                    advanced=bool(meta.get("advanced", False)),
                    choices=meta.get("choices"),
                    minimum=meta.get("min"),
                    maximum=meta.get("max"),
                    label=meta.get("label") or f.name.replace("_", " "),
                    key=f"setting.{_scope(cls, f.name)}.{f.name}",
                )
            )
        return out


def _scope(cls: type, name: str) -> str:
    """The scope of the class in ``cls``'s MRO that declares (or last redeclares) ``name``."""
    for klass in cls.__mro__:
        if name in vars(klass).get("__annotations__", {}):
            own = vars(klass).get("scope")
            return own or klass.__name__.removesuffix("Config").lower()
    return cls.__name__.lower()


def _type_name(f: dataclasses.Field) -> str:
    t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    return t.replace(" ", "")


def _coerce(value: Any, f: dataclasses.Field) -> Any:
    """Turn CLI strings into the field's type (bool, int, float), leave others alone."""
    kind = _type_name(f)
    if not isinstance(value, str):
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value
    try:
        if kind == "bool":
            if value.lower() in {"1", "true", "yes", "on"}:
                return True
            if value.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except ValueError:
        raise SettingError("setting.type", name=f.name, kind=kind, value=value) from None
    return value
