"""Opening an archive for use: the parts, then what an earlier crash left unfinished."""

from __future__ import annotations

import logging

from archive import retention
from archive.core import Archive

log = logging.getLogger(__name__)


def start(archive: Archive) -> Archive:
    """Migrate, heal, apply index changes still queued, finish interrupted destructions."""
    archive.open()
    archive.index.apply_pending()
    retention.finish_pending(archive)
    return archive
