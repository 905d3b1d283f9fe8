"""Pages for template authors: the reference of what a Word template may use (模板变量参考),
made from the context schemas, so a clerk can build a template without reading code."""

from __future__ import annotations

from flask import Blueprint, render_template

from service.pages.session import load_user, login_required
from templates import reference

bp = Blueprint("templates_pages", __name__, url_prefix="/templates")
bp.before_request(load_user)


@bp.get("/reference")
@login_required()
def variables():
    return render_template("template_reference.html", kinds=reference.kinds(),
                           tags=reference.TAGS, filters=reference.FILTERS)  # fmt: skip
