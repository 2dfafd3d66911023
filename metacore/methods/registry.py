"""The method registry: one line at the end of each method file makes it available everywhere.

The CLI, the app's forms and the contract tests all read this registry (peft's
``register_peft_method`` idea), so adding a method touches one file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metacore.config import MethodConfig
    from metacore.methods.base import Method

FAMILIES = ("classical", "fine-tuning", "meta-learning")


@dataclass(frozen=True)
class MethodSpec:
    name: str
    method_cls: type[Method]
    config_cls: type[MethodConfig]
    description: str
    family: str
    uses_backbone: bool
    episodic: bool  # meta-trains on episodes
    colour: str  # its line and bar colour in every figure (#rrggbb)
    requires: str = ""  # an optional package it needs (an extra of pyproject.toml)

    @property
    def installed(self) -> bool:
        """Whether what it needs is installed (methods without an optional package: always)."""
        if not self.requires:
            return True
        import importlib.util

        return importlib.util.find_spec(self.requires) is not None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "family": self.family,
                "uses_backbone": self.uses_backbone, "episodic": self.episodic,
                "colour": self.colour, "requires": self.requires,
                "installed": self.installed}


_REGISTRY: dict[str, MethodSpec] = {}


def register(
    name: str,
    *,
    config: type[MethodConfig],
    description: str,
    family: str,
    uses_backbone: bool = True,
    episodic: bool = False,
    colour: str | None = None,
    requires: str = "",
):
    """Class decorator that registers a method under a lowercase name.

    Args:
        name: The registry key (lowercase, as the CLI and links write it).
        config: Its settings (``metacore.config.MethodConfig``): labels, help, limits.
        description: One sentence for the method list and its settings panel.
        family: One of ``FAMILIES``.
        uses_backbone: False for methods with no neural encoder (TF-IDF).
        episodic: It meta-trains on episodes.
        colour: Its colour in figures; None picks a stable one from the name.
        requires: An optional package (import name) the method needs; without it the method
            is listed but not offered (``installed``), and running it says how to install it.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}")
    if name != name.strip().lower() or not name:
        raise ValueError(f"method names are lowercase without spaces, not {name!r}")

    def wrap(cls: type[Method]) -> type[Method]:
        cls.name = name
        cls.config_cls = config
        _REGISTRY[name] = MethodSpec(name, cls, config, description, family, uses_backbone,
                                     episodic, colour or stable_colour(name), requires)
        return cls

    return wrap


PALETTE = ("#4f46e5", "#0ea5a4", "#f59e0b", "#e11d48", "#7c3aed", "#16a34a", "#0284c7",
           "#db2777", "#65a30d", "#ea580c", "#475569", "#9333ea")


def stable_colour(name: str) -> str:
    """A colour of ``PALETTE`` picked by the name (the same name, the same colour)."""
    import zlib

    return PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


def unregister(name: str) -> None:
    """Forget a method (tests that register a toy method clean up with this)."""
    _REGISTRY.pop(name, None)


def _ensure_loaded() -> None:
    import metacore.methods  # noqa: F401 - importing the package registers every method


def available() -> list[MethodSpec]:
    """Every registered method: classical, then fine-tuning, then meta-learning."""
    _ensure_loaded()
    return sorted(_REGISTRY.values(), key=lambda spec: FAMILIES.index(spec.family))


def installed() -> list[MethodSpec]:
    """The methods this installation can run (``available`` less those whose optional
    package is missing)."""
    return [spec for spec in available() if spec.installed]


def missing() -> list[MethodSpec]:
    """Registered methods whose optional package is not installed."""
    return [spec for spec in available() if not spec.installed]


def require_installed(name: str) -> MethodSpec:
    """The spec of a method that can run here; ``MessageError`` ``method.missing_extra``
    (how to install it, in one sentence) otherwise."""
    spec = get(name)
    if not spec.installed:
        from metacore.messages import MessageError

        raise MessageError("method.missing_extra", name=spec.name, extra=spec.requires)
    return spec


def get(name: str) -> MethodSpec:
    """The spec of a method. Raises ``ValueError`` naming the valid methods."""
    _ensure_loaded()
    key = (name or "").strip().lower()
    if key not in _REGISTRY:
        from metacore.messages import MessageError

        raise MessageError("method.unknown", name=str(name), choices=list(_REGISTRY))
    return _REGISTRY[key]


def description(name: str, lang: str = "en") -> str:
    """The method's one-sentence description in ``lang`` (its file's English otherwise)."""
    from metacore.messages import catalog

    spec = get(name)
    return catalog(lang).get(f"method.{spec.name}.description", spec.description) \
        if lang != "en" else spec.description


def setting_text(info: Any, part: str, lang: str = "en") -> str:
    """A setting's ``label`` or ``help`` (``part``) in ``lang``: its translation keyed by
    ``FieldInfo.key``, else the English its config declares."""
    from metacore.messages import catalog

    english = info.help if part == "help" else info.label
    return catalog(lang).get(f"{info.key}.{part}", english) if lang != "en" else english


def create(name: str, config: dict[str, Any] | MethodConfig | None = None) -> Method:
    """Instantiate a method with its config (a dict is validated through ``from_dict``)."""
    spec = get(name)
    if config is None or isinstance(config, dict):
        config = spec.config_cls.from_dict(config or {})
    return spec.method_cls(config)
