"""What a shared server lets its users load: model folders from an allow-list, hub ids from the
local cache.

The CLI user owns their machine and may load any folder or download any model; the app is
used by many people at once, so a backbone typed into a page is checked here first (the pages
and the app's worker call :func:`check_backbone_spec`). The operator sets:

``METACORE_MODEL_DIRS``
    Folders (separated by ``os.pathsep``) whose model folders users may load, besides the
    bundled MiniLM and the app's own ``$METACORE_HOME/models``.
``METACORE_ALLOW_DOWNLOAD=1``
    Let users download Hugging Face models; otherwise only models already in the local
    Hugging Face cache load.

Paths are compared after resolving ``..`` and symlinks, so neither steps out of the allowed
folders. ``trust_remote_code`` is never enabled anywhere, and weights load from safetensors only
(``metacore.backbones.loading``), so an allowed folder still cannot run code.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from metacore.backbones.base import BackboneError
from metacore.messages import msg

MODEL_DIRS_ENV = "METACORE_MODEL_DIRS"
ALLOW_DOWNLOAD_ENV = "METACORE_ALLOW_DOWNLOAD"
RANDOM_PREFIX = "random-init:"
BUILT_IN = frozenset({"", "minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2",
                      "tiny"})
# A Hugging Face repo id: "name" or "owner/name", letters, digits, '-', '_' and '.'.
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")
_TRUE = frozenset({"1", "true", "yes", "on"})


def downloads_permitted(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the operator lets users download models (``METACORE_ALLOW_DOWNLOAD=1``)."""
    env = os.environ if environ is None else environ
    return (env.get(ALLOW_DOWNLOAD_ENV) or "").strip().lower() in _TRUE


def allowed_model_dirs(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The bundled model's folder, ``$METACORE_HOME/models`` and ``METACORE_MODEL_DIRS``."""
    from metacore.backbones.loading import bundled_path
    from metacore.runs.store import default_root

    env = os.environ if environ is None else environ
    dirs = [Path(bundled_path())]
    home = env.get("METACORE_HOME")
    dirs.append((Path(home).expanduser() if home else default_root()) / "models")
    extra = env.get(MODEL_DIRS_ENV) or ""
    dirs += [Path(part).expanduser() for part in extra.split(os.pathsep) if part.strip()]
    return dirs


def check_backbone_spec(
    spec: str,
    *,
    allowed_dirs: Iterable[str | Path],
    allow_download: bool = False,
    download_permitted: bool | None = None,
) -> str:
    """Refuse a backbone a user of a shared server may not load.

    Args:
        spec: What the user typed: ``minilm``, ``tiny``, ``random-init:<spec>``, a hub id or
            a folder.
        allowed_dirs: Folders whose model folders may be loaded (see :func:`allowed_model_dirs`).
        allow_download: The user asked to download the model if it is not cached.
        download_permitted: Whether the operator allows downloads; None reads
            ``METACORE_ALLOW_DOWNLOAD``.

    Returns:
        The spec, stripped.

    Raises:
        BackboneError: In one sentence, when the spec is refused.
    """
    spec = (spec or "").strip()
    inner = spec[len(RANDOM_PREFIX):].strip() if spec.lower().startswith(RANDOM_PREFIX) else spec
    if inner.lower() in BUILT_IN:
        return spec
    permitted = downloads_permitted() if download_permitted is None else download_permitted
    if _looks_like_path(inner):
        _check_folder(inner, allowed_dirs)
        return spec
    if not _HUB_ID.match(inner) or ".." in inner:
        raise BackboneError("backbone.not_an_id", spec=inner)
    if allow_download and not permitted:
        raise BackboneError("backbone.downloads_off", env=ALLOW_DOWNLOAD_ENV)
    if not (allow_download and permitted) and not in_local_cache(inner):
        raise BackboneError("backbone.not_cached", model=inner, env=ALLOW_DOWNLOAD_ENV,
                            hint=msg("backbone.hint_tick" if permitted else "backbone.hint_ask",
                                     env=ALLOW_DOWNLOAD_ENV))
    return spec


def in_local_cache(repo_id: str) -> bool:
    """Whether a hub model's config is in the local Hugging Face cache (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except Exception:  # noqa: BLE001 - an odd id or a broken cache means "not cached"
        return False


def _looks_like_path(spec: str) -> bool:
    """Folders: anything with a path syntax, or a name that exists relative to the server."""
    if spec.startswith((".", "/", "~", "\\")) or "\\" in spec or os.path.isabs(spec):
        return True
    parts = spec.split("/")
    if len(parts) > 2 or any(p in ("", ".", "..") for p in parts):
        return True
    try:
        return Path(spec).expanduser().exists()  # the loader reads an existing folder first
    except OSError:
        return True


def _check_folder(spec: str, allowed_dirs: Iterable[str | Path]) -> None:
    """Refuse a folder outside the allowed ones (after resolving '..' and symlinks)."""
    try:
        real = Path(os.path.realpath(Path(spec).expanduser()))
    except (OSError, ValueError):
        real = None
    if real is not None:
        for folder in allowed_dirs:
            root = Path(os.path.realpath(Path(folder).expanduser()))
            if real == root or root in real.parents:
                return
    # Do not say whether the folder exists: that would let users probe the server's disk.
    raise BackboneError("backbone.folder_not_allowed", folder=spec, env=MODEL_DIRS_ENV)
