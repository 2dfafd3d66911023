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

T = TypeVar("T", bound="MethodConfig")

SCHEMA_VERSION = 1


def setting(
    default: Any,
    help: str,
    *,
    advanced: bool = False,
    choices: tuple[Any, ...] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Any:
    """Declare a config field with its help text and UI hints.

    Args:
        default: The default value (must be JSON-friendly).
        help: One sentence that explains the setting to a non-expert.
        advanced: Hidden behind the "advanced" view in the app.
        choices: Allowed values, for a select box.
        minimum: Smallest allowed value for numbers.
        maximum: Largest allowed value for numbers.
    """
    meta = {"help": help, "advanced": advanced, "choices": choices, "min": minimum, "max": maximum}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class FieldInfo:
    """What a form needs to draw one setting."""

    name: str
    type: str
    default: Any
    help: str
    advanced: bool
    choices: tuple[Any, ...] | None
    minimum: float | None
    maximum: float | None


@dataclass
class MethodConfig:
    """Base class of every method's settings."""

    schema_version: ClassVar[int] = SCHEMA_VERSION

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise ``ValueError`` with one clear sentence when a value is out of range."""
        for info in self.fields():
            value = getattr(self, info.name)
            if info.choices is not None and value not in info.choices:
                raise ValueError(
                    f"{info.name} must be one of {', '.join(map(str, info.choices))}, "
                    f"not {value!r}."
                )
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if info.minimum is not None and value < info.minimum:
                raise ValueError(f"{info.name} must be at least {info.minimum}, not {value}.")
            if info.maximum is not None and value > info.maximum:
                raise ValueError(f"{info.name} must be at most {info.maximum}, not {value}.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls: type[T], values: dict[str, Any] | None) -> T:
        """Build a config, coercing numbers from strings and naming unknown keys."""
        values = dict(values or {})
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(
                f"Unknown setting(s) {', '.join(unknown)}; valid settings are "
                f"{', '.join(sorted(known))}."
            )
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
                )
            )
        return out


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
        raise ValueError(f"{f.name} must be a {kind}, not {value!r}.") from None
    return value
