"""Lending (借阅, 004 查阅与借阅): an archivist lends a contract's paper or electronic dossier
to a person for a purpose until a due day; loans past due are chased; a loan ends when the
dossier comes back.

The paper dossier exists once, so while it is out it cannot be lent again. An electronic
loan lets its borrower read the contract until the due day (``archive.access`` counts it),
never a confidential one. Lending is a retrieval: it is registered in the 查阅登记 with its
purpose (``loan.lend``); a return is audited (``loan.return``).

The operations answer loan records (plain dicts, the same for the API, the pages and the
command line): ``id``, ``contract_no``, ``borrower`` (the login) and ``borrower_name`` (what
people read), ``form``, ``purpose``, ``due_on``, ``lent_by``, ``lent_at``, ``returned_at``,
``returned_to``, ``note``, ``open``, ``overdue`` and ``days_overdue``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from archive import audit
from archive.access import local_today, scope_of
from archive.actor import SYSTEM, Actor
from archive.dossier import load
from archive.errors import Conflict, Forbidden, InvalidData, NotFound
from archive.models import Contract, Loan, User, iso, utcnow
from schemas.labels import local_time, person, zone_name
from schemas.loans import FORM_CHOICES, FORMS

if TYPE_CHECKING:
    from archive.core import Archive

# Who lends and takes back (the archive room).
LENDERS = ("archivist",)
# Who sees every loan of the contracts they can see; anyone else sees the loans lent to them.
OVERSEERS = ("archivist", "manager", "director")
# The longest loan: a dossier out for longer is no longer a loan but a transfer.
MAX_DAYS = 90


def lend(
    archive: Archive, actor: Actor, contract_no: str, borrower: str, due_on: dt.date,
    purpose: str, form: str = "paper", note: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Lend the dossier of ``contract_no`` to ``borrower`` (an active user's login) until
    ``due_on`` (a local day, today at the earliest and at most ``MAX_DAYS`` ahead); the
    loan's record. ``NotFound`` for a contract the archivist may not see (as for one that
    does not exist), ``Gone`` for a destroyed one, then ``InvalidData`` naming each bad
    field, ``Conflict`` while the paper dossier is out."""
    # Not an administrator: a loan opens a contract to its borrower, which is the archive's
    # business, not the system's (nor a way around the access requests).
    if actor.role not in LENDERS:
        raise Forbidden("只有档案管理员可以借出档案。")
    purpose = (purpose or "").strip()
    note = (note or "").strip() or None
    with archive.catalogue.writing() as session:
        # First whether the archivist may know of the contract (404, as for one that does
        # not exist, whatever else is wrong), then the fields. Locked: two archivists
        # lending the same paper dossier at once take turns.
        contract = load(session, contract_no, actor, lock=True)
        today = local_today(session)
        person_row = session.scalar(select(User).where(User.name == borrower))
        _check(session, borrower, person_row, due_on, purpose, form, today)
        if form == "electronic" and contract.confidential:
            # archive.access never opens a confidential contract through a loan: refuse
            # rather than record a loan that lets the borrower read nothing.
            raise Conflict(f"合同 {contract_no} 为机密合同，不能借出电子卷宗；"
                           "须经总经理批准的查阅申请。", field="form")  # fmt: skip
        _refuse_if_out(session, contract, borrower, form)
        loan = Loan(contract_id=contract.id, borrower=borrower, form=form, purpose=purpose,
                    due_on=due_on, lent_by=actor.name, note=note)  # fmt: skip
        session.add(loan)
        session.flush()
        # The purpose goes where the 查阅登记 reads it (the entry's note).
        audit.record(session, actor, "loan.lend", contract_no, note=purpose, loan_id=loan.id,
                     borrower=borrower, form=form, due_on=due_on.isoformat(),
                     **({"loan_note": note} if note else {}))  # fmt: skip
        return _record(loan, contract_no, _names(session, [loan]), today)


