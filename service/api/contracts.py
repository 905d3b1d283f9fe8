"""``/api/v1/contracts``: create, read, change status, download documents."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import request, send_file, url_for
from flask_smorest import Blueprint
from sqlalchemy import func, select

from archive import contracts
from archive.errors import InvalidData
from archive.models import Contract
from schemas import ContractSchema
from schemas.views import ApiErrorSchema, ContractViewSchema, StatusChangeSchema
from service.app import archive
from service.auth import actor, authenticate
from service.errors import error_response

blp = Blueprint("contracts", __name__, description="销售合同")
blp.before_request(authenticate)

TITLES = {"sales_contract": "销售合同", "amendment": "补充协议", "delivery_notice": "发货通知单",
          "signed_scan": "签署扫描件"}  # fmt: skip
SECURITY = [{"bearer": []}]


def json_body() -> Any:
    if not request.is_json:
        return None
    return request.get_json(silent=True)


def _documents(contract: Contract) -> list[dict[str, Any]]:
    """Group stored files by document: one entry per document, a link per format."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in contract.documents:
        entry = grouped.setdefault(
            (doc.kind, doc.number),
            {"kind": doc.kind, "number": doc.number, "title": TITLES.get(doc.kind, doc.kind),
             "archival_code": doc.archival_code,
             "created_at": doc.created_at.isoformat(timespec="seconds")},
        )  # fmt: skip
        entry[doc.format] = {
            "url": url_for("contracts.download", contract_no=contract.contract_no, doc_id=doc.id),
            "sha256": doc.sha256,
            "size": doc.size,
            "filename": doc.filename,
        }
    return list(grouped.values())


def view(contract: Contract, *, as_of: dt.date | None = None) -> dict[str, Any]:
    """The whole dossier, with a download link per document and format, in filing order."""
    return {**contracts.dossier(contract, as_of=as_of), "documents": _documents(contract)}


def as_of_arg() -> dt.date:
    """``?as_of=YYYY-MM-DD`` (default today): the day overdue is judged on."""
    raw = request.args.get("as_of")
    if not raw:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidData({"as_of": ["日期格式必须为 YYYY-MM-DD。"]}) from None


def responses(ok: int, description: str) -> dict:
    def error(text):
        return {"description": text, "content": {"application/json": {"schema": ApiErrorSchema}}}

    return {
        ok: {"description": description,
             "content": {"application/json": {"schema": ContractViewSchema}}},
        401: error("未登录或令牌无效"), 403: error("角色无权操作"),
        404: error("合同不存在"), 409: error("状态不允许"),
        422: error("数据校验失败，errors 按字段路径列出"), 503: error("PDF 转换暂不可用"),
    }  # fmt: skip


@blp.post("")
@blp.doc(
    summary="创建销售合同（草稿）", security=SECURITY, responses=responses(201, "已生成并归档"),
    requestBody={"required": True, "content": {"application/json": {"schema": ContractSchema}}},
)  # fmt: skip
def create():
    """Validate, number, render (.docx + PDF) and file a draft contract."""
    body = json_body()
    if body is None:
        return error_response(400, "请求体必须是 JSON（Content-Type: application/json）。")
    contract = contracts.create(archive(), body, actor())
    response = view(contract)
    location = url_for("contracts.show", contract_no=contract.contract_no)
    return response, 201, {"Location": location}


@blp.get("")
@blp.doc(summary="合同列表", security=SECURITY,
         parameters=[{"in": "query", "name": n, "schema": {"type": "string"}}
                     for n in ("status", "region", "page", "per_page")])  # fmt: skip
def index():
    """Contracts, newest first, filtered by status / region, in pages."""
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(200, max(1, int(request.args.get("per_page", 50))))
    except ValueError:
        raise InvalidData({"page": ["必须是正整数。"]}) from None
    query = select(Contract)
    for name in ("status", "region"):
        if request.args.get(name):
            query = query.where(getattr(Contract, name) == request.args[name])
    with archive().catalogue.reading() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(
            query.order_by(Contract.id.desc()).limit(per_page).offset((page - 1) * per_page)
        ).all()
        items = [{k: v for k, v in contracts.summary(c).items() if k != "terms"} for c in rows]
    return {"total": total, "page": page, "per_page": per_page, "items": items}


@blp.get("/<contract_no>")
@blp.doc(summary="查看合同", security=SECURITY, responses=responses(200, "合同及其文件"))
def show(contract_no: str):
    return view(contracts.get(archive(), contract_no), as_of=as_of_arg())


@blp.post("/<contract_no>/status")
@blp.doc(
    summary="变更合同状态（生效须销售经理）", security=SECURITY,
    responses=responses(200, "已变更"),
    requestBody={"required": True, "content": {"application/json": {"schema": StatusChangeSchema}}},
)  # fmt: skip
def change_status(contract_no: str):
    body = json_body()
    if not isinstance(body, dict):
        return error_response(400, '请求体必须是 JSON 对象，例如 {"status": "effective"}。')
    unknown = sorted(set(body) - {"status", "note"})
    if unknown or not isinstance(body.get("status"), str):
        errors = {k: ["未知字段。"] for k in unknown}
        if not isinstance(body.get("status"), str):
            errors["status"] = ["必填，取值 effective、completed 或 terminated。"]
        raise InvalidData(errors)
    note = body.get("note") if isinstance(body.get("note"), str) else None
    contract = contracts.change_status(archive(), contract_no, body["status"], actor(), note=note)
    return view(contract)


@blp.get("/<contract_no>/documents/<int:doc_id>/download")
@blp.doc(summary="下载文件（记入审计日志）", security=SECURITY,
         parameters=[{"in": "query", "name": "purpose", "schema": {"type": "string"},
                      "description": "查阅/借阅用途"}])  # fmt: skip
def download(contract_no: str, doc_id: int):
    purpose = (request.args.get("purpose") or "")[:200] or None
    doc, data = contracts.retrieve(archive(), contract_no, doc_id, actor(), purpose=purpose)
    response = send_file(
        io.BytesIO(data), mimetype=doc.media_type, as_attachment=True,
        download_name=doc.filename, etag=doc.sha256, max_age=0,
    )  # fmt: skip
    response.headers["X-Content-SHA256"] = doc.sha256
    return response
