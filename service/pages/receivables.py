"""Clerk and manager page: what is owed (应收/催收), totals per region, CSV and Excel."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request

from archive import exports, receivables
from schemas.labels import STATUS_NAMES
from schemas.queries import PageArgs, ReceivablesArgs
from service.ext import get_archive
from service.pages import sheets
from service.pages.forms import kept, query_args
from service.pages.session import current_actor, load_user, login_required

bp = Blueprint("receivables_pages", __name__, url_prefix="/receivables")
bp.before_request(load_user)

READERS = ("clerk", "manager")
LABELS = {"region": "区域", "overdue": "逾期", "as_of": "截至日期", "page": "页码",
          "per_page": "每页条数"}  # fmt: skip
COLUMNS = [
    sheets.Column("合同编号", lambda r: r["contract_no"], width=18),
    sheets.Column("需方", lambda r: r["buyer"], width=30),
    sheets.Column("区域", lambda r: r["region"], width=8),
    sheets.Column("状态", lambda r: STATUS_NAMES.get(r["status"], r["status"]), width=10),
    sheets.Column("签订日期", lambda r: r["signed_on"], "date", 12),
    sheets.Column("付款期限", lambda r: r["due_on"], "date", 12),
    sheets.Column("合同金额（元）", lambda r: r["total"], "money", 16),
    sheets.Column("已收（元）", lambda r: r["paid"], "money", 16),
    sheets.Column("未收（元）", lambda r: r["outstanding"], "money", 16),
    sheets.Column("逾期天数", lambda r: r["days_overdue"] or None, "number", 10),
    sheets.Column("催收", lambda r: "催收" if r["to_chase"] else "", width=8),
]


def _owed(wanted: dict) -> tuple[dt.date, list[dict]]:
    as_of = wanted.get("as_of") or dt.date.today()
    return as_of, receivables.receivables(get_archive(), current_actor(), as_of=as_of,
                                          region=wanted.get("region"),
                                          overdue=wanted.get("overdue"))  # fmt: skip


@bp.get("")
@login_required(*READERS)
def index():
    wanted, error = query_args(request.args, ReceivablesArgs(), PageArgs(), labels=LABELS)
    page, per_page = wanted.pop("page", 1), wanted.pop("per_page", 50)
    as_of, rows = (wanted.get("as_of") or dt.date.today(), []) if error else _owed(wanted)
    return render_template(
        "receivables.html", rows=rows[(page - 1) * per_page : page * per_page], count=len(rows),
        outstanding=receivables.total_outstanding(rows), page=page, per_page=per_page,
        by_region=receivables.by_region(rows, get_archive().regions), as_of=as_of, error=error,
        args=request.args, kept=kept(request.args), regions=get_archive().regions,
        max_rows=exports.MAX_ROWS,
    ), 400 if error else 200  # fmt: skip


@bp.get("/export.<any(csv, xlsx):fmt>")
@login_required(*READERS)
def export(fmt: str):
    wanted, error = query_args(request.args, ReceivablesArgs(), labels=LABELS)
    if error:
        return render_template("error.html", code=400, message=error), 400
    as_of, rows = _owed(wanted)
    shown = rows[: exports.MAX_ROWS]
    return sheets.send(fmt, f"应收款-{as_of.isoformat()}", COLUMNS, shown,
                       plain=f"receivables-{as_of.isoformat()}",
                       note=sheets.cut_note(len(shown), len(rows)))  # fmt: skip
