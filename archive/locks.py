"""File locks that hold across threads and processes of one machine (the filing lock, the
indexer's lock).

A filing writes files and then commits catalogue rows; holding the filing lock makes that
sequence exclusive, so the start-up clean-up can tell an orphan from a filing in flight.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(path: Path, *, blocking: bool = True) -> Iterator[None]:
    """Hold ``path`` locked; without ``blocking``, BlockingIOError if someone else holds it."""
    # A fresh open file description per holder: flock then excludes other threads too.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException:
        os.close(fd)
        raise
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
