"""查阅申请 (《销售文件查阅申请表》, 004 查阅与借阅, 保密管理): someone outside a contract's
scope asks to read it, for a purpose, until a day; the heads approve it in order.

The approval chain is fixed when the request is made, in ``steps`` (each ``{"step", "by",
"at", "decision", "note"}``), so a later change of who heads what does not change what the
requester was told:

1. ``department``: the head of the requester's department (the department is kept in the
   step) — skipped when the requester heads it themselves;
2. ``sales``: the head of sales (the head of 销售部) — skipped when the requester works in
   销售部, where step 1 already is the head of sales;
3. ``director``: a director (总经理) — when any contract asked for is confidential; and also
   when neither head is left to ask (the head of sales asking), because nobody approves
   their own request.

A step is decided by any active user who fits it — never by the requester, and never by an
administrator for being one: administrators run the system, they do not grant business
access. The last approval makes the request ``approved``; the first rejection ends it
(``rejected``); the requester may ``withdraw`` it while it is pending.

What an approved request opens is read by ``archive.access`` (the one visibility rule): the
request's contracts while ``until`` (a local day) has not passed, confidential ones only
when a director approved. Past ``until`` a request shows as expired; its state stays.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import audit
from archive.access import local_today, own_scope
from archive.actor import Actor
from archive.errors import Conflict, Forbidden, InvalidData, NotFound
from archive.models import AccessRequest, Contract, User, iso, utcnow
from schemas.access import MAX_CONTRACTS, MAX_DAYS, MAX_NOTE, MAX_PURPOSE
from schemas.labels import DECISION_NAMES, REQUEST_STATE_NAMES, REQUEST_STEP_NAMES, person

if TYPE_CHECKING:
    from archive.core import Archive

PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"
EXPIRED = "expired"  # shown, never stored
SALES = "销售部"
DIRECTOR = "director"
# Who may read every request without taking part in it: the general manager, and the
# archive office that keeps the 查阅登记.


# -- the chain --------------------------------------------------------------------------------


def _step(name: str, **extra: Any) -> dict[str, Any]:
    return {"step": name, "by": None, "at": None, "decision": None, "note": None, **extra}


def chain(requester: Actor, confidential: bool) -> list[dict[str, Any]]:
    """The approval steps of a request by ``requester``, in order (see the module's text)."""
    steps = []
    if not requester.head:
        steps.append(_step("department", department=requester.department))
    if requester.department != SALES:
        steps.append(_step("sales"))
    if confidential or not steps:
        steps.append(_step(DIRECTOR))
    return steps


def fits(actor: Actor, step: dict[str, Any]) -> bool:
    """Whether ``actor`` is someone who decides ``step`` (an administrator is not, as such,
    nor as a head: administrators run the system, they do not grant access)."""
    if actor.role == "admin":
        return False
    if step["step"] == "department":
        return actor.head and actor.department == step.get("department")
    if step["step"] == "sales":
        return actor.head and actor.department == SALES
    if step["step"] == DIRECTOR:
        return actor.role == DIRECTOR
    return False


def current(request: AccessRequest) -> dict[str, Any] | None:
    """The step that waits for a decision: the first undecided one of a pending request."""
    if request.state != PENDING:
        return None
    return next((s for s in request.steps if s["decision"] is None), None)


def deciders(session: Session, step: dict[str, Any], requester: str) -> list[User]:
    """The active users who may decide ``step`` of ``requester``'s request."""
    query = select(User).where(User.active.is_(True), User.name != requester)
    if step["step"] == "department":
        query = query.where(User.is_head.is_(True), User.department == step.get("department"))
    elif step["step"] == "sales":
        query = query.where(User.is_head.is_(True), User.department == SALES)
    elif step["step"] == DIRECTOR:
        query = query.where(User.role == DIRECTOR)
    else:
        return []
    return list(session.scalars(query.order_by(User.name)))


def step_name(step: dict[str, Any]) -> str:
    """``财务部负责人``, ``销售部负责人``, ``总经理``."""
    if step["step"] == "department" and step.get("department"):
        return f"{step['department']}负责人"
    return REQUEST_STEP_NAMES.get(step["step"], step["step"])


def may_see(actor: Actor, request: AccessRequest) -> bool:
    """The requester, whoever decides (or decided) one of its steps, and directors (a
    request names contracts, confidential ones too: nobody else reads it)."""
    if actor.name == request.requester or actor.role == DIRECTOR:
        return True
    return any(fits(actor, s) or s.get("by") == actor.name for s in request.steps)


# -- making and deciding a request ----------------------------------------------------------


def create(archive: Archive, actor: Actor, contract_nos: list[str], purpose: str,
           until: dt.date) -> AccessRequest:  # fmt: skip
    """File a pending request by ``actor`` to read ``contract_nos`` for ``purpose`` until the
    local day ``until`` (today … today + 90 days).

    Any number is accepted (the requester may have been given it on paper): whether a
    contract has it, or had it before it was destroyed, is not told to someone who may not
    know of it — such a number simply opens nothing. Only a contract the requester already
    reads by their role and place is refused, as pointless (422, field ``contract_nos``). A
    request the chain leaves nobody to approve (no active head of the department, say) is
    refused (409)."""
    numbers = [n.strip() for n in contract_nos]
    purpose = (purpose or "").strip()
    errors: dict[str, list[str]] = {}
    if not 1 <= len(numbers) <= MAX_CONTRACTS:
        errors["contract_nos"] = [f"须列出 1–{MAX_CONTRACTS} 份合同。"]
    elif len(set(numbers)) != len(numbers):
        repeated = sorted({n for n in numbers if numbers.count(n) > 1})
        errors["contract_nos"] = [f"合同编号重复：{'、'.join(repeated)}。"]
    if not purpose or len(purpose) > MAX_PURPOSE:
        errors["purpose"] = [f"须说明查阅用途（1–{MAX_PURPOSE} 个字符）。"]
    with archive.catalogue.writing() as session:
        today = local_today(session)
        if until < today:
            errors["until"] = [f"不能早于今天（{today.isoformat()}）。"]
        elif until > today + dt.timedelta(days=MAX_DAYS):
            last = today + dt.timedelta(days=MAX_DAYS)
            errors["until"] = [f"至多 {MAX_DAYS} 天：不能晚于 {last.isoformat()}。"]
        found: dict[str, Contract] = {}
        if "contract_nos" not in errors:
            found = {c.contract_no: c for c in session.scalars(
                select(Contract).where(Contract.contract_no.in_(numbers)))}  # fmt: skip
            problems = _refused(numbers, found, actor)
            if problems:
                errors["contract_nos"] = problems
        if errors:
            raise InvalidData(errors, "查阅申请未提交：" + _first(errors))
        steps = chain(actor, any(c.confidential for c in found.values()))
        for step in steps:
            if not deciders(session, step, actor.name):
                raise Conflict(f"目前没有在职的{step_name(step)}，申请无人可以审批；"
                               "请联系管理员设置后再提交。")  # fmt: skip
        request = AccessRequest(requester=actor.name, contract_nos=numbers, purpose=purpose,
                                until=until, state=PENDING, steps=steps)  # fmt: skip
        session.add(request)
        session.flush()
        audit.record(session, actor, "access_request.create", target(request.id), note=purpose,
                     request=request.id, contract_nos=numbers, until=until.isoformat(),
                     steps=[s["step"] for s in steps])  # fmt: skip
    return request


def _refused(numbers: list[str], found: dict[str, Contract], actor: Actor) -> list[str]:
    """Why some numbers cannot be asked for: only those the requester reads already (of
    the others nothing may be told, not even whether they exist)."""
    own = own_scope(actor)
    readable = [n for n in numbers if n in found and own.allows(found[n])]
    problems = []
    if readable:
        # Only what their role and place give: a request that ends soon may be renewed.
        problems.append(f"您本就可以查阅，无需申请：{'、'.join(readable)}。")
    return problems


def _first(errors: dict[str, list[str]]) -> str:
    return next(iter(errors.values()))[0]


def approve(archive: Archive, actor: Actor, request_id: int,
            note: str | None = None) -> AccessRequest:  # fmt: skip
    """Approve the current step; the last approval approves the request."""
    return _decide(archive, actor, request_id, APPROVED, note)


def reject(archive: Archive, actor: Actor, request_id: int, note: str) -> AccessRequest:
    """Reject at the current step, saying why: the request ends there."""
    if not (note or "").strip():
        raise InvalidData({"note": ["驳回须说明理由。"]}, "驳回须说明理由。")
    return _decide(archive, actor, request_id, REJECTED, note)


def _decide(archive: Archive, actor: Actor, request_id: int, decision: str,
            note: str | None) -> AccessRequest:  # fmt: skip
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise InvalidData({"note": [f"长度须在 1–{MAX_NOTE} 个字符之间。"]})
    with archive.catalogue.writing() as session:
        request = _load(session, actor, request_id, lock=True)
        if request.requester == actor.name:
            raise Forbidden("不能审批自己的查阅申请。")
        step = current(request)
        if step is None:
            raise Conflict(f"查阅申请 {request_id} {REQUEST_STATE_NAMES[request.state]}，"
                           "不能再审批。")  # fmt: skip
        if not fits(actor, step):
            who = "、".join(person(u.name, u.display_name)
                           for u in deciders(session, step, request.requester))  # fmt: skip
            raise Forbidden(f"查阅申请 {request_id} 当前待{step_name(step)}审批"
                            f"（{who or '暂无在职人员'}），您无权审批这一步。")  # fmt: skip
        today = local_today(session)
        if decision == APPROVED and request.until < today:
            raise Conflict(f"查阅申请 {request_id} 的截止日 {request.until.isoformat()} 已过，"
                           "不能再批准；请申请人重新申请。")  # fmt: skip
        now = utcnow()
        steps = copy.deepcopy(request.steps)  # a new list: JSON columns see reassignment only
        index = next(i for i, s in enumerate(steps) if s["decision"] is None)
        steps[index].update(by=actor.name, at=iso(now), decision=decision, note=note)
        request.steps = steps
        if decision == REJECTED:
            request.state, request.decided_at = REJECTED, now
        elif all(s["decision"] == APPROVED for s in steps):
            request.state, request.decided_at = APPROVED, now
        action = "access_request.approve" if decision == APPROVED else "access_request.reject"
        audit.record(session, actor, action, target(request.id), note=note,
                     request=request.id, step=step["step"], state=request.state,
                     contract_nos=request.contract_nos)  # fmt: skip
    return request


def withdraw(archive: Archive, actor: Actor, request_id: int) -> AccessRequest:
    """The requester takes back a pending request."""
    with archive.catalogue.writing() as session:
        request = _load(session, actor, request_id, lock=True)
        if request.requester != actor.name:
            raise Forbidden("只有申请人本人可以撤回查阅申请。")
        if request.state != PENDING:
            raise Conflict(f"查阅申请 {request_id} {REQUEST_STATE_NAMES[request.state]}，"
                           "只有审批中的申请可以撤回。")  # fmt: skip
        request.state, request.decided_at = WITHDRAWN, utcnow()
        audit.record(session, actor, "access_request.withdraw", target(request.id),
                     request=request.id, contract_nos=request.contract_nos)  # fmt: skip
    return request


def target(request_id: int) -> str:
    """The audit log's target of a request (contracts are named by number there)."""
    return f"access_request:{request_id}"


def _load(session: Session, actor: Actor, request_id: int, *, lock: bool = False) -> AccessRequest:
    query = select(AccessRequest).where(AccessRequest.id == request_id)
    # Locked in a write: two approvers of the same step take turns on PostgreSQL as on SQLite.
    request = session.scalar(query.with_for_update() if lock else query)
    if request is None or not may_see(actor, request):
        raise NotFound(f"查阅申请 {request_id} 不存在。")
    return request


# -- reading requests --------------------------------------------------------------------------


def get(archive: Archive, actor: Actor, request_id: int) -> AccessRequest:
    """One request, if ``actor`` may see it (``may_see``); else NotFound."""
    with archive.catalogue.reading() as session:
        return _load(session, actor, request_id)


def mine(archive: Archive, actor: Actor, *, limit: int = 50,
         offset: int = 0) -> tuple[int, list[AccessRequest]]:  # fmt: skip
    """The requests ``actor`` made, newest first: how many, and one page."""
    query = select(AccessRequest).where(AccessRequest.requester == actor.name)
    with archive.catalogue.reading() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(AccessRequest.id.desc()).limit(limit).offset(offset))
        return total, list(rows)


