"""标准条款: what a manager submits to change a standard clause, and the library as answered."""

from __future__ import annotations

from marshmallow import Schema, fields

from schemas.contract import StrictSchema
from schemas.fields import Text
from schemas.queries import QueryArgs


class ClauseArgs(QueryArgs):
    business_type = Text(max_length=40, metadata={"description": "只看该业务类型"})


class ClauseTextSchema(StrictSchema):
    text = Text(required=True, max_length=2000, multiline=True,
                metadata={"description": "标准条款的新文字"})  # fmt: skip


class ClauseViewSchema(Schema):
    field = fields.String(metadata={"description": "条款在合同数据中的位置，如 payment.terms"})
    label = fields.String()
    text = fields.String()
    default = fields.Boolean(metadata={"description": "公司默认文字（该业务类型未另行规定）"})
    updated_by = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)


class ClauseLibrarySchema(Schema):
    business_type = fields.String()
    clauses = fields.List(fields.Nested(ClauseViewSchema))
