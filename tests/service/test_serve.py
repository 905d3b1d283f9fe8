"""``hetong serve`` in real processes: waitress, and one LibreOffice listener per data root."""

from __future__ import annotations

import json
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.service.conftest import call, start_instance


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
        url = results[0][2]["documents"][0]["pdf"]["url"]
        why = urllib.parse.urlencode({"purpose": "核对条款"})  # 查阅登记
        status, headers, pdf = call(f"{base}{url}?{why}", token=token)
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
