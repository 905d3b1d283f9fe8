"""A snapshot's manifest: what it holds and how to tell that it is intact."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FILE = "manifest.json"
FORMAT = 1


@dataclass
class Manifest:
    name: str  # the snapshot's folder, its UTC time: 20261125T063000Z
    created_at: str  # ISO, UTC
    hetong_version: str
    schema_revision: str
    dialect: str  # sqlite | postgresql: how the catalogue was copied
    catalogue: dict[str, Any]  # {"file", "sha256", "size"}
    counts: dict[str, int]
    audit_head: str  # "id:hash" of the newest audit entry in the copy
    files: dict[str, int]  # sha256 → size of every stored file the catalogue names
    # Files the catalogue named that could not be copied: destroyed while the backup ran
    # ("gone": the journal and start-up finish their destruction), or missing or damaged
    # in the file store and in no earlier backup ("problems", named for people).
    gone: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    copied: dict[str, int] = field(default_factory=dict)  # files and bytes new to the target
    # Further targets the snapshot could not be copied to, and why (reported by the run that
    # made it; empty in the manifest file, which is written before the copies).
    unreached: dict[str, str] = field(default_factory=dict)
    format: int = FORMAT

    @property
    def bytes(self) -> int:
        return sum(self.files.values())

    def write(self, folder: Path) -> None:
        path = Path(folder) / FILE
        with path.open("w", encoding="utf-8") as fh:
            json.dump(asdict(self), fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        data = json.loads((Path(folder) / FILE).read_text("utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(
                f"备份清单格式 {data.get('format')} 不受支持（本程序读取格式 {FORMAT}）。"
            )
        return cls(**data)

    def summary(self) -> dict[str, Any]:
        """The manifest without its file list (for people, the audit log, --json)."""
        data = asdict(self)
        data.pop("files")
        return {**data, "file_count": len(self.files), "bytes": self.bytes}
