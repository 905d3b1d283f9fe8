"""What a contract still owes, and the receivables (001 §9-05, 9-06).

outstanding = total as amended − payments. A receivable past its due date is overdue
(未收款); one month later it is to be chased (催收款).

A contract that never took effect owes nothing: a draft terminated before a manager approved
it bound nobody to pay, so it is no receivable, never overdue, and (for retention) destroyable
like a paid one. Its payment state still reads ``unpaid`` (nothing was paid) with an
outstanding amount of 0.00: the vocabulary of payment states is shared with search facets and
filters, and "nothing owed" is what ``outstanding`` says.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, not_, or_, select

from archive.access import scope_of
from archive.actor import Actor
from archive.models import Contract

if TYPE_CHECKING:
    from archive.core import Archive

BINDING = ("effective", "completed", "terminated")  # a draft binds nobody to pay
# Contracts that took effect, in SQL: a terminated one only if a manager had approved it.
TOOK_EFFECT = (Contract.status.in_(BINDING),
               or_(Contract.status != "terminated", Contract.approved_at.is_not(None)))  # fmt: skip


def never_took_effect(contract: Any) -> bool:
    """Terminated while still a draft: approval (draft → effective) records ``approved_at``."""
    return contract.status == "terminated" and contract.approved_at is None


def outstanding(contract: Any) -> Decimal:
    """What a contract owes: total as amended − payments; nothing if it never took effect.

    ``contract`` is a ``Contract`` or any row with its status, approved_at, total and paid."""
    if never_took_effect(contract):
        return Decimal(0)
    return contract.total - contract.paid


def payment_state(contract: Contract, as_of: dt.date) -> dict[str, Any]:
    """paid / outstanding / state, and whether it is overdue (未收款) or to be chased (催收款)."""
    owed = outstanding(contract)
    if contract.paid == 0 and (owed > 0 or never_took_effect(contract)):
        state = "unpaid"
    elif owed > 0:
        state = "partially_paid"
    else:
        state = "paid"
    overdue = owed > 0 and contract.status in BINDING and as_of > contract.due_on
    return {
        "paid": f"{contract.paid:.2f}",
        "outstanding": f"{owed:.2f}",
        "payment_state": state,
        "overdue": overdue,
        "days_overdue": (as_of - contract.due_on).days if overdue else 0,
        # DOMAIN.md: one month after the due date a receivable is to be chased.
        "to_chase": overdue and as_of >= _add_month(contract.due_on),
    }


def payment_state_is(state: str) -> ColumnElement[bool]:
    """``payment_state(contract)["payment_state"] == state``, in SQL (to filter lists)."""
    never = and_(Contract.status == "terminated", Contract.approved_at.is_(None))
    unpaid = and_(Contract.paid == 0, or_(Contract.total > Contract.paid, never))
    partly = and_(Contract.paid > 0, Contract.total > Contract.paid, not_(never))
    return {"unpaid": unpaid, "partially_paid": partly, "paid": not_(or_(unpaid, partly))}[state]


def _add_month(day: dt.date) -> dt.date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def receivables(
    archive: Archive, actor: Actor, *, as_of: dt.date, region: str | None = None,
    overdue: bool | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Contracts ``actor`` may see with money owed, oldest due first."""
    query = (
        select(Contract)
        .where(*TOOK_EFFECT, Contract.total > Contract.paid)
        .order_by(Contract.due_on, Contract.contract_no)
    )
    if region:
        query = query.where(Contract.region == region)
    with archive.catalogue.reading() as session:
        rows = session.scalars(query.where(scope_of(session, actor).where())).all()
    result = []
    for contract in rows:
        state = payment_state(contract, as_of)
        if overdue is not None and state["overdue"] != overdue:
            continue
        result.append({
            "contract_no": contract.contract_no, "region": contract.region,
            "buyer": contract.buyer_name, "status": contract.status,
            "signed_on": contract.signed_on.isoformat(), "due_on": contract.due_on.isoformat(),
            "total": f"{contract.total:.2f}", **state,
        })  # fmt: skip
    return result


def total_outstanding(rows: list[dict[str, Any]]) -> str:
    return f"{sum((Decimal(r['outstanding']) for r in rows), Decimal(0)):.2f}"


def by_region(rows: list[dict[str, Any]], regions: Sequence[str] = ()) -> list[dict[str, Any]]:
    """How many receivables and how much is owed per region (``regions``' order first)."""
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = totals.setdefault(row["region"], {"region": row["region"], "count": 0,
                                                  "outstanding": Decimal(0)})  # fmt: skip
        entry["count"] += 1
        entry["outstanding"] += Decimal(row["outstanding"])
    rank = {name: n for n, name in enumerate(regions)}
    ordered = sorted(totals.values(), key=lambda e: (rank.get(e["region"], len(rank)), e["region"]))
    return [{**e, "outstanding": f"{e['outstanding']:.2f}"} for e in ordered]
