"""``RunResult``: everything one run produced, as the JSON documented in docs/result-schema.md.

Keep this stable: the app, the History page and scripts read old results back. Add keys, never
rename them; bump ``RESULT_SCHEMA_VERSION`` when a meaning changes.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

RESULT_SCHEMA_VERSION = 1


@dataclass
class RunResult:
    run_id: str
    method: str
    backbone: str | None
    protocol: str  # "adapt" (adapt to my classes) | "episodic" (unseen classes)
    status: str  # "completed" | "stopped" | "failed"
    metrics: dict[str, float] = field(default_factory=dict)
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)
    confusion: dict[str, Any] = field(default_factory=lambda: {"labels": [], "matrix": []})
    history: dict[str, list[dict]] = field(default_factory=lambda: {"steps": [], "evals": []})
    timing: dict[str, float] = field(default_factory=dict)
    parameters: dict[str, int] = field(default_factory=dict)
    device: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    inner_loop: list[dict[str, float]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # English sentences
    error: str | None = None  # one English sentence
    # The warnings and the error as coded messages ({level, code, params}), so an interface
    # says them in its own language; results written before version 1.1 have none.
    messages: list[dict[str, Any]] = field(default_factory=list)
    command: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    schema_version: int = RESULT_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=_jsonable)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunResult:
        """Read a result back; unknown keys (from newer versions) are kept in ``extra``."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in values.items() if k in known}
        unknown = {k: v for k, v in values.items() if k not in known}
        if unknown:
            kwargs.setdefault("extra", {}).update(unknown)
        return cls(**kwargs)

    @classmethod
    def load(cls, path: str | Path) -> RunResult:
        path = Path(path)
        if path.is_dir():
            path = path / "result.json"
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def save(self, path: str | Path) -> Path:
        """Write atomically: a temporary file in the same folder, then a rename."""
        path = Path(path)
        if path.suffix != ".json":
            path = path / "result.json"
        write_atomic(path, self.to_json())
        return path


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename makes it the result
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonable(value: Any) -> Any:
    """numpy scalars and arrays, paths and sets into JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def library_versions() -> dict[str, str]:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("metacore", "torch", "transformers", "peft", "scikit-learn", "numpy",
                 "pandas"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out
