"""待办: what waits for a person — drafts waiting for a review step they decide, their drafts
returned for correcting, and effective contracts whose signed copy (回签) has not come back
within ``archive.signed_copy_days`` of approval."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, select

from archive import reviews
from archive.access import scope_of
from archive.actor import Actor
from archive.dossier import SIGNED_SCAN
from archive.models import Contract, Document, iso

if TYPE_CHECKING:
    from archive.core import Archive

KIND_NAMES = {"review": "待审批", "returned": "退回修改", "signed_copy": "待回签"}


def countersigned():
    """SQL: the contract has its signed copy (a signed scan) in the dossier."""
    return exists().where(Document.contract_id == Contract.id, Document.kind == SIGNED_SCAN,
                          Document.destroyed_at.is_(None))  # fmt: skip


def missing_signed_copies(archive: Archive, actor: Actor, *, as_of: dt.date | None = None,
                          days: int | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Effective contracts ``actor`` sees, approved more than ``days`` ago (default
    ``archive.signed_copy_days``), with no signed copy yet; the oldest approval first."""
    day = as_of or dt.date.today()
    wait = archive.signed_copy_days if days is None else days
    cutoff = dt.datetime.combine(day - dt.timedelta(days=wait), dt.time.max, tzinfo=dt.UTC)
    with archive.catalogue.reading() as session:
        rows = session.scalars(
            select(Contract).where(Contract.status == "effective", ~countersigned(),
                                   Contract.approved_at <= cutoff,
                                   scope_of(session, actor).where())
            .order_by(Contract.approved_at, Contract.id)
        ).all()  # fmt: skip
    return [{"kind": "signed_copy", "contract_no": c.contract_no, "buyer": c.buyer_name,
             "total": f"{c.total:.2f}", "owner": c.owner, "since": iso(c.approved_at),
             "days": (day - c.approved_at.date()).days, "step": None, "note": None}
            for c in rows]  # fmt: skip


def tasks(archive: Archive, actor: Actor) -> list[dict[str, Any]]:
    """Everything waiting for ``actor``: reviews first, then returned drafts, then missing
    signed copies (their own contracts; a manager's: every one they oversee)."""
    found = [_entry("review", c, step=c.review_step) for c in reviews.waiting_for(archive, actor)]
    for contract in reviews.returned_to(archive, actor):
        last = next((r for r in reversed(contract.reviews) if r.decision == "returned"), None)
        found.append(_entry("returned", contract, step=last.step if last else None,
                            note=last.note if last else None))  # fmt: skip
    if actor.can("clerk", "manager") and actor.role != "admin":
        for entry in missing_signed_copies(archive, actor):
            if actor.role == "manager" or entry["owner"] == actor.name:
                found.append(entry)
    return found


def _entry(kind: str, contract: Contract, *, step: str | None = None,
           note: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {"kind": kind, "contract_no": contract.contract_no, "buyer": contract.buyer_name,
            "total": f"{contract.total:.2f}", "owner": contract.owner,
            "since": iso(contract.updated_at), "days": None, "step": step,
            "note": note}  # fmt: skip
