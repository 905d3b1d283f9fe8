"""Volumes (按年、按区域装订成册): which volumes the archive holds, and what is in each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import case, extract, func, or_, select

from archive.models import GONE, Contract, Document

if TYPE_CHECKING:
    from archive.core import Archive


def list_volumes(archive: Archive) -> list[dict[str, Any]]:
    """Volumes by year × region, with how many contracts and documents each still holds and
    how many of its contracts were destroyed under retention (a volume keeps its place in
    the list when all of them were)."""
    year = extract("year", Contract.signed_on)
    gone = Contract.retention_state.in_(GONE)
    kept = or_(Contract.retention_state.is_(None), Contract.retention_state.notin_(GONE))
    with archive.catalogue.reading() as session:
        contracts = session.execute(
            select(year, Contract.region, func.sum(case((kept, 1), else_=0)),
                   func.sum(case((gone, 1), else_=0)))
            .group_by(year, Contract.region).order_by(year, Contract.region)
        ).all()  # fmt: skip
        documents = dict(
            ((int(y), r), n) for y, r, n in session.execute(
                select(year, Contract.region, func.count(func.distinct(Document.number)))
                .join(Document, Document.contract_id == Contract.id)
                .where(kept, Document.destroyed_at.is_(None))
                .group_by(year, Contract.region)
            )
        )  # fmt: skip
    return [
        {"year": int(y), "region": r, "contracts": int(n), "destroyed": int(d),
         "documents": documents.get((int(y), r), 0)}
        for y, r, n, d in contracts
    ]  # fmt: skip
