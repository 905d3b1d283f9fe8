"""The destruction journal kept beside the backups: one JSON line per approved destruction,
appended to ``journal/destructions.jsonl`` of every backup target as soon as it is approved.

A backup is older than the destructions approved after it; the journal is not. Restoring
that backup replays what the journal holds and the restored catalogue does not, so a contract
destroyed after the backup stays destroyed (``archive.retention.replay``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from archive.models import Destruction
from archive.storage import fsync_dir

log = logging.getLogger(__name__)

FILE = Path("journal") / "destructions.jsonl"
# What makes a folder a backup target (``hetong backup init``): a share not mounted is an
# empty folder without it, and nothing is ever written there.
MARKER = "HETONG-BACKUP-TARGET"


class NotATarget(OSError):
    """The folder is no initialised backup target (or its share is not mounted)."""


def ready(target: Path) -> Path:
    """``target``, when it is an initialised backup target; else ``NotATarget``."""
    target = Path(target)
    if not (target / MARKER).is_file():
        raise NotATarget(
            f"{target} 不是已初始化的备份位置（共享未挂载？先运行 hetong backup init）"
        )
    return target


def entry(destruction: Destruction) -> dict[str, Any]:
    """What the journal keeps of one approval: enough to carry it out again."""
    return {
        "destruction": destruction.id,
        "approved_by": destruction.approved_by,
        "approved_at": destruction.approved_at.isoformat(),
        "note": destruction.note,
        "contracts": [item["contract_no"] for item in destruction.items],
        "certificates": destruction.certificates or [],
    }


def path(target: Path) -> Path:
    return Path(target) / FILE


def read(target: Path) -> list[dict[str, Any]] | None:
    """The journal of a backup target; None when the target has none at all."""
    file = path(target)
    if not file.exists():
        return None
    return list(_lines(file))


def _lines(file: Path) -> Iterator[dict[str, Any]]:
    with file.open("rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                yield json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):  # cut short by a crash
                log.warning("%s: skipped an unreadable line", file)


def append(target: Path, entries: Iterable[dict[str, Any]]) -> int:
    """Append the entries this target's journal does not hold yet; how many were new."""
    file = path(ready(target))
    if not file.parent.is_dir():
        file.parent.mkdir()
        fsync_dir(file.parent.parent)
    file.touch()
    known = {(e.get("destruction"), e.get("approved_at")) for e in _lines(file)}
    new = [e for e in entries if (e["destruction"], e["approved_at"]) not in known]
    if new:
        torn = file.stat().st_size and not _ends_a_line(file)
        with file.open("a", encoding="utf-8") as fh:
            if torn:  # a line a crash cut short must not swallow the next entry
                fh.write("\n")
            for item in new:
                fh.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        fsync_dir(file.parent)
    return len(new)


def _ends_a_line(file: Path) -> bool:
    with file.open("rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def publish(targets: Iterable[Path], entries: list[dict[str, Any]]) -> bool:
    """Append to every target as a destruction is approved; whether all were written. One
    that cannot be (a share not mounted) is logged: the caller keeps the files until a
    later try succeeds. A target written here is marked as journaled live."""
    written = True
    for target in targets:
        try:
            append(target, entries)
            live_marker(target).touch()
        except Exception:  # anything: the files then wait, the archive goes on
            log.exception("destruction journal: could not write to backup target %s", target)
            written = False
    return written


def live_marker(target: Path) -> Path:
    """Present when the target's journal is written as destructions are approved (it is
    one of HETONG_BACKUP_TARGETS), not only by each backup."""
    return Path(target) / FILE.parent / "live"


def is_live(target: Path) -> bool:
    return live_marker(target).exists()
