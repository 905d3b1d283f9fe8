"""The review chain (004 銷售合同簽訂流程): a draft goes through configured steps — by
default 合同审核 → 销售主管 → 法务 → 销售经理 — each approving it or returning it to its
owner with a note. A returned draft is corrected (archive.revisions) and the chain starts
again. The draft takes effect only when the last step approves.

Who decides a step: the step 销售经理 is a sales manager's whose region covers the contract;
every other step belongs to the people given it as a duty (职责, ``users.set_duties``), who
may read the drafts waiting for them (archive.access grants it) wherever they work.

Credit (003 客户分类): the reviewer sees, from the archive itself, what the buyer owes over
all its contracts, what is overdue and by how long, its grade and credit limit, and whether
this contract would take it over the limit. A contract that would, or whose customer has
money overdue more than ``OVERDUE_DAYS`` days, is approved at the last step only with a
feasibility note (可行性分析报告) and the manager's explicit override, both recorded.

With no steps configured (``HETONG_REVIEW_STEPS`` empty) a sales manager's approval alone
makes a draft effective (archive.contracts.change_status), recorded as a one-step chain.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from archive import audit
from archive.access import own_scope, scope_of
from archive.actor import Actor
from archive.customers import credit
from archive.dossier import load, require_status, touch
from archive.errors import Conflict, Forbidden, InvalidData
from archive.models import Contract, ContractReview, Customer, iso, utcnow
from archive.outbox import enqueue
from archive.receivables import BINDING
from schemas.labels import REVIEW_STEPS
from schemas.money import figures

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

MANAGER_STEP = REVIEW_STEPS[-1]
OVERDUE_DAYS = 30
SUBMITTERS = ("clerk", "manager")
STATE_NAMES = {None: "未提交审批", "in_review": "审批中", "returned": "已退回修改",
               "approved": "已审批"}  # fmt: skip
DECISION_NAMES = {"submitted": "提交审批", "approved": "同意", "returned": "退回修改"}


def may_decide(actor: Actor, contract: Contract) -> bool:
    """Whether ``actor`` decides the step the contract waits for. Nobody reviews their own
    draft, and nobody decides two steps of one round (four eyes at every step)."""
    if contract.status != "draft" or contract.review_state != "in_review" \
            or not contract.review_step:  # fmt: skip
        return False
    if actor.name in authors(contract):
        return False
    if any(r.round == contract.review_round and r.decision == "approved" and r.actor == actor.name
           for r in contract.reviews):  # fmt: skip
        return False
    if contract.review_step == MANAGER_STEP:
        return actor.role == "manager" and own_scope(actor).allows(contract)
    return contract.review_step in actor.duties


def authors(contract: Contract) -> set[str]:
    """Who made the draft as it stands: its owner, its creator, whoever wrote its revision."""
    wrote = {r.created_by for r in contract.revisions if r.seq == contract.revision}
    return {contract.owner, contract.created_by, *wrote}


def credit_check(session: Session, contract: Contract, as_of: dt.date,
                 reader: Actor | None = None) -> dict[str, Any]:  # fmt: skip
    """The buyer's credit as the reviewer needs it, over all its contracts (not only those
    the reviewer may read): owed, overdue (how much, how long), grade and limit, and whether
    this contract needs the manager's override. An overdue contract ``reader`` may not read
    is counted without its number."""
    customer = session.get(Customer, contract.customer_id) if contract.customer_id else None
    others = list(session.scalars(
        select(Contract).where(Contract.id != contract.id, Contract.status.in_(BINDING),
                               or_(Contract.customer_id == contract.customer_id,
                                   Contract.buyer_name == contract.buyer_name)
                               if contract.customer_id else
                               Contract.buyer_name == contract.buyer_name)
        .order_by(Contract.due_on)
    ))  # fmt: skip
    owed = credit(others, as_of)
    scope = scope_of(session, reader) if reader is not None else None
    late = []
    for other in others:
        days = (as_of - other.due_on).days
        if other.total > other.paid and days > 0 and other.approved_at is not None:
            shown = reader is None or scope.allows(other)
            late.append({"contract_no": other.contract_no if shown else None,
                         "due_on": other.due_on.isoformat(),
                         "outstanding": f"{other.total - other.paid:.2f}",
                         "days_overdue": days})  # fmt: skip
    limit = customer.credit_limit if customer else None
    after = Decimal(owed["outstanding"]) + contract.total
    over_limit = limit is not None and after > limit
    long_overdue = any(entry["days_overdue"] > OVERDUE_DAYS for entry in late)
    return {
        **owed, "overdue": late, "grade": customer.grade if customer else None,
        "credit_limit": None if limit is None else f"{limit:.2f}",
        "this_contract": f"{contract.total:.2f}", "outstanding_after": f"{after:.2f}",
        "over_limit": over_limit, "overdue_past_limit": long_overdue,
        "needs_override": over_limit or long_overdue,
    }  # fmt: skip


def _why_override(check: dict[str, Any]) -> str:
    reasons = []
    if check["over_limit"]:
        reasons.append(f"签订后欠款合计 {figures(Decimal(check['outstanding_after']))} 元将超过"
                       f"信用额度 {figures(Decimal(check['credit_limit']))} 元")  # fmt: skip
    if check["overdue_past_limit"]:
        worst = max(e["days_overdue"] for e in check["overdue"])
        reasons.append(f"客户有逾期超过 {OVERDUE_DAYS} 天的欠款（最长 {worst} 天）")
    return "；".join(reasons)


def submit(archive: Archive, contract_no: str, actor: Actor, *,
           note: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The draft's owner (or a manager) sends it to the first step; returns the chain."""
    steps = archive.review_steps
    if not steps:
        raise Conflict("未配置审批流程：草稿由销售经理直接审批生效。")
    if not actor.can(*SUBMITTERS):
        raise Forbidden("只有销售业务员或销售经理可以提交合同审批。")
    with archive.catalogue.writing() as session:
        contract = load(session, contract_no, actor, lock=True)
        require_status(contract, ("draft",), "提交审批")
        if contract.review_state == "in_review" and contract.review_step in steps:
            raise Conflict(f"合同 {contract_no} 已在审批中（待{contract.review_step}）。")
        contract.review_round += 1
        _start(session, contract, steps, actor, note)
        session.flush()
        session.expire(contract, ["reviews"])
        return chain(contract, steps)


