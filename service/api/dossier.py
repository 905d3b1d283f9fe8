"""A contract's dossier: ``/api/v1/contracts/<no>/`` amendments, deliveries, payments and
documents. Each POST answers 201 with what it created and its ``Location``."""

from __future__ import annotations

from typing import Any

from archive import amendments, contracts, deliveries, payments, scans
from archive.errors import NotFound
from schemas.dossier import (
    AmendmentSchema,
    DeliveryNoticeSchema,
    PaymentSchema,
    ScanUploadSchema,
)
from schemas.fields import MAX_ID
from schemas.views import (
    AmendmentViewSchema,
    DeliveryViewSchema,
    PaymentViewSchema,
    ScanViewSchema,
)
from service.api.common import (
    SECURITY,
    Blueprint,
    amendment_view,
    delivery_view,
    payment_view,
    scan_view,
)
from service.auth import actor, authenticate
from service.ext import get_archive

blp = Blueprint("dossier", __name__, description="补充协议、发货通知单、收款与扫描件")
blp.before_request(authenticate)

ID = f"int(max={MAX_ID})"


def _location(view: dict[str, Any]) -> dict[str, str]:
    return {"Location": view["links"]["self"]}


def _created(view: dict[str, Any]):
    return view, _location(view)


LOCATION = {"Location": {"description": "新建资源的地址", "schema": {"type": "string"}}}


# -- amendments --------------------------------------------------------------------------------


@blp.post("/<contract_no>/amendments")
@blp.doc(summary="签订补充协议（仅已生效合同；重大变更须销售经理）", security=SECURITY)
@blp.arguments(AmendmentSchema)
@blp.response(201, AmendmentViewSchema, description="已生成并归档", headers=LOCATION)
@blp.errors(403, 404, 409, 410, 422, 503)
@blp.searchable()
def amend(data: dict[str, Any], contract_no: str):
    amendment = amendments.amend(get_archive(), contract_no, data, actor())
    contract = contracts.get(get_archive(), contract_no, actor())
    return _created(amendment_view(contract, amendment))


@blp.get("/<contract_no>/amendments")
@blp.doc(summary="合同的补充协议", security=SECURITY)
@blp.response(200, AmendmentViewSchema(many=True))
@blp.errors(404, 410)
def list_amendments(contract_no: str):
    contract = contracts.get(get_archive(), contract_no, actor())
    return [amendment_view(contract, a) for a in contract.amendments]


@blp.get("/<contract_no>/amendments/<number>")
@blp.doc(summary="查看补充协议", security=SECURITY)
@blp.response(200, AmendmentViewSchema)
@blp.errors(404, 410)
def show_amendment(contract_no: str, number: str):
    contract = contracts.get(get_archive(), contract_no, actor())
    for amendment in contract.amendments:
        if amendment.number == number:
            return amendment_view(contract, amendment)
    raise NotFound(f"合同 {contract_no} 没有补充协议 {number}。")


# -- deliveries --------------------------------------------------------------------------------


@blp.post("/<contract_no>/deliveries")
@blp.doc(summary="开具发货通知单（仅已生效合同；一式六联）", security=SECURITY)
@blp.arguments(DeliveryNoticeSchema)
@blp.response(201, DeliveryViewSchema, description="已生成并归档", headers=LOCATION)
@blp.errors(403, 404, 409, 410, 422, 503)
@blp.searchable()
def deliver(data: dict[str, Any], contract_no: str):
    delivery = deliveries.deliver(get_archive(), contract_no, data, actor())
    contract = contracts.get(get_archive(), contract_no, actor())
    return _created(delivery_view(contract, delivery))


@blp.get("/<contract_no>/deliveries")
@blp.doc(summary="合同的发货通知单", security=SECURITY)
@blp.response(200, DeliveryViewSchema(many=True))
@blp.errors(404, 410)
def list_deliveries(contract_no: str):
    contract = contracts.get(get_archive(), contract_no, actor())
    return [delivery_view(contract, d) for d in contract.deliveries]


@blp.get("/<contract_no>/deliveries/<number>")
@blp.doc(summary="查看发货通知单", security=SECURITY)
@blp.response(200, DeliveryViewSchema)
@blp.errors(404, 410)
def show_delivery(contract_no: str, number: str):
    contract = contracts.get(get_archive(), contract_no, actor())
    for delivery in contract.deliveries:
        if delivery.number == number:
            return delivery_view(contract, delivery)
    raise NotFound(f"合同 {contract_no} 没有发货通知单 {number}。")


# -- payments ----------------------------------------------------------------------------------


@blp.post("/<contract_no>/payments")
@blp.doc(summary="登记收款", security=SECURITY)
@blp.arguments(PaymentSchema)
@blp.response(201, PaymentViewSchema, description="已登记", headers=LOCATION)
@blp.errors(403, 404, 409, 410, 422)
@blp.searchable()
def pay(data: dict[str, Any], contract_no: str):
    payment = payments.pay(get_archive(), contract_no, data, actor())
    contract = contracts.get(get_archive(), contract_no, actor())
    return _created(payment_view(contract, payment))


@blp.get("/<contract_no>/payments")
@blp.doc(summary="合同的收款", security=SECURITY)
@blp.response(200, PaymentViewSchema(many=True))
@blp.errors(404, 410)
def list_payments(contract_no: str):
    contract = contracts.get(get_archive(), contract_no, actor())
    return [payment_view(contract, p) for p in contract.payments]


@blp.get(f"/<contract_no>/payments/<{ID}:payment_id>")
@blp.doc(summary="查看收款", security=SECURITY)
@blp.response(200, PaymentViewSchema)
@blp.errors(404, 410)
def show_payment(contract_no: str, payment_id: int):
    contract = contracts.get(get_archive(), contract_no, actor())
    for payment in contract.payments:
        if payment.id == payment_id:
            return payment_view(contract, payment)
    raise NotFound(f"合同 {contract_no} 没有编号为 {payment_id} 的收款。")


# -- documents ---------------------------------------------------------------------------------


@blp.post("/<contract_no>/documents")
@blp.doc(summary="上传签署扫描件（PDF，multipart 字段 file）", security=SECURITY)
@blp.arguments(ScanUploadSchema, location="form_and_files")
@blp.response(201, ScanViewSchema, description="已归档", headers=LOCATION)
@blp.errors(403, 404, 410, 413, 422)
@blp.searchable()
def upload(data: dict[str, Any], contract_no: str):
    file = data["file"]
    doc = scans.upload(get_archive(), contract_no, file.read(), actor(),
                       filename=file.filename or "", note=data.get("note"))  # fmt: skip
    contract = contracts.get(get_archive(), contract_no, actor())
    found = next(d for d in contract.documents if d.id == doc.id)
    return _created(scan_view(contract, found))


@blp.get(f"/<contract_no>/documents/<{ID}:doc_id>")
@blp.doc(summary="查看文件的登记信息（不下载）", security=SECURITY)
@blp.response(200, ScanViewSchema)
@blp.errors(404, 410)
def show_document(contract_no: str, doc_id: int):
    contract = contracts.get(get_archive(), contract_no, actor())
    for doc in contract.documents:
        if doc.id == doc_id:
            return scan_view(contract, doc)
    raise NotFound(f"合同 {contract_no} 没有编号为 {doc_id} 的文件。")
