"""``/api/v1/receivables``: contracts with money still owed (未收款或有欠款)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from archive import receivables
from schemas.queries import ReceivablesArgs
from schemas.views import ReceivablesPageSchema
from service.api.common import SECURITY, Blueprint, PageRequest
from service.auth import actor, authenticate
from service.ext import get_archive

blp = Blueprint("receivables", __name__, description="应收款")
blp.before_request(authenticate)


@blp.get("")
@blp.doc(summary="有欠款的合同，最早到期的在前", security=SECURITY)
@blp.arguments(ReceivablesArgs, location="query")
@blp.response(200, ReceivablesPageSchema)
@blp.paginate(per_page=100, max_per_page=500)
@blp.errors(422)
def index(args: dict[str, Any], page: PageRequest):
    as_of = args.get("as_of") or dt.date.today()
    rows = receivables.receivables(get_archive(), actor(), as_of=as_of, region=args.get("region"),
                                   overdue=args.get("overdue"))  # fmt: skip
    page.item_count = len(rows)
    return {"as_of": as_of.isoformat(), "count": len(rows),
            "outstanding": receivables.total_outstanding(rows),
            "items": rows[page.offset : page.offset + page.per_page]}  # fmt: skip
