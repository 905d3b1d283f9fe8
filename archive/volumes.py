"""Volumes (按年、按区域装订成册): which volumes the archive holds, and what is in each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import extract, func, select

from archive.models import Contract, Document

if TYPE_CHECKING:
    from archive.core import Archive


def list_volumes(archive: Archive) -> list[dict[str, Any]]:
    """Volumes by year × region, with how many contracts and documents each holds."""
    year = extract("year", Contract.signed_on)
    with archive.catalogue.reading() as session:
        contracts = session.execute(
            select(year, Contract.region, func.count(Contract.id))
            .group_by(year, Contract.region).order_by(year, Contract.region)
        ).all()  # fmt: skip
        documents = dict(
            ((int(y), r), n) for y, r, n in session.execute(
                select(year, Contract.region, func.count(func.distinct(Document.number)))
                .join(Document, Document.contract_id == Contract.id)
                .group_by(year, Contract.region)
            )
        )  # fmt: skip
    return [
        {"year": int(y), "region": r, "contracts": n,
         "documents": documents.get((int(y), r), 0)}
        for y, r, n in contracts
    ]  # fmt: skip
