"""The upload guard on Streamlit's in-memory upload store (ui/uploads.py), in-process; the same
against a real server's endpoint is tests/browser/test_upload_gate.py."""

from __future__ import annotations

import pytest
from starlette.exceptions import HTTPException
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from ui import uploads


def _file(file_id: str, size: int) -> UploadedFileRec:
    return UploadedFileRec(file_id=file_id, name=f"{file_id}.csv", type="text/csv",
                           data=b"x" * size)


def test_caps_come_from_the_environment_with_safe_defaults() -> None:
    assert uploads.caps({}) == uploads.Caps()
    assert (uploads.Caps().files, uploads.Caps().bytes) == (8, 120 * 1024**2)
    assert uploads.caps({uploads.COUNT_ENV: "3", uploads.MB_ENV: "0.5"}) == uploads.Caps(
        files=3, bytes=512 * 1024)
    for bad in ("abc", "0", "-2", "nan"):
        limits = uploads.caps({uploads.COUNT_ENV: bad})
        assert limits.files == uploads.DEFAULT_COUNT and limits.problem == (uploads.COUNT_ENV,
                                                                            bad)


def test_the_guard_refuses_before_the_password_and_past_the_cap(monkeypatch) -> None:
    monkeypatch.setenv("METACORE_PASSWORD", "pw")
    monkeypatch.setenv(uploads.COUNT_ENV, "2")
    monkeypatch.setenv(uploads.MB_ENV, str(1000 / 1024**2))
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    manager.add_file("early", _file("before", 10))  # sent before the guard was there
    assert uploads.install(manager) and uploads.install(manager)  # wrapped once
    assert manager.get_files("early", ["before"]) == []  # dropped when it was put on

    uploads.note_session("s1", granted=False, lang="zh")
    with pytest.raises(HTTPException) as refused:
        manager.add_file("s1", _file("a", 10))
    assert refused.value.status_code == 403 and "密码" in refused.value.detail
    assert manager.get_files("s1", ["a"]) == [] and not manager.file_storage.get("s1")
    assert uploads.take_refusal("s1") is None  # nothing kept for a session without access

    uploads.note_session("s1", granted=True, lang="en")
    manager.add_file("s1", _file("a", 600))
    with pytest.raises(HTTPException) as too_big:
        manager.add_file("s1", _file("b", 500))
    assert too_big.value.status_code == 413 and "MB" in too_big.value.detail
    assert uploads.take_refusal("s1") == too_big.value.detail  # the page says it next run,
    assert uploads.take_refusal("s1") is None  # once (the uploader shows only the status)
    manager.add_file("s1", _file("a", 900))  # the same file again replaces it
    manager.add_file("s1", _file("b", 100))
    with pytest.raises(HTTPException, match="2 uploaded files"):
        manager.add_file("s1", _file("c", 1))
    assert sorted(f.file_id for f in manager.get_files("s1", ["a", "b", "c"])) == ["a", "b"]
    manager.remove_file("s1", "b")  # the widget's remove frees room
    manager.add_file("s1", _file("c", 100))

    monkeypatch.delenv("METACORE_PASSWORD")  # an open server: no password, the cap stays
    manager.add_file("s2", _file("a", 1000))
    with pytest.raises(HTTPException):
        manager.add_file("s2", _file("b", 1))

