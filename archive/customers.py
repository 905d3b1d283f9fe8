"""客户档案: the customer register (003 客户分类). A customer is a buyer with its details, its
grade (A / B / C) and credit limit, and the contracts made for it.

A contract's buyer is a customer: named by ``customer_id``, or found by the buyer's name (or
tax number), or else created from the contract. Details the contract leaves out come from
the register; details it gives differently are kept on the contract and shown as
differences, for a person to decide whether the register should follow (``update``).

Who sees the register: managers, directors, archivists and administrators all of it (it is
the company's, and credit is judged across regions); a clerk the customers of the contracts
they see and those they entered. What a customer owes is summed over the contracts the
reader sees (archive.access), so the register tells nobody about business hidden from them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import unicodedata
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive import audit
from archive.access import own_scope, scope_of
from archive.actor import Actor
from archive.errors import Conflict, Forbidden, InvalidData, NotFound
from archive.models import Contract, Customer, iso
from archive.receivables import BINDING, TOOK_EFFECT, payment_state
from schemas.labels import field_label

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

DETAILS = ("name", "address", "representative", "phone", "bank", "account", "tax_id")
CREDIT = ("grade", "credit_limit", "credit_notes")
GRADES = ("A", "B", "C")
# Who sees every customer; who may enter and correct details; who sets grade and limit.
SEE_ALL = ("manager", "director", "archivist")
KEEPERS = ("clerk", "manager")
GRADERS = ("manager",)
# Where the money goes and who the customer is: changed by a manager or whoever entered the
# customer, not by every clerk who once filed a contract for it (a changed account
# redirects payments).
GUARDED = ("name", "bank", "account", "tax_id")


def visible(session: Session, actor: Actor, *, write: bool = False):
    """The SQL condition on ``Customer`` for the customers ``actor`` may see — or, with
    ``write``, change: by their own role and place only, never through a read grant (an
    access request, a loan, a review duty lets a person read a contract, not its customer)."""
    if actor.operator or actor.can(*SEE_ALL):
        return Customer.id.is_not(None)
    scope = own_scope(actor) if write else scope_of(session, actor)
    theirs = exists().where(Contract.customer_id == Customer.id, scope.where())
    return or_(theirs, Customer.created_by == actor.name)


def name_key(name: str) -> str:
    """The name as the register compares it: full-width folded (NFKC), spaces dropped,
    brackets unified — 杭州临平（精工） and 杭州临平 (精工) are one customer. Hashed: folding can
    lengthen a name (㍿ → 株式会社) past any column."""
    folded = unicodedata.normalize("NFKC", name or "")
    key = "".join(folded.split()).replace("（", "(").replace("）", ")").casefold()
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def get(archive: Archive, customer_id: int, actor: Actor) -> Customer:
    with archive.catalogue.reading() as session:
        return _load(session, customer_id, actor)


def _load(session: Session, customer_id: int, actor: Actor, *, write: bool = False) -> Customer:
    customer = session.scalar(select(Customer).where(
        Customer.id == customer_id, visible(session, actor, write=write)))  # fmt: skip
    if customer is None:
        raise NotFound(f"客户档案 {customer_id} 不存在。")
    return customer


def listing(archive: Archive, actor: Actor, *, q: str | None = None, grade: str | None = None,
            page: int = 1, per_page: int = 50) -> tuple[int, list[Customer]]:  # fmt: skip
    """One page of the customers ``actor`` may see, by name; ``q`` a fragment of the name
    (or the tax number), ``grade`` A / B / C."""
    with archive.catalogue.reading() as session:
        query = select(Customer).where(visible(session, actor))
        if q:
            query = query.where(or_(Customer.name.icontains(q, autoescape=True),
                                    Customer.tax_id == q))  # fmt: skip
        if grade:
            query = query.where(Customer.grade == grade)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(Customer.name, Customer.id)
                               .limit(per_page).offset((page - 1) * per_page)).all()  # fmt: skip
    return total, list(rows)


def contracts_of(archive: Archive, customer: Customer, actor: Actor) -> list[Contract]:
    """The customer's contracts ``actor`` sees, newest first."""
    with archive.catalogue.reading() as session:
        return list(session.scalars(
            select(Contract).where(Contract.customer_id == customer.id,
                                   scope_of(session, actor).where())
            .order_by(Contract.signed_on.desc(), Contract.id.desc())
        ))  # fmt: skip


