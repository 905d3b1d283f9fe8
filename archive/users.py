"""People: their role and place in the company (department, sales region, head), their API
tokens (only a hash is stored; every token expires and can be revoked) and their sign-ins
(failed attempts slow the next ones down). Every change to a person is audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from archive import audit
from archive.actor import ROLES, SYSTEM, Actor
from archive.catalogue import Catalogue
from archive.errors import Conflict, Forbidden, InvalidData, NotFound
from archive.models import ApiToken, SignInFailure, User, utcnow
from schemas.labels import ROLE_NAMES, named

if TYPE_CHECKING:
    from archive.core import Archive

_DUMMY = generate_password_hash("not a password")

_NAME = re.compile(r"^[\w.\-]{1,50}$")
MAX_DISPLAY_NAME = 50
MIN_PASSWORD = 8
MAX_LABEL = 100

# HETONG_DEPARTMENTS by default. People of the sales department (销售部) have a sales region.
DEPARTMENTS = ("销售部", "财务部", "仓储部", "法务部", "档案室", "总经理办公室")
SALES = "销售部"
# The department a role implies when none is given (staff of other departments name theirs).
DEFAULT_DEPARTMENTS = {"clerk": "销售部", "manager": "销售部", "archivist": "档案室",
                       "director": "总经理办公室", "admin": "总经理办公室"}  # fmt: skip

# Tokens always expire: HETONG_TOKEN_DAYS by default, never more than a year.
DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS = 90, 365
# A token's last use is written at most this often: not a write per request.
TOUCH_EVERY = dt.timedelta(minutes=1)

# Sign-in: after LIMIT failures within WINDOW (per account, and per address), further
# attempts are refused for FIRST_DELAY, doubled with each further failure, at most MAX_DELAY.
LIMIT, WINDOW = 5, dt.timedelta(minutes=15)
FIRST_DELAY, MAX_DELAY = 30, 15 * 60
KEEP_FAILURES = dt.timedelta(days=1)


@dataclass(frozen=True)
class Policy:
    """What the settings say about people: the departments (HETONG_DEPARTMENTS), the sales
    regions (HETONG_REGIONS; empty allows any) and a new token's life (HETONG_TOKEN_DAYS)."""

    departments: tuple[str, ...] = DEPARTMENTS
    regions: tuple[str, ...] = ()
    token_days: int = DEFAULT_TOKEN_DAYS


def policy(archive: Archive) -> Policy:
    """The policy of an archive's settings."""
    return Policy(tuple(archive.departments), tuple(archive.regions), archive.token_days)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- checks ----------------------------------------------------------------------------------


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidData({"password": [f"密码至少 {MIN_PASSWORD} 个字符。"]})


def _display_name(display_name: str) -> str:
    shown = " ".join(display_name.split())
    if not shown or len(shown) > MAX_DISPLAY_NAME or not shown.isprintable():
        raise InvalidData({"display_name": [
            f"显示名称须为 1–{MAX_DISPLAY_NAME} 个可见字符，不含控制字符。"]})  # fmt: skip
    return shown


def _place(role: str, department: str | None, region: str | None,
           rules: Policy) -> dict[str, list[str]]:  # fmt: skip
    """What is wrong with a person's role, department and region (field → messages)."""
    errors: dict[str, list[str]] = {}
    if role not in ROLES:
        errors["role"] = [f"角色必须是 {named(ROLES)} 之一。"]
    if not department:
        errors["department"] = [f"请指定部门：{'、'.join(rules.departments)}。"]
    elif department not in rules.departments:
        errors["department"] = [f"部门“{department}”不在可选部门之列："
                                f"{'、'.join(rules.departments)}。"]  # fmt: skip
    if region and department != SALES:
        errors["region"] = [f"只有{SALES}人员有销售区域。"]
    elif region and rules.regions and region not in rules.regions:
        errors["region"] = [f"未知区域，可选：{'、'.join(rules.regions)}。"]
    return errors


def _admin(by: Actor, action: str) -> None:
    if not by.can("admin"):
        raise Forbidden(f"只有{ROLE_NAMES['admin']}可以{action}。")


def _user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"用户 {name} 不存在。", field="name")
    return user


