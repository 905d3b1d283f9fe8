"""Users, roles and API tokens. Only a token's hash is stored."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from archive.catalogue import Catalogue
from archive.errors import Conflict, InvalidData, NotFound
from archive.models import User
from schemas.labels import named

_DUMMY = generate_password_hash("not a password")

ROLES = ("clerk", "archivist", "manager", "admin")
_NAME = re.compile(r"^[\w.\-]{1,50}$")
MAX_DISPLAY_NAME = 50


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


MIN_PASSWORD = 8


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidData({"password": [f"密码至少 {MIN_PASSWORD} 个字符。"]})


def _display_name(display_name: str) -> str:
    shown = " ".join(display_name.split())
    if not shown or len(shown) > MAX_DISPLAY_NAME or not shown.isprintable():
        raise InvalidData({"display_name": [
            f"显示名称须为 1–{MAX_DISPLAY_NAME} 个可见字符，不含控制字符。"]})  # fmt: skip
    return shown


def add_user(
    catalogue: Catalogue, name: str, role: str, *, password: str | None = None,
    display_name: str | None = None,
) -> tuple[User, str]:  # fmt: skip
    """Create a user; return it with its API token (shown once, never stored). The display
    name (what people read: 王经理) defaults to the login."""
    errors: dict[str, list[str]] = {}
    if not _NAME.match(name):
        errors["name"] = ["用户名只能包含字母、数字、下划线、点和连字符，最长 50 个字符。"]
    if role not in ROLES:
        errors["role"] = [f"角色必须是 {named(ROLES)} 之一。"]
    if errors:
        raise InvalidData(errors)
    shown = name if display_name is None else _display_name(display_name)
    if password is not None:
        _check_password(password)
    token = "ht_" + secrets.token_urlsafe(32)
    with catalogue.writing() as session:
        if session.scalar(select(User).where(User.name == name)):
            raise Conflict(f"用户 {name} 已存在。", field="name")
        hashed = generate_password_hash(password) if password else None
        user = User(name=name, display_name=shown, role=role, token_hash=token_hash(token),
                    password_hash=hashed)  # fmt: skip
        session.add(user)
    return user, token


def set_password(catalogue: Catalogue, name: str, password: str) -> None:
    _check_password(password)
    with catalogue.writing() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(f"用户 {name} 不存在。")
        user.password_hash = generate_password_hash(password)


def set_display_name(catalogue: Catalogue, name: str, display_name: str) -> User:
    shown = _display_name(display_name)
    with catalogue.writing() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(f"用户 {name} 不存在。")
        user.display_name = shown
    return user


def display_names(catalogue: Catalogue) -> dict[str, str]:
    """Login → display name, for showing who did what."""
    with catalogue.reading() as session:
        rows = session.execute(select(User.name, User.display_name))
        return {name: shown for name, shown in rows}


def by_password(catalogue: Catalogue, name: str, password: str) -> User | None:
    """The user if the password is right; the same answer time for a wrong name."""
    with catalogue.reading() as session:
        user = session.scalar(select(User).where(User.name == name))
    stored = user.password_hash if user and user.password_hash else _DUMMY
    ok = check_password_hash(stored, password)
    return user if ok and user is not None and user.password_hash else None


def by_name(catalogue: Catalogue, name: str) -> User | None:
    with catalogue.reading() as session:
        return session.scalar(select(User).where(User.name == name))


def by_token(catalogue: Catalogue, token: str) -> User | None:
    with catalogue.reading() as session:
        return session.scalar(select(User).where(User.token_hash == token_hash(token)))


def list_users(catalogue: Catalogue) -> list[User]:
    with catalogue.reading() as session:
        return list(session.scalars(select(User).order_by(User.name)))
