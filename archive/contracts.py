"""Sales contracts: create (validate → number → render → file), read, change status."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import audit
from archive.audit import Actor
from archive.core import Archive
from archive.errors import Conflict, Forbidden, InvalidData, NotFound
from archive.filing import Filing, input_digest, render
from archive.models import Contract, utcnow
from archive.money import upper
from archive.numbering import next_number
from schemas import ContractSchema, flatten_errors
from templates import sales_contract

log = logging.getLogger(__name__)

KIND = "sales_contract"
STATUSES = ("draft", "effective", "completed", "terminated")
# status → the statuses it may move to, and who may move it there.
TRANSITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "draft": {"effective": ("manager",), "terminated": ("clerk", "manager")},
    "effective": {"completed": ("clerk", "manager"), "terminated": ("clerk", "manager")},
    "completed": {},
    "terminated": {},
}
CREATORS = ("clerk", "manager")


def validate(archive: Archive, payload: Any) -> dict[str, Any]:
    """Validated contract data (Decimals, dates) or ``InvalidData`` with dotted paths."""
    try:
        return ContractSchema(regions=archive.regions).load(payload)
    except ValidationError as exc:
        raise InvalidData(flatten_errors(exc.messages)) from exc


def create(archive: Archive, payload: Any, actor: Actor) -> Contract:
    """File a new draft contract with its .docx and PDF; all or nothing."""
    if not actor.can(*CREATORS):
        raise Forbidden("只有销售业务员或销售经理可以创建合同。")
    data = validate(archive, payload)
    canonical = ContractSchema().dump(data)
    digest = input_digest(canonical)
    total = sales_contract.total_of(data["items"])
    with Filing(archive) as filing:
        number = next_number(filing.session, archive.number_pattern, data["signed_on"])
        rendition = render(
            archive, sales_contract.TEMPLATE, sales_contract.context(number, data),
            sales_contract.properties(number, data),
        )  # fmt: skip
        contract = Contract(
            contract_no=number, status="draft", region=data["region"],
            signed_on=data["signed_on"], seller_name=data["seller"]["name"],
            buyer_name=data["buyer"]["name"], total=total, data=canonical,
            input_sha256=digest, created_by=actor.name,
        )  # fmt: skip
        filing.session.add(contract)
        filing.session.flush()
        filing.add_documents(
            contract_id=contract.id, kind=KIND, number=number, title=sales_contract.TITLE,
            rendition=rendition, input_sha256=digest, actor=actor.name,
        )  # fmt: skip
        audit.record(filing.session, actor, "contract.create", number, total=str(total))
    log.info("filed contract %s for %s", number, actor.name)
    return get(archive, number)


def _load(session: Session, contract_no: str) -> Contract:
    contract = session.scalar(
        select(Contract)
        .where(Contract.contract_no == contract_no)
        .options(selectinload(Contract.documents))
    )
    if contract is None:
        raise NotFound(f"合同 {contract_no} 不存在。")
    return contract


def get(archive: Archive, contract_no: str) -> Contract:
    with archive.catalogue.reading() as session:
        return _load(session, contract_no)


def change_status(archive: Archive, contract_no: str, status: str, actor: Actor,
                  *, note: str | None = None) -> Contract:  # fmt: skip
    """Move a contract along its lifecycle: draft → effective → completed | terminated."""
    if status not in STATUSES:
        raise InvalidData({"status": [f"必须是 {', '.join(STATUSES[1:])} 之一。"]})
    with archive.catalogue.writing() as session:
        contract = _load(session, contract_no)
        allowed = TRANSITIONS[contract.status]
        if status not in allowed:
            raise Conflict(
                f"合同 {contract_no} 当前状态为 {contract.status}，不能变更为 {status}。",
                field="status", current=contract.status,
            )  # fmt: skip
        if not actor.can(*allowed[status]):
            raise Forbidden(
                "合同生效须经销售经理审批。" if status == "effective"
                else f"角色 {actor.role} 不能把合同变更为 {status}。"
            )  # fmt: skip
        before = contract.status
        contract.status = status
        if status == "effective":
            contract.approved_by, contract.approved_at = actor.name, utcnow()
        audit.record(session, actor, "contract.status", contract_no, note=note,
                     before=before, after=status)  # fmt: skip
    return get(archive, contract_no)


def items_with_amounts(contract: Contract) -> list[dict[str, Any]]:
    items = []
    for item in contract.data["items"]:
        amount = sales_contract.line_amount(Decimal(item["quantity"]), Decimal(item["unit_price"]))
        items.append({**item, "amount": f"{amount:.2f}"})
    return items


def summary(contract: Contract) -> dict[str, Any]:
    """The contract as every interface shows it (no URLs: those belong to HTTP)."""
    return {
        "contract_no": contract.contract_no,
        "status": contract.status,
        "region": contract.region,
        "signed_on": contract.signed_on.isoformat(),
        "seller": contract.data["seller"],
        "buyer": contract.data["buyer"],
        "total": f"{contract.total:.2f}",
        "total_upper": upper(contract.total),
        "terms": {**contract.data, "items": items_with_amounts(contract)},
        "created_by": contract.created_by,
        "created_at": _iso(contract.created_at),
        "approved_by": contract.approved_by,
        "approved_at": _iso(contract.approved_at),
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