def _target(name: str) -> str:
    """A person's audit target: targets are otherwise contract numbers, so ``user:<login>``."""
    return f"user:{name}"


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse to take away the last active administrator (no one could manage people)."""
    if user.role != "admin" or not user.active:
        return
    others = session.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.active.is_(True), User.id != user.id))  # fmt: skip
    if not others:
        raise Conflict(f"{user.name} 是最后一位在用的管理员，不能停用或改为其他角色。")


def _new_token(days: int | None, label: str | None, rules: Policy) -> tuple[ApiToken, str]:
    days = rules.token_days if days is None else days
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidData({"days": [f"令牌有效期须为 1–{MAX_TOKEN_DAYS} 天（令牌总会到期）。"]})
    shown = " ".join((label or "").split()) or None
    if shown and (len(shown) > MAX_LABEL or not shown.isprintable()):
        raise InvalidData({"label": [f"令牌说明最多 {MAX_LABEL} 个可见字符。"]})
    token = "ht_" + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(token_hash=token_hash(token), label=shown, created_at=now,
                   expires_at=now + dt.timedelta(days=days))  # fmt: skip
    return row, token


# -- people ----------------------------------------------------------------------------------


def add_user(
    catalogue: Catalogue, name: str, role: str, *, password: str | None = None,
    display_name: str | None = None, department: str | None = None,
    region: str | None = None, head: bool = False, rules: Policy = Policy(),
    by: Actor = SYSTEM,
) -> tuple[User, str]:  # fmt: skip
    """Create a user; return it with its first API token (shown once, never stored; it
    expires after ``rules.token_days``). The display name (王经理) defaults to the login;
    the department to the one the role implies."""
    _admin(by, "添加用户")
    department = (department or "").strip() or DEFAULT_DEPARTMENTS.get(role)
    region = (region or "").strip() or None
    errors = _place(role, department, region, rules)
    if not _NAME.match(name):
        errors["name"] = ["用户名只能包含字母、数字、下划线、点和连字符，最长 50 个字符。"]
    if errors:
        raise InvalidData(errors)
    shown = name if display_name is None else _display_name(display_name)
    if password is not None:
        _check_password(password)
    first, token = _new_token(None, "初始令牌", rules)
    with catalogue.writing() as session:
        if session.scalar(select(User).where(User.name == name)):
            raise Conflict(f"用户 {name} 已存在。", field="name")
        hashed = generate_password_hash(password) if password else None
        user = User(name=name, display_name=shown, role=role, password_hash=hashed,
                    department=department, region=region, is_head=head)  # fmt: skip
        user.tokens.append(first)
        session.add(user)
        audit.record(session, by, "user.create", _target(name), role=role, department=department,
               region=region, head=head, display_name=shown, password=bool(password))  # fmt: skip
    return user, token


def update_user(
    catalogue: Catalogue, name: str, *, role: str | None = None,
    department: str | None = None, region: str | None = None, head: bool | None = None,
    display_name: str | None = None, password: str | None = None,
    rules: Policy = Policy(), by: Actor = SYSTEM,
) -> User:  # fmt: skip
    """Change what is given (None: unchanged; ``region=""`` removes the region). A person
    who leaves the sales department leaves their region too. A new password or role ends
    the person's page sessions."""
    _admin(by, "修改用户")
    shown = None if display_name is None else _display_name(display_name)
    if password is not None:
        _check_password(password)
    with catalogue.writing() as session:
        user = _user(session, name)
        wanted: dict[str, Any] = {"role": role or user.role,
                                  "department": (department or "").strip() or user.department,
                                  "display_name": shown or user.display_name,
                                  "is_head": user.is_head if head is None else head}  # fmt: skip
        region_now = user.region if region is None else (region.strip() or None)
        if region is None and wanted["department"] != SALES:
            region_now = None
        wanted["region"] = region_now
        errors = _place(wanted["role"], wanted["department"], wanted["region"], rules)
        if errors:
            raise InvalidData(errors)
        if wanted["role"] != user.role:
            _keep_an_admin(session, user)
        changes = {key: [getattr(user, key), value] for key, value in wanted.items()
                   if getattr(user, key) != value}  # fmt: skip
        if by.name == name and changes.keys() & {"role", "department", "is_head", "region"}:
            # An administrator who made themselves a director or a department head would
            # read and approve what the access rules keep from them.
            raise Forbidden(
                "不能修改自己的角色、部门、区域或部门负责人身份，请由另一位管理员修改。"
            )
        for key, (_before, after) in changes.items():
            setattr(user, key, after)
        if password is not None:
            user.password_hash = generate_password_hash(password)
        if password is not None or "role" in changes:
            user.session_version += 1
        if changes or password is not None:
            audit.record(session, by, "user.update", _target(name), changes=changes,
                   password=password is not None)  # fmt: skip
    return user


def set_password(catalogue: Catalogue, name: str, password: str, *, by: Actor = SYSTEM) -> None:
    """A new password; the person's page sessions end."""
    _check_password(password)
    if by.name != name:
        _admin(by, "更改他人的密码")
    with catalogue.writing() as session:
        user = _user(session, name)
        user.password_hash = generate_password_hash(password)
        user.session_version += 1
        audit.record(session, by, "user.password", _target(name))


def set_display_name(catalogue: Catalogue, name: str, display_name: str, *,
                     by: Actor = SYSTEM) -> User:  # fmt: skip
    return update_user(catalogue, name, display_name=display_name, by=by)


