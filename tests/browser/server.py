"""``streamlit run app.py`` on a free loopback port with its own METACORE_HOME: the one
helper the browser tests and the app benchmarks (``bench/app_latency.py``, ``bench/load.py``)
start the app with."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(home: Path, *, timeout: float = 90.0, **env: str
              ) -> tuple[subprocess.Popen, str]:
    """Start the app (extra environment variables in ``env``) and wait until its health
    endpoint answers; returns the process and the URL. Raises RuntimeError on a timeout."""
    port = free_port()
    environ = {**os.environ, "METACORE_HOME": str(home), "HF_HUB_OFFLINE": "1",
               "TOKENIZERS_PARALLELISM": "false", **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                if answer.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    stop_app(proc)
    raise RuntimeError(f"the app did not start within {timeout:.0f} s")


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def app_server(home: Path, **env: str) -> Iterator[str]:
    """``start_app`` as a context manager: yields the URL, stops the app afterwards."""
    proc, url = start_app(home, **env)
    try:
        yield url
    finally:
        stop_app(proc)
