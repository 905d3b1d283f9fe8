"""``/api/v1/access-log``: who retrieved what, when and why (查阅/借阅登记)."""

from __future__ import annotations

import datetime as dt

from flask import request
from flask_smorest import Blueprint
from sqlalchemy import func, select

from archive.errors import InvalidData
from archive.models import AuditEntry
from service.api.contracts import SECURITY
from service.app import archive
from service.auth import authenticate, require

blp = Blueprint("access", __name__, description="查阅/借阅登记")
blp.before_request(authenticate)

RETRIEVALS = ("document.download", "volume.export")


@blp.get("")
@blp.doc(summary="查阅记录（档案管理员）", security=SECURITY, parameters=[
    {"in": "query", "name": n, "schema": {"type": "string"}}
    for n in ("user", "contract_no", "from", "to", "page", "per_page")])  # fmt: skip
@require("archivist", "manager")
def index():
    args = request.args
    query = select(AuditEntry).where(AuditEntry.action.in_(RETRIEVALS))
    if args.get("user"):
        query = query.where(AuditEntry.actor == args["user"])
    if args.get("contract_no"):
        query = query.where(AuditEntry.target == args["contract_no"])
    for name, op in (("from", "ge"), ("to", "le")):
        if args.get(name):
            try:
                day = dt.date.fromisoformat(args[name])
            except ValueError:
                raise InvalidData({name: ["日期格式必须为 YYYY-MM-DD。"]}) from None
            bound = dt.datetime.combine(day, dt.time.min if op == "ge" else dt.time.max,
                                        tzinfo=dt.UTC)  # fmt: skip
            query = query.where(AuditEntry.at >= bound if op == "ge" else AuditEntry.at <= bound)
    page = int(args["page"]) if args.get("page", "").isdigit() and int(args["page"]) > 0 else 1
    per_page = min(200, int(args["per_page"])) if args.get("per_page", "").isdigit() else 50
    with archive().catalogue.reading() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(AuditEntry.id.desc())
                               .limit(per_page).offset((page - 1) * per_page)).all()  # fmt: skip
    items = [{"at": e.at.isoformat(timespec="seconds"), "user": e.actor, "action": e.action,
              "contract_no": e.target, "purpose": e.note, "client": e.client,
              "detail": e.detail} for e in rows]  # fmt: skip
    return {"total": total, "page": page, "per_page": per_page, "items": items}
