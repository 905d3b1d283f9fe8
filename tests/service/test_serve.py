"""``hetong serve`` in real processes: waitress, and one LibreOffice listener per data root."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HETONG = [sys.executable, "-m", "service.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, *, token: str | None = None, body: dict | None = None):
    request = urllib.request.Request(url, method="POST" if body is not None else "GET")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        request.add_header("Content-Type", "application/json")
        data = json.dumps(body).encode()
    with urllib.request.urlopen(request, data=data, timeout=120) as response:
        return response.status, response.headers, response.read()


def start_instance(root: Path) -> tuple[subprocess.Popen, str, str]:
    env = {**os.environ, "HETONG_DATA_DIR": str(root)}
    env.pop("HETONG_CONVERTER_URL", None)
    added = subprocess.run([*HETONG, "users", "add", "li", "--role", "clerk"], env=env,
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


def test_two_instances_on_one_machine_each_serve_their_own_archive(tmp_path, payload):
    instances = [start_instance(tmp_path / name) for name in ("a", "b")]
    try:

        def create(instance):
            _, base, token = instance
            status, headers, body = call(f"{base}/api/v1/contracts", token=token, body=payload)
            return status, headers, json.loads(body)

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(create, instances))
        for status, headers, body in results:
            assert status == 201
            assert body["contract_no"] == "HT-202611-0001"
            assert headers["Server"] == "hetong"  # waitress, not Flask's development server
        (_, base, token) = instances[0]
        status, headers, pdf = call(base + results[0][2]["documents"][0]["pdf"]["url"], token=token)
        assert status == 200 and pdf.startswith(b"%PDF")
        logs = [(tmp_path / n / "run" / "unoserver.log").read_text() for n in ("a", "b")]
        assert all("Started" in log or "Starting" in log for log in logs)
    finally:
        outputs = []
        for process, _, _ in instances:
            process.terminate()
            outputs.append(process.communicate(timeout=30)[0].decode())
    for output in outputs:
        assert "Traceback" not in output, output
        assert "hetong 正在" in output
    assert not listeners_on(tmp_path), "stopping the service stops its LibreOffice"


def listeners_on(root: Path) -> list[int]:
    """Processes whose command line names a profile under ``root``."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().decode("utf-8", "replace")
                state = (proc / "stat").read_text().split(") ")[-1][:1]
            except OSError:
                continue
            if str(root) in cmdline and state != "Z":
                found.append(int(proc.name))
    return found
