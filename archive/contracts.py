"""Sales contracts: create (validate → number → render → file), read, change status."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from archive import audit, clauses, customers, reviews, revisions, template_register
from archive.access import basis, scope_of
from archive.actor import Actor
from archive.codes import assign_code
from archive.dossier import SIGNED_SCAN, delivered, fetch, load, touch
from archive.errors import Conflict, Forbidden, InvalidData, NotFound, validated
from archive.filing import Filing, input_digest, numbered, render
from archive.models import GONE, Amendment, Contract, Delivery, Document, Payment, User, iso, utcnow
from archive.outbox import enqueue
from archive.receivables import payment_state, payment_state_is
from schemas import ContractSchema
from schemas.labels import ROLE_NAMES, SECRECY_NAMES, STATUS_NAMES, named
from schemas.money import figures, upper
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
    # A contract marked completed by mistake: a manager reopens it, saying why.
    "completed": {"effective": ("manager",)},
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
    data = customers.parties(archive, data, actor)
    customer_id = data.pop("customer_id", None)
    # The standard template of its business type, as it stands now (its version is recorded).
    data = {**data, "business_type": data.get("business_type") or archive.default_business_type}
    data, wording = clauses.fill(archive, data)  # a clause left out: the standard wording
    template = template_register.active(archive.catalogue, sales_contract.TEMPLATE,
                                        data["business_type"])  # fmt: skip
    canonical = ContractSchema().dump(data)
    digest = input_digest(canonical)
    total = sales_contract.total_of(data["items"])
    with numbered(archive, archive.number_pattern, data["signed_on"]) as reserved:
        number = reserved.number
        rendition = render(
            archive, template, sales_contract.context(number, data),
            sales_contract.properties(number, data),
        )  # fmt: skip
        with Filing(archive) as filing:
            filing.use(reserved)
            contract = Contract(
                contract_no=number, status="draft", region=data["region"],
                signed_on=data["signed_on"], business_type=data["business_type"],
                seller_name=data["seller"]["name"],
                buyer_name=data["buyer"]["name"], total=total, original_total=total,
                paid=Decimal(0), due_on=data["payment"]["due_on"], data=canonical,
                terms=canonical, input_sha256=digest, created_by=actor.name, owner=actor.name,
                standard_clauses=wording,
            )  # fmt: skip
            filing.session.add(contract)
            customers.attach(filing.session, contract, data["buyer"], customer_id, actor)
            assign_code(filing.session, contract, archive.archival_pattern)
            filing.session.flush()
            filing.add_documents(
                contract=contract, kind=KIND, number=number, title=sales_contract.TITLE,
                rendition=rendition, input_sha256=digest, actor=actor.name, revision=1,
            )  # fmt: skip
            audit.record(filing.session, actor, "contract.create", number, total=str(total))
    log.info("filed contract %s for %s", number, actor.name)
    return get(archive, number, actor)


def get(archive: Archive, contract_no: str, actor: Actor) -> Contract:
    """The contract with its whole dossier loaded, if ``actor`` may see it (else NotFound)."""
    return fetch(archive.catalogue, contract_no, actor)


SORTS = {"signed_on": Contract.signed_on, "contract_no": Contract.contract_no,
         "total": Contract.total}  # fmt: skip


def listing(archive: Archive, actor: Actor, *, page: int = 1, per_page: int = 50,
            sort: str | None = None, order: str = "desc", include_gone: bool = True,
            **filters: Any) -> tuple[int, list[Contract]]:  # fmt: skip
    """One page of the contracts ``actor`` may see and how many match. ``filters``: status,
    region, created_by, owner (exact), buyer (a fragment of the name), year (of signing),
    payment_state. ``sort``: a key of ``SORTS`` (else the order of filing: the newest
    first), ``order``: asc or desc."""
    query = select(Contract)
    for name in ("status", "region", "created_by", "owner"):
        if filters.get(name):
            query = query.where(getattr(Contract, name) == filters[name])
    if filters.get("buyer"):
        query = query.where(Contract.buyer_name.icontains(filters["buyer"], autoescape=True))
    if filters.get("year"):
        year = int(filters["year"])
        query = query.where(Contract.signed_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    if filters.get("payment_state"):
        query = query.where(payment_state_is(filters["payment_state"]))
    if not include_gone:
        query = query.where(or_(Contract.retention_state.is_(None),
                                Contract.retention_state.notin_(GONE)))  # fmt: skip
    column = SORTS[sort] if sort else Contract.id
    direction = (lambda c: c.asc()) if order == "asc" else (lambda c: c.desc())
    with archive.catalogue.reading() as session:
        query = query.where(scope_of(session, actor).where())
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(
            query.order_by(direction(column), direction(Contract.id))
            .limit(per_page).offset((page - 1) * per_page)
        ).all()  # fmt: skip
    return total, list(rows)


def clerks(archive: Archive, actor: Actor) -> list[str]:
    """Everyone who has filed a contract ``actor`` may see (the list's filter by clerk)."""
    with archive.catalogue.reading() as session:
        return list(session.scalars(select(Contract.created_by).distinct()
                                    .where(scope_of(session, actor).where())
                                    .order_by(Contract.created_by)))  # fmt: skip


def view(archive: Archive, contract_no: str, actor: Actor, *,
         purpose: str | None = None) -> Contract:  # fmt: skip
    """The dossier, its viewing recorded (查阅登记): who, when, why, under which request."""
    contract = get(archive, contract_no, actor)
    with archive.catalogue.writing() as session:
        audit.record(session, actor, "dossier.view", contract_no, note=purpose,
                     **basis(session, actor, contract))  # fmt: skip
    return contract


def retrieve(archive: Archive, contract_no: str, doc_id: int, actor: Actor, *,
             purpose: str) -> tuple[Document, bytes]:  # fmt: skip
    """A stored file of the dossier, its retrieval recorded (查阅登记): who, what, why,
    under which request."""
    if not (purpose or "").strip():
        raise InvalidData({"purpose": ["调阅文件须说明用途（记入查阅登记）。"]})
    with archive.catalogue.reading() as session:
        # The contract first (NotFound for one the person may not see), then its document:
        # a document of another contract is simply not one of this contract's.
        contract = session.scalar(select(Contract).where(Contract.contract_no == contract_no))
        if contract is None or not scope_of(session, actor).allows(contract):
            raise NotFound(f"合同 {contract_no} 不存在。")
        doc = session.get(Document, doc_id)
        if doc is None or doc.contract_id != contract.id:
            raise NotFound(f"合同 {contract_no} 没有编号为 {doc_id} 的文件。")
        if doc.format == "original" and not actor.can(*EVIDENCE_READERS):
            raise Forbidden("上传文件的原件留作存证，仅档案管理员或销售经理可以调阅；"
                            "请下载已清理的归档件。")  # fmt: skip
        if doc.destroyed_at or doc.contract.gone:
            load(session, contract_no, actor)  # raises Gone with the tombstone
        data = archive.storage.read(doc.sha256, f"合同 {contract_no} 的文件 {doc.filename}")
        grounds = basis(session, actor, doc.contract)
    with archive.catalogue.writing() as session:
        audit.record(session, actor, "document.download", contract_no, note=purpose.strip(),
                     document_id=doc.id, kind=doc.kind, format=doc.format,
                     sha256=doc.sha256, **grounds)  # fmt: skip
    return doc, data


class Unconfirmed(Conflict):
    """Completing a contract with goods undelivered or money owed needs a confirmation
    (``force``) and a reason (``note``); the details say what is still open."""


def unfinished(contract: Contract) -> dict[str, Any]:
    """What completing the contract would leave open: ``undelivered`` lines (counted from 1)
    and money ``outstanding``; empty when nothing is."""
    shipped = delivered(contract)
    lines = []
    for n, item in enumerate(contract.terms["items"]):
        remaining = Decimal(item["quantity"]) - shipped[n]
        if remaining > 0:
            lines.append({"line": n + 1, "name": item["name"], "unit": item["unit"],
                          "remaining": sales_contract.quantity_text(remaining)})  # fmt: skip
    found: dict[str, Any] = {"undelivered": lines} if lines else {}
    if contract.outstanding > 0:
        found["outstanding"] = f"{contract.outstanding:.2f}"
    return found


def _open_text(found: dict[str, Any]) -> str:
    parts = [f"第{line['line']}项 {line['name']} 未发货 {line['remaining']} {line['unit']}"
             for line in found.get("undelivered", [])]  # fmt: skip
    if "outstanding" in found:
        parts.append(f"尚欠货款 {figures(Decimal(found['outstanding']))} 元")
    return "；".join(parts)


def change_status(archive: Archive, contract_no: str, status: str, actor: Actor, *,
                  note: str | None = None, force: bool = False) -> Contract:  # fmt: skip
    """Move a contract along its lifecycle: draft → effective → completed | terminated.

    Completing one with goods undelivered or money owed raises ``Unconfirmed`` unless
    ``force`` with a ``note`` (recorded in the audit log); a manager may reopen a completed
    one (back to effective) with a ``note``, until the retention sweep has taken it up."""
    if status not in STATUSES:
        raise InvalidData({"status": [f"取值须为 {named(STATUSES[1:])} 之一。"]})
    with archive.catalogue.writing() as session:
        contract = load(session, contract_no, actor, lock=True)
        allowed = TRANSITIONS[contract.status]
        if status not in allowed:
            raise Conflict(
                f"合同 {contract_no} 当前状态为“{STATUS_NAMES[contract.status]}”，"
                f"不能变更为“{STATUS_NAMES[status]}”。",
                field="status", current=contract.status,
            )  # fmt: skip
        before = contract.status
        if before == "draft" and status == "effective" and archive.review_steps:
            raise Conflict(
                f"合同 {contract_no} 须经审批流程（{' → '.join(archive.review_steps)}）逐级审批，"
                "最后一步同意后生效。", field="status", current=contract.status,
                review=contract.review_state,
            )  # fmt: skip
        if not actor.can(*allowed[status]):
            raise Forbidden(
                "只有销售经理可以重新打开已履行完毕的合同。" if before == "completed"
                else "合同生效须经销售经理审批。" if status == "effective"
                else f"{ROLE_NAMES.get(actor.role, actor.role)}不能把合同变更为"
                f"“{STATUS_NAMES[status]}”。"
            )  # fmt: skip
        opened = unfinished(contract) if status == "completed" else {}
        if opened and not force:
            raise Unconfirmed(
                f"合同 {contract_no} 尚未履行完毕：{_open_text(opened)}。"
                "如确已履行完毕，请确认（force）并在备注（note）中说明原因。",
                field="force", **opened,
            )  # fmt: skip
        if (opened or before == "completed") and not (note or "").strip():
            raise InvalidData({"note": [
                "尚有未发货或未收款时确认履行完毕，必须说明原因。" if opened
                else "重新打开已履行完毕的合同，必须说明原因。"]})  # fmt: skip
        if before == "completed" and contract.retention_state:
            raise Conflict(f"合同 {contract_no} 已进入保存期限处理，不能重新打开。")
        contract.status = status
        if before == "draft" and status == "terminated" and contract.review_state:
            # Nothing waits for a review any more (nor may its reviewers read it).
            contract.review_state, contract.review_step = None, None
        touch(contract)
        if before == "draft" and status == "effective":
            contract.approved_by, contract.approved_at = actor.name, utcnow()
            reviews.record_direct_approval(session, contract, actor)
        audit.record(session, actor, "contract.status", contract_no, note=note,
                     before=before, after=status,
                     **({"forced": True, **opened} if opened else {}))  # fmt: skip
        enqueue(session, contract_no)
    return get(archive, contract_no, actor)


# Who may hand a contract to another salesperson or change its 密级: the owner's manager
# (a manager who sees it) and directors.
STEWARDS = ("manager", "director")
SALES = "销售部"


def reassign(archive: Archive, contract_no: str, owner: str, actor: Actor, *,
             note: str) -> Contract:  # fmt: skip
    """Hand the contract to another salesperson (who will see it from now on); audited."""
    if not actor.can(*STEWARDS) or actor.role == "admin":
        raise Forbidden("只有销售经理或总经理可以移交合同。")
    with archive.catalogue.writing() as session:
        contract = load(session, contract_no, actor, lock=True)
        person = session.scalar(select(User).where(User.name == owner))
        if person is None or not person.active or person.department != SALES \
                or person.role not in ("clerk", "manager"):  # fmt: skip
            raise InvalidData({"owner": [f"{owner} 不是销售部在职的业务员或经理。"]})
        if person.name == contract.owner:
            raise Conflict(f"合同 {contract_no} 的负责人已是 {owner}。", field="owner")
        before = contract.owner
        contract.owner = person.name
        touch(contract)
        audit.record(session, actor, "contract.owner", contract_no, note=note,
                     before=before, after=person.name)  # fmt: skip
        enqueue(session, contract_no)  # the index holds who may find it
    return get(archive, contract_no, actor)


def set_secrecy(archive: Archive, contract_no: str, confidential: bool, actor: Actor, *,
                note: str) -> Contract:  # fmt: skip
    """Mark the contract 机密 or 普通; audited. Documents rendered from now on carry 机密
    in their header; what was filed before stays as filed."""
    if not actor.can(*STEWARDS) or actor.role == "admin":
        raise Forbidden("只有销售经理或总经理可以变更合同的密级。")
    with archive.catalogue.writing() as session:
        contract = load(session, contract_no, actor, lock=True)
        if contract.confidential == confidential:
            raise Conflict(f"合同 {contract_no} 的密级已是“{SECRECY_NAMES[confidential]}”。",
                           field="confidential")  # fmt: skip
        contract.confidential = confidential
        touch(contract)
        audit.record(
            session,
            actor,
            "contract.secrecy",
            contract_no,
            note=note,
            before=SECRECY_NAMES[not confidential],
            after=SECRECY_NAMES[confidential],
        )
        enqueue(session, contract_no)
    return get(archive, contract_no, actor)


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
        "business_type": contract.business_type,
        "revision": contract.revision,
        "review_state": contract.review_state,
        "review_step": contract.review_step,
        "signed_on": contract.signed_on.isoformat(),
        "seller": contract.terms["seller"],
        "buyer": contract.terms["buyer"],
        "total": f"{contract.total:.2f}",
        "total_upper": upper(contract.total),
        "original_total": f"{contract.original_total:.2f}",
        "due_on": contract.due_on.isoformat(),
        **payment_state(contract, as_of or dt.date.today()),
        "created_by": contract.created_by,
        "owner": contract.owner,
        "confidential": contract.confidential,
        "created_at": iso(contract.created_at),
        "approved_by": contract.approved_by,
        "approved_at": iso(contract.approved_at),
        "retention": {
            "state": contract.retention_state,
            "hold": {
                "reason": contract.hold_reason,
                "by": contract.held_by,
                "at": iso(contract.held_at),
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
        "revisions": revisions.history(contract),
        "countersigned": any(
            d.kind == SIGNED_SCAN and d.destroyed_at is None for d in contract.documents
        ),
        "amendments": [amendment_record(a) for a in contract.amendments],
        "deliveries": [delivery_record(d) for d in contract.deliveries],
        "payments": [payment_record(p) for p in contract.payments],
    }


def amendment_record(a: Amendment) -> dict[str, Any]:
    return {"number": a.number, "reason": a.reason, "effective_on": a.effective_on.isoformat(),
            "changes": [_numbered(c) for c in a.changes],
            "total_before": f"{a.total_before:.2f}",
            "total_after": f"{a.total_after:.2f}", "major": a.major,
            "created_by": a.created_by, "created_at": iso(a.created_at)}  # fmt: skip


def delivery_record(d: Delivery) -> dict[str, Any]:
    return {"number": d.number, "delivery_date": d.delivery_date.isoformat(),
            "ship_to": d.ship_to, "carrier": d.carrier, "tracking_no": d.tracking_no,
            "prepared_by": d.prepared_by, "lines": [_numbered(line) for line in d.lines],
            "created_by": d.created_by, "created_at": iso(d.created_at)}  # fmt: skip


def _numbered(entry: dict[str, Any]) -> dict[str, Any]:
    """A stored change or shipped line (its product line kept as ``item``, an index from 0)
    as people and clients name it: ``line``, from 1, as the documents print 第1项."""
    shown = {key: value for key, value in entry.items() if key != "item"}
    if "item" in entry:
        shown["line"] = None if entry["item"] is None else entry["item"] + 1
    return shown


def payment_record(p: Payment) -> dict[str, Any]:
    return {"id": p.id, "amount": f"{p.amount:.2f}", "paid_on": p.paid_on.isoformat(),
            "method": p.method, "reference": p.reference, "note": p.note,
            "created_by": p.created_by, "created_at": iso(p.created_at)}  # fmt: skip
