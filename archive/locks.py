"""The filing lock: one filing at a time per data root, across threads and processes.

A filing writes files and then commits catalogue rows; holding this lock makes that
sequence exclusive, so the start-up clean-up can tell an orphan from a filing in flight.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    # A fresh open file description per holder: flock then excludes other threads too.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
