"""客户档案 pages: the register (search by name fragment), one customer with its credit and
contracts, entering and correcting a customer, grading it (managers)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for

from archive import customers
from archive.errors import ArchiveError, InvalidData, validated
from schemas.customers import CustomerListArgs, CustomerSchema, CustomerUpdateSchema
from schemas.queries import PageArgs
from service.ext import get_archive
from service.pages.forms import flash_outcome, kept, query_args, to_payload, typed_number
from service.pages.session import current_actor, load_user, login_required

bp = Blueprint("customers_pages", __name__, url_prefix="/customers")
bp.before_request(load_user)

LIST_LABELS = {"q": "客户", "grade": "等级", "page": "页码", "per_page": "每页条数"}


@bp.get("")
@login_required()
def index():
    wanted, error = query_args(request.args, CustomerListArgs(), PageArgs(), labels=LIST_LABELS)
    page, per_page = wanted.pop("page", 1), wanted.pop("per_page", 50)
    total, rows, owed = 0, [], {}
    if not error:
        total, rows = customers.listing(get_archive(), current_actor(), page=page,
                                        per_page=per_page, **wanted)  # fmt: skip
        owed = customers.balances(get_archive(), rows, current_actor(), dt.date.today())
    return render_template(
        "customers/index.html", rows=rows, owed=owed, total=total, page=page,
        per_page=per_page, error=error, args=request.args, kept=kept(request.args),
    ), 400 if error else 200  # fmt: skip


@bp.route("/new", methods=["GET", "POST"])
@login_required("clerk", "manager")
def new():
    values: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        payload = _form()
        values = {k: str(v) for k, v in payload.items()}
        try:
            customer = customers.create(get_archive(), validated(CustomerSchema(), payload),
                                        current_actor())  # fmt: skip
        except InvalidData as exc:
            errors = exc.errors
        except ArchiveError as exc:
            errors = {"_schema": [str(exc)]}
        else:
            flash(f"已建立客户档案：{customer.name}。", "ok")
            return redirect(url_for(".show", customer_id=customer.id))
    return render_template("customers/new.html", values=values,
                           errors=errors), 422 if errors else 200  # fmt: skip


@bp.get("/<int(max=9223372036854775807):customer_id>")
@login_required()
def show(customer_id: int):
    try:
        customer = customers.get(get_archive(), customer_id, current_actor())
    except ArchiveError as exc:
        return render_template("gone.html", error=exc), 404
    found = customers.contracts_of(get_archive(), customer, current_actor())
    credit = customers.credit(found, dt.date.today())
    headroom = (None if customer.credit_limit is None
                else customer.credit_limit - Decimal(credit["outstanding"]))  # fmt: skip
    return render_template(
        "customers/show.html", c=customer, contracts=found, credit=credit, headroom=headroom,
        today=dt.date.today(),
    )  # fmt: skip


@bp.post("/<int(max=9223372036854775807):customer_id>")
@login_required("clerk", "manager")
def update(customer_id: int):
    """The details form, the credit form (managers), or a dossier's 以本合同更新客户档案."""
    payload = _form()
    back = request.form.get("back") or ""
    parts = urlsplit(back)
    if parts.scheme or parts.netloc or not back.startswith("/") or back.startswith("//") \
            or any(c in back for c in "\\\t\r\n") or not back.isprintable():  # fmt: skip
        back = url_for(".show", customer_id=customer_id)  # only back to our own pages
    flash_outcome(lambda: customers.update(
        get_archive(), customer_id, validated(CustomerUpdateSchema(), payload), current_actor(),
    ), "客户档案已更新。")  # fmt: skip
    return redirect(back)


def _form() -> dict:
    """The form as the API's JSON: a blank credit limit or grade clears it; a blank detail
    is left as it was."""
    payload = to_payload(request.form)
    payload.pop("back", None)
    for key in ("grade", "credit_limit", "credit_notes"):
        if key in request.form:
            raw = request.form[key].strip()
            payload[key] = (typed_number(raw) if key == "credit_limit" else raw) or None
    return payload