def waiting_for(archive: Archive, actor: Actor, *, limit: int = 50,
                offset: int = 0) -> tuple[int, list[AccessRequest]]:  # fmt: skip
    """待我审批: pending requests whose current step ``actor`` decides, oldest first."""
    if not (actor.head or actor.role == DIRECTOR):
        return 0, []
    # The current step lives in JSON: pending requests are few, so they are read and sorted
    # here rather than by a JSON query each database spells differently.
    with archive.catalogue.reading() as session:
        pending = session.scalars(
            select(AccessRequest).where(AccessRequest.state == PENDING,
                                        AccessRequest.requester != actor.name)
            .order_by(AccessRequest.id)
        )  # fmt: skip
        found = [r for r in pending if (step := current(r)) is not None and fits(actor, step)]
    return len(found), found[offset : offset + limit]


def expired(request: AccessRequest, today: dt.date) -> bool:
    """Approved, and its last day has passed: it opens nothing any more."""
    return request.state == APPROVED and request.until < today


def describe(archive: Archive, requests: list[AccessRequest]) -> list[dict[str, Any]]:
    """Requests as people and clients read them: the state as shown (expired included), each
    step with who decided it, and who may decide the current one. People by display name
    (``person``) beside their login; times in UTC, ISO 8601."""
    with archive.catalogue.reading() as session:
        today = local_today(session)
        logins = {r.requester for r in requests} | {
            s["by"] for r in requests for s in r.steps if s["by"]}  # fmt: skip
        names = dict(session.execute(select(User.name, User.display_name)
                                     .where(User.name.in_(sorted(logins)))).all())  # fmt: skip
        described = []
        for request in requests:
            step = current(request)
            waiting = deciders(session, step, request.requester) if step else []
            described.append(_described(request, today, names, waiting))
    return described


def _described(request: AccessRequest, today: dt.date, names: dict[str, str],
               waiting: list[User]) -> dict[str, Any]:  # fmt: skip
    shown = EXPIRED if expired(request, today) else request.state
    step = current(request)
    return {
        "id": request.id, "requester": request.requester,
        "requester_name": person(request.requester, names.get(request.requester)),
        "contract_nos": list(request.contract_nos), "purpose": request.purpose,
        "until": request.until.isoformat(), "state": request.state,
        "expired": shown == EXPIRED, "state_name": REQUEST_STATE_NAMES[shown],
        "steps": [
            {**s, "name": step_name(s), "by_name": person(s["by"], names.get(s["by"] or "")),
             "decision_name": DECISION_NAMES.get(s["decision"] or "", "待审批")}
            for s in request.steps
        ],
        "current_step": step["step"] if step else None,
        "current_step_name": step_name(step) if step else None,
        "waiting_for": [person(u.name, u.display_name) for u in waiting],
        "created_at": iso(request.created_at), "decided_at": iso(request.decided_at),
    }  # fmt: skip
