"""Recording a payment against a contract.

The write lock of the payment's transaction makes the check against the outstanding
amount and the new balance one step, so concurrent payments can neither overpay a
contract nor lose each other.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from archive import audit
from archive.actor import Actor
from archive.dossier import load, require_status, touch
from archive.errors import Forbidden, InvalidData
from archive.models import Payment
from archive.outbox import enqueue
from archive.receivables import BINDING
from schemas.labels import zone_name
from schemas.money import figures

if TYPE_CHECKING:
    from archive.core import Archive

RECORDERS = ("clerk", "manager")


def pay(archive: Archive, contract_no: str, data: dict[str, Any], actor: Actor) -> Payment:
    """Record a payment received; never more than is outstanding, never on a draft.

    ``data`` is what ``PaymentSchema`` loaded."""
    if not actor.can(*RECORDERS):
        raise Forbidden("只有销售业务员或销售经理可以登记收款。")
    with archive.catalogue.writing() as session:
        contract = load(session, contract_no, actor, lock=True)
        require_status(contract, BINDING, "登记收款")
        if data["paid_on"] < contract.signed_on:
            raise InvalidData({"paid_on": ["收款日期不能早于合同签订日期。"]})
        today = dt.datetime.now(archive.zone).date()  # where the money is received
        if data["paid_on"] > today:
            raise InvalidData({"paid_on": [
                f"收款日期不能晚于今天（{zone_name(archive.zone)} {today.isoformat()}）："
                "尚未收到的款项不能登记。"
            ]})  # fmt: skip
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
        touch(contract)
        audit.record(session, actor, "payment.create", contract_no,
                     amount=str(data["amount"]), paid_on=data["paid_on"].isoformat(),
                     reference=data.get("reference"))  # fmt: skip
        enqueue(session, contract_no)  # the payment state is searchable
    return payment
