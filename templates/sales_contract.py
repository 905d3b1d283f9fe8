"""The sales contract (销售合同): what its template is given, built from contract data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields

from schemas.money import figures, quantize, upper

TEMPLATE = "sales_contract"
TITLE = "销售合同"
FREIGHT_PAYER = {"seller": "供方", "buyer": "需方"}


def chinese_date(value: dt.date | str) -> str:
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.year}年{day.month}月{day.day}日"


def quantity_text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return quantize(Decimal(quantity) * Decimal(unit_price))


def total_of(items: list[dict[str, Any]]) -> Decimal:
    return quantize(sum((line_amount(i["quantity"], i["unit_price"]) for i in items), Decimal(0)))


# What a clerk may end a clause with that the template's own punctuation would double.
TRAILING = "。；，、：,;:. \t\r\n\u3000"


def bare(text: str) -> str:
    """User text without its closing punctuation: the template adds its own (。 or ；), so a
    clause never reads 质保金5%。；需方… or 增订一台。，经双方…"""
    return text.rstrip(TRAILING) or text


def _party(party: dict[str, Any]) -> dict[str, str]:
    keys = ("name", "address", "representative", "phone", "bank", "account", "tax_id")
    return {k: party.get(k) or "" for k in keys}


def context(
    contract_no: str, data: dict[str, Any], *, confidential: bool = False
) -> dict[str, Any]:
    """Template context from validated contract data (Decimals, dates); ``confidential`` puts
    机密 in the header of every page (issue 11, 密级)."""
    items = [
        {
            "no": n,
            "name": item["name"],
            "spec": item.get("spec") or "",
            "unit": item["unit"],
            "quantity": quantity_text(item["quantity"]),
            "unit_price": figures(item["unit_price"]),
            "amount": figures(line_amount(item["quantity"], item["unit_price"])),
        }
        for n, item in enumerate(data["items"], start=1)
    ]
    total = total_of(data["items"])
    return {
        "contract_no": contract_no,
        "signed_on": chinese_date(data["signed_on"]),
        "signed_at": data["signed_at"],
        "seller": _party(data["seller"]),
        "buyer": _party(data["buyer"]),
        "items": items,
        "total": figures(total),
        "total_upper": upper(total),
        "quality_standard": bare(data["quality_standard"]),
        "transport": {
            "method": bare(data["transport"]["method"]),
            "freight_payer": FREIGHT_PAYER[data["transport"]["freight_paid_by"]],
        },
        "delivery": {
            "deadline": chinese_date(data["delivery"]["deadline"]),
            "place": bare(data["delivery"]["place"]),
            "acceptance": bare(data["delivery"]["acceptance"]),
        },
        "payment": {
            "method": bare(data["payment"]["method"]),
            "terms": bare(data["payment"]["terms"]),
            "due_on": chinese_date(data["payment"]["due_on"]),
        },
        "liability_exemptions": bare(data["liability_exemptions"]),
        "breach_liability": bare(data["breach_liability"]),
        "dispute_resolution": bare(data["dispute_resolution"]),
        "extra_clauses": [bare(text) for text in data.get("extra_clauses") or []],
        "salesperson": data.get("salesperson") or "",
        "confidential": confidential,
    }


def properties(contract_no: str, data: dict[str, Any]) -> dict[str, str]:
    """Document metadata, shared by the .docx and (through LibreOffice and pypdf) the PDF."""
    return {
        "title": f"{TITLE} {contract_no}",
        "subject": f"{data['seller']['name']} 与 {data['buyer']['name']} 的{TITLE}",
        "keywords": f"{TITLE}, {contract_no}, {data['region']}, {data['buyer']['name']}",
        "identifier": contract_no,
        "author": "hetong",
        "language": "zh-CN",
    }


def dossier_properties(title: str, number: str, contract) -> dict[str, str]:
    """Metadata of a document filed in a contract's dossier (amendment, delivery notice)."""
    return {
        "title": f"{title} {number}",
        "subject": f"{contract.contract_no} {contract.buyer_name} 的{title}",
        "keywords": f"{title}, {number}, {contract.contract_no}, {contract.region}",
        "identifier": number,
        "author": "hetong",
        "language": "zh-CN",
    }


class PartyContext(Schema):
    name = fields.String()
    address = fields.String()
    representative = fields.String()
    phone = fields.String()
    bank = fields.String()
    account = fields.String()
    tax_id = fields.String()


class ItemContext(Schema):
    no = fields.Integer()
    name = fields.String()
    spec = fields.String()
    unit = fields.String()
    quantity = fields.String()
    unit_price = fields.String()
    amount = fields.String()


class SalesContractContext(Schema):
    """What the sales-contract template may use; checked by ``hetong templates check``."""

    contract_no = fields.String()
    signed_on = fields.String()
    signed_at = fields.String()
    seller = fields.Nested(PartyContext)
    buyer = fields.Nested(PartyContext)
    items = fields.List(fields.Nested(ItemContext))
    total = fields.String()
    total_upper = fields.String()
    quality_standard = fields.String()
    transport = fields.Dict()
    delivery = fields.Dict()
    payment = fields.Dict()
    liability_exemptions = fields.String()
    breach_liability = fields.String()
    dispute_resolution = fields.String()
    extra_clauses = fields.List(fields.String())
    salesperson = fields.String()
    confidential = fields.Boolean()  # 密级 机密: the mark in the header of every page


# A complete example, used by ``hetong templates check`` for a trial rendering.
SAMPLE: dict[str, Any] = {
    "region": "华东",
    "signed_on": "2026-11-20",
    "signed_at": "上海市浦东新区",
    "seller": {"name": "示例供方有限公司", "address": "上海市浦东新区示例路1号"},
    "buyer": {"name": "示例需方有限公司", "address": "浙江省杭州市示例路2号"},
    "items": [{"name": "示例产品", "spec": "X-1", "unit": "台", "quantity": "1",
               "unit_price": "100.00"}],
    "quality_standard": "符合国家标准",
    "transport": {"method": "公路运输", "freight_paid_by": "buyer"},
    "delivery": {"deadline": "2026-12-31", "place": "需方仓库", "acceptance": "到货验收"},
    "payment": {"method": "银行转账", "terms": "验收后付款", "due_on": "2027-01-31"},
    "liability_exemptions": "不可抗力免责。",
    "breach_liability": "按约定承担违约责任。",
    "dispute_resolution": "协商解决。",
}  # fmt: skip
