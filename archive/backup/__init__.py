"""Backups that outlive the machine, and restoring them.

A backup target is a folder (local, or a mounted share for the off-site copy)::

    files/ab/cd/<sha256>          every stored file once, shared by all snapshots
    snapshots/<YYYYmmddTHHMMSSZ>/ one per backup: manifest.json and the catalogue
    journal/destructions.jsonl    destructions approved, appended as they happen

Files are content-addressed, so a backup copies only what the target lacks. A snapshot
becomes visible only when complete (built under ``snapshots/.partial-…``, then renamed).

``create`` makes one (``archive.backup.making``), ``restore`` brings one back into an empty
data root after checking every hash (``archive.backup.restoring``), ``repair`` puts back the
files a fixity check found missing or damaged (``archive.backup.repairing``).
"""

from archive.backup.making import create
from archive.backup.manifest import Manifest
from archive.backup.repairing import mend, repair
from archive.backup.restoring import Restored, check, find, restore
from archive.backup.target import Target

__all__ = ["Manifest", "Restored", "Target", "check", "create", "find", "mend", "repair", "restore"]
