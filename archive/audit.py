"""The audit log: who did what, when, from where. Written in the same transaction as
the change it records, so a change without its audit entry cannot exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
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


def entries(catalogue: Catalogue, *, target: str | None = None, limit: int = 200):
    with catalogue.reading() as session:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if target:
            query = query.where(AuditEntry.target == target)
        return list(session.scalars(query))
