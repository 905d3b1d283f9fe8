"""What a person submits about access (004 查阅与借阅): a 查阅申请 (which contracts, why, until
when), a decision on one, and which requests to list.

The shapes only: whether a number names a contract, and how far ahead ``until`` may lie (a
local day of the archive's time zone), are the domain's rules (``archive.access_requests``).
"""

from __future__ import annotations

from collections import Counter

from marshmallow import ValidationError, fields, validate, validates, validates_schema

from schemas.contract import StrictSchema
from schemas.fields import Text
from schemas.queries import QueryArgs

MAX_CONTRACTS = 50
MAX_PURPOSE = 500
MAX_NOTE = 500
MAX_DAYS = 90
CONTRACT_NO = 50


class AccessRequestSchema(StrictSchema):
    """《销售文件查阅申请表》: the documents, the purpose, the time."""

    contract_nos = fields.List(
        Text(required=True, max_length=CONTRACT_NO), required=True,
        validate=validate.Length(min=1, max=MAX_CONTRACTS,
                                 error=f"须列出 1–{MAX_CONTRACTS} 份合同。"),
        metadata={"description": f"要查阅的合同编号（1–{MAX_CONTRACTS} 份，不重复）"},
    )  # fmt: skip
    purpose = Text(required=True, max_length=MAX_PURPOSE, multiline=True,
                   metadata={"description": "查阅用途"})  # fmt: skip
    until = fields.Date(
        required=True,
        metadata={"description": f"查阅截止日（含；当地日期，今天起至多 {MAX_DAYS} 天）"},
    )

    @validates("contract_nos")
    def _distinct(self, value: list[str], **kwargs) -> None:
        repeated = [number for number, times in Counter(value).items() if times > 1]
        if repeated:
            raise ValidationError(f"合同编号重复：{'、'.join(repeated)}。")


class ApprovalSchema(StrictSchema):
    note = Text(max_length=MAX_NOTE, multiline=True, metadata={"description": "审批意见（可选）"})


class RejectionSchema(StrictSchema):
    note = Text(required=True, max_length=MAX_NOTE, multiline=True,
                metadata={"description": "驳回理由（必填）"})  # fmt: skip


class AccessRequestListArgs(QueryArgs):
    waiting = fields.Boolean(
        load_default=False,
        metadata={"description": "true：待我审批的申请（旧的在前）；否则为我提交的申请"},
    )
    mine = fields.Boolean(load_default=False,
                          metadata={"description": "true：我提交的申请（默认）"})  # fmt: skip

    @validates_schema
    def _one_list(self, data, **kwargs) -> None:
        if data.get("mine") and data.get("waiting"):
            raise ValidationError({"waiting": ["mine 与 waiting 只能选一个。"]})
