"""``/api/v1/access-log``: who retrieved what, when and why (查阅/借阅登记)."""

from __future__ import annotations

from typing import Any

from archive import audit
from schemas.queries import AccessLogArgs
from schemas.views import AccessEntrySchema, page_of
from service.api.common import SECURITY, Blueprint, PageRequest
from service.auth import actor, authenticate, require
from service.ext import get_archive

blp = Blueprint("access", __name__, description="查阅/借阅登记")
blp.before_request(authenticate)

AccessPageSchema = page_of(AccessEntrySchema, "AccessLogPage")


@blp.get("")
@blp.doc(summary="查阅记录（档案管理员、销售经理）", security=SECURITY)
@blp.arguments(AccessLogArgs, location="query")
@blp.response(200, AccessPageSchema)
@blp.paginate(per_page=50, max_per_page=200)
@blp.errors(403, 422)
@require("archivist", "manager")
def index(args: dict[str, Any], page: PageRequest):
    page.item_count, rows = audit.retrievals(
        get_archive().catalogue, actor(), user=args.get("user"),
        contract_no=args.get("contract_no"), since=args.get("from_"), until=args.get("to"),
        limit=page.per_page, offset=page.offset,
    )  # fmt: skip
    return [{"at": e.at.isoformat(timespec="seconds"), "user": e.actor, "action": e.action,
             "contract_no": e.target, "purpose": e.note, "client": e.client,
             "detail": e.detail} for e in rows]  # fmt: skip
