"""Sales contracts: create (validate → number → render → file), read, change status."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from archive import audit
from archive.audit import Actor
from archive.codes import assign_code
from archive.dossier import delivered, fetch, load, touch
from archive.errors import Conflict, Forbidden, InvalidData, NotFound, validated
from archive.filing import Filing, input_digest, numbered, render
from archive.models import Amendment, Contract, Delivery, Document, Payment, utcnow
from archive.outbox import enqueue
from archive.receivables import payment_state
from schemas import ContractSchema
from schemas.labels import ROLE_NAMES, STATUS_NAMES
from schemas.money import upper
from templates import sales_contract

if TYPE_CHECKING:
    from archive.core import Archive

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
# Who may fetch an upload's original bytes (evidence; they may carry active content).
EVIDENCE_READERS = ("archivist", "manager")


def validate(archive: Archive, payload: Any) -> dict[str, Any]:
    """Validated contract data (Decimals, dates) or ``InvalidData`` with dotted paths."""
    return validated(ContractSchema(regions=archive.regions), payload)


def create(archive: Archive, data: dict[str, Any], actor: Actor) -> Contract:
    """File a new draft contract with its .docx and PDF; all or nothing.

    ``data`` is what ``ContractSchema`` loaded (see ``validate``)."""
    if not actor.can(*CREATORS):
        raise Forbidden("只有销售业务员或销售经理可以创建合同。")
    if archive.regions and data["region"] not in archive.regions:
        raise InvalidData({"region": [f"未知区域，可选：{'、'.join(archive.regions)}。"]})
    canonical = ContractSchema().dump(data)
    digest = input_digest(canonical)
    total = sales_contract.total_of(data["items"])
    with numbered(archive, archive.number_pattern, data["signed_on"]) as reserved:
        number = reserved.number
        rendition = render(
            archive, sales_contract.TEMPLATE, sales_contract.context(number, data),
            sales_contract.properties(number, data),
        )  # fmt: skip
        with Filing(archive) as filing:
            filing.use(reserved)
            contract = Contract(
                contract_no=number, status="draft", region=data["region"],
                signed_on=data["signed_on"], seller_name=data["seller"]["name"],
                buyer_name=data["buyer"]["name"], total=total, original_total=total,
                paid=Decimal(0), due_on=data["payment"]["due_on"], data=canonical,
                terms=canonical, input_sha256=digest, created_by=actor.name,
            )  # fmt: skip
            filing.session.add(contract)
            assign_code(filing.session, contract, archive.archival_pattern)
            filing.session.flush()
            filing.add_documents(
                contract=contract, kind=KIND, number=number, title=sales_contract.TITLE,
                rendition=rendition, input_sha256=digest, actor=actor.name,
            )  # fmt: skip
            audit.record(filing.session, actor, "contract.create", number, total=str(total))
    log.info("filed contract %s for %s", number, actor.name)
    return get(archive, number)


def get(archive: Archive, contract_no: str) -> Contract:
    """The contract with its whole dossier loaded."""
    return fetch(archive.catalogue, contract_no)


def retrieve(archive: Archive, contract_no: str, doc_id: int, actor: Actor, *,
             purpose: str | None = None) -> tuple[Document, bytes]:  # fmt: skip
    """A stored file of the dossier, its retrieval recorded (查阅登记): who, what, why."""
    with archive.catalogue.reading() as session:
        doc = session.get(Document, doc_id)
        if doc is None or doc.contract.contract_no != contract_no:
            raise NotFound(f"合同 {contract_no} 没有编号为 {doc_id} 的文件。")
        if doc.format == "original" and not actor.can(*EVIDENCE_READERS):
            raise Forbidden("上传文件的原件留作存证，仅档案管理员或销售经理可以调阅；"
                            "请下载已清理的归档件。")  # fmt: skip
        if doc.destroyed_at or doc.contract.gone:
            load(session, contract_no)  # raises Gone with the tombstone
        data = archive.storage.get(doc.sha256)
    with archive.catalogue.writing() as session:
        audit.record(session, actor, "document.download", contract_no, note=purpose,
                     document_id=doc.id, kind=doc.kind, format=doc.format,
                     sha256=doc.sha256)  # fmt: skip
    return doc, data


def change_status(archive: Archive, contract_no: str, status: str, actor: Actor,
                  *, note: str | None = None) -> Contract:  # fmt: skip
    """Move a contract along its lifecycle: draft → effective → completed | terminated."""
    if status not in STATUSES:
        raise InvalidData({"status": [f"取值须为 {'、'.join(STATUSES[1:])} 之一。"]})
    with archive.catalogue.writing() as session:
        contract = load(session, contract_no, lock=True)
        allowed = TRANSITIONS[contract.status]
        if status not in allowed:
            raise Conflict(
                f"合同 {contract_no} 当前{STATUS_NAMES[contract.status]}，"
                f"不能变更为“{STATUS_NAMES[status]}”。",
                field="status", current=contract.status,
            )  # fmt: skip
        if not actor.can(*allowed[status]):
            raise Forbidden(
                "合同生效须经销售经理审批。" if status == "effective"
                else f"{ROLE_NAMES.get(actor.role, actor.role)}不能把合同变更为"
                f"“{STATUS_NAMES[status]}”。"
            )  # fmt: skip
        before = contract.status
        contract.status = status
        touch(contract)
        if status == "effective":
            contract.approved_by, contract.approved_at = actor.name, utcnow()
        audit.record(session, actor, "contract.status", contract_no, note=note,
                     before=before, after=status)  # fmt: skip
        enqueue(session, contract_no)
    return get(archive, contract_no)


def _with_amounts(terms: dict[str, Any], shipped: list[Decimal] | None = None) -> dict[str, Any]:
    items = []
    for n, item in enumerate(terms["items"]):
        quantity, price = Decimal(item["quantity"]), Decimal(item["unit_price"])
        line = {**item, "amount": f"{sales_contract.line_amount(quantity, price):.2f}"}
        if shipped is not None:
            line["delivered"] = sales_contract.quantity_text(shipped[n])
            line["remaining"] = sales_contract.quantity_text(quantity - shipped[n])
        items.append(line)
    return {**terms, "items": items}


def summary(contract: Contract, *, as_of: dt.date | None = None) -> dict[str, Any]:
    """The contract as every interface lists it (no URLs: those belong to HTTP)."""
    return {
        "contract_no": contract.contract_no,
        "archival_code": contract.archival_code,
        "status": contract.status,
        "region": contract.region,
        "signed_on": contract.signed_on.isoformat(),
        "seller": contract.terms["seller"],
        "buyer": contract.terms["buyer"],
        "total": f"{contract.total:.2f}",
        "total_upper": upper(contract.total),
        "original_total": f"{contract.original_total:.2f}",
        "due_on": contract.due_on.isoformat(),
        **payment_state(contract, as_of or dt.date.today()),
        "created_by": contract.created_by,
        "created_at": _iso(contract.created_at),
        "approved_by": contract.approved_by,
        "approved_at": _iso(contract.approved_at),
        "retention": {
            "state": contract.retention_state,
            "hold": {
                "reason": contract.hold_reason,
                "by": contract.held_by,
                "at": _iso(contract.held_at),
            }
            if contract.hold_reason
            else None,
        },
    }


def dossier(contract: Contract, *, as_of: dt.date | None = None) -> dict[str, Any]:
    """Summary plus current and original terms, amendments, deliveries and payments."""
    return {
        **summary(contract, as_of=as_of),
        "terms": _with_amounts(contract.terms, delivered(contract)),
        "original_terms": _with_amounts(contract.data),
        "amendments": [amendment_record(a) for a in contract.amendments],
        "deliveries": [delivery_record(d) for d in contract.deliveries],
        "payments": [payment_record(p) for p in contract.payments],
    }


def amendment_record(a: Amendment) -> dict[str, Any]:
    return {"number": a.number, "reason": a.reason, "effective_on": a.effective_on.isoformat(),
            "changes": a.changes, "total_before": f"{a.total_before:.2f}",
            "total_after": f"{a.total_after:.2f}", "major": a.major,
            "created_by": a.created_by, "created_at": _iso(a.created_at)}  # fmt: skip


def delivery_record(d: Delivery) -> dict[str, Any]:
    return {"number": d.number, "delivery_date": d.delivery_date.isoformat(),
            "ship_to": d.ship_to, "carrier": d.carrier, "tracking_no": d.tracking_no,
            "prepared_by": d.prepared_by, "lines": d.lines, "created_by": d.created_by,
            "created_at": _iso(d.created_at)}  # fmt: skip


def payment_record(p: Payment) -> dict[str, Any]:
    return {"id": p.id, "amount": f"{p.amount:.2f}", "paid_on": p.paid_on.isoformat(),
            "method": p.method, "reference": p.reference, "note": p.note,
            "created_by": p.created_by, "created_at": _iso(p.created_at)}  # fmt: skip


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
