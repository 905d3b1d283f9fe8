"""``/api/v1/contracts/<no>/reviews`` (the review chain of a draft) and ``/api/v1/tasks``
(what waits for the signed-in person)."""

from __future__ import annotations

from typing import Any

from flask import url_for

from archive import reviews, tasks
from archive.errors import NotFound
from schemas.reviews import ReviewDecisionSchema, ReviewViewSchema, TaskSchema
from service.api.common import SECURITY, Blueprint, contract_url
from service.auth import actor, authenticate
from service.ext import get_archive

blp = Blueprint("reviews", __name__, description="合同审批流程")
blp.before_request(authenticate)
todo = Blueprint("tasks", __name__, description="待办")
todo.before_request(authenticate)

LOCATION = {"Location": {"description": "审批流程的地址", "schema": {"type": "string"}}}


@blp.get("/<contract_no>/reviews")
@blp.doc(summary="查看合同的审批流程（审批人另见需方信用）", security=SECURITY)
@blp.response(200, ReviewViewSchema)
@blp.errors(404, 410)
def show(contract_no: str):
    return reviews.view(get_archive(), contract_no, actor())


@blp.post("/<contract_no>/reviews")
@blp.doc(summary="提交审批，或就正待审批的环节同意或退回（最后一步同意即生效）",
         security=SECURITY,
         description="超出信用额度、或客户有逾期超过 30 天的欠款时，最后一步同意须 "
         "override=true 并附 feasibility_note，否则 409 说明原因并附需方信用。")  # fmt: skip
@blp.arguments(ReviewDecisionSchema)
@blp.response(201, ReviewViewSchema, description="已记录", headers=LOCATION)
@blp.errors(403, 404, 409, 410, 422)
@blp.searchable()
def decide(data: dict[str, Any], contract_no: str):
    reviews.decide(get_archive(), contract_no, data.pop("decision"), actor(), **data)
    where = url_for("reviews.show", contract_no=contract_no)
    try:
        body = reviews.view(get_archive(), contract_no, actor())
    except NotFound:  # a duty holder reads only what still waits for them
        body = {"contract_no": contract_no, "state": None, "state_name": "", "steps": [],
                "history": [], "may_decide": False, "credit": None}  # fmt: skip
    return body, {"Location": where}


@todo.get("")
@todo.doc(summary="待办：待我审批、退回给我修改、生效后未回签的合同", security=SECURITY)
@todo.response(200, TaskSchema(many=True))
def index():
    return [{**t, "url": contract_url(t["contract_no"])}
            for t in tasks.tasks(get_archive(), actor())]  # fmt: skip
