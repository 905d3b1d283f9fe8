"""One backup target on disk: its shared file pool, its snapshots, what is kept of them."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from archive import journal
from archive.backup.manifest import FILE, Manifest
from archive.errors import ArchiveError
from archive.locks import exclusive
from archive.models import utcnow
from archive.storage import fsync_dir

log = logging.getLogger(__name__)

CHUNK = 1 << 20
PARTIAL = ".partial-"


class Damaged(ArchiveError):
    """A file whose bytes no longer have the SHA-256 it is named by."""

    code = "damaged"


def copy_verified(source: Path, target: Path, digest: str, tmp_dir: Path) -> int:
    """Copy ``source`` to ``target`` atomically, checking on the way that its bytes have the
    SHA-256 ``digest``; the size copied. ``Damaged`` (nothing written) when they do not."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, part = tempfile.mkstemp(dir=tmp_dir, prefix=digest[:8], suffix=".part")
    try:
        sha, size = hashlib.sha256(), 0
        with source.open("rb") as src, os.fdopen(fd, "wb") as dst:
            while block := src.read(CHUNK):
                sha.update(block)
                size += len(block)
                dst.write(block)
            dst.flush()
            os.fsync(dst.fileno())
        if sha.hexdigest() != digest:
            raise Damaged(f"{source} 的内容与其 SHA-256 {digest} 不符")
        os.replace(part, target)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise
    return size


class Target:
    """A folder that holds backups (see ``archive.backup``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.files = self.root / "files"
        self.snapshots_dir = self.root / "snapshots"
        self.tmp = self.root / "tmp"

    def __str__(self) -> str:
        return str(self.root)

    @classmethod
    def init(cls, root: Path) -> Target:
        """Make ``root`` a backup target (with its share mounted, for an off-site one): only
        an initialised folder is ever written to, so a share that is not mounted — an empty
        folder — never silently takes a backup or the destruction journal on the local disk."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o700)
        marker = root / journal.MARKER
        if not marker.exists():
            marker.write_text(f"hetong backup target, initialised {utcnow().isoformat()}\n")
        return cls(root)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One backup at a time writes to a target, and prunes it only when nobody reads it
        (a restore, a check): they wait for each other. The target holds the whole archive:
        only its owner may enter it. ``journal.NotATarget`` when it is not initialised."""
        journal.ready(self.root)
        for folder in (self.files, self.snapshots_dir, self.tmp):
            folder.mkdir(exist_ok=True)
        self.root.chmod(0o700)
        with exclusive(self.root / ".lock"):
            yield

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Read snapshots and files without a backup pruning them meanwhile."""
        with ExitStack() as held:
            try:
                held.enter_context(exclusive(self.root / ".lock", shared=True))
            except OSError:  # read-only media (a disc, a share mounted read-only): none writes
                log.info("backup target %s is read-only: read without its lock", self.root)
            yield

    # -- the file pool -----------------------------------------------------------------------

    def path_for(self, digest: str) -> Path:
        return self.files / digest[:2] / digest[2:4] / digest

    def has(self, digest: str, size: int | None = None) -> bool:
        """Whether the pool holds ``digest`` (of ``size`` bytes, when known). Its bytes are
        checked by ``restoring.check``, not on every backup."""
        try:
            found = self.path_for(digest).stat().st_size
        except FileNotFoundError:
            return False
        return size is None or found == size

    def put(self, source: Path, digest: str) -> int:
        self.tmp.mkdir(parents=True, exist_ok=True)
        return copy_verified(source, self.path_for(digest), digest, self.tmp)

    # -- snapshots ---------------------------------------------------------------------------

    def snapshots(self) -> list[Path]:
        """Complete snapshots, oldest first."""
        if not self.snapshots_dir.is_dir():
            return []
        return sorted(
            p
            for p in self.snapshots_dir.iterdir()
            if p.is_dir() and not p.name.startswith(PARTIAL) and (p / FILE).exists()
        )

    def stage(self, name: str) -> Path:
        """A folder to build snapshot ``name`` in; ``publish`` makes it visible."""
        for stale in self.snapshots_dir.glob(f"{PARTIAL}*"):  # left by a run cut short
            shutil.rmtree(stale, ignore_errors=True)
        folder = self.snapshots_dir / f"{PARTIAL}{name}"
        folder.mkdir(parents=True)
        return folder

    def publish(self, staging: Path, name: str) -> Path:
        final = self.snapshots_dir / name
        os.replace(staging, final)
        fsync_dir(self.snapshots_dir)
        return final

    # -- what is kept ------------------------------------------------------------------------

    def prune(self, *, last: int, daily: int, monthly: int, zone: ZoneInfo) -> list[str]:
        """Keep the newest ``last`` snapshots (at least one), the newest of each of the last
        ``daily`` days that have one, and of each of the last ``monthly`` months; remove the
        others, then the pool files no remaining snapshot names. The snapshots removed."""
        snapshots = self.snapshots()[::-1]  # newest first
        keep = set(snapshots[: max(last, 1)])
        days: dict[dt.date, Path] = {}
        months: dict[tuple[int, int], Path] = {}
        for snapshot in snapshots:
            day = _local_day(snapshot.name, zone)
            days.setdefault(day, snapshot)
            months.setdefault((day.year, day.month), snapshot)
        keep |= set(list(days.values())[:daily]) | set(list(months.values())[:monthly])
        removed = [s for s in snapshots if s not in keep]
        for snapshot in removed:
            shutil.rmtree(snapshot)
        if removed:
            self._collect()
        return [s.name for s in removed]

    def _collect(self) -> int:
        named: set[str] = set()
        for snapshot in self.snapshots():
            named |= set(Manifest.read(snapshot).files)
        unnamed = [p for p in self.files.glob("??/??/*") if p.name not in named]
        for path in unnamed:
            path.unlink()
        log.info("backup target %s: %d files no snapshot names removed", self.root, len(unnamed))
        return len(unnamed)


def _local_day(name: str, zone: ZoneInfo) -> dt.date:
    at = dt.datetime.strptime(name, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    return at.astimezone(zone).date()
