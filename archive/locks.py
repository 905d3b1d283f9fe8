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
def exclusive(path: Path, *, blocking: bool = True, shared: bool = False) -> Iterator[None]:
    """Hold ``path`` locked; without ``blocking``, BlockingIOError if someone else holds it.
    ``shared``: alongside other shared holders (readers), never with an exclusive one."""
    # A fresh open file description per holder: flock then excludes other threads too.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    try:
        fcntl.flock(fd, mode if blocking else mode | fcntl.LOCK_NB)
    except BaseException:
        os.close(fd)
        raise
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
