"""Content-addressed file store: a file's name is its sha256.

Writes are atomic (temporary file, fsync, rename, fsync of the folder), so a crash
leaves either the whole file or none. A stored file nobody references is an orphan
of an interrupted filing; ``collect_orphans`` removes them at start-up.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from archive.errors import ArchiveError, FileMissing

log = logging.getLogger(__name__)


class StorageError(ArchiveError):
    code = "storage_error"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest_of(path: Path) -> str:
    """The SHA-256 of a file, read a block at a time (never whole into memory)."""
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def intact(path: Path, digest: str, size: int | None = None) -> bool:
    """Whether the file at ``path`` exists and still has the SHA-256 ``digest`` (and size)."""
    try:
        return (size is None or path.stat().st_size == size) and digest_of(path) == digest
    except FileNotFoundError:
        return False


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path_for(self, digest: str) -> Path:
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise StorageError(f"not a sha256 digest: {digest!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` durably; return its sha256. Storing the same bytes twice is free."""
        digest = sha256_of(data)
        target = self.path_for(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix=digest[:8], suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, target)
            fsync_dir(target.parent)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str, *, verify: bool = True) -> bytes:
        path = self.path_for(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise StorageError(f"stored file {digest} is missing") from exc
        if verify and sha256_of(data) != digest:
            raise StorageError(f"stored file {digest} is damaged (hash mismatch)")
        return data

    def read(self, digest: str, what: str) -> bytes:
        """``get`` for a file the catalogue names: one missing or damaged is a ``FileMissing``
        naming ``what`` (e.g. "合同 HT-… 的文件 销售合同-HT-….pdf") for people, not a fault."""
        try:
            return self.get(digest)
        except StorageError as exc:
            log.error("%s: %s", what, exc)
            raise FileMissing(f"{what}在文件库中缺失或已损坏（SHA-256 {digest}），无法读取；"
                              "请从备份恢复该文件。", sha256=digest) from exc  # fmt: skip

    def exists(self, digest: str) -> bool:
        return self.path_for(digest).exists()

    def delete(self, digest: str) -> None:
        self.path_for(digest).unlink(missing_ok=True)

    def digests(self) -> Iterator[str]:
        for path in self.root.glob("??/??/*"):
            if path.is_file() and len(path.name) == 64:
                yield path.name

    def collect_orphans(self, referenced: Iterable[str]) -> list[str]:
        """Delete stored files no catalogue row references, and leftover partial writes.

        Call only while holding the filing lock, so no filing is in flight.
        """
        keep = set(referenced)
        removed = [d for d in self.digests() if d not in keep]
        for digest in removed:
            self.delete(digest)
        for part in self.tmp.glob("*.part"):
            part.unlink(missing_ok=True)
        if removed:
            log.warning(
                "removed %d orphaned stored file(s) left by an interrupted filing", len(removed)
            )
        return removed


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
