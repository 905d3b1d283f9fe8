"""``/api/v1/volumes``: volumes by year × region, and the bound volume as one PDF."""

from __future__ import annotations

import io

from flask import send_file
from flask_smorest import Blueprint

from archive import volumes
from service.api.contracts import SECURITY
from service.app import archive
from service.auth import actor, authenticate, require

blp = Blueprint("volumes", __name__, description="案卷（按年、按区域）")
blp.before_request(authenticate)


@blp.get("")
@blp.doc(summary="案卷列表", security=SECURITY)
def index():
    rows = volumes.list_volumes(archive())
    return {"items": rows}


@blp.get("/<int:year>/<region>/pdf")
@blp.doc(summary="导出装订成册的 PDF（目录页 + 每份合同一个书签）", security=SECURITY)
@require("archivist", "manager")
def export(year: int, region: str):
    data = volumes.bind(archive(), year, region, actor())
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"销售合同档案-{year}-{region}.pdf", max_age=0)  # fmt: skip
