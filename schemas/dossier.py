"""What a clerk submits to amend, ship or record a payment on a contract."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from schemas.contract import CLAUSE, LINE, NAME, SHORT, StrictSchema
from schemas.fields import Money, Quantity, Text, Upload

# Amendable terms. Item fields name a line of the contract by its number ("line").
ITEM_FIELDS = ("unit_price", "quantity", "spec")
TERM_FIELDS = ("delivery.deadline", "delivery.place", "payment.method", "payment.terms",
               "payment.due_on", "clause")  # fmt: skip
CHANGE_FIELDS = ITEM_FIELDS + TERM_FIELDS
# A contract has at most 200 lines (ContractSchema), counted from 1 as the documents print
# them (第1项 is line 1).
LINE_NUMBER = validate.Range(min=1, max=200, error="产品行从 1 开始计数（第1项为 1），至多 200。")
LINE_DOC = {"description": "产品行，从 1 开始计数，与合同的“第1项”一致"}
# Earlier releases named a line by "item", counted from 0: refused, never guessed at.
OLD_ITEM = "item 已停用：请改用 line 指明产品行，从 1 开始计数（合同第1项为 line 1）。"


class _NamesLines(StrictSchema):
    @pre_load
    def _no_old_item(self, data: Any, **kwargs) -> Any:
        if isinstance(data, Mapping) and "item" in data:
            raise ValidationError({"item": [OLD_ITEM]})
        return data


class ChangeSchema(_NamesLines):
    field = fields.String(
        required=True,
        validate=validate.OneOf(CHANGE_FIELDS, error=f"可变更的项目：{', '.join(CHANGE_FIELDS)}。"),
    )
    line = fields.Integer(strict=True, validate=LINE_NUMBER, metadata=LINE_DOC)
    # Free text here; checked against the field's own type when the change is applied.
    after = fields.Raw(required=True)
    before = fields.Raw(metadata={"description": "可选：提交方看到的原值，不一致时拒绝"})
    reason = Text(max_length=CLAUSE, multiline=True)

    @validates_schema
    def _item_only_for_item_fields(self, data, **kwargs) -> None:
        if data.get("field") in ITEM_FIELDS and "line" not in data:
            raise ValidationError({"line": ["变更产品行时必须给出行号 line（从 1 开始计数）。"]})
        if data.get("field") in TERM_FIELDS and "line" in data:
            raise ValidationError({"line": ["此项目不属于某一产品行，不能给出 line。"]})


class AmendmentSchema(StrictSchema):
    """A supplementary agreement (补充协议)."""

    reason = Text(required=True, max_length=CLAUSE, multiline=True)
    effective_on = fields.Date(required=True)
    changes = fields.List(
        fields.Nested(ChangeSchema), required=True,
        validate=validate.Length(min=1, max=50, error="至少一项、至多 {max} 项变更。"),
    )  # fmt: skip


class ShipmentLineSchema(_NamesLines):
    line = fields.Integer(strict=True, required=True, validate=LINE_NUMBER, metadata=LINE_DOC)
    quantity = Quantity(
        required=True, validate=validate.Range(min=0, min_inclusive=False, error="必须大于 0。")
    )


class DeliveryNoticeSchema(StrictSchema):
    """A delivery notice (发货通知单)."""

    delivery_date = fields.Date(required=True)
    items = fields.List(
        fields.Nested(ShipmentLineSchema), required=True,
        validate=validate.Length(min=1, max=200, error="至少一项。"),
    )  # fmt: skip
    carrier = Text(required=True, max_length=NAME)
    tracking_no = Text(required=True, max_length=SHORT)
    prepared_by = Text(required=True, max_length=SHORT)
    ship_to = Text(max_length=LINE, metadata={"description": "收货地址，默认为需方地址"})

    @validates_schema
    def _each_line_once(self, data, **kwargs) -> None:
        seen: set[int] = set()
        for n, line in enumerate(data.get("items") or []):
            if line["line"] in seen:
                raise ValidationError(
                    {"items": {n: {"line": ["同一产品行在一张通知单中只能出现一次。"]}}}
                )
            seen.add(line["line"])


class PaymentSchema(StrictSchema):
    """A payment received."""

    amount = Money(
        required=True, validate=validate.Range(min=0, min_inclusive=False, error="必须大于 0。")
    )
    paid_on = fields.Date(required=True)
    method = Text(required=True, max_length=SHORT)
    reference = Text(max_length=NAME)
    note = Text(max_length=CLAUSE, multiline=True)


class ScanUploadSchema(StrictSchema):
    """A signed scan (multipart/form-data): the PDF and an optional note."""

    file = Upload(required=True, metadata={"description": "扫描件 PDF"})
    note = Text(max_length=500, multiline=True, metadata={"description": "备注"})
