"""``repair``: put back, from the backups, the stored files a fixity check found missing or
damaged. Content addressing makes it exact: a backup's copy of a file is named by the
SHA-256 the catalogue expects, and is checked against it on the way back."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from archive import audit
from archive.actor import Actor
from archive.backup.manifest import Manifest
from archive.backup.target import Damaged, Target, copy_verified
from archive.errors import Forbidden, NotFound
from archive.models import FixityRun
from archive.storage import Storage, intact

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)


def repair(archive: Archive, actor: Actor, targets: list[Path]) -> list[dict[str, Any]]:
    """For each file the latest fixity check found missing or damaged: still broken, and a
    backup holds an intact copy → copied back (``repaired``); intact again → ``intact``;
    no backup holds it → ``unavailable``. Run ``fixity check`` afterwards to stamp them."""
    if not (actor.operator or actor.can("archivist")):
        raise Forbidden("只有档案管理员可以从备份修复文件库。")
    with archive.catalogue.reading() as session:
        run = session.scalar(select(FixityRun).where(FixityRun.finished_at.is_not(None))
                             .order_by(FixityRun.id.desc()).limit(1))  # fmt: skip
    if run is None:
        raise NotFound("还没有完成的文件核验：先运行 hetong fixity check。")
    pools = [Target(t) for t in targets]
    outcomes = []
    with ExitStack() as reading:
        for pool in pools:  # no backup prunes them meanwhile
            reading.enter_context(pool.reading())
        for failure in run.failures or ():
            outcomes.append(_put_back(archive, failure, pools))
    with archive.catalogue.writing() as session:
        for outcome in outcomes:
            audit.record(session, actor, "fixity.repair", None, run=run.id,
                         sha256=outcome["sha256"], outcome=outcome["outcome"],
                         source=outcome["source"], documents=outcome["documents"])  # fmt: skip
    return outcomes


def _put_back(archive: Archive, failure: dict[str, Any], pools: list[Target]) -> dict[str, Any]:
    digest = failure["sha256"]
    outcome = {**failure, "outcome": "unavailable", "source": None}
    path = archive.storage.path_for(digest)
    if intact(path, digest):
        return {**outcome, "outcome": "intact"}
    for pool in pools:
        if not pool.has(digest):
            continue
        try:
            copy_verified(pool.path_for(digest), path, digest, archive.storage.tmp)
        except Damaged:  # this backup's copy is damaged too: try the next
            log.error("backup %s holds a damaged copy of %s", pool, digest)
            continue
        return {**outcome, "outcome": "repaired", "source": str(pool)}
    return outcome


def mend(target: Path, storage: Storage) -> dict[str, str]:
    """Read every file the snapshots of ``target`` name; one missing or damaged there is
    copied anew from the live file store when that copy is intact. SHA-256 → ``mended`` or
    ``lost`` (no intact copy here either: only another target can help)."""
    pool = Target(target)
    if not pool.snapshots():
        raise NotFound(f"{target} 不是备份位置（修复须给出备份位置，而非其中的一份备份）。")
    outcomes = {}
    with pool.locked():
        named: dict[str, int] = {}
        for snapshot in pool.snapshots():
            named.update(Manifest.read(snapshot).files)
        for digest, size in named.items():
            path = pool.path_for(digest)
            if intact(path, digest, size):
                continue
            try:
                pool.put(storage.path_for(digest), digest)
                outcomes[digest] = "mended"
            except (FileNotFoundError, Damaged):
                outcomes[digest] = "lost"
            log.warning("backup target %s: file %s %s", target, digest, outcomes[digest])
    return outcomes
