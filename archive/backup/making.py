"""``create``: one backup of a running archive, to every target."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from archive import audit, fixity, journal
from archive.actor import Actor
from archive.backup.dump import dump
from archive.backup.manifest import Manifest
from archive.backup.target import Damaged, Target, copy_verified
from archive.errors import Conflict, Forbidden, InvalidData
from archive.models import Destruction, utcnow
from archive.storage import Storage, digest_of

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


def create(
    archive: Archive,
    actor: Actor,
    targets: list[Path],
    *,
    keep_last: int = 3,
    keep_daily: int = 7,
    keep_monthly: int = 12,
    progress: Progress | None = None,
) -> Manifest:
    """Back up the catalogue and every file it names to the first target, copy that snapshot
    to the others, bring their destruction journals up to date and prune old snapshots."""
    if not (actor.operator or actor.can("archivist")):
        raise Forbidden("备份由档案管理员或本机管理员进行。")
    if not targets:
        raise InvalidData(
            {"to": ["未指定备份位置"]},
            "未指定备份位置：请用 --to 指定目录，或设置 HETONG_BACKUP_TARGETS。",
        )
    # The same folder named twice (or by two paths) is one target.
    first, *others = [Target(t) for t in dict.fromkeys(Path(t).resolve() for t in targets)]
    # Nodes sharing a PostgreSQL catalogue may share the targets too (a file lock on a share
    # may not hold across machines): one backup at a time, from start to end.
    with archive.catalogue.lock("backup"):
        try:
            with first.locked():
                now, name = _name(first)
                manifest = _snapshot(archive, first, name, now, progress)
                _keep(archive, first, (keep_last, keep_daily, keep_monthly))
        except journal.NotATarget as exc:
            raise Conflict(str(exc)) from exc
        for target in others:  # one unreachable (a share not mounted) does not stop the rest
            try:
                with first.reading(), target.locked():
                    copied = replicate(first, name, target, archive.storage)
                    _keep(archive, target, (keep_last, keep_daily, keep_monthly))
            except (OSError, Damaged) as exc:
                log.error("backup %s could not be copied to %s: %s", name, target, exc)
                manifest.unreached[str(target)] = str(exc)
            else:
                log.info("backup %s copied to %s: %d new files", name, target, copied)
    with archive.catalogue.writing() as session:
        summary = {k: v for k, v in manifest.summary().items() if k not in ("gone", "problems")}
        audit.record(
            session,
            actor,
            "backup.create",
            None,
            targets=[str(t) for t in targets],
            problems=[p["sha256"] for p in manifest.problems],
            **summary,
        )
    return manifest


def _name(target: Target) -> tuple[dt.datetime, str]:
    """The time of a new snapshot, and its name: a second of its own on this target."""
    while True:
        now = utcnow().replace(microsecond=0)
        name = now.strftime("%Y%m%dT%H%M%SZ")
        if not (target.snapshots_dir / name).exists():
            return now, name
        time.sleep(0.2)


def _snapshot(
    archive: Archive, target: Target, name: str, now: dt.datetime, progress: Progress | None
) -> Manifest:
    staging = target.stage(name)
    try:
        filename, found = dump(archive.catalogue, staging)
        files: dict[str, int] = {}
        missing: list[str] = []
        copied = {"files": 0, "bytes": 0}
        for n, (digest, size) in enumerate(found.files.items(), 1):
            if target.has(digest, size):
                files[digest] = size if size is not None else target.path_for(digest).stat().st_size
            else:
                try:
                    files[digest] = target.put(archive.storage.path_for(digest), digest)
                    copied["files"] += 1
                    copied["bytes"] += files[digest]
                except (FileNotFoundError, Damaged):
                    missing.append(digest)
            if progress and (n % 1000 == 0 or n == len(found.files)):
                progress(n, len(found.files))
        gone, problems = _missing(archive, missing)
        copy = staging / filename
        manifest = Manifest(
            name=name,
            created_at=now.isoformat(),
            hetong_version=_version(),
            schema_revision=found.revision,
            dialect=archive.catalogue.dialect,
            catalogue={"file": filename, "sha256": digest_of(copy), "size": copy.stat().st_size},
            counts=found.counts,
            audit_head=found.audit_head,
            files=files,
            gone=gone,
            problems=problems,
            copied=copied,
        )
        manifest.write(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    target.publish(staging, name)
    return manifest


def _missing(archive: Archive, digests: list[str]) -> tuple[list[str], list[dict]]:
    """Split files that could not be copied: destroyed since the catalogue was copied (no
    live row names them any more), or a problem of the file store (named, for people)."""
    with archive.catalogue.reading() as session:
        named = fixity.names(session, set(digests))
    gone = [d for d in digests if not named.get(d)]
    problems = [{"sha256": d, "problem": "damaged" if archive.storage.exists(d) else "missing",
                 "documents": [name for _, name in named[d]]}
                for d in digests if named.get(d)]  # fmt: skip
    for problem in problems:
        log.error("backup: stored file %s is %s: %s", problem["sha256"], problem["problem"],
                  "; ".join(problem["documents"]))  # fmt: skip
    return gone, problems


def replicate(source: Target, name: str, target: Target, live: Storage) -> int:
    """Copy snapshot ``name`` of ``source`` to ``target``: the pool files it lacks (checked on
    the way; one damaged in ``source`` is taken from the live store ``live`` instead, and
    mended in ``source`` too), then the snapshot itself; how many files were new."""
    manifest = Manifest.read(source.snapshots_dir / name)
    copied = 0
    for digest, size in manifest.files.items():
        if target.has(digest, size):
            continue
        try:
            target.put(source.path_for(digest), digest)
        except (FileNotFoundError, Damaged):
            log.error("backup target %s: file %s is damaged; taken from the file store", source,
                      digest)  # fmt: skip
            target.put(live.path_for(digest), digest)
            source.put(live.path_for(digest), digest)
        copied += 1
    staging = target.stage(name)
    folder = source.snapshots_dir / name
    expected = {
        manifest.catalogue["file"]: manifest.catalogue["sha256"],
        "manifest.json": digest_of(folder / "manifest.json"),
    }
    for part, digest in expected.items():
        copy_verified(folder / part, staging / part, digest, target.tmp)
    target.publish(staging, name)
    return copied


def _keep(archive: Archive, target: Target, policy: tuple[int, int, int]) -> None:
    """Bring the target's destruction journal up to date, then prune its old snapshots."""
    with archive.catalogue.reading() as session:
        entries = [
            journal.entry(d) for d in session.scalars(select(Destruction).order_by(Destruction.id))
        ]
    journal.append(target.root, entries)
    last, daily, monthly = policy
    removed = target.prune(last=last, daily=daily, monthly=monthly, zone=archive.zone)
    if removed:
        log.info("backup target %s: pruned %s", target, ", ".join(removed))


def _version() -> str:
    try:
        return metadata.version("hetong")
    except metadata.PackageNotFoundError:
        return "unknown"
