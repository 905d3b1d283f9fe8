"""Who sees which contracts (004 查阅与借阅, 保密管理): one rule, read everywhere.

A person's :class:`Scope` is a set of clauses; a contract is visible when any clause holds,
and a clause holds when each of its fields has one of the clause's values. The fields are
those every reader can test: ``owner``, ``region``, ``contract_no`` and ``secrecy``
(``normal`` or ``confidential``). The same clauses become a SQL condition (lists, counts,
receivables, volumes), a check on one loaded contract (a dossier, a download) and a search
filter (the index holds the same four fields), so no reader can disagree with another.

The rule, by role:

- a director (总经理), and the local operator and scheduled jobs: every contract;
- a sales manager: the contracts of their region, confidential ones included (they are the
  owner's manager); every contract when they have no region;
- an archivist or an administrator: every contract that is not confidential;
- a sales clerk: the contracts they own;
- staff of other departments: none of their own;

and for anyone, the contracts of an access request approved to the end and not yet past
its day (a confidential one only when a director approved the request), of an electronic
loan not yet returned, and the drafts waiting for a review step that is the person's duty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session

from archive.actor import Actor
from archive.models import AccessRequest, Contract, Loan
from archive.search.engine import Clause  # the search filter takes the same clauses

NORMAL, CONFIDENTIAL = "normal", "confidential"

# Roles that see a whole kind of contract without asking.
SEE_ALL = ("director",)
SEE_ALL_BUT_CONFIDENTIAL = ("archivist", "admin")
SEE_REGION = ("manager",)
SEE_OWN = ("clerk",)


def secrecy(contract: Contract) -> str:
    return CONFIDENTIAL if contract.confidential else NORMAL


def _columns() -> dict[str, Any]:
    return {"owner": Contract.owner, "region": Contract.region,
            "contract_no": Contract.contract_no}  # fmt: skip


@dataclass(frozen=True)
class Scope:
    """What one person may read. ``clauses`` None: everything; empty: nothing."""

    clauses: tuple[Clause, ...] | None

    @property
    def everything(self) -> bool:
        return self.clauses is None

    def where(self) -> ColumnElement[bool]:
        """The SQL condition on ``Contract`` for the visible contracts."""
        if self.clauses is None:
            return true()
        found = []
        for clause in self.clauses:
            parts = []
            for name, values in clause:
                if name == "secrecy":
                    parts.append(Contract.confidential.is_(CONFIDENTIAL in values)
                                 if len(values) == 1 else true())  # fmt: skip
                else:
                    parts.append(_columns()[name].in_(sorted(values)))
            found.append(and_(*parts))
        return or_(*found) if found else false()

    def allows(self, contract: Contract) -> bool:
        """Whether the loaded ``contract`` is visible."""
        if self.clauses is None:
            return True
        values = {"owner": contract.owner, "region": contract.region,
                  "contract_no": contract.contract_no, "secrecy": secrecy(contract)}  # fmt: skip
        return any(all(values[name] in allowed for name, allowed in clause)
                   for clause in self.clauses)  # fmt: skip


EVERYTHING = Scope(None)
NOTHING = Scope(())


def _clause(**fields: Iterable[str]) -> Clause:
    return tuple((name, frozenset(values)) for name, values in sorted(fields.items()))


def own_scope(actor: Actor) -> Scope:
    """What the person sees by their role and place alone, without requests or loans."""
    if actor.role in SEE_ALL or actor.operator:
        return EVERYTHING
    if actor.role in SEE_REGION:
        return Scope((_clause(region=[actor.region]),)) if actor.region else EVERYTHING
    if actor.role in SEE_ALL_BUT_CONFIDENTIAL:
        return Scope((_clause(secrecy=[NORMAL]),))
    if actor.role in SEE_OWN:
        return Scope((_clause(owner=[actor.name]),))
    return NOTHING


@dataclass(frozen=True)
class Grants:
    """Contracts opened to one person for now: by an approved request (``secret``: the
    request was approved by a director, so confidential ones too) or an electronic loan."""

    plain: frozenset[str]
    secret: frozenset[str]
    # contract number → what opened it: {"request": id} (the newest) or {"loan": id}
    grounds: dict[str, dict[str, int]]


def grants(session: Session, actor: Actor, today: dt.date) -> Grants:
    plain: set[str] = set()
    secret: set[str] = set()
    grounds: dict[str, dict[str, int]] = {}
    requests = session.scalars(
        select(AccessRequest).where(AccessRequest.requester == actor.name,
                                    AccessRequest.state == "approved",
                                    AccessRequest.until >= today)
        .order_by(AccessRequest.id.desc())
    )  # fmt: skip
    for request in requests:
        by_director = any(s.get("step") == "director" and s.get("decision") == "approved"
                          for s in request.steps)  # fmt: skip
        (secret if by_director else plain).update(request.contract_nos)
        for number in request.contract_nos:
            grounds.setdefault(number, {"request": request.id})
    lent = session.execute(
        select(Contract.contract_no, Loan.id).join(Loan, Loan.contract_id == Contract.id)
        .where(Loan.borrower == actor.name, Loan.form == "electronic",
               Loan.returned_at.is_(None), Loan.due_on >= today)
    )  # fmt: skip
    for number, loan in lent:
        plain.add(number)
        grounds.setdefault(number, {"loan": loan})
    if actor.duties:  # drafts waiting for a review step this person decides (archive.reviews)
        waiting = session.execute(
            select(Contract.contract_no, Contract.review_round)
            .where(Contract.status == "draft", Contract.review_state == "in_review",
                   Contract.review_step.in_(actor.duties))
        )  # fmt: skip
        for number, round_ in waiting:
            secret.add(number)
            grounds.setdefault(number, {"review": round_})
    return Grants(frozenset(plain - secret), frozenset(secret), grounds)


def scope_of(session: Session, actor: Actor, today: dt.date | None = None) -> Scope:
    """Everything ``actor`` may read today (a local day; see ``local_today``)."""
    own = own_scope(actor)
    if own.everything:
        return own
    given = grants(session, actor, today or local_today(session))
    clauses = list(own.clauses or ())
    if given.secret:
        clauses.append(_clause(contract_no=given.secret))
    if given.plain:
        clauses.append(_clause(contract_no=given.plain, secrecy=[NORMAL]))
    return Scope(tuple(clauses))


def basis(session: Session, actor: Actor, contract: Contract) -> dict[str, int]:
    """Under what ``actor`` reads ``contract`` when their role and place alone do not let
    them: ``{"request": id}`` or ``{"loan": id}`` (for the 查阅登记); empty otherwise."""
    if own_scope(actor).allows(contract):
        return {}
    return grants(session, actor, local_today(session)).grounds.get(contract.contract_no, {})


def local_today(session: Session) -> dt.date:
    zone = session.info.get("zone")
    return dt.datetime.now(zone).date()
