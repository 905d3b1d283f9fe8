"""Administrator pages: people (role, department, region, head, display name, password),
deactivation, and API tokens (a new token is shown once, on the page that issued it)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from archive import users
from archive.errors import Conflict, Forbidden, InvalidData
from archive.models import User
from schemas.labels import error_lines
from service.ext import get_archive
from service.pages.session import current_actor, load_user, login_required

bp = Blueprint("users_pages", __name__, url_prefix="/admin/users")
bp.before_request(load_user)

REFUSED = (Conflict, Forbidden)


def _form_values() -> dict[str, str]:
    fields = ("name", "role", "department", "region", "display_name")
    return {key: request.form.get(key, "").strip() for key in fields}


def _index(values: dict[str, str] | None = None, errors: dict[str, list[str]] | None = None,
           status: int = 200):  # fmt: skip
    archive = get_archive()
    return render_template(
        "users/index.html", people=users.list_users(archive.catalogue),
        departments=archive.departments, regions=archive.regions, roles=users.ROLES,
        sales=users.SALES, values=values or {"role": "clerk", "department": users.SALES},
        errors=errors or {}, error_lines=error_lines(errors or {}),
    ), status  # fmt: skip


@bp.get("")
@login_required("admin")
def index():
    return _index()


@bp.post("")
@login_required("admin")
def add():
    """A new person; their first token is shown once, on the page that answers."""
    values = _form_values()
    archive = get_archive()
    try:
        user, token = users.add_user(
            archive.catalogue, values["name"], values["role"],
            password=request.form.get("password") or None,
            display_name=values["display_name"] or None, department=values["department"],
            region=values["region"] or None, head=request.form.get("head") == "1",
            rules=users.policy(archive), by=current_actor(),
        )  # fmt: skip
    except InvalidData as exc:
        return _index(values, exc.errors, 422)
    except REFUSED as exc:
        return _index(values, {exc.field or "_schema": [exc.message]}, 409)
    expires = user.tokens[0].expires_at
    return render_template("users/token.html", user=user, token=token, expires=expires,
                           added=True), 201  # fmt: skip


@bp.get("/<name>")
@login_required("admin")
def show(name: str):
    return _show(name)


def _show(name: str, values: dict[str, str] | None = None,
          errors: dict[str, list[str]] | None = None, status: int = 200):  # fmt: skip
    archive = get_archive()
    user = _user(name)
    shown = values or {"role": user.role, "department": user.department,
                       "region": user.region or "", "display_name": user.display_name,
                       "head": "1" if user.is_head else ""}  # fmt: skip
    return render_template(
        "users/show.html", user=user, tokens=users.list_tokens(archive.catalogue, name),
        state=users.token_state, departments=archive.departments, regions=archive.regions,
        roles=users.ROLES, sales=users.SALES, values=shown, errors=errors or {},
        error_lines=error_lines(errors or {}), token_days=archive.token_days,
        max_days=users.MAX_TOKEN_DAYS, steps=archive.review_steps,
    ), status  # fmt: skip


def _user(name: str) -> User:
    user = users.by_name(get_archive().catalogue, name)
    if user is None:
        abort(404, description=f"用户 {name} 不存在。")
    return user


@bp.post("/<name>")
@login_required("admin")
def update(name: str):
    values = _form_values()
    values["head"] = "1" if request.form.get("head") == "1" else ""
    archive = get_archive()
    try:
        user = users.update_user(
            archive.catalogue, name, role=values["role"] or None,
            department=values["department"] or None, region=values["region"],
            head=values["head"] == "1", display_name=values["display_name"] or None,
            password=request.form.get("password") or None, rules=users.policy(archive),
            by=current_actor(),
        )  # fmt: skip
    except InvalidData as exc:
        return _show(name, values, exc.errors, 422)
    except REFUSED as exc:
        return _show(name, values, {"_schema": [exc.message]}, 409)
    flash(f"已保存 {user.display_name}（{user.name}）的资料。", "ok")
    return redirect(url_for(".show", name=name))


@bp.post("/<name>/duties")
@login_required("admin")
def set_duties(name: str):
    """The review steps the person decides (archive.reviews)."""
    _user(name)
    wanted = [d for d in request.form.getlist("duty") if d in get_archive().review_steps[:-1]]
    try:
        user = users.set_duties(get_archive().catalogue, name, wanted, by=current_actor())
    except REFUSED as exc:
        flash(exc.message, "error")
    else:
        flash(
            f"已保存 {user.display_name} 的审批职责：{'、'.join(user.duties or []) or '无'}。", "ok"
        )
    return redirect(url_for(".show", name=name))


@bp.post("/<name>/deactivate")
@login_required("admin")
def deactivate(name: str):
    try:
        users.deactivate_user(get_archive().catalogue, name, by=current_actor())
        flash(f"已停用 {name}：其令牌与网页会话立即失效。", "ok")
    except REFUSED as exc:
        flash(exc.message, "error")
    return redirect(url_for(".show", name=name))


@bp.post("/<name>/activate")
@login_required("admin")
def activate(name: str):
    try:
        users.reactivate_user(get_archive().catalogue, name, by=current_actor())
        flash(f"已启用 {name}。", "ok")
    except REFUSED as exc:
        flash(exc.message, "error")
    return redirect(url_for(".show", name=name))


@bp.post("/<name>/tokens")
@login_required("admin")
def issue(name: str):
    """A new token, shown once on this answer (never put in a cookie or a flash message)."""
    archive = get_archive()
    raw_days = request.form.get("days", "").strip()
    try:
        days = int(raw_days) if raw_days else None
    except ValueError:
        return _show(name, errors={"days": ["请填写整数天数。"]}, status=422)
    try:
        row, token = users.issue_token(archive.catalogue, name, days=days,
                                       label=request.form.get("label"),
                                       rules=users.policy(archive), by=current_actor())  # fmt: skip
    except InvalidData as exc:
        return _show(name, errors=exc.errors, status=422)
    except REFUSED as exc:
        flash(exc.message, "error")
        return redirect(url_for(".show", name=name))
    return render_template("users/token.html", user=_user(name), token=token,
                           expires=row.expires_at, added=False), 201  # fmt: skip


@bp.post("/<name>/tokens/<int:token_id>/revoke")
@login_required("admin")
def revoke(name: str, token_id: int):
    try:
        users.revoke_token(get_archive().catalogue, name, token_id, by=current_actor())
        flash(f"已撤销令牌 {token_id}，该令牌立即失效。", "ok")
    except REFUSED as exc:
        flash(exc.message, "error")
    return redirect(url_for(".show", name=name))
