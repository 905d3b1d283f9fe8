"""Volumes (按年、按区域装订成册): which volumes the archive holds, and what is in each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import case, extract, func, or_, select

from archive.access import scope_of
from archive.actor import Actor
from archive.models import GONE, Contract, Document

if TYPE_CHECKING:
    from archive.core import Archive


KINDS = ("regular", "unpaid")
UNPAID_STATE = "unpaid_volume"


def title(year: int, region: str, kind: str = "regular") -> str:
    """``2020·华东``, or ``2020·华东·未收款另册`` (the name the retention sweep gives it)."""
    return f"{year}·{region}" + ("·未收款另册" if kind == "unpaid" else "")


def in_volume(kind: str):
    """Which contracts of a year × region a volume holds: the unpaid volume those the sweep
    set apart with money owed; the regular volume every other one (its destroyed contracts
    too, named in its 备考表). A contract is bound in one of them, never both."""
    unpaid = Contract.retention_state == UNPAID_STATE
    if kind == "unpaid":
        return unpaid
    return or_(Contract.retention_state.is_(None), Contract.retention_state != UNPAID_STATE)


def list_volumes(archive: Archive, actor: Actor) -> list[dict[str, Any]]:
    """Volumes by year × region and kind (the regular one, then the unpaid volume when the
    sweep set contracts apart), with how many contracts and documents each still holds and
    how many of its contracts were destroyed under retention (a volume keeps its place in
    the list when all of them were). Only contracts ``actor`` may see are counted, and a
    volume without any is not listed."""
    year = extract("year", Contract.signed_on)
    kind = case((Contract.retention_state == UNPAID_STATE, "unpaid"), else_="regular")
    gone = Contract.retention_state.in_(GONE)
    kept = or_(Contract.retention_state.is_(None), Contract.retention_state.notin_(GONE))
    with archive.catalogue.reading() as session:
        visible = scope_of(session, actor).where()
        contracts = session.execute(
            select(year, Contract.region, kind, func.sum(case((kept, 1), else_=0)),
                   func.sum(case((gone, 1), else_=0)))
            .where(visible)
            .group_by(year, Contract.region, kind).order_by(year, Contract.region, kind)
        ).all()  # fmt: skip
        documents = dict(
            ((int(y), r, k), n) for y, r, k, n in session.execute(
                select(year, Contract.region, kind, func.count(func.distinct(Document.number)))
                .join(Document, Document.contract_id == Contract.id)
                .where(kept, visible, Document.destroyed_at.is_(None))
                .group_by(year, Contract.region, kind)
            )
        )  # fmt: skip
    return [
        {"year": int(y), "region": r, "kind": k, "title": title(int(y), r, k),
         "contracts": int(n), "destroyed": int(d), "documents": documents.get((int(y), r, k), 0)}
        for y, r, k, n, d in contracts
    ]  # fmt: skip
