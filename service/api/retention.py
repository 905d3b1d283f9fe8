"""``/api/v1/retention``: rules, sweep runs, destruction; holds on contracts."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import send_file, url_for
from marshmallow import fields

from archive import retention, sweep
from schemas.retention import DestructionSchema, HoldSchema, RetentionRunSchema
from schemas.views import (
    ContractViewSchema,
    DestructionResultSchema,
    RetentionReportSchema,
    RetentionRuleListSchema,
    RetentionRunViewSchema,
    page_of,
)
from service.api.common import SECURITY, Blueprint, PageRequest, contract_view
from service.auth import actor, authenticate, require
from service.ext import get_archive

blp = Blueprint("retention", __name__, description="保存期限与销毁")
blp.before_request(authenticate)
holds = Blueprint("holds", __name__, description="保全（法律冻结）")
holds.before_request(authenticate)

STRING = {"type": "string"}


# The fields lists per volume and certificates in parts added to the report and the result.
# (They belong in schemas.views beside their bases; kept here until they move there.)
class SweepReportSchema(RetentionReportSchema):
    destruction_lists = fields.List(fields.String(), metadata={
        "description": "本次生成的全部销毁清单编号（每卷一份，较大的卷分为多份）"})  # fmt: skip


class SweepRunViewSchema(RetentionRunViewSchema, SweepReportSchema):
    state = fields.String(metadata={
        "description": "sweeping 清理中、listing 生成销毁清单中、done 已完成"
                       "（中断的清理由下一次清理接着完成）"})  # fmt: skip


class DestructionCertificatesSchema(DestructionResultSchema):
    certificates = fields.List(fields.String(), metadata={
        "description": "销毁记录的全部编号（合同较多时分为多份）"})  # fmt: skip
    files_deleted = fields.Boolean(metadata={
        "description": "文件是否已删除：false 表示销毁日志尚未写入全部备份位置（共享未挂载？），"
                       "合同已不可查阅，文件在下次启动或清理写入日志后删除"})  # fmt: skip


RunPageSchema = page_of(SweepRunViewSchema, "RetentionRunPage")
PDF = {"description": "销毁清单或销毁记录（PDF）", "content": {"application/pdf": {
    "schema": {"type": "string", "format": "binary"}}}}  # fmt: skip


@blp.get("/rules")
@blp.doc(summary="保存规则", security=SECURITY)
@blp.response(200, RetentionRuleListSchema)
@blp.errors()
def rules():
    return {"items": retention.rules(get_archive().retention_years)}


@blp.post("/runs")
@blp.doc(summary="执行清理（as_of、dry_run）", security=SECURITY,
         description="实际清理的基准日不能晚于今天（422），演练可以。报告列出每种结果的全部合同"
         "编号；中断的清理由下一次清理接着完成；另一次清理正在进行时答 409。")  # fmt: skip
@blp.arguments(RetentionRunSchema, required=False, description="可省略：默认今天、非演练")
@blp.response(201, SweepReportSchema, description="清理报告（演练时不做任何更改）")
@blp.errors(403, 409, 422, 503)
@require("archivist", "manager")
def run(data: dict[str, Any]):
    as_of = data.get("as_of") or dt.date.today()
    return sweep.run(get_archive(), as_of=as_of, dry_run=data["dry_run"], actor=actor())


@blp.get("/runs")
@blp.doc(summary="清理记录（新的在前）", security=SECURITY)
@blp.response(200, RunPageSchema)
@blp.paginate(per_page=50, max_per_page=200)
@blp.errors(403, 422)
@require("archivist", "manager")
def runs(page: PageRequest):
    page.item_count, items = sweep.runs(get_archive(), limit=page.per_page,
                                        offset=page.offset)  # fmt: skip
    return items


@blp.post("/destructions")
@blp.doc(summary="批准销毁（仅销售经理）", security=SECURITY)
@blp.arguments(DestructionSchema)
@blp.response(201, DestructionCertificatesSchema, description="已销毁；附销毁记录编号",
              headers={"Location": {"description": "销毁记录 PDF", "schema": STRING}})  # fmt: skip
@blp.errors(403, 409, 422, 503)
def destroy(data: dict[str, Any]):
    result = retention.destroy(get_archive(), data["contract_nos"], data.get("note"), actor())
    return result, {"Location": url_for("retention.record_pdf", number=result["certificate"])}


@blp.get("/records/<number>/pdf")
@blp.doc(summary="下载销毁清单或销毁记录（永久保存）", security=SECURITY,
         responses={200: PDF})  # fmt: skip
@blp.errors(403, 404)
@require("archivist", "manager")
def record_pdf(number: str):
    _record, data = retention.certificate_file(get_archive(), number)
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{number}.pdf", max_age=0)  # fmt: skip


@holds.post("/<contract_no>/hold")
@holds.doc(summary="保全：冻结合同，不移卷、不销毁", security=SECURITY)
@holds.arguments(HoldSchema)
@holds.response(200, ContractViewSchema)
@holds.errors(403, 404, 409, 410, 422)
def put_hold(data: dict[str, Any], contract_no: str):
    return contract_view(retention.hold(get_archive(), contract_no, data["reason"], actor()))


@holds.delete("/<contract_no>/hold")
@holds.doc(summary="解除保全", security=SECURITY)
@holds.response(200, ContractViewSchema)
@holds.errors(403, 404, 409, 410)
def release_hold(contract_no: str):
    contract = retention.hold(get_archive(), contract_no, None, actor(), release=True)
    return contract_view(contract)
