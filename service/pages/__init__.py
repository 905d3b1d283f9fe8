"""Pages for people (zh-CN, server-rendered): sign-in, session, CSRF, and the blueprints."""

from __future__ import annotations

import secrets
from decimal import Decimal
from functools import wraps

from flask import Flask, abort, g, redirect, request, session, url_for
from markupsafe import Markup

from archive import users
from archive.audit import Actor
from archive.money import figures
from service.app import archive

ROLE_NAMES = {"clerk": "销售业务员", "archivist": "档案管理员", "manager": "销售经理",
              "admin": "管理员"}  # fmt: skip
STATUS_NAMES = {"draft": "草稿", "effective": "已生效", "completed": "已履行完毕",
                "terminated": "已解除"}  # fmt: skip
PAYMENT_NAMES = {"unpaid": "未付款", "partially_paid": "部分付款", "paid": "已付清"}
KIND_NAMES = {"sales_contract": "销售合同", "amendment": "补充协议",
              "delivery_notice": "发货通知单", "signed_scan": "签署扫描件"}  # fmt: skip
ACTION_NAMES = {
    "contract.create": "创建合同", "contract.status": "变更状态", "document.download": "下载文件",
    "amendment.create": "签订补充协议", "delivery.create": "开具发货通知单",
    "payment.create": "登记收款", "scan.upload": "上传扫描件", "volume.export": "导出案卷",
    "retention.hold": "保全", "retention.hold_release": "解除保全",
    "retention.move_to_unpaid": "移入欠款另册", "retention.pending_destruction": "列入待销毁",
    "retention.destroy_approved": "批准销毁", "retention.destroyed": "已销毁",
}  # fmt: skip
RETENTION_NAMES = {None: "保存中", "unpaid_volume": "欠款另册保管",
                   "pending_destruction": "待销毁（待审批）", "destroying": "销毁中",
                   "destroyed": "已销毁"}  # fmt: skip


def current_actor() -> Actor | None:
    return g.get("actor")


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="csrf" value="{}">').format(csrf_token())


def load_user() -> None:
    """Every page request: the signed-in user, and the CSRF check on every form post."""
    name = session.get("user")
    user = users.by_name(archive().catalogue, name) if name else None
    if user is not None and session.get("role") == user.role:
        g.actor = Actor(user.name, user.role, client=request.remote_addr)
    elif name:
        session.clear()
    if request.method == "POST":
        sent = request.form.get("csrf", "")
        if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
            abort(400, description="表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。")


def login_required(*roles: str):
    """Signed in (else to the sign-in page) and, if roles are given, one of them (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            actor = current_actor()
            if actor is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and not actor.can(*roles):
                abort(
                    403,
                    description="此页面需要以下角色之一："
                    + "、".join(ROLE_NAMES[r] for r in roles),
                )
            return view(*args, **kwargs)

        return wrapper

    return decorator


def register(app: Flask) -> None:
    from service.pages import auth, contracts, library, retention

    for module in (auth, contracts, library, retention):
        app.register_blueprint(module.bp)

    @app.context_processor
    def _globals():
        return {"csrf_field": csrf_field, "actor": current_actor(), "ROLE_NAMES": ROLE_NAMES,
                "STATUS_NAMES": STATUS_NAMES, "PAYMENT_NAMES": PAYMENT_NAMES,
                "KIND_NAMES": KIND_NAMES, "RETENTION_NAMES": RETENTION_NAMES,
                "ACTION_NAMES": ACTION_NAMES}  # fmt: skip

    @app.template_filter("money")
    def _money(value) -> str:
        return figures(Decimal(str(value)))
