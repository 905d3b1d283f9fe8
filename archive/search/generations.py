"""The index folder: numbered generations, a pointer to the current one, a writer lock.

::

    index/CURRENT        "gen-0003", replaced atomically (os.replace) on a switch
    index/gen-0003/      the engine's own files
    index/writer.lock    flock()ed around every write and rebuild, across processes

A rebuild writes a complete index into a new generation while searches keep answering
from the current one, then switches the pointer. Readers notice a switch by a stat of
``CURRENT`` (its inode changes with every replace) and reopen.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

_GEN = re.compile(r"gen-(\d+)")
Stamp = tuple[int, int, int]


class Generations:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.pointer = self.root / "CURRENT"

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive across threads and processes; a second writer waits, never fails."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "writer.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def stamp(self) -> Stamp | None:
        """What changes when the pointer is replaced; None when there is none yet."""
        try:
            info = self.pointer.stat()
        except FileNotFoundError:
            return None
        return info.st_ino, info.st_mtime_ns, info.st_size

    def current(self) -> Path | None:
        try:
            name = self.pointer.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        return self.root / name

    def _numbers(self) -> list[int]:
        found = (_GEN.fullmatch(p.name) for p in self.root.iterdir() if p.is_dir())
        return sorted(int(m.group(1)) for m in found if m)

    def new(self) -> Path:
        """A fresh, empty generation folder (call under :meth:`lock`)."""
        numbers = self._numbers()
        path = self.root / f"gen-{(numbers[-1] if numbers else 0) + 1:04d}"
        path.mkdir(parents=True)
        return path

    def switch(self, generation: Path) -> None:
        """Point CURRENT at ``generation``: written aside, synced, then renamed over."""
        staged = self.root / "CURRENT.new"
        with open(staged, "w", encoding="ascii") as handle:
            handle.write(generation.name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staged, self.pointer)
        folder = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename itself survives a crash
        finally:
            os.close(folder)
        log.info("index %s: switched to %s", self.root, generation.name)

    def remove_others(self) -> None:
        """Remove every generation but the current one (call under :meth:`lock`): the one
        just replaced, or a half-built one left by a crash."""
        current = self.current()
        for number in self._numbers():
            path = self.root / f"gen-{number:04d}"
            if path != current:
                shutil.rmtree(path, ignore_errors=True)
                log.info("index %s: removed %s", self.root, path.name)
