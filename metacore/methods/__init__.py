"""Every method registers itself on import: this package imports each of its modules, so a new
method is one new file here (see docs/architecture.md); ``registry`` has the lookups."""

from __future__ import annotations

import importlib
import pkgutil

from metacore.methods.base import Method, load_method
from metacore.methods.registry import MethodSpec, available, create, get, register

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["Method", "MethodSpec", "available", "create", "get", "load_method", "register"]