def credit(contracts: list[Contract], as_of: dt.date) -> dict[str, Any]:
    """What the customer owes over ``contracts`` as of a day: outstanding, overdue (how much,
    on how many contracts, the longest by how many days)."""
    owed, overdue, late, longest = Decimal(0), Decimal(0), 0, 0
    for contract in contracts:
        if contract.status not in BINDING:  # a draft binds nobody to pay
            continue
        state = payment_state(contract, as_of)
        owed += Decimal(state["outstanding"])
        if state["overdue"]:
            overdue += Decimal(state["outstanding"])
            late += 1
            longest = max(longest, state["days_overdue"])
    return {"outstanding": f"{owed:.2f}", "overdue_amount": f"{overdue:.2f}",
            "overdue_contracts": late, "days_overdue": longest}  # fmt: skip


def balances(archive: Archive, customers: list[Customer], actor: Actor,
             as_of: dt.date) -> dict[int, dict[str, Any]]:  # fmt: skip
    """``credit`` for each of ``customers`` (one query for the page)."""
    ids = [c.id for c in customers]
    found: dict[int, list[Contract]] = {i: [] for i in ids}
    if ids:
        with archive.catalogue.reading() as session:
            for contract in session.scalars(
                select(Contract).where(Contract.customer_id.in_(ids), *TOOK_EFFECT,
                                       scope_of(session, actor).where())
            ):  # fmt: skip
                found[contract.customer_id].append(contract)
    return {i: credit(found[i], as_of) for i in ids}


def record(customer: Customer) -> dict[str, Any]:
    """The customer as every interface shows it (no URLs: those belong to HTTP)."""
    return {
        "id": customer.id, **{key: getattr(customer, key) for key in DETAILS},
        "contacts": customer.contacts or [], "grade": customer.grade,
        "credit_limit": None if customer.credit_limit is None else f"{customer.credit_limit:.2f}",
        "credit_notes": customer.credit_notes, "created_by": customer.created_by,
        "created_at": iso(customer.created_at),
        "updated_at": iso(customer.updated_at),
    }  # fmt: skip


def details(customer: Customer) -> dict[str, str]:
    """The customer as a contract's buyer (its fields that are set)."""
    return {key: getattr(customer, key) for key in DETAILS if getattr(customer, key)}


def differences(customer: Customer, buyer: dict[str, Any]) -> list[dict[str, Any]]:
    """Where a contract's buyer differs from the register (fields the contract gives)."""
    return [
        {"field": key, "label": field_label(f"buyer.{key}"), "register": getattr(customer, key),
         "contract": buyer[key]}
        for key in DETAILS
        if buyer.get(key) and buyer[key] != (getattr(customer, key) or "")
    ]  # fmt: skip