def deactivate_user(catalogue: Catalogue, name: str, *, by: Actor = SYSTEM) -> User:
    """The person can do nothing any more: their tokens stop working and their page
    sessions end at once. Their name stays in the records."""
    _admin(by, "停用用户")
    if by.name == name:
        raise Conflict("不能停用自己的账户。")
    with catalogue.writing() as session:
        user = _user(session, name)
        if not user.active:
            raise Conflict(f"用户 {name} 已停用。")
        _keep_an_admin(session, user)
        user.active = False
        user.session_version += 1
        audit.record(session, by, "user.deactivate", _target(name))
    return user


def reactivate_user(catalogue: Catalogue, name: str, *, by: Actor = SYSTEM) -> User:
    """A deactivated person may work again (their unrevoked, unexpired tokens work again)."""
    _admin(by, "启用用户")
    with catalogue.writing() as session:
        user = _user(session, name)
        if user.active:
            raise Conflict(f"用户 {name} 在用，无需启用。")
        user.active = True
        audit.record(session, by, "user.activate", _target(name))
    return user


def display_names(catalogue: Catalogue) -> dict[str, str]:
    """Login → display name, for showing who did what."""
    with catalogue.reading() as session:
        rows = session.execute(select(User.name, User.display_name))
        return {name: shown for name, shown in rows}


def by_name(catalogue: Catalogue, name: str) -> User | None:
    with catalogue.reading() as session:
        return session.scalar(select(User).where(User.name == name))


def list_users(catalogue: Catalogue) -> list[User]:
    with catalogue.reading() as session:
        return list(session.scalars(select(User).order_by(User.name)))


def actor_of(user: User, client: str | None) -> Actor:
    """The user as the domain sees them acting (from ``client``: an address, or "cli")."""
    return Actor(user.name, user.role, client=client, display_name=user.display_name,
                 department=user.department, region=user.region, head=user.is_head,
                 duties=tuple(user.duties or ()))  # fmt: skip


def set_duties(catalogue: Catalogue, name: str, duties: list[str], *,
               by: Actor = SYSTEM) -> User:  # fmt: skip
    """Give a person the review steps they decide (职责; an empty list takes them away)."""
    _admin(by, "设置职责")
    wanted = sorted({" ".join(d.split()) for d in duties if d.strip()})
    if any(len(d) > 40 for d in wanted):
        raise InvalidData({"duties": ["每项职责至多 40 个字符。"]})
    with catalogue.writing() as session:
        user = _user(session, name)
        before = list(user.duties or [])
        if before != wanted:
            user.duties = wanted or None
            audit.record(session, by, "user.update", _target(name),
                         changes={"duties": [before, wanted]})  # fmt: skip
    return user


# -- tokens ----------------------------------------------------------------------------------


def issue_token(
    catalogue: Catalogue, name: str, *, days: int | None = None, label: str | None = None,
    rules: Policy = Policy(), by: Actor = SYSTEM,
) -> tuple[ApiToken, str]:  # fmt: skip
    """A new token for an active user, valid ``days`` (default ``rules.token_days``, at most
    a year): the row, and the token itself (shown once, never stored)."""
    _admin(by, "签发令牌")
    row, token = _new_token(days, label, rules)
    with catalogue.writing() as session:
        user = _user(session, name)
        if not user.active:
            raise Conflict(f"用户 {name} 已停用，不能签发令牌。")
        user.tokens.append(row)
        session.flush()
        audit.record(session, by, "token.issue", _target(name), token_id=row.id, label=row.label,
               expires_at=row.expires_at.isoformat())  # fmt: skip
    return row, token


def list_tokens(catalogue: Catalogue, name: str) -> list[ApiToken]:
    """A user's tokens, oldest first (revoked and expired ones too)."""
    with catalogue.reading() as session:
        user = _user(session, name)
        return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                    .order_by(ApiToken.id)))  # fmt: skip


def revoke_token(catalogue: Catalogue, name: str, token_id: int, *,
                 by: Actor = SYSTEM) -> ApiToken:  # fmt: skip
    """The token stops working at once."""
    _admin(by, "撤销令牌")
    with catalogue.writing() as session:
        user = _user(session, name)
        row = session.scalar(select(ApiToken).where(ApiToken.id == token_id,
                                                    ApiToken.user_id == user.id))  # fmt: skip
        if row is None:
            raise NotFound(f"用户 {name} 没有编号为 {token_id} 的令牌。", field="token_id")
        if row.revoked_at is not None:
            raise Conflict(f"令牌 {token_id} 已撤销。")
        row.revoked_at, row.revoked_by = utcnow(), by.name
        audit.record(session, by, "token.revoke", _target(name), token_id=token_id)
    return row


