"""The browser modules' shared fixture: one app server per module, with a home of its own
(a module that needs other settings defines its own ``server``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.server import app_server


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    with app_server(tmp_path_factory.mktemp("home")) as url:
        yield url