def parties(archive: Archive, data: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """Contract data with both parties complete: the seller, when it names none, is our
    company as configured (``HETONG_SELLER``); the buyer, when it names a customer
    (``customer_id``) and gives no buyer, is the customer as the register has it."""
    if not data.get("seller"):
        if not archive.seller:
            raise InvalidData({"seller": ["缺少供方：请填写供方，或由管理员配置本公司信息"
                                          "（HETONG_SELLER）。"]})  # fmt: skip
        data = {**data, "seller": dict(archive.seller)}
    customer_id = data.get("customer_id")
    if data.get("buyer"):
        if customer_id is not None:
            with archive.catalogue.reading() as session:
                try:  # naming a customer ties a contract to it: one's own scope only
                    _load(session, customer_id, actor, write=True)
                except NotFound as exc:
                    raise InvalidData({"customer_id": [str(exc)]}) from exc
        return data
    if customer_id is None:
        raise InvalidData({"buyer": ["缺少需方：请填写需方，或以 customer_id 选择客户档案。"]})
    with archive.catalogue.reading() as session:
        try:
            customer = _load(session, customer_id, actor, write=True)
        except NotFound as exc:
            raise InvalidData({"customer_id": [str(exc)]}) from exc
    buyer = details(customer)
    if not buyer.get("address"):
        raise InvalidData({"buyer.address": ["客户档案没有地址，请填写需方（含地址）。"]})
    return {**data, "buyer": buyer}


def attach(session: Session, contract: Contract, buyer: dict[str, Any],
           customer_id: int | None, actor: Actor) -> Customer:  # fmt: skip
    """In the filing transaction: the contract's customer — the one named, else the one of
    the buyer's name (or tax number), else a new one made from the buyer."""
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    key = name_key(buyer["name"])
    if customer is None:
        customer = session.scalar(select(Customer).where(Customer.name_key == key))
    if customer is None and buyer.get("tax_id"):
        customer = session.scalar(select(Customer).where(Customer.tax_id == buyer["tax_id"])
                                  .order_by(Customer.id).limit(1))  # fmt: skip
    if customer is None:
        customer = Customer(**{key: buyer.get(key) or None for key in DETAILS}, contacts=[],
                            name_key=key, created_by=actor.name)  # fmt: skip
        try:
            with session.begin_nested():  # someone entered it by hand just now: use theirs
                session.add(customer)
                session.flush()
        except IntegrityError:
            customer = session.scalar(select(Customer).where(Customer.name_key == key))
            contract.customer_id = customer.id
            return customer
        audit.record(session, actor, "customer.create", customer.name,
                     customer=customer.id, contract=contract.contract_no)  # fmt: skip
    contract.customer_id = customer.id
    return customer


def create(archive: Archive, data: dict[str, Any], actor: Actor) -> Customer:
    """Enter a customer by hand (``CustomerSchema``); grade and limit by a manager only."""
    if not actor.can(*KEEPERS):
        raise Forbidden("只有销售业务员或销售经理可以建立客户档案。")
    _may_grade(actor, data)
    with archive.catalogue.writing() as session:
        if session.scalar(select(Customer.id).where(Customer.name_key == name_key(data["name"]))):
            raise Conflict(f"已有名为“{data['name']}”的客户档案。", field="name")
        customer = Customer(**{k: None if data.get(k) == "" else data.get(k)
                               for k in (*DETAILS, *CREDIT)}, name_key=name_key(data["name"]),
                            contacts=data.get("contacts") or [], created_by=actor.name)  # fmt: skip
        session.add(customer)
        _flush(session, customer.name)
        audit.record(session, actor, "customer.create", customer.name, customer=customer.id)
        return customer


def update(archive: Archive, customer_id: int, data: dict[str, Any], actor: Actor) -> Customer:
    """Change what ``data`` gives (``CustomerUpdateSchema``), audited field by field."""
    if not actor.can(*KEEPERS):
        raise Forbidden("只有销售业务员或销售经理可以修改客户档案。")
    _may_grade(actor, data)
    with archive.catalogue.writing() as session:
        customer = _load(session, customer_id, actor, write=True)
        session.refresh(customer, with_for_update=True)
        guarded = [key for key in GUARDED
                   if key in data and (data[key] or None) != getattr(customer, key)]  # fmt: skip
        if guarded and not (actor.can(*GRADERS) or actor.name == customer.created_by):
            raise Forbidden(
                f"客户的{'、'.join(field_label(f'buyer.{k}').split('·')[-1] for k in guarded)}"
                f"由销售经理或建档人 {customer.created_by} 修改。"
            )  # fmt: skip
        name = data.get("name")
        if name and name_key(name) != customer.name_key and session.scalar(
                select(Customer.id).where(Customer.name_key == name_key(name))):  # fmt: skip
            raise Conflict(f"已有名为“{name}”的客户档案。", field="name")
        if name:
            customer.name_key = name_key(name)
        changed = {}
        data = {k: (None if v == "" else v) for k, v in data.items()}  # a blank clears it
        for key in (*DETAILS, *CREDIT, "contacts"):
            if key in data and data[key] != getattr(customer, key):
                before = getattr(customer, key)
                changed[key] = {"before": _plain(before), "after": _plain(data[key])}
                setattr(customer, key, data[key])
        if changed:
            _flush(session, customer.name)
            audit.record(session, actor, "customer.update", customer.name, note=data.get("note"),
                         customer=customer.id, changes=changed)  # fmt: skip
        return customer


def _flush(session: Session, name: str) -> None:
    """Write now: a name another customer took meanwhile is a conflict, not an error."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"已有名为“{name}”的客户档案。", field="name") from exc


def _may_grade(actor: Actor, data: dict[str, Any]) -> None:
    if any(key in data for key in CREDIT) and not actor.can(*GRADERS):
        raise Forbidden("客户等级、信用额度与信用记录由销售经理评定。")


def _plain(value: Any) -> Any:
    return f"{value:.2f}" if isinstance(value, Decimal) else value
