"""What a clerk submits to amend, ship or record a payment on a contract."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.contract import CLAUSE, LINE, NAME, SHORT, StrictSchema
from schemas.fields import Money, Quantity, Text, Upload

# Amendable terms. Item fields name a line of the contract by its index ("item").
ITEM_FIELDS = ("unit_price", "quantity", "spec")
TERM_FIELDS = ("delivery.deadline", "delivery.place", "payment.method", "payment.terms",
               "payment.due_on", "clause")  # fmt: skip
CHANGE_FIELDS = ITEM_FIELDS + TERM_FIELDS
# A contract has at most 200 lines (ContractSchema), counted here from 0.
LINE_INDEX = validate.Range(min=0, max=199, error="行号从 0 开始，至多 199。")


class ChangeSchema(StrictSchema):
    field = fields.String(
        required=True,
        validate=validate.OneOf(CHANGE_FIELDS, error=f"可变更的项目：{', '.join(CHANGE_FIELDS)}。"),
    )
    item = fields.Integer(strict=True, validate=LINE_INDEX)
    # Free text here; checked against the field's own type when the change is applied.
    after = fields.Raw(required=True)
    before = fields.Raw(metadata={"description": "可选：提交方看到的原值，不一致时拒绝"})
    reason = Text(max_length=CLAUSE, multiline=True)

    @validates_schema
    def _item_only_for_item_fields(self, data, **kwargs) -> None:
        if data.get("field") in ITEM_FIELDS and "item" not in data:
            raise ValidationError({"item": ["变更产品行时必须给出行号 item。"]})
        if data.get("field") in TERM_FIELDS and "item" in data:
            raise ValidationError({"item": ["此项目不属于某一产品行，不能给出 item。"]})


class AmendmentSchema(StrictSchema):
    """A supplementary agreement (补充协议)."""

    reason = Text(required=True, max_length=CLAUSE, multiline=True)
    effective_on = fields.Date(required=True)
    changes = fields.List(
        fields.Nested(ChangeSchema), required=True,
        validate=validate.Length(min=1, max=50, error="至少一项、至多 {max} 项变更。"),
    )  # fmt: skip


class ShipmentLineSchema(StrictSchema):
    item = fields.Integer(strict=True, required=True, validate=LINE_INDEX)
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
            if line["item"] in seen:
                raise ValidationError(
                    {"items": {n: {"item": ["同一产品行在一张通知单中只能出现一次。"]}}}
                )
            seen.add(line["item"])


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
