"""``/api/v1/retention``: rules, sweep runs, destruction; holds on contracts."""

from __future__ import annotations

import datetime as dt
import io

from flask import send_file
from flask_smorest import Blueprint

from archive import retention
from archive.errors import InvalidData
from service.api.contracts import SECURITY, json_body, view
from service.app import archive
from service.auth import actor, authenticate, require

blp = Blueprint("retention", __name__, description="保存期限与销毁")
blp.before_request(authenticate)
holds = Blueprint("holds", __name__, description="保全（法律冻结）")
holds.before_request(authenticate)


def _object() -> dict:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidData({"_schema": ["请求体必须是 JSON 对象。"]})
    return body


@blp.get("/rules")
@blp.doc(summary="保存规则", security=SECURITY)
def rules():
    return {"items": retention.rules(archive().retention_years)}


@blp.post("/runs")
@blp.doc(summary="执行清理（as_of、dry_run）", security=SECURITY)
@require("archivist", "manager")
def run():
    body = _object()
    unknown = sorted(set(body) - {"as_of", "dry_run"})
    errors = {k: ["未知字段。"] for k in unknown}
    as_of = dt.date.today()
    if body.get("as_of") is not None:
        try:
            as_of = dt.date.fromisoformat(str(body["as_of"]))
        except ValueError:
            errors["as_of"] = ["日期格式必须为 YYYY-MM-DD。"]
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        errors["dry_run"] = ["必须是 true 或 false。"]
    if errors:
        raise InvalidData(errors)
    report = retention.run(archive(), as_of=as_of, dry_run=dry_run, actor=actor())
    return report, 201


@blp.get("/runs")
@blp.doc(summary="清理记录", security=SECURITY)
@require("archivist", "manager")
def runs():
    return {"items": retention.runs(archive())}


@blp.post("/destructions")
@blp.doc(summary="批准销毁（仅销售经理）", security=SECURITY)
def destroy():
    body = _object()
    numbers = body.get("contract_nos")
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
        raise InvalidData({"contract_nos": ["必须是合同编号列表。"]})
    note = body.get("note") if isinstance(body.get("note"), str) else None
    result = retention.destroy(archive(), numbers, note, actor())
    return result, 201


@blp.get("/records/<number>/pdf")
@blp.doc(summary="下载销毁清单或销毁记录（永久保存）", security=SECURITY)
@require("archivist", "manager")
def record_pdf(number: str):
    _record, data = retention.certificate_file(archive(), number)
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{number}.pdf", max_age=0)  # fmt: skip


@holds.post("/<contract_no>/hold")
@holds.doc(summary="保全：冻结合同，不移卷、不销毁", security=SECURITY)
def put_hold(contract_no: str):
    body = _object()
    reason = body.get("reason") if isinstance(body.get("reason"), str) else None
    return view(retention.hold(archive(), contract_no, reason, actor()))


@holds.delete("/<contract_no>/hold")
@holds.doc(summary="解除保全", security=SECURITY)
def release_hold(contract_no: str):
    return view(retention.hold(archive(), contract_no, None, actor(), release=True))
