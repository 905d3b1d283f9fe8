"""The audit log: who did what, when, from where. Written in the same transaction as
the change it records, so a change without its audit entry cannot exist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.catalogue import Catalogue
from archive.models import AuditEntry, Document
from schemas.labels import local_day_bounds


@dataclass(frozen=True)
class Actor:
    """The user acting, as the domain sees them (no HTTP)."""

    name: str
    role: str
    client: str | None = None  # e.g. the remote address, or "cli"
    display_name: str | None = None  # what people read (王经理); records keep ``name``

    def can(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles


SYSTEM = Actor("system", "admin", "local")


def record(
    session: Session,
    actor: Actor,
    action: str,
    target: str | None = None,
    *,
    note: str | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditEntry(actor=actor.name, action=action, target=target, detail=detail,
                   client=actor.client, note=note)
    )  # fmt: skip


# Every retrieval is registered (查阅登记): a file, a bound volume, and a list taken away as a
# file (archive.exports).
RETRIEVALS = ("document.download", "volume.export", "search.export", "access_log.export")


def retrievals(
    catalogue: Catalogue,
    *,
    user: str | None = None,
    contract_no: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[AuditEntry]]:
    """The retrieval register (查阅登记), newest first: how many match, and one page.
    ``since`` and ``until`` are days of the catalogue's local time zone."""
    query = select(AuditEntry).where(AuditEntry.action.in_(RETRIEVALS))
    start, end = local_day_bounds(since, until, catalogue.zone)
    if user:
        query = query.where(AuditEntry.actor == user)
    if contract_no:
        query = query.where(AuditEntry.target == contract_no)
    if start:
        query = query.where(AuditEntry.at >= start)
    if end:
        query = query.where(AuditEntry.at <= end)
    with catalogue.reading() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
        return total, list(rows)


def documents_of(catalogue: Catalogue, entries: list[AuditEntry]) -> dict[int, dict[str, str]]:
    """The documents that retrievals name (``document_id``): id → kind, number, format,
    filename. A destroyed document keeps its row, so it is named too."""
    ids = sorted({e.detail["document_id"] for e in entries if (e.detail or {}).get("document_id")})
    found: dict[int, dict[str, str]] = {}
    with catalogue.reading() as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for doc in session.scalars(select(Document).where(Document.id.in_(chunk))):
                found[doc.id] = {"kind": doc.kind, "number": doc.number, "format": doc.format,
                                 "filename": doc.filename}  # fmt: skip
    return found


def entries(catalogue: Catalogue, *, target: str | None = None, limit: int = 200):
    with catalogue.reading() as session:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if target:
            query = query.where(AuditEntry.target == target)
        return list(session.scalars(query))
