"""``/api/v1/contracts``: create, list, read, change status, download documents."""

from __future__ import annotations

import io
from typing import Any

from flask import send_file

from archive import contracts, revisions
from archive.filing import MEDIA_TYPES
from schemas import ContractSchema
from schemas.contract import (
    ContractRevisionSchema,
    OwnerChangeSchema,
    SecrecyChangeSchema,
    StatusChangeSchema,
)
from schemas.fields import MAX_ID
from schemas.queries import ContractListArgs, DossierArgs, DownloadArgs
from schemas.views import ContractSummarySchema, ContractViewSchema, page_of
from service.api.common import (
    SECURITY,
    Blueprint,
    PageRequest,
    contract_url,
    contract_view,
    summary_view,
)
from service.auth import actor, authenticate
from service.downloads import disposition
from service.ext import get_archive

blp = Blueprint("contracts", __name__, description="销售合同")
blp.before_request(authenticate)

ContractPageSchema = page_of(ContractSummarySchema, "ContractPage")
LOCATION = {"Location": {"description": "新建资源的地址", "schema": {"type": "string"}}}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
FILE = {"description": "文件内容（PDF 或 Word）；X-Content-SHA256 为其哈希",
        "content": {media: _BINARY for media in MEDIA_TYPES.values()}}  # fmt: skip


@blp.post("")
@blp.doc(summary="创建销售合同（草稿）", security=SECURITY)
@blp.arguments(ContractSchema, description="合同数据：双方、产品行、各项条款；金额为字符串")
@blp.response(201, ContractViewSchema, description="已生成 Word 与 PDF 并归档", headers=LOCATION)
@blp.errors(403, 409, 422, 503)
@blp.searchable()
def create(data: dict[str, Any]):
    """Validate, number, render (.docx + PDF) and file a draft contract."""
    contract = contracts.create(get_archive(), data, actor())
    return contract_view(contract), {"Location": contract_url(contract.contract_no)}


@blp.get("")
@blp.doc(summary="合同列表（新的在前，可筛选、排序）", security=SECURITY)
@blp.arguments(ContractListArgs, location="query")
@blp.response(200, ContractPageSchema)
@blp.paginate(per_page=50, max_per_page=200)
@blp.errors(422)
def index(args: dict[str, Any], page: PageRequest):
    """Contracts, newest first (or sorted), filtered, in pages."""
    page.item_count, rows = contracts.listing(get_archive(), actor(), page=page.page,
                                              per_page=page.per_page, **args)  # fmt: skip
    return [summary_view(c) for c in rows]


@blp.get("/<contract_no>")
@blp.doc(summary="查看合同（整个卷宗；记入查阅登记）", security=SECURITY)
@blp.arguments(DossierArgs, location="query")
@blp.response(200, ContractViewSchema)
@blp.errors(404, 410, 422)
def show(args: dict[str, Any], contract_no: str):
    contract = contracts.view(get_archive(), contract_no, actor(), purpose=args.get("purpose"))
    return contract_view(contract, as_of=args.get("as_of"))


@blp.put("/<contract_no>")
@blp.doc(summary="修改草稿（改稿）：以新数据重新生成 Word 与 PDF，编号与档号不变；前一稿留在卷宗中"
                 "（已取代）。数据与现行稿相同时不生成新稿", security=SECURITY)  # fmt: skip
@blp.arguments(ContractRevisionSchema, description="完整的合同数据（同创建），可附改稿说明 note")
@blp.response(200, ContractViewSchema, description="现行稿")
@blp.errors(403, 404, 409, 410, 422, 503)
@blp.searchable()
def revise(data: dict[str, Any], contract_no: str):
    note, based_on = data.pop("note", None), data.pop("based_on", None)
    contract, _ = revisions.revise(get_archive(), contract_no, data, actor(), note=note,
                                   based_on=based_on)  # fmt: skip
    return contract_view(contract)


@blp.post("/<contract_no>/status")
@blp.doc(summary="变更合同状态（生效须销售经理；尚有未发货或欠款时履行完毕须 force 与 note，"
                 "否则 409 列明未发货与欠款；销售经理可附 note 把已履行完毕的合同重新打开）",
         security=SECURITY)  # fmt: skip
@blp.arguments(StatusChangeSchema)
@blp.response(200, ContractViewSchema, description="已变更")
@blp.errors(403, 404, 409, 410, 422)
@blp.searchable()
def change_status(data: dict[str, Any], contract_no: str):
    contract = contracts.change_status(get_archive(), contract_no, data["status"], actor(),
                                       note=data.get("note"), force=data["force"])  # fmt: skip
    return contract_view(contract)


@blp.post("/<contract_no>/owner")
@blp.doc(summary="移交合同给另一位业务员（销售经理、总经理；记入审计）", security=SECURITY)
@blp.arguments(OwnerChangeSchema)
@blp.response(200, ContractViewSchema, description="已移交")
@blp.errors(403, 404, 409, 410, 422)
@blp.searchable()
def reassign(data: dict[str, Any], contract_no: str):
    contract = contracts.reassign(get_archive(), contract_no, data["owner"], actor(),
                                  note=data["note"])  # fmt: skip
    return contract_view(contract)


@blp.post("/<contract_no>/secrecy")
@blp.doc(summary="变更密级：普通或机密（销售经理、总经理；记入审计）", security=SECURITY)
@blp.arguments(SecrecyChangeSchema)
@blp.response(200, ContractViewSchema, description="已变更")
@blp.errors(403, 404, 409, 410, 422)
@blp.searchable()
def set_secrecy(data: dict[str, Any], contract_no: str):
    contract = contracts.set_secrecy(get_archive(), contract_no, data["confidential"], actor(),
                                     note=data["note"])  # fmt: skip
    return contract_view(contract)


@blp.get(f"/<contract_no>/documents/<int(max={MAX_ID}):doc_id>/download")
@blp.doc(summary="下载文件（须说明用途 purpose，记入查阅登记）", security=SECURITY,
         responses={200: FILE})  # fmt: skip
@blp.arguments(DownloadArgs, location="query")
@blp.errors(404, 409, 410, 422)
def download(args: dict[str, Any], contract_no: str, doc_id: int):
    doc, data = contracts.retrieve(get_archive(), contract_no, doc_id, actor(),
                                   purpose=args["purpose"])  # fmt: skip
    response = send_file(
        io.BytesIO(data), mimetype=doc.media_type, as_attachment=True,
        download_name=doc.filename, etag=doc.sha256, max_age=0,
    )  # fmt: skip
    response.headers["X-Content-SHA256"] = doc.sha256
    response.headers["Content-Disposition"] = disposition(doc.filename)
    return response
