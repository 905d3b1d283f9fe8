"""Lending (借阅): what an archivist submits to lend and take back a dossier, the loan list's
query string, and a loan as the API answers it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.contract import SHORT, StrictSchema
from schemas.fields import Text
from schemas.queries import AsOfArgs, purpose_field

FORMS = ("paper", "electronic")
FORM_NAMES = {"paper": "纸质", "electronic": "电子"}
FORM_CHOICES = "、".join(f"{code}（{FORM_NAMES[code]}）" for code in FORMS)
NOTE = 500


class LendSchema(StrictSchema):
    """A loan (借出): whose dossier, to whom, until when, why."""

    contract_no = Text(required=True, max_length=SHORT, metadata={"description": "合同编号"})
    borrower = Text(required=True, max_length=SHORT,
                    metadata={"description": "借阅人（在职用户的登录名）"})  # fmt: skip
    due_on = fields.Date(required=True, metadata={
        "description": "应还日期（YYYY-MM-DD，本地日期）：不早于今天，至多 90 天后"})  # fmt: skip
    purpose = purpose_field(required=True)
    form = fields.String(
        load_default="paper",
        validate=validate.OneOf(FORMS, error=f"取值须为 {FORM_CHOICES} 之一。"),
        metadata={"description": "paper 纸质卷宗（默认；同时只能借给一人）或 electronic 电子卷宗"
                                 "（借期内借阅人可查阅该合同，机密合同除外）"},
    )  # fmt: skip
    note = Text(max_length=NOTE, multiline=True, metadata={"description": "备注"})


class ReturnSchema(StrictSchema):
    """A return (归还)."""

    note = Text(max_length=NOTE, multiline=True, metadata={"description": "备注（如卷宗状况）"})


class LoanListArgs(AsOfArgs):
    """The loan list's filters (``as_of``: the day that decides what is overdue)."""

    open = fields.Boolean(metadata={"description": "true 只看未归还的，false 只看已归还的"})
    overdue = fields.Boolean(
        metadata={"description": "true 只看逾期未还的（应还日期早于 as_of），false 只看其余的"}
    )
    borrower = Text(max_length=SHORT, metadata={"description": "借阅人（登录名）"})
    contract_no = Text(max_length=SHORT, metadata={"description": "合同编号"})


class LoanViewSchema(Schema):
    """A loan as the API answers it."""

    id = fields.Integer()
    contract_no = fields.String(metadata={"description": "合同编号"})
    borrower = fields.String(metadata={"description": "借阅人（登录名）"})
    borrower_name = fields.String(metadata={"description": "借阅人（显示名称）"})
    form = fields.String(
        metadata={"description": "paper 纸质或 electronic 电子", "enum": list(FORMS)}
    )
    purpose = fields.String(metadata={"description": "用途"})
    due_on = fields.String(metadata={"description": "应还日期"})
    lent_by = fields.String(metadata={"description": "经办档案管理员（登录名）"})
    lent_at = fields.String(metadata={"description": "借出时间（UTC，ISO 8601）"})
    returned_at = fields.String(allow_none=True, metadata={"description": "归还时间（UTC）"})
    returned_to = fields.String(allow_none=True, metadata={"description": "登记归还的档案管理员"})
    note = fields.String(allow_none=True, metadata={"description": "备注（借出时的，及归还时的）"})
    open = fields.Boolean(metadata={"description": "尚未归还"})
    overdue = fields.Boolean(metadata={"description": "逾期未还"})
    days_overdue = fields.Integer(metadata={"description": "逾期天数（未逾期为 0）"})
    url = fields.String(metadata={"description": "本借阅记录的地址"})