def _check(session: Session, borrower: str, found: User | None, due_on: dt.date, purpose: str,
           form: str, today: dt.date) -> None:  # fmt: skip
    """Every field's error at once, named by field (a 422 lists them all)."""
    errors: dict[str, list[str]] = {}
    if found is None or not found.active:
        errors["borrower"] = [f"{borrower} 不是在职的用户（借阅人须为系统中的在职用户）。"]
    where = zone_name(session.info["zone"]) if session.info.get("zone") else ""
    if due_on < today:
        errors["due_on"] = [f"应还日期不能早于今天（{where} {today.isoformat()}）。"]
    elif due_on > today + dt.timedelta(days=MAX_DAYS):
        last = (today + dt.timedelta(days=MAX_DAYS)).isoformat()
        errors["due_on"] = [f"借期至多 {MAX_DAYS} 天：应还日期不能晚于 {last}。"]
    if not purpose:
        errors["purpose"] = ["借阅须说明用途（记入查阅登记）。"]
    if form not in FORMS:
        errors["form"] = [f"取值须为 {FORM_CHOICES} 之一。"]
    if errors:
        raise InvalidData(errors)


def _refuse_if_out(session: Session, contract: Contract, borrower: str, form: str) -> None:
    """The paper dossier is out until returned; a person holds one electronic loan of a
    contract at a time (return it and lend again to change its due day)."""
    same = (Loan.form == "paper") if form == "paper" else (
        (Loan.form == "electronic") & (Loan.borrower == borrower))  # fmt: skip
    out = session.scalar(
        select(Loan).where(Loan.contract_id == contract.id, Loan.returned_at.is_(None), same)
        .order_by(Loan.id).limit(1)
    )  # fmt: skip
    if out is None:
        return
    holder = person(out.borrower, _names(session, [out]).get(out.borrower))
    what = "纸质卷宗已借给" if form == "paper" else "电子卷宗已借给"
    raise Conflict(
        f"合同 {contract.contract_no} 的{what} {holder}，应还日期 {out.due_on.isoformat()}；"
        "归还后才能再借出。",
        field="contract_no", borrower=out.borrower, due_on=out.due_on.isoformat(),
    )  # fmt: skip