def restart(session: Session, contract: Contract, steps: list[str], actor: Actor) -> None:
    """After a correction: a draft that was in review or returned starts the chain again."""
    if steps and contract.review_state in ("in_review", "returned"):
        contract.review_round += 1
        _start(session, contract, steps, actor, f"改稿为第 {contract.revision} 稿后重新审批")


def _start(session: Session, contract: Contract, steps: list[str], actor: Actor,
           note: str | None) -> None:  # fmt: skip
    contract.review_state, contract.review_step = "in_review", steps[0]
    touch(contract)
    _record(session, contract, "提交", "submitted", actor, note=note)
    audit.record(session, actor, "contract.review", contract.contract_no, note=note,
                 decision="submitted", round=contract.review_round)  # fmt: skip


def decide(archive: Archive, contract_no: str, decision: str, actor: Actor, *,
           note: str | None = None, override: bool = False,
           feasibility_note: str | None = None, step: str | None = None,
           revision: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Approve the step the draft waits for (the last one makes it effective), or return
    it to its owner with a ``note`` saying what to correct; ``submitted`` is the owner's
    ``submit``. Returns the chain as it now stands (``chain``): one who decided may no
    longer read the draft (a duty holder reads only what waits for them)."""
    if decision == "submitted":
        return submit(archive, contract_no, actor, note=note)
    if decision not in ("approved", "returned"):
        raise InvalidData({"decision": ["取值须为 approved（同意）或 returned（退回修改）。"]})
    if decision == "returned" and not (note or "").strip():
        raise InvalidData({"note": ["退回修改须说明原因。"]})
    steps = archive.review_steps
    with archive.catalogue.writing() as session:
        # Read scope suffices (a duty holder reads the drafts waiting for them); the row is
        # locked, so two reviewers of one step take turns.
        contract = load(session, contract_no, actor)
        session.refresh(contract, with_for_update=True)
        require_status(contract, ("draft",), "审批")
        if contract.review_state != "in_review":
            raise Conflict(f"合同 {contract_no} {STATE_NAMES[contract.review_state]}，"
                           "没有待审批的环节。", current=contract.review_state)  # fmt: skip
        waiting = contract.review_step
        moved = step is not None and step != waiting
        if moved or (revision is not None and revision != contract.revision):
            raise Conflict(f"合同 {contract_no} 现待“{waiting}”审批第 {contract.revision} 稿，"
                           "与您审阅时不同：请刷新后再审。", field="step")  # fmt: skip
        if waiting not in steps:
            raise Conflict(f"审批流程已更改，“{waiting}”不再是其中的环节：请业务员重新提交审批。",
                           field="step")  # fmt: skip
        if actor.name in authors(contract):
            raise Forbidden("不能审批自己负责、起草或改稿的合同。")
        if not may_decide(actor, contract):
            raise Forbidden(f"合同 {contract_no} 正待“{waiting}”审批，您不负责这一环节"
                            "（或本轮已审批过其他环节）。")  # fmt: skip
        step = waiting
        # Only the sales manager's approval makes a draft effective (the configuration is
        # checked at start: the chain ends with 销售经理).
        last = step == MANAGER_STEP and steps.index(step) == len(steps) - 1
        check = credit_check(session, contract, _today(session)) if last else None
        if decision == "approved" and check and check["needs_override"]:
            missing = {}
            if not override:
                missing["override"] = [f"{_why_override(check)}：须销售经理明确批准（override）。"]
            if not (feasibility_note or "").strip():
                missing["feasibility_note"] = ["须附可行性分析报告（区域经理意见）。"]
            if missing:  # the credit as this person may see it
                shown = credit_check(session, contract, _today(session), actor)
                raise Conflict(f"合同 {contract_no} 须特批：{_why_override(check)}。",
                               field=next(iter(missing)), errors=missing, credit=shown)  # fmt: skip
        forced = bool(decision == "approved" and check and check["needs_override"])
        _record(session, contract, step, decision, actor, note=note, credit=check,
                override=forced,
                feasibility_note=feasibility_note if forced else None)  # fmt: skip
        audit.record(session, actor, "contract.review", contract_no, note=note, step=step,
                     decision=decision, round=contract.review_round,
                     **({"override": True} if forced else {}))  # fmt: skip
        if decision == "returned":
            contract.review_state, contract.review_step = "returned", None
        elif not last:
            contract.review_step = steps[steps.index(step) + 1]
        else:
            approve(session, contract, actor)
        touch(contract)
        enqueue(session, contract_no)
        session.flush()
        session.expire(contract, ["reviews"])
        shown = chain(contract, steps)
    log.info("contract %s: %s at %s by %s", contract_no, decision, step, actor.name)
    return shown


def approve(session: Session, contract: Contract, actor: Actor) -> None:
    """The end of the chain: the draft takes effect (签字盖章生效)."""
    contract.status = "effective"
    contract.review_state, contract.review_step = "approved", None
    contract.approved_by, contract.approved_at = actor.name, utcnow()
    audit.record(session, actor, "contract.status", contract.contract_no, before="draft",
                 after="effective")  # fmt: skip


def record_direct_approval(session: Session, contract: Contract, actor: Actor) -> None:
    """No chain configured: the manager's approval, recorded as a one-step chain."""
    contract.review_round += 1
    contract.review_state, contract.review_step = "approved", None
    _record(session, contract, MANAGER_STEP, "approved", actor)


def _record(session: Session, contract: Contract, step: str, decision: str, actor: Actor, *,
            note: str | None = None, credit: dict | None = None, override: bool = False,
            feasibility_note: str | None = None) -> None:  # fmt: skip
    session.add(ContractReview(
        contract_id=contract.id, round=contract.review_round, revision=contract.revision,
        step=step, decision=decision, note=(note or "").strip() or None, credit=credit,
        override=override, feasibility_note=(feasibility_note or "").strip() or None,
        actor=actor.name,
    ))  # fmt: skip


def _today(session: Session) -> dt.date:
    zone = session.info.get("zone")
    return dt.datetime.now(zone).date() if zone else dt.date.today()


def chain(contract: Contract, steps: list[str]) -> dict[str, Any]:
    """The review as every interface shows it: state, the step it waits for, each step of
    the current round with its decision, and every decision so far (oldest first)."""
    current = [r for r in contract.reviews if r.round == contract.review_round]
    decided = {r.step: r for r in current if r.decision != "submitted"}
    return {
        "state": contract.review_state, "state_name": STATE_NAMES[contract.review_state],
        "step": contract.review_step, "round": contract.review_round,
        "steps": [{"step": s, "decision": decided[s].decision if s in decided else None,
                   "by": decided[s].actor if s in decided else None,
                   "at": iso(decided[s].at) if s in decided else None} for s in steps],
        "history": [record(r) for r in contract.reviews],
    }  # fmt: skip


def record(r: ContractReview) -> dict[str, Any]:
    return {"round": r.round, "revision": r.revision, "step": r.step, "decision": r.decision,
            "decision_name": DECISION_NAMES.get(r.decision, r.decision), "note": r.note,
            "override": r.override, "feasibility_note": r.feasibility_note, "by": r.actor,
            "at": iso(r.at)}  # fmt: skip


def waiting_for(archive: Archive, actor: Actor) -> list[Contract]:
    """Drafts waiting for a step ``actor`` decides, the longest waiting first."""
    with archive.catalogue.reading() as session:
        query = select(Contract).where(Contract.status == "draft",
                                       Contract.review_state == "in_review")  # fmt: skip
        steps = list(actor.duties) + ([MANAGER_STEP] if actor.role == "manager" else [])
        if not steps:
            return []
        found = session.scalars(query.where(Contract.review_step.in_(steps))
                                .order_by(Contract.updated_at, Contract.id)).all()  # fmt: skip
        return [c for c in found if may_decide(actor, c)]


def returned_to(archive: Archive, actor: Actor) -> list[Contract]:
    """Drafts returned to ``actor`` (their owner) for correcting, with the last note."""
    with archive.catalogue.reading() as session:
        return list(session.scalars(
            select(Contract).where(Contract.review_state == "returned",
                                   Contract.owner == actor.name, Contract.status == "draft")
            .order_by(Contract.updated_at, Contract.id)
            .options(selectinload(Contract.reviews))
        ))  # fmt: skip


def view(archive: Archive, contract_no: str, actor: Actor) -> dict[str, Any]:
    """The contract's review (``shown``), the contract loaded as ``actor`` may see it."""
    with archive.catalogue.reading() as session:
        contract = load(session, contract_no, actor)
    return shown(archive, contract, actor)


def shown(archive: Archive, contract: Contract, actor: Actor) -> dict[str, Any]:
    """The review of a loaded dossier: the chain, whether ``actor`` decides the step it waits
    for, and for that person the buyer's credit (``credit_check``)."""
    mine = may_decide(actor, contract)
    check = None
    if mine:  # the buyer's credit over all its contracts is for the person deciding now
        with archive.catalogue.reading() as session:
            check = credit_check(session, contract, _today(session), actor)
    return {**chain(contract, archive.review_steps), "contract_no": contract.contract_no,
            "may_decide": mine, "credit": check}  # fmt: skip
