"""Amendments (补充协议): written changes to an effective contract.

Each change names a term; the service reads its current value (``before``), checks the
new one (``after``) with the same rules as the contract itself, applies all changes to
a copy of the terms in force, recomputes every amount and the total, and files the
agreement, all in one transaction. A change of the total above ``major_share`` of the
contract's value is major (重大) and needs a manager.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError, fields, validate

from archive import audit
from archive.actor import Actor
from archive.dossier import delivered, fetch, load, require_status, touch, unchanged
from archive.errors import Conflict, Forbidden, InvalidData
from archive.filing import Filing, input_digest, render, retried
from archive.models import Amendment, Contract
from schemas import flatten_errors
from schemas.contract import CLAUSE, LINE, NAME, SHORT
from schemas.dossier import ITEM_FIELDS
from schemas.fields import Money, Quantity, Text
from schemas.money import figures, quantize
from templates import amendment as amendment_doc
from templates.sales_contract import quantity_text, total_of

if TYPE_CHECKING:
    from archive.core import Archive

KIND = "amendment"
AMENDERS = ("clerk", "manager")

# How each amendable term is checked, and how it is named in the agreement.
_AFTER_FIELDS: dict[str, fields.Field] = {
    "unit_price": Money(validate=validate.Range(min=0, error="不能为负数。")),
    "quantity": Quantity(validate=validate.Range(min=0, min_inclusive=False, error="必须大于 0。")),
    "spec": Text(max_length=NAME),
    "delivery.deadline": fields.Date(),
    "delivery.place": Text(max_length=LINE),
    "payment.method": Text(max_length=SHORT),
    "payment.terms": Text(max_length=CLAUSE, multiline=True),
    "payment.due_on": fields.Date(),
    "clause": Text(max_length=CLAUSE, multiline=True),
}
LABELS = {
    "unit_price": "单价", "quantity": "数量", "spec": "规格型号",
    "delivery.deadline": "交货期限", "delivery.place": "交货地点",
    "payment.method": "付款方式", "payment.terms": "付款约定",
    "payment.due_on": "最迟付款日期", "clause": "其他约定",
}  # fmt: skip


def _current(terms: dict[str, Any], field: str, item: int | None) -> str:
    if field in ITEM_FIELDS:
        return str(terms["items"][item].get(field) or "")
    if field == "clause":
        return ""
    section, key = field.split(".")
    return str(terms[section][key])


def _store(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _apply(contract: Contract, data: dict[str, Any]) -> tuple[dict[str, Any], list[dict]]:
    """New terms and the recorded changes, or InvalidData naming each bad change."""
    terms = copy.deepcopy(contract.terms)
    items = terms["items"]
    shipped = delivered(contract)
    signed_on = contract.signed_on
    errors: dict[str, Any] = {}
    recorded: list[dict[str, Any]] = []
    seen: set[tuple[str, int | None]] = set()
    for n, change in enumerate(data["changes"]):
        # A line is named by its number, from 1 (第1项); kept by its index, from 0.
        field, line = change["field"], change.get("line")
        item = None if line is None else line - 1
        here = f"changes.{n}"
        if item is not None and item >= len(items):
            errors[f"{here}.line"] = [f"合同只有 {len(items)} 个产品行（1–{len(items)}）。"]
            continue
        if field != "clause" and (field, item) in seen:
            errors[f"{here}.field"] = ["同一项目在一份补充协议中只能变更一次。"]
            continue
        seen.add((field, item))
        try:
            after = _AFTER_FIELDS[field].deserialize(change["after"])
        except ValidationError as exc:
            errors[f"{here}.after"] = flatten_errors(exc.messages).get("_schema", exc.messages)
            continue
        before = _current(terms, field, item)
        if "before" in change and str(change["before"]) != before:
            errors[f"{here}.before"] = [f"与合同现行内容不一致，现行为“{before}”。"]
            continue
        if isinstance(after, dt.date) and after < signed_on:
            errors[f"{here}.after"] = ["日期不能早于合同签订日期。"]
            continue
        if field == "quantity" and after < shipped[item]:
            errors[f"{here}.after"] = [
                f"第 {item + 1} 项已发货 {quantity_text(shipped[item])}"
                f"{items[item]['unit']}，数量不能少于已发货数量。"
            ]
            continue
        value = _store(after)
        if field in ITEM_FIELDS:
            items[item][field] = value
        elif field == "clause":
            terms.setdefault("extra_clauses", []).append(value)
        else:
            section, key = field.split(".")
            terms[section][key] = value
        recorded.append({
            "field": field, "item": item, "label": _label(terms, field, item),
            "before": before, "after": value, "reason": change.get("reason") or data["reason"],
        })  # fmt: skip
    if errors:
        raise InvalidData(errors)
    return terms, recorded


def _label(terms: dict[str, Any], field: str, item: int | None) -> str:
    if item is None:
        return LABELS[field]
    return f"第{item + 1}项（{terms['items'][item]['name']}）{LABELS[field]}"


def _decimal_items(terms: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**i, "quantity": Decimal(i["quantity"]), "unit_price": Decimal(i["unit_price"])}
        for i in terms["items"]
    ]


def amend(archive: Archive, contract_no: str, data: dict[str, Any], actor: Actor) -> Amendment:
    """File a supplementary agreement and put its changes in force.

    ``data`` is what ``AmendmentSchema`` loaded."""
    if not actor.can(*AMENDERS):
        raise Forbidden("只有销售业务员或销售经理可以签订补充协议。")
    return retried(lambda: _amend(archive, contract_no, data, actor))


def _amend(archive: Archive, contract_no: str, data: dict[str, Any], actor: Actor) -> Amendment:
    seen = fetch(archive.catalogue, contract_no, actor, write=True)
    require_status(seen, ("effective",), "签订补充协议")
    terms, changes = _apply(seen, data)
    if data["effective_on"] < seen.signed_on:
        raise InvalidData({"effective_on": ["生效日期不能早于合同签订日期。"]})
    before, after = seen.total, total_of(_decimal_items(terms))
    major = _judge(archive, seen, after, actor)
    if after < seen.paid:
        raise Conflict(
            f"变更后总额 {figures(after)} 元低于已收款 {figures(seen.paid)} 元，"
            "请先与财务办理退款后再变更。"
        )
    seq = len(seen.amendments) + 1
    number = f"{seen.contract_no}-BC{seq:02d}"
    record = {"reason": data["reason"], "effective_on": data["effective_on"].isoformat(),
              "changes": changes}  # fmt: skip
    digest = input_digest({"contract_no": seen.contract_no, **record})
    rendition = render(
        archive, amendment_doc.TEMPLATE,
        amendment_doc.context(number, seen, terms, record, before, after,
                              confidential=seen.confidential),
        amendment_doc.properties(number, seen),
    )  # fmt: skip
    with Filing(archive) as filing:
        contract = load(filing.session, contract_no, actor, lock=True)
        unchanged(contract, seen)  # the number and the "before" values still hold
        amendment = Amendment(
            contract_id=contract.id, seq=seq, number=number, reason=data["reason"],
            effective_on=data["effective_on"], changes=changes, total_before=before,
            total_after=after, major=major, manager_signed=actor.can("manager"),
            created_by=actor.name,
        )  # fmt: skip
        filing.session.add(amendment)
        contract.terms = terms
        contract.total = after
        contract.due_on = dt.date.fromisoformat(terms["payment"]["due_on"])
        touch(contract)
        filing.add_documents(
            contract=contract, kind=KIND, number=number, title=amendment_doc.TITLE,
            rendition=rendition, input_sha256=digest, actor=actor.name,
        )  # fmt: skip
        audit.record(filing.session, actor, "amendment.create", contract.contract_no,
                     number=number, total_before=str(before), total_after=str(after),
                     major=major)  # fmt: skip
    return amendment


def baseline(contract: Contract) -> Decimal:
    """The total a manager last agreed to: the approval, or the last amendment one signed."""
    for amendment in reversed(contract.amendments):
        if amendment.manager_signed:
            return amendment.total_after
    return contract.original_total


def _judge(archive: Archive, contract: Contract, after: Decimal, actor: Actor) -> bool:
    """Is the change major? Judged on the whole move since a manager last agreed, so that
    small steps add up exactly like one big one; a clerk may not sign a major change."""
    agreed = baseline(contract)
    delta = abs(after - agreed)
    major = delta > quantize(agreed * archive.major_share) if agreed else delta > 0
    if major and not actor.can("manager"):
        percent = format((archive.major_share * 100).normalize(), "f")
        raise Forbidden(
            f"本次变更后合同总额为 {figures(after)} 元，较销售经理上次确认的 "
            f"{figures(agreed)} 元变动 {figures(delta)} 元，超过 {percent}%，"
            "属于重大变更，须由销售经理签订。"
        )
    return major
