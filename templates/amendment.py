"""The supplementary agreement (补充协议): what its template is given."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields

from schemas.money import figures, upper
from templates.sales_contract import PartyContext, _party, bare, chinese_date, dossier_properties

TEMPLATE = "amendment"
TITLE = "补充协议"


def _shown(field: str, value: str, unit: str) -> str:
    """A term's value as printed: money with 元, quantities with their unit, dates in Chinese."""
    if not value:
        return "（无）"
    if field == "unit_price":
        return f"{figures(Decimal(value))} 元"
    if field == "quantity":
        return f"{value} {unit}"
    if field.endswith(("deadline", "due_on")):
        return chinese_date(value)
    return value


def context(number: str, contract, terms: dict[str, Any], record: dict[str, Any],
            total_before: Decimal, total_after: Decimal, *,
            confidential: bool = False) -> dict[str, Any]:  # fmt: skip
    changes = []
    for n, change in enumerate(record["changes"], start=1):
        item = change.get("item")
        unit = terms["items"][item]["unit"] if item is not None else ""
        changes.append({
            "no": n, "label": change["label"], "reason": change["reason"],
            "before": _shown(change["field"], change["before"], unit),
            "after": _shown(change["field"], change["after"], unit),
        })  # fmt: skip
    return {
        "number": number,
        "contract_no": contract.contract_no,
        "contract_signed_on": chinese_date(contract.signed_on),
        "seller": _party(terms["seller"]),
        "buyer": _party(terms["buyer"]),
        "reason": bare(record["reason"]),
        "effective_on": chinese_date(record["effective_on"]),
        "changes": changes,
        "total_before": figures(total_before),
        "total_after": figures(total_after),
        "total_upper": upper(total_after),
        "confidential": confidential,
    }


def properties(number: str, contract) -> dict[str, str]:
    return dossier_properties(TITLE, number, contract)


class ChangeContext(Schema):
    no = fields.Integer()
    label = fields.String()
    before = fields.String()
    after = fields.String()
    reason = fields.String()


class AmendmentContext(Schema):
    """What the amendment template may use."""

    number = fields.String()
    contract_no = fields.String()
    contract_signed_on = fields.String()
    seller = fields.Nested(PartyContext)
    buyer = fields.Nested(PartyContext)
    reason = fields.String()
    effective_on = fields.String()
    changes = fields.List(fields.Nested(ChangeContext))
    total_before = fields.String()
    total_after = fields.String()
    total_upper = fields.String()
    confidential = fields.Boolean()  # 密级 机密: the mark in the header of every page
