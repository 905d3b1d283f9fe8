"""Payments against a contract, what is still owed, and the receivables.

outstanding = total as amended − payments. The write lock of the payment's transaction
makes the check against the outstanding amount and the new balance one step, so
concurrent payments can neither overpay a contract nor lose each other.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from archive import audit
from archive.audit import Actor
from archive.core import Archive
from archive.dossier import load, require_status
from archive.errors import Forbidden, InvalidData, validated
from archive.index import enqueue
from archive.models import Contract, Payment
from archive.money import figures
from schemas.dossier import PaymentSchema

RECORDERS = ("clerk", "manager")
BINDING = ("effective", "completed", "terminated")  # a draft binds nobody to pay


def pay(archive: Archive, contract_no: str, payload: Any, actor: Actor) -> Payment:
    if not actor.can(*RECORDERS):
        raise Forbidden("只有销售业务员或销售经理可以登记收款。")
    data = validated(PaymentSchema(), payload)
    with archive.catalogue.writing() as session:
        contract = load(session, contract_no)
        require_status(contract, BINDING, "登记收款")
        if data["paid_on"] < contract.signed_on:
            raise InvalidData({"paid_on": ["收款日期不能早于合同签订日期。"]})
        outstanding = contract.outstanding
        if data["amount"] > outstanding:
            raise InvalidData({"amount": [
                f"超过未收金额：合同 {contract_no} 尚欠 {figures(outstanding)} 元，"
                f"本次 {figures(data['amount'])} 元。"
            ]}, f"收款金额超过未收金额 {figures(outstanding)} 元")  # fmt: skip
        payment = Payment(
            contract_id=contract.id, amount=data["amount"], paid_on=data["paid_on"],
            method=data["method"], reference=data.get("reference"), note=data.get("note"),
            created_by=actor.name,
        )  # fmt: skip
        session.add(payment)
        contract.paid = contract.paid + data["amount"]
        audit.record(session, actor, "payment.create", contract_no,
                     amount=str(data["amount"]), paid_on=data["paid_on"].isoformat(),
                     reference=data.get("reference"))  # fmt: skip
        enqueue(session, contract_no)  # the payment state is searchable
    archive.changed()
    return payment


def payment_state(contract: Contract, as_of: dt.date) -> dict[str, Any]:
    """paid / outstanding / state, and whether it is overdue (未收款) or to be chased (催收款)."""
    outstanding = contract.outstanding
    if contract.paid == 0 and outstanding > 0:
        state = "unpaid"
    elif outstanding > 0:
        state = "partially_paid"
    else:
        state = "paid"
    overdue = outstanding > 0 and contract.status in BINDING and as_of > contract.due_on
    return {
        "paid": f"{contract.paid:.2f}",
        "outstanding": f"{outstanding:.2f}",
        "payment_state": state,
        "overdue": overdue,
        "days_overdue": (as_of - contract.due_on).days if overdue else 0,
        # DOMAIN.md: one month after the due date a receivable is to be chased.
        "to_chase": overdue and as_of >= _add_month(contract.due_on),
    }


def _add_month(day: dt.date) -> dt.date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def receivables(
    archive: Archive, *, as_of: dt.date, region: str | None = None, overdue: bool | None = None
) -> list[dict[str, Any]]:
    """Contracts with money owed, oldest due first."""
    query = (
        select(Contract)
        .where(Contract.status.in_(BINDING), Contract.total > Contract.paid)
        .order_by(Contract.due_on, Contract.contract_no)
    )
    if region:
        query = query.where(Contract.region == region)
    with archive.catalogue.reading() as session:
        rows = session.scalars(query).all()
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
