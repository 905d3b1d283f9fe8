"""What an archivist or manager submits to the retention endpoints."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.contract import CLAUSE, StrictSchema
from schemas.fields import StrictBoolean, Text


class RetentionRunSchema(StrictSchema):
    as_of = fields.Date(metadata={"description": "清理基准日（默认今天）"})
    dry_run = StrictBoolean(load_default=False, metadata={"description": "只报告，不做更改"})


class DestructionSchema(StrictSchema):
    contract_nos = fields.List(
        Text(required=True, max_length=50), required=True,
        validate=validate.Length(min=1, max=1000, error="须列出 1–{max} 份合同。"),
        metadata={"description": "批准销毁的合同编号"},
    )  # fmt: skip
    note = Text(max_length=CLAUSE, multiline=True, metadata={"description": "备注"})


class HoldSchema(StrictSchema):
    reason = Text(required=True, max_length=CLAUSE, multiline=True,
                  metadata={"description": "保全原因"})  # fmt: skip
