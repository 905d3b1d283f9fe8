"""The delivery notice (发货通知单), printed as six labelled copies (一式六联)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields

from schemas.money import figures, upper
from templates.sales_contract import ItemContext, chinese_date, dossier_properties

TEMPLATE = "delivery_notice"
TITLE = "发货通知单"
# DOMAIN.md: sales stub, finance, warehouse, receipt (signed and returned), transport, customer.
COPIES = ("销售部存根", "财务部", "仓储部", "回执", "运输结算", "客户")
RECEIPT = "回执"
NUMERALS = "一二三四五六"


def context(
    number: str, contract, delivery: dict[str, Any], *, confidential: bool = False
) -> dict[str, Any]:
    total = sum((Decimal(line["amount"]) for line in delivery["lines"]), Decimal(0))
    lines = [
        {"no": n, "name": line["name"], "spec": line["spec"], "unit": line["unit"],
         "quantity": line["quantity"], "unit_price": figures(Decimal(line["unit_price"])),
         "amount": figures(Decimal(line["amount"]))}
        for n, line in enumerate(delivery["lines"], start=1)
    ]  # fmt: skip
    copies = [
        {"label": label, "ordinal": NUMERALS[i], "receipt": label == RECEIPT}
        for i, label in enumerate(COPIES)
    ]
    return {
        "number": number,
        "contract_no": contract.contract_no,
        "seller": contract.terms["seller"]["name"],
        "buyer": contract.terms["buyer"]["name"],
        "ship_to": delivery["ship_to"],
        "delivery_date": chinese_date(delivery["delivery_date"]),
        "carrier": delivery["carrier"],
        "tracking_no": delivery["tracking_no"],
        "prepared_by": delivery["prepared_by"],
        "lines": lines,
        "total": figures(total),
        "total_upper": upper(total),
        "copies": copies,
        "confidential": confidential,
    }


def properties(number: str, contract) -> dict[str, str]:
    return dossier_properties(TITLE, number, contract)


class CopyContext(Schema):
    label = fields.String()
    ordinal = fields.String()
    receipt = fields.Boolean()


class DeliveryNoticeContext(Schema):
    """What the delivery-notice template may use."""

    number = fields.String()
    contract_no = fields.String()
    seller = fields.String()
    buyer = fields.String()
    ship_to = fields.String()
    delivery_date = fields.String()
    carrier = fields.String()
    tracking_no = fields.String()
    prepared_by = fields.String()
    lines = fields.List(fields.Nested(ItemContext))
    total = fields.String()
    total_upper = fields.String()
    copies = fields.List(fields.Nested(CopyContext))
    confidential = fields.Boolean()  # 密级 机密: the mark in the header of every page
