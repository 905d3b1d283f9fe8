"""``ContractSchema``: what a clerk submits to create a sales contract (DOMAIN.md 销售合同)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from schemas.fields import Money, Quantity, StrictBoolean, Text
from schemas.labels import named

NAME = 100
SHORT = 50
LINE = 200
CLAUSE = 2000


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class PartySchema(StrictSchema):
    name = Text(required=True, max_length=NAME)
    address = Text(required=True, max_length=LINE)
    representative = Text(max_length=SHORT)
    phone = Text(max_length=SHORT)
    bank = Text(max_length=NAME)
    account = Text(max_length=SHORT)
    tax_id = Text(max_length=SHORT)


class ItemSchema(StrictSchema):
    name = Text(required=True, max_length=NAME)
    spec = Text(max_length=NAME, load_default="")
    unit = Text(required=True, max_length=10)
    quantity = Quantity(
        required=True, validate=validate.Range(min=0, min_inclusive=False, error="必须大于 0。")
    )
    unit_price = Money(required=True, validate=validate.Range(min=0, error="不能为负数。"))


# A clause left out (quality_standard, transport.method, delivery.acceptance, payment.method,
# payment.terms, liability_exemptions, breach_liability, dispute_resolution) gets the
# standard wording of the contract's business type (archive.clauses).
STANDARD = {"description": "省略时取该业务类型的标准条款"}


class TransportSchema(StrictSchema):
    method = Text(max_length=SHORT, metadata=STANDARD)
    freight_paid_by = fields.String(
        required=True,
        validate=validate.OneOf(
            ["seller", "buyer"], error="必须是 seller（供方）或 buyer（需方）。"
        ),
    )


class DeliveryTermsSchema(StrictSchema):
    deadline = fields.Date(required=True)
    place = Text(required=True, max_length=LINE)
    acceptance = Text(max_length=CLAUSE, multiline=True, metadata=STANDARD)


class PaymentTermsSchema(StrictSchema):
    method = Text(max_length=SHORT, metadata=STANDARD)
    terms = Text(max_length=CLAUSE, multiline=True, metadata=STANDARD)
    due_on = fields.Date(required=True)


class ContractSchema(StrictSchema):
    """A sales contract as submitted. Totals are never accepted: the service computes them."""

    region = Text(required=True, max_length=20)
    business_type = Text(max_length=40, metadata={
        "description": "销售业务类型（设备买卖、零部件供货 …）：用该类型正在使用的标准合同模板；"
                       "省略时为默认类型"})  # fmt: skip
    signed_on = fields.Date(required=True)
    signed_at = Text(required=True, max_length=LINE)
    seller = fields.Nested(PartySchema, metadata={
        "description": "供方；省略时为本公司（管理员配置的 HETONG_SELLER）"})  # fmt: skip
    buyer = fields.Nested(PartySchema, metadata={
        "description": "需方；与 customer_id 同给时以此为准，与档案不同之处列出"})  # fmt: skip
    customer_id = fields.Integer(
        strict=True, validate=validate.Range(min=1, max=2**63 - 1, error="须为正整数。"),
        metadata={"description": "需方的客户档案编号；省略 buyer 时需方信息取自客户档案。"
                                 "两者都省略为错误；只给 buyer 时按名称（或税号）对应客户档案，"
                                 "没有则以本合同的需方新建"},
    )  # fmt: skip
    items = fields.List(
        fields.Nested(ItemSchema),
        required=True,
        validate=validate.Length(min=1, max=200, error="至少一项、至多 {max} 项。"),
    )
    quality_standard = Text(max_length=CLAUSE, multiline=True, metadata=STANDARD)
    transport = fields.Nested(TransportSchema, required=True)
    delivery = fields.Nested(DeliveryTermsSchema, required=True)
    payment = fields.Nested(PaymentTermsSchema, required=True)
    liability_exemptions = Text(max_length=CLAUSE, multiline=True, metadata=STANDARD)
    breach_liability = Text(max_length=CLAUSE, multiline=True, metadata=STANDARD)
    dispute_resolution = Text(max_length=CLAUSE, multiline=True, metadata=STANDARD)
    extra_clauses = fields.List(
        Text(max_length=CLAUSE, multiline=True),
        load_default=list,
        validate=validate.Length(max=50, error="至多 {max} 条。"),
    )
    salesperson = Text(max_length=SHORT)

    def __init__(self, *args, regions: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.regions = regions or []

    @validates_schema(skip_on_field_errors=False)
    def _cross_field(self, data: dict[str, Any], **kwargs) -> None:
        errors: dict[str, Any] = {}
        if self.regions and data.get("region") and data["region"] not in self.regions:
            errors["region"] = [f"未知区域，可选：{'、'.join(self.regions)}。"]
        signed = data.get("signed_on")
        deadline = (data.get("delivery") or {}).get("deadline")
        due = (data.get("payment") or {}).get("due_on")
        if signed and deadline and deadline < signed:
            errors["delivery"] = {"deadline": ["交货期限不能早于签订日期。"]}
        if signed and due and due < signed:
            errors["payment"] = {"due_on": ["付款期限不能早于签订日期。"]}
        if not data.get("buyer") and data.get("customer_id") is None:
            errors["buyer"] = ["缺少需方：请填写需方，或以 customer_id 选择客户档案。"]
        if errors:
            raise ValidationError(errors)


class ContractRevisionSchema(ContractSchema):
    """A draft's corrected data (改稿): the whole contract again, with why it changed."""

    note = Text(max_length=500, multiline=True,
                metadata={"description": "改稿说明（记入改稿记录与审计）"})  # fmt: skip
    based_on = fields.Integer(
        strict=True, validate=validate.Range(min=1, error="须为正整数。"),
        metadata={"description": "据以修改的第几稿（合同的 revision）：此后已有人改稿时答 409，"
                                 "不覆盖他人的修改；省略则以现行稿为准"},
    )  # fmt: skip


CHANGEABLE = ("effective", "completed", "terminated")


class StatusChangeSchema(StrictSchema):
    status = fields.String(
        required=True,
        validate=validate.OneOf(CHANGEABLE, error=f"取值须为 {named(CHANGEABLE)} 之一。"),
    )  # fmt: skip
    note = Text(max_length=500, multiline=True)
    force = StrictBoolean(
        load_default=False,
        metadata={"description": "确认履行完毕：尚有未发货或未收款时须为 true，并在 note 说明原因"},
    )  # fmt: skip


class OwnerChangeSchema(StrictSchema):
    owner = Text(required=True, max_length=50,
                 metadata={"description": "新的负责人（销售部在职人员的用户名）"})  # fmt: skip
    note = Text(required=True, max_length=500, multiline=True,
                metadata={"description": "移交原因（记入审计）"})  # fmt: skip


class SecrecyChangeSchema(StrictSchema):
    confidential = StrictBoolean(required=True, metadata={"description": "true：机密；false：普通"})
    note = Text(required=True, max_length=500, multiline=True,
                metadata={"description": "变更密级的原因（记入审计）"})  # fmt: skip


def flatten_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict → {"items.1.quantity": ["必须大于 0。"]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                path = prefix or "_schema"
            for sub, messages in flatten_errors(value, path).items():
                flat.setdefault(sub, []).extend(messages)
    elif isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        flat[prefix or "_schema"] = list(errors)
    elif isinstance(errors, list):
        for value in errors:
            for sub, messages in flatten_errors(value, prefix).items():
                flat.setdefault(sub, []).extend(messages)
    else:
        flat[prefix or "_schema"] = [str(errors)]
    return flat
