"""``hetong serve`` as a real process (waitress), for the tests that need the real server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

HETONG = [sys.executable, "-m", "service.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, *, token: str | None = None, body: dict | None = None, method: str = ""):
    request = urllib.request.Request(url, method=method or ("POST" if body is not None else "GET"))
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        request.add_header("Content-Type", "application/json")
        data = json.dumps(body).encode()
    with urllib.request.urlopen(request, data=data, timeout=120) as response:
        return response.status, response.headers, response.read()


def start_instance(
    root: Path, *, role: str = "clerk", converter_url: str = "", env: dict | None = None,
    token: str = "",
) -> tuple[subprocess.Popen, str, str]:  # fmt: skip
    """Start ``hetong serve`` on a free port for data root ``root``; (process, base, token).

    Without ``token`` a user ``li`` with ``role`` is added first (a second node of the same
    archive passes the first one's token instead)."""
    env = {**os.environ, "HETONG_DATA_DIR": str(root), **(env or {})}
    env.pop("HETONG_CONVERTER_URL", None)
    if converter_url:
        env["HETONG_CONVERTER_URL"] = converter_url
    if not token:
        added = subprocess.run([*HETONG, "users", "add", "li", "--role", role], env=env,
                               capture_output=True, text=True, check=True)  # fmt: skip
        token = added.stdout.strip().splitlines()[-1]
    port = free_port()
    process = subprocess.Popen([*HETONG, "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            call(f"{base}/healthz")
            return process, base, token
        except OSError:
            if process.poll() is not None:
                raise AssertionError(process.communicate()[0].decode()) from None
            assert time.monotonic() < deadline, "service did not come up"
            time.sleep(0.2)


@pytest.fixture
def served(tmp_path, converter) -> Iterator:
    """A function that starts a real service on the shared LibreOffice; stopped afterwards."""
    started: list[subprocess.Popen] = []

    def _serve(name: str = "served", role: str = "admin", token: str = "",
               **env) -> tuple[str, str]:  # fmt: skip
        process, base, token = start_instance(tmp_path / name, role=role, token=token,
                                              converter_url=converter._url, env=env)  # fmt: skip
        started.append(process)
        return base, token

    yield _serve
    for process in started:
        process.terminate()
        process.communicate(timeout=30)
