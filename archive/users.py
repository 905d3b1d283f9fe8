"""Users, roles and API tokens. Only a token's hash is stored."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select

from archive.catalogue import Catalogue
from archive.errors import Conflict, InvalidData
from archive.models import User

ROLES = ("clerk", "archivist", "manager", "admin")
_NAME = re.compile(r"^[\w.\-]{1,50}$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(catalogue: Catalogue, name: str, role: str) -> tuple[User, str]:
    """Create a user; return it with its API token (shown once, never stored)."""
    errors: dict[str, list[str]] = {}
    if not _NAME.match(name):
        errors["name"] = ["用户名只能包含字母、数字、下划线、点和连字符，最长 50 个字符。"]
    if role not in ROLES:
        errors["role"] = [f"角色必须是 {', '.join(ROLES)} 之一。"]
    if errors:
        raise InvalidData(errors)
    token = "ht_" + secrets.token_urlsafe(32)
    with catalogue.writing() as session:
        if session.scalar(select(User).where(User.name == name)):
            raise Conflict(f"用户 {name} 已存在。", field="name")
        user = User(name=name, role=role, token_hash=token_hash(token))
        session.add(user)
    return user, token


def by_token(catalogue: Catalogue, token: str) -> User | None:
    with catalogue.reading() as session:
        return session.scalar(select(User).where(User.token_hash == token_hash(token)))


def list_users(catalogue: Catalogue) -> list[User]:
    with catalogue.reading() as session:
        return list(session.scalars(select(User).order_by(User.name)))
