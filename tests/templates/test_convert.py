"""The LibreOffice listener belongs to one data root and does not outlive it."""

from __future__ import annotations

import subprocess
import sys
import time

from templates.convert import Converter
from tests.service.test_serve import listeners_on

ORPHAN = """
import os, sys
from pathlib import Path
from templates.convert import Converter
c = Converter(profile_dir=Path(sys.argv[1]))
c.start()
print(c.pid, flush=True)
os._exit(0)  # dies without stopping LibreOffice, as a killed process would
"""


def test_a_listener_left_by_a_dead_process_is_killed_by_the_next_start(tmp_path):
    profile = tmp_path / "run" / "libreoffice-profile"
    started = subprocess.run([sys.executable, "-c", ORPHAN, str(profile)],
                             capture_output=True, text=True, check=True)  # fmt: skip
    orphan = int(started.stdout.split()[-1])
    assert orphan in listeners_on(tmp_path)

    converter = Converter(profile_dir=profile)
    try:
        converter.start()
        deadline = time.monotonic() + 10
        while orphan in listeners_on(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert orphan not in listeners_on(tmp_path)
    finally:
        converter.close()
    assert listeners_on(tmp_path) == []


def test_a_second_process_on_the_same_data_root_gets_its_own_profile(tmp_path):
    profile = tmp_path / "run" / "libreoffice-profile"
    first, second = Converter(profile_dir=profile), Converter(profile_dir=profile)
    try:
        first.start()
        second.start()
        assert first.pid != second.pid
        assert first.running and second.running
    finally:
        first.close()
        second.close()
    assert listeners_on(tmp_path) == []
    assert sorted(p.name for p in (tmp_path / "run").iterdir() if p.is_dir()) == [
        "libreoffice-profile"
    ]