def return_loan(archive: Archive, actor: Actor, loan_id: int,
                note: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Record the dossier's return (``returned_at``, ``returned_to``); the loan's record.
    ``Conflict`` when it was returned already."""
    if actor.role not in LENDERS:
        raise Forbidden("只有档案管理员可以登记归还。")
    note = (note or "").strip() or None
    with archive.catalogue.writing() as session:
        loan = _visible_loan(session, actor, loan_id, lock=True)
        contract_no = loan.contract.contract_no
        if loan.returned_at is not None:
            zone = session.info.get("zone")
            when = local_time(loan.returned_at, zone, with_zone=True) if zone else ""
            taker = person(loan.returned_to, _names(session, [loan]).get(loan.returned_to))
            raise Conflict(f"借阅记录 {loan_id}（合同 {contract_no}）已于 {when} 由 {taker} "
                           "登记归还，不能重复归还。")  # fmt: skip
        loan.returned_at, loan.returned_to = utcnow(), actor.name
        if note:  # the loan keeps one note: the lending's, then the return's
            loan.note = f"{loan.note}\n归还：{note}" if loan.note else f"归还：{note}"
        audit.record(session, actor, "loan.return", contract_no, note=note, loan_id=loan.id,
                     borrower=loan.borrower, form=loan.form)  # fmt: skip
        return _record(loan, contract_no, _names(session, [loan]), local_today(session))


def get(archive: Archive, actor: Actor, loan_id: int) -> dict[str, Any]:
    """One loan ``actor`` may see (``NotFound`` otherwise, as for one that does not exist)."""
    with archive.catalogue.reading() as session:
        loan = _visible_loan(session, actor, loan_id)
        return _record(loan, loan.contract.contract_no, _names(session, [loan]),
                       local_today(session))  # fmt: skip


def listing(
    archive: Archive, actor: Actor, *, open: bool | None = None, overdue: bool | None = None,
    borrower: str | None = None, contract_no: str | None = None, today: dt.date | None = None,
    limit: int | None = 50, offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:  # fmt: skip
    """The loans ``actor`` may see and how many match: open ones first, the earliest due
    first, then returned ones. ``open``: True only those not yet returned, False only
    returned ones. ``overdue``: True only open loans past their due day (as of ``today``, a
    local day, by default today), False only the others. ``borrower`` and ``contract_no``
    are exact."""
    with archive.catalogue.reading() as session:
        day = today or local_today(session)
        query = (select(Loan).join(Loan.contract).options(contains_eager(Loan.contract))
                 .where(_visible(session, actor)))  # fmt: skip
        if open is not None:
            query = query.where(Loan.returned_at.is_(None) if open
                                else Loan.returned_at.is_not(None))  # fmt: skip
        if overdue is not None:
            late = Loan.returned_at.is_(None) & (Loan.due_on < day)
            query = query.where(late if overdue else ~late)
        if borrower:
            query = query.where(Loan.borrower == borrower)
        if contract_no:
            query = query.where(Contract.contract_no == contract_no)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        query = query.order_by(Loan.returned_at.is_not(None), Loan.due_on, Loan.id).offset(offset)
        rows = list(session.scalars(query.limit(limit) if limit is not None else query))
        names = _names(session, rows)
        return total, [_record(r, r.contract.contract_no, names, day) for r in rows]


def overdue(archive: Archive, today: dt.date | None = None, *,
            actor: Actor = SYSTEM) -> list[dict[str, Any]]:  # fmt: skip
    """Every open loan past its due day (as of ``today``, by default today), the longest
    overdue first: what the daily chase (``hetong loans overdue``) lists."""
    return listing(archive, actor, overdue=True, today=today, limit=None)[1]


def on_loan(archive: Archive, contract: Contract,
            today: dt.date | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The open loans of a contract the caller already may see (its dossier shows 借出):
    ``id``, ``borrower``, ``borrower_name``, ``form``, ``due_on`` and ``overdue``."""
    with archive.catalogue.reading() as session:
        day = today or local_today(session)
        rows = list(session.scalars(
            select(Loan).where(Loan.contract_id == contract.id, Loan.returned_at.is_(None))
            .order_by(Loan.due_on, Loan.id)
        ))  # fmt: skip
        names = _names(session, rows)
    return [{"id": r.id, "borrower": r.borrower, "borrower_name": names.get(r.borrower, r.borrower),
             "form": r.form, "due_on": r.due_on.isoformat(), "overdue": r.due_on < day}
            for r in rows]  # fmt: skip


# -- who sees which loan ----------------------------------------------------------------------


def _visible(session: Session, actor: Actor) -> ColumnElement[bool]:
    """The SQL condition on ``Loan`` (joined with its ``Contract``) for the loans ``actor``
    may see: their own as borrower; for overseers also every loan of a contract they can
    see, and the loans they lent (a contract marked confidential since stays returnable)."""
    own = Loan.borrower == actor.name
    if not actor.can(*OVERSEERS):
        return own
    return or_(own, Loan.lent_by == actor.name, scope_of(session, actor).where())


def _visible_loan(session: Session, actor: Actor, loan_id: int, *, lock: bool = False) -> Loan:
    query = (select(Loan).join(Loan.contract).options(contains_eager(Loan.contract))
             .where(Loan.id == loan_id, _visible(session, actor)))  # fmt: skip
    loan = session.scalar(query.with_for_update(of=Loan) if lock else query)
    if loan is None:
        raise NotFound(f"借阅记录 {loan_id} 不存在。")
    return loan


def _names(session: Session, loans: list[Loan]) -> dict[str, str]:
    """Login → display name for the people of ``loans`` (borrowers, lenders, receivers)."""
    logins = {n for r in loans for n in (r.borrower, r.lent_by, r.returned_to) if n}
    if not logins:
        return {}
    rows = session.execute(select(User.name, User.display_name)
                           .where(User.name.in_(sorted(logins))))  # fmt: skip
    return {name: shown for name, shown in rows}


def _record(loan: Loan, contract_no: str, names: dict[str, str], today: dt.date) -> dict[str, Any]:
    late = loan.returned_at is None and loan.due_on < today
    return {
        "id": loan.id, "contract_no": contract_no, "borrower": loan.borrower,
        "borrower_name": names.get(loan.borrower, loan.borrower), "form": loan.form,
        "purpose": loan.purpose, "due_on": loan.due_on.isoformat(), "lent_by": loan.lent_by,
        "lent_at": iso(loan.lent_at), "returned_at": iso(loan.returned_at),
        "returned_to": loan.returned_to, "note": loan.note,
        "open": loan.returned_at is None, "overdue": late,
        "days_overdue": (today - loan.due_on).days if late else 0,
    }  # fmt: skip
