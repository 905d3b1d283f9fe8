"""Opening an archive for use: the parts, then what an earlier crash left unfinished."""

from __future__ import annotations

import logging
from pathlib import Path

from archive import numbering, retention
from archive.core import Archive

log = logging.getLogger(__name__)

# What the first releases' Whoosh index left directly in DATA_DIR/index.
_OLD_INDEX = ("*.toc", "*.seg", "MAIN_WRITELOCK")


def start(archive: Archive, *, fill_index: bool = True) -> Archive:
    """Migrate, heal, give back numbers that crashed filings held, make sure the index exists
    (unless the caller rebuilds it anyway), apply index changes still queued, finish
    interrupted destructions."""
    archive.open()
    numbering.release_stale(archive.catalogue)  # numbers held by filings a crash cut short
    if fill_index:
        _fill_index(archive)
    archive.indexer.apply_pending()
    retention.finish_pending(archive)
    return archive


def _fill_index(archive: Archive) -> None:
    """A new or replaced engine starts empty: build it from the catalogue (derived data)."""
    _remove_old_index(archive.data_dir / "index")
    if archive.index.count() or not archive.indexer.expected_count():
        return
    log.warning("the search index is empty: building it from the catalogue")

    def progress(done: int, total: int) -> None:
        log.warning("building the search index: %d of %d contracts", done, total)

    count = archive.indexer.rebuild(progress=progress)
    log.warning("search index built: %d documents", count)


def _remove_old_index(folder: Path) -> None:
    old = [path for pattern in _OLD_INDEX for path in folder.glob(pattern) if path.is_file()]
    for path in old:
        path.unlink()
    if old:
        log.warning("removed the old search index (%d files); it is rebuilt", len(old))
