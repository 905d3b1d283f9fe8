"""A contract's dossier as the operations need it: loading it (or its tombstone once it is
destroyed), its state checks, and the quantities already shipped per line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.access import own_scope, scope_of
from archive.actor import Actor
from archive.catalogue import Catalogue
from archive.errors import Conflict, Forbidden, Gone, NotFound
from archive.models import AuditEntry, Contract, User
from schemas.labels import STATUS_NAMES as STATUS_TEXT
from schemas.labels import local_date, person

# The countersigned copy a customer sends back (回签), filed by archive.scans.
SIGNED_SCAN = "signed_scan"


def load(session: Session, contract_no: str, actor: Actor, *, allow_destroyed: bool = False,
         lock: bool = False, write: bool = False) -> Contract:  # fmt: skip
    """The contract with its whole dossier, as ``actor`` may see it: ``NotFound`` for one
    outside their scope (as for one that does not exist: its existence is not told),
    ``Gone`` with the tombstone once destroyed.

    ``lock`` in a write transaction: the contract's row stays locked until it ends, so two
    changes to one contract (two payments, say) take turns on PostgreSQL as on SQLite. A
    lock means a change is coming (as does ``write``): an access request or a loan lets a
    person read a contract, never change it, so only their own role and place count."""
    query = (
        select(Contract)
        .where(Contract.contract_no == contract_no)
        .options(selectinload(Contract.documents), selectinload(Contract.amendments),
                 selectinload(Contract.deliveries), selectinload(Contract.payments),
                 selectinload(Contract.revisions), selectinload(Contract.customer),
                 selectinload(Contract.reviews))
    )  # fmt: skip
    contract = session.scalar(query.with_for_update(of=Contract) if lock else query)
    if contract is None or not scope_of(session, actor).allows(contract):
        raise NotFound(f"合同 {contract_no} 不存在。")
    if (lock or write) and not own_scope(actor).allows(contract):
        raise Forbidden(f"合同 {contract_no} 经查阅申请或借阅只可查阅，不能修改。")
    if contract.gone and not allow_destroyed:
        raise Gone(
            f"合同 {contract_no} 已于 {destroyed_on(session, contract)} 经 "
            f"{approver(session, contract.destroyed_by)} 批准销毁，仅保留登记信息。",
            tombstone=register_entry(session, contract),
        )
    return contract


def destroyed_on(session: Session, contract: Contract) -> str:
    """The day of the destruction's approval, in local time (``session.info["zone"]``)."""
    zone = session.info.get("zone")
    day = local_date(contract.destroyed_at, zone) if zone else contract.destroyed_at.date()
    return day.isoformat()


def approver(session: Session, login: str | None) -> str:
    """Who approved, as people read it: ``王经理（wang）``."""
    shown = session.scalar(select(User.display_name).where(User.name == login)) if login else None
    return person(login, shown)


def fetch(catalogue: Catalogue, contract_no: str, actor: Actor, *,
          write: bool = False) -> Contract:  # fmt: skip
    """``load`` in a read transaction of its own (``write``: for a change to come)."""
    with catalogue.reading() as session:
        return load(session, contract_no, actor, write=write)


def tombstone(contract: Contract) -> dict[str, Any]:
    """What the register keeps of a destroyed contract (and what its destruction lists)."""
    return {
        "contract_no": contract.contract_no, "archival_code": contract.archival_code,
        "seller": contract.seller_name, "buyer": contract.buyer_name,
        "region": contract.region, "signed_on": contract.signed_on.isoformat(),
        "status": contract.status, "total": f"{contract.total:.2f}",
        "paid": f"{contract.paid:.2f}",
        "documents": [{"kind": d.kind, "number": d.number, "format": d.format,
                       "sha256": d.sha256} for d in contract.documents],
    }  # fmt: skip


def register_entry(session: Session, contract: Contract) -> dict[str, Any]:
    """The tombstone of a destroyed contract with its destruction: when, approved by whom,
    and the number of the destruction certificate (销毁记录) that lists it."""
    approval = session.scalar(
        select(AuditEntry.detail)
        .where(AuditEntry.target == contract.contract_no,
               AuditEntry.action == "retention.destroy_approved")
        .order_by(AuditEntry.id.desc()).limit(1)
    )  # fmt: skip
    destroyed_at = contract.destroyed_at
    return {
        **tombstone(contract),
        "destroyed_at": destroyed_at.isoformat(timespec="seconds") if destroyed_at else None,
        "destroyed_by": contract.destroyed_by,
        "certificate": (approval or {}).get("certificate"),
    }


class Changed(Conflict):
    """The contract changed between rendering a document for it and filing that document."""


def touch(contract: Contract) -> None:
    """Mark a change of the dossier (see ``unchanged``)."""
    contract.version = (contract.version or 0) + 1


def unchanged(contract: Contract, seen: Contract) -> None:
    """In the filing transaction: refuse to file a document rendered from an older state."""
    if contract.version != seen.version:
        raise Changed(f"合同 {contract.contract_no} 在生成文件期间已被修改，请重试。")


def require_status(contract: Contract, allowed: tuple[str, ...], what: str) -> None:
    if contract.status not in allowed:
        wanted = "、".join(STATUS_TEXT[s] for s in allowed)
        raise Conflict(
            f"合同 {contract.contract_no} {STATUS_TEXT[contract.status]}，"
            f"只有{wanted}的合同可以{what}。",
            current=contract.status,
        )


def delivered(contract: Contract) -> list[Decimal]:
    """Quantity shipped so far, per line of the contract."""
    shipped = [Decimal(0)] * len(contract.terms["items"])
    for delivery in contract.deliveries:
        for line in delivery.lines:
            shipped[line["item"]] += Decimal(line["quantity"])
    return shipped
