"""``/api/v1/volumes``: volumes by year × region, and the bound volume as one PDF."""

from __future__ import annotations

from archive import binding, volumes
from schemas.queries import VolumeArgs
from schemas.views import VolumeListSchema
from service.api.common import SECURITY, Blueprint
from service.auth import actor, authenticate, require
from service.downloads import send_download
from service.ext import get_archive

blp = Blueprint("volumes", __name__, description="案卷（按年、按区域）")
blp.before_request(authenticate)

PDF = {"description": "装订成册的 PDF", "content": {"application/pdf": {
    "schema": {"type": "string", "format": "binary"}}}}  # fmt: skip


@blp.get("")
@blp.doc(summary="案卷列表", security=SECURITY)
@blp.response(200, VolumeListSchema)
@blp.errors()
def index():
    return {"items": volumes.list_volumes(get_archive(), actor())}


@blp.get("/<int(min=1, max=9999):year>/<region>/pdf")
@blp.doc(summary="导出装订成册的 PDF（案卷封面、卷内目录及起始页号、文件、备考表；书签；"
                 "须说明用途 purpose，记入查阅登记；只含本人可查阅的合同）",
         security=SECURITY, responses={200: PDF})  # fmt: skip
@blp.arguments(VolumeArgs, location="query")
@blp.errors(403, 404, 409, 422, 503)
@require("archivist", "manager")
def export(args: dict, year: int, region: str):
    kind = args["kind"]
    data = binding.bind(get_archive(), year, region, actor(), kind, purpose=args["purpose"])
    suffix = "-未收款另册" if kind == "unpaid" else ""
    return send_download(data, f"销售合同档案-{year}-{region}{suffix}.pdf", "application/pdf",
                         plain=f"volume-{year}{'-unpaid' if suffix else ''}.pdf")  # fmt: skip
