"""Amendments, delivery notices and payments: ``/api/v1/contracts/<no>/…``."""

from __future__ import annotations

from flask import request, url_for
from flask_smorest import Blueprint

from archive import amendments, contracts, deliveries, payments, scans
from archive.errors import InvalidData
from schemas.dossier import AmendmentSchema, DeliveryNoticeSchema, PaymentSchema
from service.api.contracts import SECURITY, json_body, responses, view
from service.app import archive
from service.auth import actor, authenticate
from service.errors import error_response

blp = Blueprint("dossier", __name__, description="补充协议、发货通知单与收款")
blp.before_request(authenticate)


def _body(kind: str):
    body = json_body()
    if body is None:
        return None, error_response(400, f"请求体必须是 JSON 对象（{kind}）。")
    return body, None


def _created(contract_no: str):
    shown = view(contracts.get(archive(), contract_no))
    return shown, 201, {"Location": url_for("contracts.show", contract_no=contract_no)}


def _request(schema) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


@blp.post("/<contract_no>/amendments")
@blp.doc(
    summary="签订补充协议（仅已生效合同；重大变更须销售经理）", security=SECURITY,
    requestBody=_request(AmendmentSchema), responses=responses(201, "已生成并归档"),
)  # fmt: skip
def amend(contract_no: str):
    body, error = _body("补充协议")
    if error:
        return error
    amendments.amend(archive(), contract_no, body, actor())
    return _created(contract_no)


@blp.post("/<contract_no>/deliveries")
@blp.doc(
    summary="开具发货通知单（仅已生效合同；一式六联）", security=SECURITY,
    requestBody=_request(DeliveryNoticeSchema), responses=responses(201, "已生成并归档"),
)  # fmt: skip
def deliver(contract_no: str):
    body, error = _body("发货通知单")
    if error:
        return error
    deliveries.deliver(archive(), contract_no, body, actor())
    return _created(contract_no)


@blp.post("/<contract_no>/payments")
@blp.doc(summary="登记收款", security=SECURITY, requestBody=_request(PaymentSchema),
         responses=responses(201, "已登记"))  # fmt: skip
def pay(contract_no: str):
    body, error = _body("收款")
    if error:
        return error
    payments.pay(archive(), contract_no, body, actor())
    return _created(contract_no)


@blp.post("/<contract_no>/documents")
@blp.doc(
    summary="上传签署扫描件（PDF，multipart 字段 file）", security=SECURITY,
    requestBody={"content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": {"file": {"type": "string", "format": "binary"},
                                         "note": {"type": "string"}}}}}},
    responses=responses(201, "已归档"),
)  # fmt: skip
def upload(contract_no: str):
    file = request.files.get("file")
    if file is None:
        raise InvalidData({"file": ["缺少文件：请以 multipart/form-data 的 file 字段上传 PDF。"]})
    note = (request.form.get("note") or "")[:500] or None
    scans.upload(archive(), contract_no, file.read(), actor(), filename=file.filename or "",
                 note=note)  # fmt: skip
    return _created(contract_no)
