"""``/api/v1/loans``: lending a dossier (借阅), its return, and the loans past due."""

from __future__ import annotations

from typing import Any

from flask import url_for

from archive import loans
from schemas.fields import MAX_ID
from schemas.loans import LendSchema, LoanListArgs, LoanViewSchema, ReturnSchema
from schemas.views import page_of
from service.api.common import SECURITY, Blueprint, PageRequest
from service.auth import actor, authenticate
from service.ext import get_archive

blp = Blueprint("loans", __name__, description="借阅（借出、归还、逾期）")
blp.before_request(authenticate)

LoanPageSchema = page_of(LoanViewSchema, "LoanPage")
LOCATION = {"Location": {"description": "新建借阅记录的地址", "schema": {"type": "string"}}}


def _view(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "url": url_for("loans.show", loan_id=record["id"])}


@blp.post("")
@blp.doc(summary="借出卷宗（档案管理员）", security=SECURITY,
         description="纸质卷宗未归还前不能再借出（409，说明借阅人与应还日期）；"
         "借阅人须为在职用户，应还日期不早于今天、至多 90 天后（422 指明字段）。"
         "借出记入查阅登记（含用途）。")  # fmt: skip
@blp.arguments(LendSchema)
@blp.response(201, LoanViewSchema, description="已借出", headers=LOCATION)
@blp.errors(403, 404, 409, 410, 422)
def lend(data: dict[str, Any]):
    record = loans.lend(get_archive(), actor(), data["contract_no"], data["borrower"],
                        data["due_on"], data["purpose"], form=data["form"],
                        note=data.get("note"))  # fmt: skip
    body = _view(record)
    return body, {"Location": body["url"]}


@blp.get("")
@blp.doc(summary="借阅记录（未归还的在前，最早到期的在前）", security=SECURITY,
         description="档案管理员、销售经理、总经理看其可见合同的全部借阅；其他人只看借给自己的。"
         "?overdue=true 为逾期未还的。")  # fmt: skip
@blp.arguments(LoanListArgs, location="query")
@blp.response(200, LoanPageSchema)
@blp.paginate(per_page=50, max_per_page=200)
@blp.errors(422)
def index(args: dict[str, Any], page: PageRequest):
    page.item_count, rows = loans.listing(
        get_archive(), actor(), open=args.get("open"), overdue=args.get("overdue"),
        borrower=args.get("borrower"), contract_no=args.get("contract_no"),
        today=args.get("as_of"), limit=page.per_page, offset=page.offset,
    )  # fmt: skip
    return [_view(r) for r in rows]


@blp.get(f"/<int(max={MAX_ID}):loan_id>")
@blp.doc(summary="一条借阅记录", security=SECURITY)
@blp.response(200, LoanViewSchema)
@blp.errors(404)
def show(loan_id: int):
    return _view(loans.get(get_archive(), actor(), loan_id))


@blp.post(f"/<int(max={MAX_ID}):loan_id>/return")
@blp.doc(summary="登记归还（档案管理员）", security=SECURITY,
         description="已归还的再登记归还答 409。")  # fmt: skip
@blp.arguments(ReturnSchema, required=False, description="可省略：备注")
@blp.response(200, LoanViewSchema, description="已归还")
@blp.errors(403, 404, 409, 422)
def return_loan(data: dict[str, Any], loan_id: int):
    return _view(loans.return_loan(get_archive(), actor(), loan_id, note=data.get("note")))
