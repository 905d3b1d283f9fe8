"""客户档案: what a person submits to enter or correct a customer, and what the API answers."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.contract import LINE, NAME, SHORT, StrictSchema
from schemas.fields import Money, Text
from schemas.labels import named
from schemas.queries import QueryArgs
from schemas.views import ContractSummarySchema

GRADES = ("A", "B", "C")
NOTES = 2000


class ContactSchema(StrictSchema):
    name = Text(required=True, max_length=SHORT, metadata={"description": "联系人"})
    phone = Text(max_length=SHORT, metadata={"description": "电话"})
    role = Text(max_length=SHORT, metadata={"description": "职务或负责事项"})


def _grade(**kwargs) -> fields.String:
    return fields.String(
        validate=validate.OneOf(GRADES, error=f"取值须为 {named(GRADES)} 之一。"),
        metadata={"description": "客户等级 A / B / C（销售经理评定）"}, **kwargs,
    )  # fmt: skip


class CustomerSchema(StrictSchema):
    """A customer entered by hand. Grade, credit limit and credit notes: managers only."""

    name = Text(required=True, max_length=NAME, metadata={"description": "客户全称"})
    address = Text(required=True, max_length=LINE)
    representative = Text(max_length=SHORT, metadata={"description": "法定代表人/委托代理人"})
    phone = Text(max_length=SHORT)
    bank = Text(max_length=NAME, metadata={"description": "开户银行"})
    account = Text(max_length=SHORT, metadata={"description": "账号"})
    tax_id = Text(max_length=SHORT, metadata={"description": "税号"})
    contacts = fields.List(
        fields.Nested(ContactSchema),
        validate=validate.Length(max=20, error="至多 {max} 位联系人。"),
    )
    grade = _grade(allow_none=True)
    credit_limit = Money(
        allow_none=True, validate=validate.Range(min=0, error="不能为负数。"),
        metadata={"description": "信用额度（元）：欠款合计加新合同不得超过；null 为未设定"},
    )  # fmt: skip
    credit_notes = Text(max_length=NOTES, multiline=True, allow_none=True,
                        metadata={"description": "信用记录（客户信用档案）"})  # fmt: skip


class CustomerUpdateSchema(CustomerSchema):
    """Only what is given changes; ``note`` says why (audit)."""

    name = Text(max_length=NAME, metadata={"description": "客户全称（给出时不能为空）"})
    address = Text(max_length=LINE, metadata={"description": "地址（给出时不能为空）"})
    note = Text(max_length=500, multiline=True, metadata={"description": "修改原因（记入审计）"})

    @validates_schema
    def _something(self, data: dict, **kwargs) -> None:
        blank = {key: ["不能为空。"] for key in ("name", "address")
                 if key in data and not (data[key] or "").strip()}  # fmt: skip
        if blank:
            raise ValidationError(blank)
        if not set(data) - {"note"}:
            raise ValidationError("没有要修改的字段：请给出客户档案中要改的字段。")


class CustomerListArgs(QueryArgs):
    q = Text(max_length=100, metadata={"description": "客户名称中的片段，或完整税号"})
    grade = fields.String(validate=validate.OneOf(GRADES, error=f"取值须为 {named(GRADES)} 之一。"),
                          metadata={"description": "客户等级"})  # fmt: skip


def _money(description: str) -> fields.String:
    return fields.String(metadata={"description": description, "example": "382505.00"})


class CreditSchema(Schema):
    outstanding = _money("未收合计（元）：已生效合同的欠款")
    overdue_amount = _money("其中已逾期（元）")
    overdue_contracts = fields.Integer(metadata={"description": "逾期未收的合同数"})
    days_overdue = fields.Integer(metadata={"description": "最长逾期天数"})


class ContactViewSchema(Schema):
    name = fields.String()
    phone = fields.String()
    role = fields.String()


class CustomerViewSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    address = fields.String()
    representative = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    bank = fields.String(allow_none=True)
    account = fields.String(allow_none=True)
    tax_id = fields.String(allow_none=True)
    contacts = fields.List(fields.Nested(ContactViewSchema))
    grade = fields.String(allow_none=True, metadata={"description": "客户等级；null 为未评定"})
    credit_limit = fields.String(allow_none=True, metadata={"description": "信用额度（元）"})
    credit_notes = fields.String(allow_none=True)
    created_by = fields.String()
    created_at = fields.String()
    updated_at = fields.String()
    credit = fields.Nested(CreditSchema, metadata={"description": "按您看得见的合同合计"})
    url = fields.String()


class CustomerDossierSchema(CustomerViewSchema):
    contracts = fields.List(
        fields.Nested(ContractSummarySchema),
        metadata={"description": "该客户的合同（您看得见的），新的在前"},
    )
