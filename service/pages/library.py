"""Archivist pages: search, volumes, the access log."""

from __future__ import annotations

import io

from flask import Blueprint, render_template, request, send_file
from markupsafe import Markup

from archive import audit, volumes
from archive.index import QueryError
from service.api.search import parse_filters
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
    filters, errors = parse_filters(args)
    error = "；".join(f"{name}：{' '.join(m)}" for name, m in errors.items()) or None
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
    _total, rows = audit.retrievals(archive().catalogue, user=request.args.get("user"),
                                    limit=500)  # fmt: skip
    return render_template("library/access_log.html", rows=rows)
