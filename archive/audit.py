"""The audit log: who did what, when, from where. Written in the same transaction as
the change it records, so a change without its audit entry cannot exist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.catalogue import Catalogue
from archive.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """The user acting, as the domain sees them (no HTTP)."""

    name: str
    role: str
    client: str | None = None  # e.g. the remote address, or "cli"

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


RETRIEVALS = ("document.download", "volume.export")


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
    """The retrieval register (查阅登记), newest first: how many match, and one page."""
    query = select(AuditEntry).where(AuditEntry.action.in_(RETRIEVALS))
    if user:
        query = query.where(AuditEntry.actor == user)
    if contract_no:
        query = query.where(AuditEntry.target == contract_no)
    if since:
        query = query.where(AuditEntry.at >= dt.datetime.combine(since, dt.time.min, dt.UTC))
    if until:
        query = query.where(AuditEntry.at <= dt.datetime.combine(until, dt.time.max, dt.UTC))
    with catalogue.reading() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
        return total, list(rows)


def entries(catalogue: Catalogue, *, target: str | None = None, limit: int = 200):
    with catalogue.reading() as session:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if target:
            query = query.where(AuditEntry.target == target)
        return list(session.scalars(query))
