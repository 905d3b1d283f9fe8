"""标准条款库 pages: the standard clauses of each business type; managers change them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from archive import clauses, template_register
from service.ext import get_archive
from service.pages.forms import flash_outcome
from service.pages.session import current_actor, load_user, login_required

bp = Blueprint("clauses_pages", __name__, url_prefix="/clauses")
bp.before_request(load_user)


@bp.get("")
@login_required()
def index():
    kinds = template_register.business_types(get_archive().catalogue)
    return render_template("clauses.html", library=clauses.library(get_archive(), kinds))


@bp.post("")
@login_required("manager")
def update():
    kind, field = request.form.get("business_type", ""), request.form.get("field", "")
    if kind not in template_register.business_types(get_archive().catalogue):
        flash(f"没有“{kind}”业务类型。", "error")
        return redirect(url_for(".index"))
    flash_outcome(lambda: clauses.set_clause(
        get_archive(), kind, field, request.form.get("text", ""), current_actor(),
    ), f"已修改“{kind}”的{clauses.label(field)}。")  # fmt: skip
    return redirect(url_for(".index") + f"#{kind}")
