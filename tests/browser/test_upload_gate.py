"""The upload endpoint under attack, against a real server with METACORE_PASSWORD set.

Streamlit keeps whatever a session PUTs to ``/_stcore/upload_file/<session>/<file>`` in memory.
A browser opens the app (the password form only) and hands its session id (read off the
websocket's first message, as any visitor can) and its XSRF cookie to a plain HTTP client,
which PUTs files the way an attacker would. Before the password nothing is stored; after it a
file up to the per-session cap is, and one past the cap (in bytes or in files) is refused.
What the server holds is read from its own ``/_stcore/metrics`` (the upload store's bytes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.support import CHROMIUM, app_server, browser_page, settle

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")]
PASSWORD = "s3cret-words"
CAP_FILES, CAP_BYTES = 2, 50_000


def _session_id(payload: bytes | str) -> str | None:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if isinstance(payload, str):
        return None
    msg = ForwardMsg()
    msg.ParseFromString(payload)
    if msg.WhichOneof("type") == "new_session":
        return msg.new_session.initialize.session_id or None
    return None


def _stored_bytes(url: str) -> int:
    """What the server's upload store holds, all sessions together (its own metric)."""
    import requests

    text = requests.get(f"{url}/_stcore/metrics", timeout=10).text
    found = re.findall(r'cache_type="UploadedFileManager"[^}]*\}\s+(\d+)', text)
    return sum(map(int, found))


def test_nothing_is_stored_before_the_password_and_the_cap_holds_after(tmp_path) -> None:
    import requests

    with app_server(tmp_path / "home", METACORE_PASSWORD=PASSWORD,
                    METACORE_MAX_SESSION_UPLOADS=str(CAP_FILES),
                    METACORE_MAX_SESSION_UPLOAD_MB=str(CAP_BYTES / 1024**2)) as url, \
            browser_page() as page:
        ids: list[str] = []
        page.on("websocket", lambda ws: ws.on(
            "framereceived", lambda payload: ids.append(_session_id(payload) or "")))
        page.goto(url)
        settle(page)
        page.get_by_text("This workbench needs a password").wait_for()
        session = next(s for s in ids if s)
        xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_streamlit_xsrf")

        def put(file_id: str, size: int, token: str = xsrf) -> requests.Response:
            return requests.put(
                f"{url}/_stcore/upload_file/{session}/{file_id}",
                files={"file": (f"{file_id}.csv", b"x" * size, "text/csv")},
                headers={"X-Xsrftoken": token, "Cookie": f"_streamlit_xsrf={xsrf}"},
                timeout=30)

        assert put("noxsrf", 10, token="").status_code == 403  # Streamlit's own check stays
        for n in range(6):  # any number of files, before the password: none is kept
            answer = put(f"early{n}", 40_000)
            assert answer.status_code == 403, answer.text
            assert "password" in answer.text

        page.locator(".st-key-access_password input").fill(PASSWORD)
        page.get_by_role("button", name="Enter").click()
        page.get_by_test_id("stSidebarNav").wait_for()
        settle(page)
        assert put("first", 40_000).status_code == 204  # within the cap: stored
        too_big = put("second", 20_000)  # 60 000 bytes in all: past the cap
        assert too_big.status_code == 413 and "MB" in too_big.text, too_big.text
        assert put("first", 45_000).status_code == 204  # the same file again replaces it
        assert put("small", 10).status_code == 204  # two files: the most it may hold
        too_many = put("third", 10)
        assert too_many.status_code == 413 and "2 uploaded files" in too_many.text
        # One read (the server caches the figure for 5 s): the first file as sent again and
        # the small one, nothing of the 240 kB sent before the password, nor what was refused.
        assert _stored_bytes(url) == 45_010
