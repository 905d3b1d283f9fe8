"""``/api/v1/receivables``: contracts with money still owed (未收款或有欠款)."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from archive import payments
from archive.errors import InvalidData
from service.api.contracts import SECURITY, as_of_arg
from service.app import archive
from service.auth import authenticate

blp = Blueprint("receivables", __name__, description="应收款")
blp.before_request(authenticate)

_QUERY = [
    {"in": "query", "name": "region", "schema": {"type": "string"}},
    {"in": "query", "name": "overdue", "schema": {"type": "boolean"}},
    {"in": "query", "name": "as_of", "schema": {"type": "string", "format": "date"}},
]


@blp.get("")
@blp.doc(summary="有欠款的合同，最早到期的在前", security=SECURITY, parameters=_QUERY)
def index():
    overdue = request.args.get("overdue")
    if overdue not in (None, "", "true", "false", "1", "0"):
        raise InvalidData({"overdue": ["取值 true 或 false。"]})
    rows = payments.receivables(
        archive(), as_of=as_of_arg(), region=request.args.get("region") or None,
        overdue=None if overdue in (None, "") else overdue in ("true", "1"),
    )  # fmt: skip
    return {"as_of": as_of_arg().isoformat(), "count": len(rows),
            "outstanding": payments.total_outstanding(rows), "items": rows}  # fmt: skip
