"""Shared by amendments, deliveries and payments: loading a contract for change, and the
quantities already shipped per line."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.errors import Conflict, Gone, NotFound
from archive.models import Contract

STATUS_TEXT = {"draft": "草稿", "effective": "已生效", "completed": "已履行完毕",
               "terminated": "已解除"}  # fmt: skip


def load(session: Session, contract_no: str, *, allow_destroyed: bool = False) -> Contract:
    contract = session.scalar(
        select(Contract)
        .where(Contract.contract_no == contract_no)
        .options(selectinload(Contract.documents), selectinload(Contract.amendments),
                 selectinload(Contract.deliveries), selectinload(Contract.payments))
    )  # fmt: skip
    if contract is None:
        raise NotFound(f"合同 {contract_no} 不存在。")
    if contract.gone and not allow_destroyed:
        from archive.retention import tombstone

        raise Gone(
            f"合同 {contract_no} 已于 {contract.destroyed_at:%Y-%m-%d} 经 {contract.destroyed_by} "
            "批准销毁，仅保留登记信息。",
            tombstone=tombstone(contract),
        )
    return contract


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
