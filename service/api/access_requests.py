"""``/api/v1/access-requests``: 查阅申请 — ask to read contracts outside one's scope, and
approve or reject in order (department head, head of sales, the general manager for
confidential contracts)."""

from __future__ import annotations

from typing import Any

from flask import url_for

from archive import access_requests
from archive.models import AccessRequest
from schemas.access import (
    AccessRequestListArgs,
    AccessRequestSchema,
    ApprovalSchema,
    RejectionSchema,
)
from schemas.fields import MAX_ID
from schemas.views import AccessRequestViewSchema, page_of
from service.api.common import SECURITY, Blueprint, PageRequest
from service.auth import actor, authenticate
from service.ext import get_archive

blp = Blueprint("access_requests", __name__, description="查阅申请与审批")
blp.before_request(authenticate)

AccessRequestPageSchema = page_of(AccessRequestViewSchema, "AccessRequestPage")
LOCATION = {"Location": {"description": "新建申请的地址", "schema": {"type": "string"}}}
ONE = f"/<int(max={MAX_ID}):request_id>"


def views(requests: list[AccessRequest]) -> list[dict[str, Any]]:
    return [{**found, "url": url_for("access_requests.show", request_id=found["id"])}
            for found in access_requests.describe(get_archive(), requests)]  # fmt: skip


def view(request: AccessRequest) -> dict[str, Any]:
    return views([request])[0]


@blp.post("")
@blp.doc(summary="提交查阅申请", security=SECURITY,
         description="可申请任何存在的合同（编号可能是纸面上得到的）；不存在、已销毁或本就可以查阅"
         "的编号答 422（字段 contract_nos）。审批链在提交时确定：部门负责人 → 销售部负责人，"
         "含机密合同时再经总经理；无人可审批时答 409。")  # fmt: skip
@blp.arguments(AccessRequestSchema)
@blp.response(201, AccessRequestViewSchema, description="已提交，待审批", headers=LOCATION)
@blp.errors(409, 422)
def create(data: dict[str, Any]):
    request = access_requests.create(get_archive(), actor(), data["contract_nos"],
                                     data["purpose"], data["until"])  # fmt: skip
    found = view(request)
    return found, {"Location": found["url"]}


@blp.get("")
@blp.doc(summary="我的申请（默认，新的在前）或待我审批（waiting=true，旧的在前）",
         security=SECURITY)  # fmt: skip
@blp.arguments(AccessRequestListArgs, location="query")
@blp.response(200, AccessRequestPageSchema)
@blp.paginate(per_page=50, max_per_page=200)
@blp.errors(422)
def index(args: dict[str, Any], page: PageRequest):
    listed = access_requests.waiting_for if args["waiting"] else access_requests.mine
    page.item_count, rows = listed(get_archive(), actor(), limit=page.per_page,
                                   offset=page.offset)  # fmt: skip
    return views(rows)


@blp.get(ONE)
@blp.doc(summary="查看申请（申请人、审批人、总经理、档案管理员）", security=SECURITY)
@blp.response(200, AccessRequestViewSchema)
@blp.errors(404)
def show(request_id: int):
    return view(access_requests.get(get_archive(), actor(), request_id))


@blp.post(f"{ONE}/approve")
@blp.doc(summary="同意（当前步骤的审批人）；最后一步同意后申请生效", security=SECURITY)
@blp.arguments(ApprovalSchema, required=False, description="可省略：无审批意见")
@blp.response(200, AccessRequestViewSchema)
@blp.errors(403, 404, 409, 422)
def approve(data: dict[str, Any], request_id: int):
    return view(access_requests.approve(get_archive(), actor(), request_id, data.get("note")))


@blp.post(f"{ONE}/reject")
@blp.doc(summary="驳回（当前步骤的审批人，须说明理由）；申请就此结束", security=SECURITY)
@blp.arguments(RejectionSchema)
@blp.response(200, AccessRequestViewSchema)
@blp.errors(403, 404, 409, 422)
def reject(data: dict[str, Any], request_id: int):
    return view(access_requests.reject(get_archive(), actor(), request_id, data["note"]))


@blp.post(f"{ONE}/withdraw")
@blp.doc(summary="撤回（申请人，仅审批中的申请）", security=SECURITY)
@blp.response(200, AccessRequestViewSchema)
@blp.errors(403, 404, 409)
def withdraw(request_id: int):
    return view(access_requests.withdraw(get_archive(), actor(), request_id))
