"""Uploads within limits: none before the password, and a cap per session (issue 13).

Streamlit keeps every file a browser PUTs to ``/_stcore/upload_file/<session>/<file>`` in
memory (its ``MemoryUploadedFileManager``) until the widget drops it or the session ends, and it
accepts them from any session, password given or not. ``install`` wraps that manager's
``add_file`` once per process, so that:

* with ``METACORE_PASSWORD`` set, a session that has not given the password stores nothing
  (the request is answered 403 with a sentence);
* every session stores at most ``METACORE_MAX_SESSION_UPLOADS`` files and
  ``METACORE_MAX_SESSION_UPLOAD_MB`` megabytes at once (answered 413 past either).

Streamlit's own checks (XSRF token, an active session id, ``server.maxUploadSize`` per file)
run before the wrapper and are left as they are. Files that arrived before the first script
run of the process installed the guard are dropped then, when a password is set.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ui.i18n import DEFAULT, t

COUNT_ENV = "METACORE_MAX_SESSION_UPLOADS"
MB_ENV = "METACORE_MAX_SESSION_UPLOAD_MB"
DEFAULT_COUNT = 8  # the Data page's two uploaders, each replaced a few times
DEFAULT_MB = 120.0  # two files of server.maxUploadSize (50 MB), and some room
_MARK = "_metacore_upload_guard"
_KEEP_SESSIONS = 512  # forget sessions that ended once this many are noted

_lock = threading.Lock()
_sessions: dict[str, tuple[bool, str]] = {}  # session id -> (password given, language)
_refused: dict[str, str] = {}  # session id -> the last refusal's sentence, until it is shown


@dataclass(frozen=True)
class Caps:
    """What one session may hold in the upload store at once."""

    files: int = DEFAULT_COUNT
    bytes: int = int(DEFAULT_MB * 1024**2)
    problem: tuple[str, str] | None = None  # (variable, text) of a setting that was refused


def caps(environ: Mapping[str, str] | None = None) -> Caps:
    """The caps from the environment; unset or empty keeps the default, and a value that is
    not a positive number keeps it too and is reported in ``problem``."""
    env = os.environ if environ is None else environ
    values: dict[str, int] = {}
    problem = None
    for name, key, scale in ((COUNT_ENV, "files", 1), (MB_ENV, "bytes", 1024**2)):
        text = (env.get(name) or "").strip()
        if not text:
            continue
        try:
            number = float(text) * scale
        except ValueError:
            number = 0.0
        if number >= 1:  # also refuses nan
            values[key] = int(number)
        else:
            problem = problem or (name, text)
    return Caps(**values, problem=problem)


def refusal(stored: Mapping[str, int], file_id: str, size: int, *, locked: bool,
            limits: Caps) -> tuple[int, str, dict[str, Any]] | None:
    """Why a file of ``size`` bytes may not join a session holding ``stored`` (file id ->
    bytes): (HTTP status, ui string key, its parameters), or None when it may. A file sent
    again under the same id replaces the earlier one."""
    if locked:
        return 403, "uploads.locked", {}
    others = {k: v for k, v in stored.items() if k != file_id}
    if len(others) + 1 > limits.files:
        return 413, "uploads.too_many", {"n": limits.files}
    if sum(others.values()) + size > limits.bytes:
        return 413, "uploads.too_big", {"mb": f"{limits.bytes / 1024**2:.3g}"}
    return None


def note_session(session_id: str, *, granted: bool, lang: str = DEFAULT) -> None:
    """Remember whether this session gave the password (or none is needed), and its language
    for the refusal's sentence; called on every script run."""
    with _lock:
        if _sessions.get(session_id) == (granted, lang):
            return
        if len(_sessions) >= _KEEP_SESSIONS:
            _forget_ended()
        _sessions[session_id] = (granted, lang)


def granted(session_id: str) -> bool:
    with _lock:
        return _sessions.get(session_id, (False, DEFAULT))[0]


def _forget_ended() -> None:
    try:
        from streamlit.runtime import Runtime

        runtime = Runtime.instance()
        for session_id in [s for s in _sessions if not runtime.is_active_session(s)]:
            del _sessions[session_id]
            _refused.pop(session_id, None)
    except Exception:  # noqa: BLE001 - no runtime: keep what is noted
        pass


def install(manager: Any = None) -> bool:
    """Wrap the runtime's uploaded-file manager (once per process); True if it is guarded.
    Without a running server (AppTest, the CLI) there is nothing to guard."""
    if manager is None:
        try:
            from streamlit.runtime import Runtime

            if not Runtime.exists():
                return False
            manager = Runtime.instance().uploaded_file_mgr
        except Exception:  # noqa: BLE001 - an odd runtime: leave Streamlit as it is
            return False
    with _lock:
        if getattr(manager, _MARK, False):
            return True
        original = manager.add_file

        def add_file(session_id: str, file: Any) -> None:
            _check(manager, session_id, file)
            original(session_id=session_id, file=file)

        manager.add_file = add_file
        setattr(manager, _MARK, True)
    if _password_required():  # anything sent before the guard was there: dropped
        for session_id in list(getattr(manager, "file_storage", {})):
            if not granted(session_id):
                manager.remove_session_files(session_id)
    return True


def _password_required() -> bool:
    from ui import access

    return bool(access.required())


def _check(manager: Any, session_id: str, file: Any) -> None:
    """Raise Starlette's HTTPException (the client gets its status and sentence) when the
    file may not be stored. Runs on the server's event loop, before the file is added."""
    with _lock:
        given, lang = _sessions.get(session_id, (False, DEFAULT))
        held = dict((getattr(manager, "file_storage", {}) or {}).get(session_id) or {})
        stored = {k: len(v.data) for k, v in held.items()}
        why = refusal(stored, file.file_id, len(file.data),
                      locked=_password_required() and not given, limits=caps())
    if why is not None:
        from starlette.exceptions import HTTPException

        status, key, params = why
        detail = t(key, lang, **params)
        if given:  # the uploader itself only says "status code 413": the page says why
            with _lock:
                _refused[session_id] = detail
        raise HTTPException(status_code=status, detail=detail)


def take_refusal(session_id: str) -> str | None:
    """The sentence of this session's last refused upload, once (shown on its next run)."""
    with _lock:
        return _refused.pop(session_id, None)
