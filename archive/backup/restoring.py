"""``restore``: a backup brought back into an empty data root, every hash checked first."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from archive import audit, chain, journal, retention
from archive.actor import Actor
from archive.backup.dump import empty, is_empty, load
from archive.backup.manifest import FILE, Manifest
from archive.backup.target import Damaged, Target
from archive.catalogue import known_revisions
from archive.chain import ChainCheck
from archive.errors import CatalogueTooNew, Conflict, NotFound
from archive.storage import Storage, fsync_dir, intact

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

STAGING = ".restoring-"  # the folder a restore builds in, inside the data root


def find(source: Path) -> Path:
    """The snapshot ``source`` names: a snapshot folder, or a target (its newest)."""
    source = Path(source)
    if (source / FILE).exists():
        return source
    snapshots = Target(source).snapshots()
    if not snapshots:
        raise NotFound(f"{source} 中没有备份（既不是一份备份，也不是备份位置）。")
    return snapshots[-1]


def check(snapshot: Path) -> tuple[Manifest, list[str]]:
    """Read every file of ``snapshot`` and compare it with its manifest: the manifest and
    what does not hold (empty: all verified)."""
    manifest = Manifest.read(snapshot)
    target = Target(snapshot.parent.parent)
    failures = []
    copy = snapshot / manifest.catalogue["file"]
    if not intact(copy, manifest.catalogue["sha256"]):
        failures.append(f"目录数据库副本 {copy.name} 缺失或与清单的 SHA-256 不符")
    for digest, size in manifest.files.items():
        path = target.path_for(digest)
        if not path.exists():
            failures.append(f"文件 {digest} 缺失")
        elif not intact(path, digest, size):
            failures.append(f"文件 {digest} 已损坏（与清单的 SHA-256 或大小不符）")
    return manifest, failures


@dataclass
class Restored:
    """What a restore verified and did, for people."""

    manifest: Manifest
    files: int = 0
    bytes: int = 0
    schema: tuple[str, str] = ("", "")  # the backup's revision, and the restored one's
    indexed: int = 0
    replayed: list[str] = field(default_factory=list)  # contracts destroyed again
    journal: str = ""  # how the destruction journal was used
    warnings: list[str] = field(default_factory=list)
    chain: ChainCheck | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "snapshot": self.manifest.name,
            "files": self.files,
            "bytes": self.bytes,
            "schema": list(self.schema),
            "indexed": self.indexed,
            "replayed": self.replayed,
            "journal": self.journal,
            "warnings": self.warnings,
            "counts": self.manifest.counts,
            "audit_chain": {
                "entries": self.chain.count,
                "head": str(self.chain.head),
                "intact": self.chain.intact,
                "problem": self.chain.problem,
            }
            if self.chain
            else None,
        }


def restore(
    snapshot: Path,
    *,
    data_dir: Path,
    database_url: str,
    open_archive: Callable[[Path], Archive],
    actor: Actor,
    without_journal: bool = False,
) -> Restored:
    """Check every hash, then build the archive in a folder of its own inside ``data_dir``
    (empty or new; it may be a mount point, its parent read-only): copy the catalogue (into
    the empty database ``database_url``, for a PostgreSQL backup) and the files, open it
    with ``open_archive`` (which migrates the catalogue forward), rebuild the search index,
    replay destructions approved after the backup, verify the audit chain — and only then
    move it into place. Nothing is left when any step fails (a PostgreSQL database is
    emptied again)."""
    data_dir = Path(data_dir).resolve()
    for stale in data_dir.glob(f"{STAGING}*"):  # left by a restore that was killed
        shutil.rmtree(stale, ignore_errors=True)
    if data_dir.exists() and any(data_dir.iterdir()):
        raise Conflict(f"{data_dir} 已有内容：只能恢复到一个空的（或新的）数据目录。")
    if database_url and not is_empty(database_url):
        raise Conflict("--database-url 指向的数据库不是空的：只能恢复到一个空数据库。")
    root = snapshot.parent.parent
    with Target(root).reading():
        revision = Manifest.read(snapshot).schema_revision
        if revision not in known_revisions():
            raise CatalogueTooNew(
                f"备份 {snapshot.name} 由更新版本的 hetong 制作（数据库版本 {revision}）："
                "请用该版本或更新的 hetong 恢复。未做任何恢复。"
            )
        manifest, failures = check(snapshot)
        if failures:
            raise Damaged(
                f"备份 {snapshot.name} 未通过校验（{len(failures)} 处），未做任何恢复："
                + "；".join(failures[:5]),
                failures=failures,
            )
        if (manifest.dialect == "postgresql") != bool(database_url):
            raise Conflict(
                "该备份的目录数据库是 PostgreSQL：请用 --database-url 指定一个空数据库。"
                if manifest.dialect == "postgresql"
                else "该备份的目录数据库是 SQLite，恢复为数据目录中的文件：不要给 --database-url。"
            )
        entries = journal.read(root)
        if entries is None and not without_journal:
            raise Conflict(
                "备份位置没有销毁日志（journal/destructions.jsonl）：无法确认此备份之后"
                "批准的销毁，恢复可能让已销毁的合同重新出现。确认无误后加 --without-journal。"
            )
        created = not data_dir.exists()
        staging = data_dir / f"{STAGING}{secrets.token_hex(4)}"
        staging.mkdir(parents=True)
        try:
            restored = _build(snapshot, manifest, staging, database_url, open_archive, actor,
                              entries, journal.is_live(root))  # fmt: skip
            for part in staging.iterdir():  # one folder: each move is a rename
                os.replace(part, data_dir / part.name)
            staging.rmdir()
            data_dir.chmod(0o700)  # as a data root is (service.ext)
            fsync_dir(data_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            for part in list(data_dir.iterdir()):  # moved before a failure: it was empty
                shutil.rmtree(part) if part.is_dir() else part.unlink()
            if created:
                data_dir.rmdir()
            if database_url:
                empty(database_url)
            raise
    log.info("restored backup %s into %s", manifest.name, data_dir)
    return restored


def _build(snapshot: Path, manifest: Manifest, staging: Path, database_url: str,
           open_archive: Callable[[Path], Archive], actor: Actor,
           entries: list[dict[str, Any]] | None, live: bool) -> Restored:  # fmt: skip
    load(snapshot / manifest.catalogue["file"], data_dir=staging, database_url=database_url)
    restored = Restored(manifest)
    storage, pool = Storage(staging / "files"), Target(snapshot.parent.parent)
    for digest in manifest.files:
        data = pool.path_for(digest).read_bytes()
        if storage.put(data) != digest:  # checked above; a change since is a fault
            raise Damaged(f"文件 {digest} 在恢复期间发生变化")
        restored.files += 1
        restored.bytes += len(data)
    archive = open_archive(staging)
    try:
        with archive.catalogue.reading() as session:
            revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        restored.schema = (manifest.schema_revision, revision)
        restored.indexed = archive.indexer.rebuild()
        for entry in entries or ():
            restored.replayed += retention.replay(archive, entry, actor)
        restored.journal = (
            "没有销毁日志（按 --without-journal 恢复）"
            if entries is None
            else f"销毁日志 {len(entries)} 条，重放 {len(restored.replayed)} 份合同"
        )
        if entries is not None and not live:
            restored.warnings.append(
                "这个备份位置的销毁日志只在备份时更新：最后一次备份之后批准的销毁无从得知"
                "（把它列入 HETONG_BACKUP_TARGETS，销毁日志就随批准写入）。"
            )
        head = chain.ChainHead.parse(manifest.audit_head)
        restored.chain = chain.verify(archive.catalogue, against=head)
        with archive.catalogue.writing() as session:
            audit.record(session, actor, "backup.restore", None, **restored.summary())
    finally:
        archive.close()
    return restored
