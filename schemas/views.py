"""Response shapes, for the OpenAPI document (views build plain dicts)."""

from __future__ import annotations

from marshmallow import Schema, fields


class FileLinkSchema(Schema):
    url = fields.String(metadata={"description": "下载地址"})
    sha256 = fields.String()
    size = fields.Integer()
    filename = fields.String()


class DocumentViewSchema(Schema):
    kind = fields.String(metadata={"example": "sales_contract"})
    number = fields.String()
    title = fields.String()
    created_at = fields.String()
    pdf = fields.Nested(FileLinkSchema)
    docx = fields.Nested(FileLinkSchema)


class ContractViewSchema(Schema):
    contract_no = fields.String(metadata={"example": "HT-202611-0001"})
    status = fields.String(metadata={"example": "draft"})
    region = fields.String()
    signed_on = fields.Date()
    seller = fields.Dict()
    buyer = fields.Dict()
    total = fields.String(metadata={"example": "382505.00"})
    total_upper = fields.String(metadata={"example": "叁拾捌万贰仟伍佰零伍元整"})
    terms = fields.Dict()
    documents = fields.List(fields.Nested(DocumentViewSchema))
    created_by = fields.String()
    created_at = fields.String()
    approved_by = fields.String(allow_none=True)
    approved_at = fields.String(allow_none=True)


class StatusChangeSchema(Schema):
    status = fields.String(
        required=True, metadata={"enum": ["effective", "completed", "terminated"]}
    )
    note = fields.String()


class ApiErrorSchema(Schema):
    code = fields.Integer()
    status = fields.String()
    message = fields.String()
    errors = fields.Dict(metadata={"description": "字段路径 → 错误信息，如 items.1.quantity"})
