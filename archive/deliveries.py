"""Delivery notices (发货通知单): shipping some or all of an effective contract's items.

No line may ship more than the contract, as amended, still has undelivered.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from archive import audit
from archive.actor import Actor
from archive.dossier import delivered, fetch, load, require_status, touch, unchanged
from archive.errors import Forbidden, InvalidData
from archive.filing import Filing, input_digest, numbered, render, retried
from archive.models import Delivery
from templates import delivery_notice
from templates.sales_contract import line_amount, quantity_text

if TYPE_CHECKING:
    from archive.core import Archive

KIND = "delivery_notice"
SHIPPERS = ("clerk", "manager")


def deliver(archive: Archive, contract_no: str, data: dict[str, Any], actor: Actor) -> Delivery:
    """File a delivery notice for an effective contract (``data``: DeliveryNoticeSchema)."""
    if not actor.can(*SHIPPERS):
        raise Forbidden("只有销售业务员或销售经理可以开具发货通知单。")
    return retried(lambda: _deliver(archive, contract_no, data, actor))


def _deliver(archive: Archive, contract_no: str, data: dict[str, Any], actor: Actor) -> Delivery:
    seen = fetch(archive.catalogue, contract_no, actor, write=True)
    require_status(seen, ("effective",), "发货")
    if data["delivery_date"] < seen.signed_on:
        raise InvalidData({"delivery_date": ["发货日期不能早于合同签订日期。"]})
    lines = _lines(seen, data["items"])
    record = {
        "delivery_date": data["delivery_date"].isoformat(),
        "ship_to": data.get("ship_to") or seen.terms["buyer"]["address"],
        "carrier": data["carrier"], "tracking_no": data["tracking_no"],
        "prepared_by": data["prepared_by"], "lines": lines,
    }  # fmt: skip
    pattern = archive.delivery_number_pattern
    with numbered(archive, pattern, data["delivery_date"]) as reserved:
        number = reserved.number
        rendition = render(
            archive, delivery_notice.TEMPLATE,
            delivery_notice.context(number, seen, record, confidential=seen.confidential),
            delivery_notice.properties(number, seen),
        )  # fmt: skip
        with Filing(archive) as filing:
            contract = load(filing.session, contract_no, actor, lock=True)
            unchanged(contract, seen)  # what remains to ship is what was checked
            filing.use(reserved)
            delivery = Delivery(
                contract_id=contract.id, number=number, delivery_date=data["delivery_date"],
                ship_to=record["ship_to"], carrier=record["carrier"],
                tracking_no=record["tracking_no"], prepared_by=record["prepared_by"],
                lines=lines, created_by=actor.name,
            )  # fmt: skip
            filing.session.add(delivery)
            touch(contract)
            filing.add_documents(
                contract=contract, kind=KIND, number=number, title=delivery_notice.TITLE,
                rendition=rendition,
                input_sha256=input_digest({"contract_no": contract.contract_no, **record}),
                actor=actor.name,
            )  # fmt: skip
            shipped = [[line["item"], line["quantity"]] for line in lines]
            audit.record(filing.session, actor, "delivery.create", contract.contract_no,
                         number=number, lines=shipped)  # fmt: skip
    return delivery


def _lines(contract, requested: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = contract.terms["items"]
    shipped = delivered(contract)
    errors: dict[str, list[str]] = {}
    lines = []
    for n, line in enumerate(requested):
        # A line is named by its number, from 1 (第1项); kept by its index, from 0.
        index, quantity = line["line"] - 1, line["quantity"]
        if index >= len(items):
            errors[f"items.{n}.line"] = [f"合同只有 {len(items)} 个产品行（1–{len(items)}）。"]
            continue
        item = items[index]
        remaining = Decimal(item["quantity"]) - shipped[index]
        if quantity > remaining:
            errors[f"items.{n}.quantity"] = [
                f"第 {index + 1} 项（{item['name']}）尚未发货 {quantity_text(remaining)}"
                f"{item['unit']}，本次 {quantity_text(quantity)}{item['unit']} 超出。"
            ]
            continue
        amount = line_amount(quantity, Decimal(item["unit_price"]))
        lines.append({
            "item": index, "name": item["name"], "spec": item.get("spec") or "",
            "unit": item["unit"], "quantity": quantity_text(quantity),
            "unit_price": item["unit_price"], "amount": f"{amount:.2f}",
        })  # fmt: skip
    if errors:
        raise InvalidData(errors, "发货数量超出合同未发货数量" if any(
            k.endswith("quantity") for k in errors) else "数据校验失败")  # fmt: skip
    return lines
