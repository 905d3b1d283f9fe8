"""``/api/v1/search``: full-text search with filters, facets and highlights."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask import request
from flask_smorest import Blueprint

from archive.errors import InvalidData
from archive.index import QueryError
from service.api.contracts import SECURITY
from service.app import archive
from service.auth import authenticate
from service.errors import error_response

blp = Blueprint("search", __name__, description="检索")
blp.before_request(authenticate)

_PARAMS = [
    ("q", "string", "查询：片段、型号、AND/OR/NOT、\"短语\"、字段:值（buyer、product…）"),
    ("region", "string", "区域"), ("year", "integer", "签订年份"), ("status", "string", "状态"),
    ("kind", "string", "文件类型：sales_contract、amendment、delivery_notice、signed_scan"),
    ("payment_state", "string", "unpaid、partially_paid、paid"),
    ("signed_from", "string", "签订日期起（YYYY-MM-DD）"), ("signed_to", "string", "签订日期止"),
    ("amount_min", "string", "合同金额下限（元）"), ("amount_max", "string", "合同金额上限（元）"),
    ("page", "integer", "页码，从 1 开始"), ("per_page", "integer", "每页条数（≤100）"),
    ("sort", "string", "relevance（默认）或 date"),
]  # fmt: skip


def parse_filters(args) -> tuple[dict, dict[str, list[str]]]:
    """Search filters from query arguments, and a message per malformed one (API and pages)."""
    errors, out = {}, {}
    for name in ("region", "status", "kind", "payment_state"):
        if args.get(name):
            out[name] = args[name]
    if args.get("year"):
        if args["year"].isdigit():
            out["year"] = int(args["year"])
        else:
            errors["year"] = ["必须是四位年份。"]
    for name in ("signed_from", "signed_to"):
        if args.get(name):
            try:
                out[name] = dt.date.fromisoformat(args[name])
            except ValueError:
                errors[name] = ["日期格式必须为 YYYY-MM-DD。"]
    for name in ("amount_min", "amount_max"):
        if args.get(name):
            try:
                out[name] = Decimal(args[name])
                if not out[name].is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                errors[name] = ["必须是金额，例如 100000.00。"]
    return out, errors


def _int(name: str, default: int, low: int, high: int, errors: dict) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        errors[name] = [f"必须是 {low}–{high} 之间的整数。"]
        return default
    return int(raw)


@blp.get("")
@blp.doc(summary="全文检索", security=SECURITY,
         parameters=[{"in": "query", "name": n, "schema": {"type": t}, "description": d}
                     for n, t, d in _PARAMS])  # fmt: skip
def search():
    filters, errors = parse_filters(request.args)
    page = _int("page", 1, 1, 100000, errors)
    per_page = _int("per_page", 20, 1, 100, errors)
    sort = request.args.get("sort") or "relevance"
    if sort not in ("relevance", "date"):
        errors["sort"] = ["取值 relevance 或 date。"]
    if errors:
        raise InvalidData(errors)
    try:
        result = archive().index.search(request.args.get("q", ""), filters=filters, page=page,
                                        per_page=per_page, sort=sort)  # fmt: skip
    except QueryError as exc:
        return error_response(400, exc.message)
    return {"total": result.total, "page": result.page, "per_page": result.per_page,
            "hits": result.hits, "facets": result.facets}  # fmt: skip
