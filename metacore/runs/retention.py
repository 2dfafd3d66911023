"""How long saved models and uploads are kept, and how much of the disk they may use.

Every app run saves its model (``<home>/artifacts/<run>/model/``) and every uploaded file is
kept (``<home>/uploads/<hash>/<name>``); without a limit a workshop laptop fills up. The policy,
from environment variables with defaults sized for a laptop:

* ``METACORE_KEEP_DAYS`` (30): models and uploads not touched for longer are deleted; 0 keeps
  them whatever their age.
* ``METACORE_MODELS_QUOTA_GB`` (5): beyond it, the oldest saved models are deleted first.
* ``METACORE_UPLOADS_QUOTA_MB`` (500): beyond it, the oldest uploads are deleted first.

It never deletes a run's ``result.json`` (the History keeps every finished run, its metrics
and its command), nor the model folder of a run still queued or running, nor an upload a queued
or running run reads. It is applied when the app starts and after each run. A setting that is
not a sensible number raises ``MessageError`` (one sentence naming it); the app then deletes
nothing and says why.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metacore.messages import MessageError

KEEP_DAYS = "METACORE_KEEP_DAYS"
MODELS_QUOTA = "METACORE_MODELS_QUOTA_GB"
UPLOADS_QUOTA = "METACORE_UPLOADS_QUOTA_MB"
DEFAULT_KEEP_DAYS = 30
DEFAULT_MODELS_GB = 5.0
DEFAULT_UPLOADS_MB = 500.0
GB, MB, DAY = 1024 ** 3, 1024 ** 2, 86_400.0
UPLOADS = "uploads"


@dataclass(frozen=True)
class RetentionPolicy:
    keep_days: int = DEFAULT_KEEP_DAYS  # 0: no age limit
    models_quota_bytes: int = int(DEFAULT_MODELS_GB * GB)
    uploads_quota_bytes: int = int(DEFAULT_UPLOADS_MB * MB)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RetentionPolicy:
        """The policy the environment sets. Raises ``MessageError`` for a value that is not a
        number, a negative one, a fraction of a day, or a quota of zero."""
        env = os.environ if env is None else env
        days = _number(env, KEEP_DAYS, DEFAULT_KEEP_DAYS, low=0)
        if days != int(days):
            raise MessageError("store.setting.whole", name=KEEP_DAYS, value=env[KEEP_DAYS])
        models = _number(env, MODELS_QUOTA, DEFAULT_MODELS_GB, low=0.001)
        uploads = _number(env, UPLOADS_QUOTA, DEFAULT_UPLOADS_MB, low=0.001)
        return cls(keep_days=int(days), models_quota_bytes=int(models * GB),
                   uploads_quota_bytes=int(uploads * MB))


@dataclass
class Usage:
    """What the saved models and the uploads take now (bytes), and what was just deleted."""

    models_bytes: int = 0
    models: int = 0
    uploads_bytes: int = 0
    uploads: int = 0
    deleted_models: list[str] = field(default_factory=list)  # run ids
    deleted_uploads: list[str] = field(default_factory=list)  # <hash>/<name>


def _number(env: Mapping[str, str], name: str, default: float, *, low: float) -> float:
    raw = env.get(name, "")
    if not str(raw).strip():
        return float(default)
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise MessageError("store.setting.not_a_number", name=name, value=raw) from None
    if value != value or value in (float("inf"), float("-inf")):  # nan, inf
        raise MessageError("store.setting.not_a_number", name=name, value=raw)
    if value < low:
        raise MessageError("store.setting.at_least", name=name, low=low if low else 0,
                           value=raw)
    return value


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for item in path.rglob("*"):
        try:
            if item.is_file() and not item.is_symlink():
                total += item.stat().st_size
        except OSError:
            continue
    return total


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _active(store: Any) -> tuple[set[str], str]:
    """Run ids still queued or running, and the text of their data sources and plans (an
    upload named there is in use)."""
    from metacore.runs.store import UNFINISHED

    with store._connect() as conn:
        rows = conn.execute("SELECT run_id, data_source, spec_json FROM runs WHERE status IN "
                            "(?, ?)", UNFINISHED).fetchall()
    ids = {row["run_id"] for row in rows}
    text = "\n".join(f"{row['data_source'] or ''}\n{row['spec_json'] or ''}" for row in rows)
    return ids, text


def _in_use(path: Path, used: str) -> bool:
    forms = {str(path), str(path.resolve()), json.dumps(str(path))[1:-1],
             json.dumps(str(path.resolve()))[1:-1]}
    return any(form in used for form in forms)


def usage(store: Any) -> Usage:
    """What the models and uploads of ``store`` take now."""
    out = Usage()
    for _, model in _models(store):
        out.models += 1
        out.models_bytes += _size(model)
    for upload in _uploads(store):
        out.uploads += 1
        out.uploads_bytes += _size(upload)
    return out


def _models(store: Any) -> list[tuple[str, Path]]:
    from metacore.runs.store import ARTIFACTS

    folder = Path(store.root) / ARTIFACTS
    if not folder.is_dir():
        return []
    return [(run.name, run / "model") for run in folder.iterdir() if (run / "model").is_dir()]


def _uploads(store: Any) -> list[Path]:
    folder = Path(store.root) / UPLOADS
    if not folder.is_dir():
        return []
    return [f for f in folder.glob("*/*") if f.is_file()]


def apply_policy(store: Any, policy: RetentionPolicy | None = None, *,
                 now: float | None = None) -> Usage:
    """Delete what ``policy`` (default: the environment's) says, and return what is left.

    Models first by age (older than ``keep_days``), then the oldest while their total is over
    the quota; uploads the same way. Runs still queued or running keep their model folder and
    the uploads they read. result.json files are never touched.
    """
    import time

    from metacore.runs.atomic import recover_pair
    from metacore.runs.store import ARTIFACTS

    policy = policy or RetentionPolicy.from_env()
    now = time.time() if now is None else now
    limit = now - policy.keep_days * DAY if policy.keep_days else None
    active, used = _active(store)
    out = Usage()
    folder = Path(store.root) / ARTIFACTS
    for run in folder.iterdir() if folder.is_dir() else []:
        if run.is_dir() and run.name not in active:
            recover_pair(run)  # leftovers of an interrupted save are not models
    models = sorted(((_mtime(m), run_id, m) for run_id, m in _models(store)
                     if run_id not in active), key=lambda item: item[:2])
    kept_bytes = sum(_size(m) for run_id, m in _models(store) if run_id in active)
    out.models = len(_models(store)) - len(models)
    sizes = {m: _size(m) for _, _, m in models}
    total = kept_bytes + sum(sizes.values())
    for mtime, run_id, model in models:
        if (limit is not None and mtime < limit) or total > policy.models_quota_bytes:
            shutil.rmtree(model, ignore_errors=True)
            if not model.exists():
                total -= sizes[model]
                out.deleted_models.append(run_id)
                continue
        out.models += 1
    out.models_bytes = total
    uploads = sorted(((_mtime(u), str(u), u) for u in _uploads(store)), key=lambda i: i[:2])
    root = Path(store.root) / UPLOADS
    sizes = {u: _size(u) for _, _, u in uploads}
    total = sum(sizes.values())
    for mtime, _, upload in uploads:
        if _in_use(upload, used):
            out.uploads += 1
            continue
        if (limit is not None and mtime < limit) or total > policy.uploads_quota_bytes:
            try:
                upload.unlink()
                total -= sizes[upload]
                out.deleted_uploads.append(upload.relative_to(root).as_posix())
                if not any(upload.parent.iterdir()):
                    upload.parent.rmdir()
                continue
            except OSError:
                pass
        out.uploads += 1
    out.uploads_bytes = total
    return out
