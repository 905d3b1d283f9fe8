"""The lending register page (借阅登记): open loans with the overdue ones marked, the lend
form and the return button (archivists); managers and directors read it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from archive import loans, users
from archive.errors import ArchiveError, InvalidData, validated
from schemas.labels import error_lines, person
from schemas.loans import FORM_NAMES, FORMS, LendSchema, LoanListArgs, ReturnSchema
from schemas.queries import PageArgs
from service.ext import get_archive
from service.pages.forms import kept, query_args, to_payload
from service.pages.session import current_actor, load_user, login_required

bp = Blueprint("loans_pages", __name__, url_prefix="/loans")
bp.before_request(load_user)

LABELS = {"open": "状态", "overdue": "逾期", "borrower": "借阅人", "contract_no": "合同编号",
          "as_of": "截至日期", "page": "页码", "per_page": "每页条数"}  # fmt: skip
# A refused lend comes back as the page with its reason, under the API's status.
STATUS = {"not_found": 404, "conflict": 409, "gone": 410, "forbidden": 403}
# The lend form's default loan: a week.
DEFAULT_DAYS = 7


def _register(values: dict[str, str] | None = None, errors: dict[str, list[str]] | None = None,
              refused: int = 422) -> tuple[str, int]:  # fmt: skip
    """The page: the loans the filters select (by default the open ones) and the lend form
    (refilled with ``values`` and their ``errors`` after a refused lend)."""
    wanted, error = query_args(request.args, LoanListArgs(), PageArgs(), labels=LABELS)
    page, per_page = wanted.pop("page", 1), wanted.pop("per_page", 50)
    if "open" not in request.args:  # the page opens on what is out; 全部 sends open=""
        wanted["open"] = True
    total, rows = 0, []
    if not error:
        total, rows = loans.listing(
            get_archive(), current_actor(), open=wanted.get("open"),
            overdue=wanted.get("overdue"), borrower=wanted.get("borrower"),
            contract_no=wanted.get("contract_no"), today=wanted.get("as_of"),
            limit=per_page, offset=(page - 1) * per_page,
        )  # fmt: skip
    today = dt.datetime.now(get_archive().zone).date()
    form_values = values or {"contract_no": request.args.get("contract_no", ""),
                             "due_on": (today + dt.timedelta(days=DEFAULT_DAYS)).isoformat(),
                             "form": "paper"}  # fmt: skip
    status = refused if errors else 400 if error else 200
    return render_template(
        "loans/index.html", rows=rows, total=total, page=page, per_page=per_page, error=error,
        args=request.args, kept=kept(request.args), values=form_values, errors=errors or {},
        error_lines=error_lines(errors or {}), people=_borrowers(), forms=FORMS,
        FORM_NAMES=FORM_NAMES, today=today, max_day=today + dt.timedelta(days=loans.MAX_DAYS),
    ), status  # fmt: skip


def _borrowers() -> list[dict[str, Any]]:
    """Whom the lend form offers: the active users, by display name."""
    return [{"name": u.name, "label": person(u.name, u.display_name)}
            for u in users.list_users(get_archive().catalogue) if u.active]  # fmt: skip


@bp.get("")
@login_required(*loans.OVERSEERS)
def index():
    return _register()


@bp.post("")
@login_required(*loans.LENDERS)
def lend():
    payload = to_payload(request.form)
    try:
        data = validated(LendSchema(), payload)
        record = loans.lend(get_archive(), current_actor(), data["contract_no"],
                            data["borrower"], data["due_on"], data["purpose"],
                            form=data["form"], note=data.get("note"))  # fmt: skip
    except InvalidData as exc:
        return _register({k: str(v) for k, v in payload.items()}, exc.errors)
    except ArchiveError as exc:  # not found, destroyed, already out, not an archivist
        return _register(
            {k: str(v) for k, v in payload.items()},
            {"_schema": [exc.message]},
            STATUS.get(exc.code, 400),
        )
    flash(f"合同 {record['contract_no']} 的{FORM_NAMES[record['form']]}卷宗已借给 "
          f"{person(record['borrower'], record['borrower_name'])}，"
          f"应还日期 {record['due_on']}。", "ok")  # fmt: skip
    return redirect(url_for(".index"))


@bp.post("/<int:loan_id>/return")
@login_required(*loans.LENDERS)
def return_loan(loan_id: int):
    try:
        data = validated(ReturnSchema(), to_payload(request.form))
        record = loans.return_loan(get_archive(), current_actor(), loan_id, note=data.get("note"))
    except InvalidData as exc:
        for line in error_lines(exc.errors):
            flash(line, "error")
    except ArchiveError as exc:
        flash(exc.message, "error")
    else:
        who = person(record["borrower"], record["borrower_name"])
        flash(f"合同 {record['contract_no']} 的卷宗已归还（借阅人 {who}）。", "ok")
    return redirect(url_for(".index"))
