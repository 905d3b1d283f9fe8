"""Archivist pages: search, volumes, the access log."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal, InvalidOperation

from flask import Blueprint, render_template, request, send_file
from markupsafe import Markup
from sqlalchemy import select

from archive import volumes
from archive.index import QueryError
from archive.models import AuditEntry
from service.app import archive
from service.pages import current_actor, load_user, login_required

bp = Blueprint("library", __name__)
bp.before_request(load_user)
FILTERS = ("region", "year", "status", "kind", "payment_state", "signed_from", "signed_to",
           "amount_min", "amount_max")  # fmt: skip


@bp.get("/search")
@login_required()
def search():
    args = request.args
    filters, error = {}, None
    for name in ("region", "status", "kind", "payment_state"):
        if args.get(name):
            filters[name] = args[name]
    try:
        if args.get("year"):
            filters["year"] = int(args["year"])
        for name in ("signed_from", "signed_to"):
            if args.get(name):
                filters[name] = dt.date.fromisoformat(args[name])
        for name in ("amount_min", "amount_max"):
            if args.get(name):
                filters[name] = Decimal(args[name])
    except (ValueError, InvalidOperation):
        error = "筛选条件格式不正确（年份为数字，日期为 YYYY-MM-DD，金额为数字）。"
    page = int(args["page"]) if args.get("page", "").isdigit() and int(args["page"]) > 0 else 1
    result = None
    if error is None:
        try:
            sort = args.get("sort") or "relevance"
            result = archive().index.search(
                args.get("q", ""), filters=filters, page=page, per_page=20, sort=sort
            )
        except QueryError as exc:
            error = exc.message
    if result:
        for hit in result.hits:  # our highlighter escapes the text and adds only <mark>
            hit["highlights"] = [Markup(h) for h in hit["highlights"]]
    return render_template("library/search.html", result=result, error=error, args=args,
                           page=page, filters=FILTERS), 400 if error else 200  # fmt: skip


@bp.get("/volumes")
@login_required()
def volume_list():
    return render_template("library/volumes.html", rows=volumes.list_volumes(archive()))


@bp.get("/volumes/<int:year>/<region>.pdf")
@login_required("archivist", "manager")
def volume_pdf(year: int, region: str):
    data = volumes.bind(archive(), year, region, current_actor())
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"销售合同档案-{year}-{region}.pdf", max_age=0)  # fmt: skip


@bp.get("/access-log")
@login_required("archivist", "manager")
def access_log():
    query = (select(AuditEntry)
             .where(AuditEntry.action.in_(("document.download", "volume.export")))
             .order_by(AuditEntry.id.desc()).limit(500))  # fmt: skip
    if request.args.get("user"):
        query = query.where(AuditEntry.actor == request.args["user"])
    with archive().catalogue.reading() as session:
        rows = session.scalars(query).all()
    return render_template("library/access_log.html", rows=rows)
