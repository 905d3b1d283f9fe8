"""The audit log: who did what, when, from where. Written in the same transaction as
the change it records, so a change without its audit entry cannot exist."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive import chain
from archive.access import Scope, scope_of
from archive.actor import Actor
from archive.catalogue import Catalogue
from archive.models import AuditEntry, Contract, Document, utcnow
from schemas.labels import local_day_bounds


def record(
    session: Session,
    actor: Actor,
    action: str,
    target: str | None = None,
    *,
    note: str | None = None,
    **detail: Any,
) -> None:
    """Add an entry to the transaction of ``session``; it joins the hash chain as the
    transaction commits (``archive.chain``)."""
    chain.add(session, AuditEntry(actor=actor.name, action=action, target=target,
                                  client=actor.client, note=note, at=utcnow(),
                                  detail=chain.canonical(detail)))  # fmt: skip


# Every retrieval is registered (查阅登记): a file, a bound volume, a list taken away as a
# file (archive.exports), a dossier lent (archive.loans), and a contract's data shown in a
# template's preview (archive.previews).
RETRIEVALS = (
    "document.download",
    "dossier.view",
    "volume.export",
    "search.export",
    "access_log.export",
    "loan.lend",
    "template.preview",
)


def retrievals(
    catalogue: Catalogue,
    actor: Actor,
    *,
    user: str | None = None,
    contract_no: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[AuditEntry]]:
    """The retrieval register (查阅登记), newest first: how many match, and one page.
    ``since`` and ``until`` are days of the catalogue's local time zone. Entries about a
    contract ``actor`` may not see are left out (as if they did not exist)."""
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
        scope = scope_of(session, actor)
        if not scope.everything:
            known = select(Contract.contract_no)
            visible = known.where(scope.where())
            query = query.where(or_(AuditEntry.target.is_(None), AuditEntry.target.notin_(known),
                                    AuditEntry.target.in_(visible)))  # fmt: skip
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)
                                    .offset(offset)))  # fmt: skip
        if not scope.everything:
            _narrow(session, rows, scope)
        return total, rows


def _narrow(session: Session, rows: list[AuditEntry], scope: Scope) -> None:
    """A bound volume's entry lists its contracts: keep those the reader may see (the
    entries are detached copies; nothing is written back)."""
    named = {no for e in rows for key in LISTED for no in (e.detail or {}).get(key) or ()}
    if not named:
        return
    visible = set(session.scalars(select(Contract.contract_no).where(
        Contract.contract_no.in_(sorted(named)), scope.where())))  # fmt: skip
    for entry in rows:
        detail = entry.detail or {}
        if any(key in detail for key in LISTED):
            session.expunge(entry)
            entry.detail = {**detail, **{key: [no for no in detail[key] if no in visible]
                                         for key in LISTED if key in detail}}  # fmt: skip


# The lists of contract numbers an entry's detail may hold (volume.export).
LISTED = ("contracts", "destroyed")


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
    """What was done to ``target`` (a dossier's audit trail), newest first; the views of a
    dossier are left to the retrieval register, where they would otherwise crowd it out."""
    with catalogue.reading() as session:
        query = (select(AuditEntry).where(AuditEntry.action != "dossier.view")
                 .order_by(AuditEntry.id.desc()).limit(limit))  # fmt: skip
        if target:
            query = query.where(AuditEntry.target == target)
        return list(session.scalars(query))