def token_state(row: ApiToken, now: dt.datetime | None = None) -> str:
    """``valid``, ``expired`` or ``revoked``."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is None or row.expires_at <= (now or utcnow()):
        return "expired"  # every token expires: one without a day is not accepted
    return "valid"


def by_token(catalogue: Catalogue, token: str) -> User | None:
    """The active user of a token that is neither revoked nor expired."""
    found = _token_row(catalogue, token)
    return found[0] if found else None


def use_token(catalogue: Catalogue, token: str) -> User | None:
    """``by_token`` for a request: also notes when the token was last used (at most once a
    minute per token, so that reading the API does not write every time)."""
    found = _token_row(catalogue, token)
    if found is None:
        return None
    user, token_id, last = found
    now = utcnow()
    if last is None or now - last >= TOUCH_EVERY:
        with catalogue.writing() as session:
            # Another request may have written it meanwhile: the condition keeps one write.
            session.execute(update(ApiToken).where(
                ApiToken.id == token_id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_EVERY),
            ).values(last_used_at=now))  # fmt: skip
    return user


def _token_row(catalogue: Catalogue, token: str) -> tuple[User, int, dt.datetime | None] | None:
    with catalogue.reading() as session:
        row = session.execute(
            select(User, ApiToken.id, ApiToken.last_used_at)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None),
                   ApiToken.expires_at > utcnow(),
                   User.active.is_(True))
        ).first()  # fmt: skip
    return (row[0], row[1], row[2]) if row else None


# -- signing in ------------------------------------------------------------------------------


def _password_user(catalogue: Catalogue, name: str, password: str) -> User | None:
    """The user if the password is right; the same answer time for a wrong name."""
    with catalogue.reading() as session:
        user = session.scalar(select(User).where(User.name == name))
    stored = user.password_hash if user and user.password_hash else _DUMMY
    ok = check_password_hash(stored, password)
    return user if ok and user is not None and user.password_hash else None


def by_password(catalogue: Catalogue, name: str, password: str) -> User | None:
    """The active user if the password is right (no rate limit: see ``sign_in``)."""
    user = _password_user(catalogue, name, password)
    return user if user is not None and user.active else None


@dataclass(frozen=True)
class SignIn:
    """What became of a sign-in: the user; or ``wait`` seconds before another try is heard;
    or ``inactive`` (the password was right, the account is deactivated); else wrong."""

    user: User | None = None
    wait: int = 0
    inactive: bool = False


def sign_in(catalogue: Catalogue, name: str, password: str, address: str | None,
            *, now: dt.datetime | None = None) -> SignIn:  # fmt: skip
    """Check a password, unless too many recent failures (of this account or from this
    address) ask the caller to wait: then the password is not even looked at. A failure is
    recorded; a success clears the account's failures."""
    now = now or utcnow()
    name, address = name[:50], (address or "unknown")[:100]
    wait = sign_in_wait(catalogue, name, address, now=now)
    if wait:
        return SignIn(wait=wait)
    user = _password_user(catalogue, name, password)
    with catalogue.writing() as session:
        if user is None:
            session.add(SignInFailure(name=name, address=address, at=now))
            session.execute(delete(SignInFailure).where(SignInFailure.at < now - KEEP_FAILURES))
            return SignIn()
        if user.active:
            session.execute(delete(SignInFailure).where(SignInFailure.name == name))
    return SignIn(user=user) if user.active else SignIn(inactive=True)


def sign_in_wait(catalogue: Catalogue, name: str, address: str,
                 *, now: dt.datetime | None = None) -> int:  # fmt: skip
    """Seconds before a sign-in for ``name`` from ``address`` is heard again (0: now)."""
    now = now or utcnow()
    wait = 0.0
    with catalogue.reading() as session:
        for column, value in ((SignInFailure.name, name), (SignInFailure.address, address)):
            count, last = session.execute(
                select(func.count(), func.max(SignInFailure.at))
                .where(column == value, SignInFailure.at > now - WINDOW)
            ).one()  # fmt: skip
            if count >= LIMIT and last is not None:
                delay = min(FIRST_DELAY * 2 ** min(count - LIMIT, 10), MAX_DELAY)
                wait = max(wait, (last - now).total_seconds() + delay)
    return math.ceil(wait) if wait > 0 else 0


__all__ = [
    "DEPARTMENTS",
    "MAX_TOKEN_DAYS",
    "MIN_PASSWORD",
    "ROLES",
    "SALES",
    "Policy",
    "SignIn",
    "actor_of",
    "add_user",
    "by_name",
    "by_password",
    "by_token",
    "deactivate_user",
    "display_names",
    "issue_token",
    "list_tokens",
    "list_users",
    "policy",
    "reactivate_user",
    "revoke_token",
    "set_display_name",
    "set_duties",
    "set_password",
    "sign_in",
    "sign_in_wait",
    "token_hash",
    "token_state",
    "update_user",
    "use_token",
]  # fmt: skip
