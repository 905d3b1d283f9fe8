"""``/api/v1/access-log``: who retrieved what, when and why (查阅/借阅登记)."""

from __future__ import annotations

import datetime as dt

from flask import request
from flask_smorest import Blueprint

from archive import audit
from archive.errors import InvalidData
from service.api.contracts import SECURITY
from service.app import archive
from service.auth import authenticate, require

blp = Blueprint("access", __name__, description="查阅/借阅登记")
blp.before_request(authenticate)


@blp.get("")
@blp.doc(summary="查阅记录（档案管理员）", security=SECURITY, parameters=[
    {"in": "query", "name": n, "schema": {"type": "string"}}
    for n in ("user", "contract_no", "from", "to", "page", "per_page")])  # fmt: skip
@require("archivist", "manager")
def index():
    args = request.args
    days = {}
    for name in ("from", "to"):
        if args.get(name):
            try:
                days[name] = dt.date.fromisoformat(args[name])
            except ValueError:
                raise InvalidData({name: ["日期格式必须为 YYYY-MM-DD。"]}) from None
    page = int(args["page"]) if args.get("page", "").isdigit() and int(args["page"]) > 0 else 1
    per_page = min(200, int(args["per_page"])) if args.get("per_page", "").isdigit() else 50
    total, rows = audit.retrievals(
        archive().catalogue, user=args.get("user"), contract_no=args.get("contract_no"),
        since=days.get("from"), until=days.get("to"), limit=per_page,
        offset=(page - 1) * per_page,
    )  # fmt: skip
    items = [{"at": e.at.isoformat(timespec="seconds"), "user": e.actor, "action": e.action,
              "contract_no": e.target, "purpose": e.note, "client": e.client,
              "detail": e.detail} for e in rows]  # fmt: skip
    return {"total": total, "page": page, "per_page": per_page, "items": items}
