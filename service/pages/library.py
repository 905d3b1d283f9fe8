"""Archivist pages: search, volumes, the access log."""

from __future__ import annotations

import io

from flask import Blueprint, render_template, request, send_file
from markupsafe import Markup
from marshmallow import ValidationError

from archive import audit, binding, volumes
from archive.search import Filters, QueryError
from schemas import flatten_errors
from schemas.queries import SEARCH_FILTERS, SearchArgs, search_filters
from service.ext import get_archive
from service.pages.session import current_actor, load_user, login_required

bp = Blueprint("library", __name__)
bp.before_request(load_user)


@bp.get("/search")
@login_required()
def search():
    args = request.args
    error, result, page = None, None, 1
    try:
        # The form sends empty fields for filters left open.
        wanted = SearchArgs().load({k: v for k, v in args.items() if v != ""})
    except ValidationError as exc:
        errors = flatten_errors(exc.messages)
        error = "；".join(f"{name}：{' '.join(m)}" for name, m in errors.items())
    else:
        page = wanted["page"]
        try:
            result = get_archive().index.search(
                wanted["q"], filters=Filters(**search_filters(wanted)), page=page, per_page=20,
                sort=wanted["sort"],
            )  # fmt: skip
        except QueryError as exc:
            error = exc.message
    if result:
        for hit in result.hits:  # our highlighter escapes the text and adds only <mark>
            hit["highlights"] = [Markup(h) for h in hit["highlights"]]
    return render_template("library/search.html", result=result, error=error, args=args,
                           page=page, filters=SEARCH_FILTERS), 400 if error else 200  # fmt: skip


@bp.get("/volumes")
@login_required()
def volume_list():
    return render_template("library/volumes.html", rows=volumes.list_volumes(get_archive()))


@bp.get("/volumes/<int:year>/<region>.pdf")
@login_required("archivist", "manager")
def volume_pdf(year: int, region: str):
    data = binding.bind(get_archive(), year, region, current_actor())
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"销售合同档案-{year}-{region}.pdf", max_age=0)  # fmt: skip


@bp.get("/access-log")
@login_required("archivist", "manager")
def access_log():
    _total, rows = audit.retrievals(get_archive().catalogue, user=request.args.get("user"),
                                    limit=500)  # fmt: skip
    return render_template("library/access_log.html", rows=rows)
