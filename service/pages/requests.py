"""查阅申请 pages: 申请查阅 (the form), 我的申请 (what I asked and where it stands), 待我审批
(what waits for my decision, with 同意 / 驳回 and a note)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from archive import access_requests
from archive.access import local_today
from archive.errors import ArchiveError, InvalidData, validated
from schemas.access import MAX_CONTRACTS, MAX_DAYS, AccessRequestSchema
from schemas.labels import error_lines, local_time
from schemas.queries import PageArgs
from service.ext import get_archive
from service.pages.forms import query_args
from service.pages.session import current_actor, load_user, login_required

bp = Blueprint("requests_pages", __name__, url_prefix="/access-requests")
bp.before_request(load_user)

PER_PAGE = 20
# Numbers as people paste them: one a line, or separated by commas, 、, ； or spaces.
_SEPARATORS = re.compile(r"[\s,，、;；]+")
# What the form offers for ``until`` when nothing is typed: a week, a common reading time.
DEFAULT_DAYS = 7


@bp.app_template_filter("isolocal")
def _isolocal(value: str | None) -> str:
    """An ISO 8601 time (UTC, as the requests carry them) in local time."""
    return local_time(dt.datetime.fromisoformat(value), get_archive().zone) if value else ""


def numbers_of(text: str) -> list[str]:
    return [n for n in _SEPARATORS.split(text or "") if n]


def _today() -> dt.date:
    with get_archive().catalogue.reading() as session:
        return local_today(session)


@bp.route("/new", methods=["GET", "POST"])
@login_required()
def new():
    """申请查阅: which contracts, why, until when."""
    today = _today()
    values: dict[str, str] = {
        "contract_nos": "\n".join(request.args.getlist("contract_no")),
        "purpose": "", "until": (today + dt.timedelta(days=DEFAULT_DAYS)).isoformat(),
    }  # fmt: skip
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in values}
        payload: dict[str, Any] = {"contract_nos": numbers_of(values["contract_nos"]),
                                   "purpose": values["purpose"]}  # fmt: skip
        if values["until"].strip():
            payload["until"] = values["until"].strip()
        try:
            data = validated(AccessRequestSchema(), payload)
            made = access_requests.create(get_archive(), current_actor(), data["contract_nos"],
                                          data["purpose"], data["until"])  # fmt: skip
        except InvalidData as exc:
            errors = {path.split(".")[0]: found for path, found in exc.errors.items()}
        except ArchiveError as exc:
            errors = {"_schema": [exc.message]}
        else:
            shown = access_requests.describe(get_archive(), [made])[0]
            flash(f"查阅申请 {made.id} 已提交，待{shown['current_step_name']}审批"
                  f"（{'、'.join(shown['waiting_for'])}）。", "ok")  # fmt: skip
            return redirect(url_for(".mine"))
    status = 200 if not errors else 409 if "_schema" in errors else 422
    return render_template("requests/new.html", values=values, errors=errors, today=today,
                           last=today + dt.timedelta(days=MAX_DAYS),
                           max_contracts=MAX_CONTRACTS), status  # fmt: skip


def _page() -> tuple[int, str | None]:
    wanted, error = query_args(request.args, PageArgs())
    return (wanted.get("page", 1), error)


@bp.get("")
@login_required()
def mine():
    """我的申请: every request I made, newest first, with its steps."""
    page, error = _page()
    if error:
        return render_template("error.html", code=400, message=error), 400
    total, rows = access_requests.mine(get_archive(), current_actor(), limit=PER_PAGE,
                                       offset=(page - 1) * PER_PAGE)  # fmt: skip
    return render_template("requests/mine.html", rows=access_requests.describe(get_archive(), rows),
                           total=total, page=page, per_page=PER_PAGE)  # fmt: skip


@bp.get("/waiting")
@login_required()
def waiting():
    """待我审批: the requests whose current step I decide, oldest first."""
    page, error = _page()
    if error:
        return render_template("error.html", code=400, message=error), 400
    total, rows = access_requests.waiting_for(get_archive(), current_actor(), limit=PER_PAGE,
                                              offset=(page - 1) * PER_PAGE)  # fmt: skip
    return render_template("requests/waiting.html",
                           rows=access_requests.describe(get_archive(), rows), total=total,
                           page=page, per_page=PER_PAGE)  # fmt: skip


def _act(action, success: str, back: str):
    """Run a decision from a form; what went wrong comes back as messages on ``back``."""
    try:
        action()
    except InvalidData as exc:
        for line in error_lines(exc.errors):
            flash(line, "error")
    except ArchiveError as exc:
        flash(exc.message, "error")
    else:
        flash(success, "ok")
    return redirect(url_for(back))


@bp.post("/<int:request_id>/approve")
@login_required()
def approve(request_id: int):
    note = request.form.get("note", "")
    return _act(lambda: access_requests.approve(get_archive(), current_actor(), request_id, note),
                f"已同意查阅申请 {request_id}。", ".waiting")  # fmt: skip


@bp.post("/<int:request_id>/reject")
@login_required()
def reject(request_id: int):
    note = request.form.get("note", "")
    return _act(lambda: access_requests.reject(get_archive(), current_actor(), request_id, note),
                f"已驳回查阅申请 {request_id}。", ".waiting")  # fmt: skip


@bp.post("/<int:request_id>/withdraw")
@login_required()
def withdraw(request_id: int):
    return _act(lambda: access_requests.withdraw(get_archive(), current_actor(), request_id),
                f"已撤回查阅申请 {request_id}。", ".mine")  # fmt: skip
