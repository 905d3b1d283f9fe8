"""Bearer-token authentication and role checks for the API."""

from __future__ import annotations

from functools import wraps

from flask import abort, g, request

from archive import users
from archive.actor import Actor
from schemas.labels import role_names
from service.errors import error_response
from service.ext import get_archive


def authenticate():
    """``before_request`` hook: every API call carries ``Authorization: Bearer <token>``."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error_response(401, "需要登录：请求头须包含 Authorization: Bearer <令牌>。",
                              **{"WWW-Authenticate": 'Bearer realm="hetong"'})  # fmt: skip
    # Checked on every request: a revoked or expired token, or a deactivated user, is
    # refused at once (no cache to wait for).
    user = users.use_token(get_archive().catalogue, token.strip())
    if user is None:
        return error_response(401, "令牌无效、已过期或已撤销，或用户已停用。",
                              **{"WWW-Authenticate": 'Bearer error="invalid_token"'})  # fmt: skip
    g.actor = users.actor_of(user, request.remote_addr)
    return None


def actor() -> Actor:
    return g.actor


def require(*roles: str):
    """Allow only ``roles`` (admin always); others get a JSON 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not g.actor.can(*roles):
                abort(403, description=f"此操作需要以下角色之一：{role_names(roles)}。")
            return view(*args, **kwargs)

        return wrapper

    return decorator
