"""Retention (001 §9-03 第15-16条): keep 5 years; then set contracts with money owed apart
in their own volume (另册保管) and destroy paid ones once a sales manager approves.

The sweep decides, for every contract that is due on a day, one outcome:

- ``held``: under a legal hold, untouched;
- ``in_performance``: still draft or effective, never due;
- ``moved_to_unpaid`` / ``unpaid``: money outstanding, kept in the unpaid volume of its
  year and region (moved by this run / already there);
- ``pending_destruction`` / ``awaiting_approval``: completed or terminated and fully
  paid, listed for a manager (newly / already).

It changes only ``retention_state`` and is idempotent; a dry run computes the same report.
Destruction is journaled (``Destruction.state``): the approval, the tombstones and the
certificate are committed first, files and index entries are removed after, and an
interrupted destruction is finished by the next run or start.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive import audit
from archive.audit import Actor
from archive.dossier import fetch, load, tombstone
from archive.errors import Conflict, Forbidden, InvalidData, NotFound
from archive.filing import render
from archive.models import Contract, Destruction, Document, Record, RetentionRun, utcnow
from archive.numbering import next_number
from archive.outbox import enqueue
from templates import destruction as destruction_doc

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

OUTCOMES = ("in_performance", "held", "moved_to_unpaid", "unpaid", "pending_destruction",
            "awaiting_approval")  # fmt: skip
IN_PERFORMANCE = ("draft", "effective")
CLOSED = ("completed", "terminated")
FOLLOWERS = ("amendment", "delivery_notice", "signed_scan")


# -- rules -----------------------------------------------------------------------------------


def rules(years: dict[str, int]) -> list[dict[str, Any]]:
    """The retention rules in force, for ``hetong retention rules`` and the API."""
    rows = [{"kind": kind, "years": n, "clock": "end of the volume's year (signing year)",
             "follows": None} for kind, n in sorted(years.items())]  # fmt: skip
    rows += [{"kind": kind, "years": None, "clock": None, "follows": "sales_contract"}
             for kind in FOLLOWERS]  # fmt: skip
    rows += [{"kind": kind, "years": "permanent", "clock": None, "follows": None}
             for kind in ("destruction_list", "destruction_certificate")]  # fmt: skip
    return rows


def due_on(signed_on: dt.date, years: int) -> dt.date:
    """A contract signed 2020-03-15, kept 5 years, is due on 2026-01-01."""
    return dt.date(signed_on.year + 1 + years, 1, 1)


def unpaid_volume(contract: Contract) -> str:
    return f"{contract.signed_on.year}·{contract.region}·未收款另册"


# -- the sweep -------------------------------------------------------------------------------


def decide(contract: Contract) -> str:
    if contract.hold_reason:
        return "held"
    if contract.status in IN_PERFORMANCE:
        return "in_performance"
    if contract.outstanding > 0:
        return "unpaid" if contract.retention_state == "unpaid_volume" else "moved_to_unpaid"
    if contract.retention_state == "pending_destruction":
        return "awaiting_approval"
    return "pending_destruction"


def run(archive: Archive, *, as_of: dt.date, dry_run: bool, actor: Actor) -> dict[str, Any]:
    """Sweep every contract due on ``as_of``; return (and keep) the report."""
    finish_pending(archive, actor)
    years = archive.retention_years["sales_contract"]
    last_signing_day = dt.date(as_of.year - 1 - years, 12, 31)
    outcomes: dict[str, list[str]] = {name: [] for name in OUTCOMES}
    newly_pending: list[Contract] = []
    with archive.filing_lock(), archive.catalogue.writing() as session:
        due = session.scalars(
            select(Contract)
            .where(Contract.signed_on <= last_signing_day,
                   Contract.retention_state.is_(None)
                   | Contract.retention_state.in_(("unpaid_volume", "pending_destruction")))
            .order_by(Contract.signed_on, Contract.contract_no)
            .options(selectinload(Contract.documents))
        ).all()  # fmt: skip
        for contract in due:
            outcome = decide(contract)
            outcomes[outcome].append(contract.contract_no)
            if dry_run:
                continue
            if outcome == "moved_to_unpaid":
                contract.retention_state = "unpaid_volume"
                audit.record(session, actor, "retention.move_to_unpaid", contract.contract_no,
                             volume=unpaid_volume(contract), as_of=as_of.isoformat(),
                             outstanding=str(contract.outstanding))  # fmt: skip
            elif outcome == "pending_destruction":
                contract.retention_state = "pending_destruction"
                newly_pending.append(contract)
                audit.record(session, actor, "retention.pending_destruction",
                             contract.contract_no, as_of=as_of.isoformat())  # fmt: skip
            elif outcome in ("in_performance", "held") and contract.retention_state:
                # Reopened or put on hold since an earlier run: back to plainly kept.
                contract.retention_state = None
        report = {
            "as_of": as_of.isoformat(), "dry_run": dry_run,
            "counts": {name: len(nos) for name, nos in outcomes.items()},
            "contracts": outcomes, "destruction_list": None,
        }  # fmt: skip
        if newly_pending:
            record = _file_record(archive, session, actor, "destruction_list",
                                  destruction_doc.list_context(
                                      [tombstone(c) for c in newly_pending], as_of))  # fmt: skip
            report["destruction_list"] = record.number
        else:
            record = None
        session.add(RetentionRun(as_of=as_of, dry_run=dry_run, actor=actor.name, report=report,
                                 list_record_id=record.id if record else None))  # fmt: skip
        audit.record(session, actor, "retention.run", None, as_of=as_of.isoformat(),
                     dry_run=dry_run, counts=report["counts"])  # fmt: skip
    return report


def runs(archive: Archive, *, limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
    """Kept sweep reports, newest first: how many there are, and one page of them."""
    with archive.catalogue.reading() as session:
        total = session.scalar(select(func.count(RetentionRun.id)))
        rows = session.scalars(select(RetentionRun).order_by(RetentionRun.id.desc())
                               .limit(limit).offset(offset)).all()  # fmt: skip
        return total, [
            {"id": r.id, "as_of": r.as_of.isoformat(), "dry_run": r.dry_run, "actor": r.actor,
             "started_at": r.started_at.isoformat(timespec="seconds"),
             **{k: v for k, v in r.report.items() if k not in ("as_of", "dry_run")}}
            for r in rows
        ]  # fmt: skip


def _file_record(archive: Archive, session: Session, actor: Actor, kind: str,
                 context: dict[str, Any]) -> Record:  # fmt: skip
    """Render and store a list or certificate, kept permanently (its hashes are referenced)."""
    prefix = {"destruction_list": "XQ", "destruction_certificate": "XH"}[kind]
    today = dt.date.today()
    number = next_number(session, prefix + "-{year:04d}-{seq:04d}", today)
    context = {**context, "number": number}
    rendition = render(archive, destruction_doc.TEMPLATE, context,
                       destruction_doc.properties(number, context["title"]))  # fmt: skip
    record = Record(
        kind=kind, number=number, pdf_sha256=archive.storage.put(rendition.pdf),
        docx_sha256=archive.storage.put(rendition.docx), created_by=actor.name,
    )  # fmt: skip
    session.add(record)
    session.flush()
    return record


# -- holds -----------------------------------------------------------------------------------


def hold(archive: Archive, contract_no: str, reason: str | None, actor: Actor, *,
         release: bool = False) -> Contract:  # fmt: skip
    """Put a legal hold on a contract (or release it): a held contract is never moved or
    destroyed."""
    if not actor.can("archivist", "manager"):
        raise Forbidden("只有档案管理员或销售经理可以设置或解除保全。")
    if not release and not (reason or "").strip():
        raise InvalidData({"reason": ["必须说明保全原因。"]})
    with archive.catalogue.writing() as session:
        contract = load(session, contract_no, allow_destroyed=True)
        if contract.gone:
            raise Conflict(f"合同 {contract_no} 已销毁。")
        if release:
            if not contract.hold_reason:
                raise Conflict(f"合同 {contract_no} 未被保全。")
            audit.record(session, actor, "retention.hold_release", contract_no,
                         reason=contract.hold_reason)  # fmt: skip
            contract.hold_reason = contract.held_by = contract.held_at = None
        else:
            contract.hold_reason = reason.strip()[:2000]
            contract.held_by, contract.held_at = actor.name, utcnow()
            audit.record(session, actor, "retention.hold", contract_no, reason=reason)
    return fetch(archive.catalogue, contract_no)


# -- destruction -----------------------------------------------------------------------------


def _refusal(contract: Contract, as_of: dt.date, years: int) -> str | None:
    if contract.gone:
        return "已销毁"
    if contract.hold_reason:
        return "处于保全状态"
    if contract.status not in CLOSED:
        return "尚在履行（未履行完毕或解除）"
    if contract.outstanding > 0:
        return f"尚有欠款 {contract.outstanding:.2f} 元"
    if due_on(contract.signed_on, years) > as_of:
        return "未满保存期限"
    if contract.retention_state != "pending_destruction":
        return "未经清理列入待销毁"
    return None


def destroy(archive: Archive, contract_nos: Iterable[str], note: str | None,
            actor: Actor) -> dict[str, Any]:  # fmt: skip
    """A manager approves the destruction of contracts pending it; returns the certificate."""
    if not actor.can("manager"):
        raise Forbidden("销毁须经销售经理批准。")
    numbers = list(dict.fromkeys(contract_nos))
    if not numbers:
        raise InvalidData({"contract_nos": ["至少列出一份合同。"]})
    years = archive.retention_years["sales_contract"]
    with archive.filing_lock(), archive.catalogue.writing() as session:
        contracts = [load(session, no, allow_destroyed=True) for no in numbers]
        refused = {c.contract_no: why for c in contracts
                   if (why := _refusal(c, dt.date.today(), years))}  # fmt: skip
        if refused:
            detail = "；".join(f"{no}：{why}" for no, why in refused.items())
            raise Conflict(f"以下合同不能销毁：{detail}。", refused=refused)
        items = [tombstone(c) for c in contracts]
        now = utcnow()
        certificate = _file_record(
            archive, session, actor, "destruction_certificate",
            destruction_doc.certificate_context(items, actor.name, now, note),
        )  # fmt: skip
        journal = Destruction(
            state="approved", approved_by=actor.name, approved_at=now, note=note,
            items=items, certificate_record_id=certificate.id,
        )  # fmt: skip
        session.add(journal)
        for contract in contracts:
            contract.retention_state = "destroying"
            contract.destroyed_by, contract.destroyed_at = actor.name, now
            enqueue(session, contract.contract_no)  # its index entries go
            audit.record(session, actor, "retention.destroy_approved", contract.contract_no,
                         note=note, certificate=certificate.number)  # fmt: skip
        session.flush()
        journal_id = journal.id
    _carry_out(archive, journal_id, actor)
    return {"certificate": certificate.number, "contracts": numbers,
            "certificate_pdf_sha256": certificate.pdf_sha256}  # fmt: skip


def _carry_out(archive: Archive, journal_id: int, actor: Actor) -> None:
    """Delete the files and index entries of an approved destruction, then close it.
    Idempotent: safe to repeat after a crash at any point."""
    with archive.catalogue.reading() as session:
        journal = session.get(Destruction, journal_id)
        numbers = [item["contract_no"] for item in journal.items]
        hashes = {d["sha256"] for item in journal.items for d in item["documents"]}
        kept = set(session.scalars(
            select(Document.sha256).join(Contract)
            .where(Document.sha256.in_(hashes), Contract.contract_no.notin_(numbers),
                   Document.destroyed_at.is_(None))
        ))  # fmt: skip
    for digest in hashes - kept:  # a file another live dossier shares is kept
        archive.storage.delete(digest)
    archive.index.apply_pending()  # destroyed contracts yield no entries
    with archive.catalogue.writing() as session:
        journal = session.get(Destruction, journal_id)
        now = utcnow()
        for number in numbers:
            contract = load(session, number, allow_destroyed=True)
            contract.retention_state = "destroyed"
            # The register entry keeps only what the tombstone names.
            minimal = {k: contract.terms[k] for k in ("region", "signed_on")}
            minimal["seller"] = {"name": contract.seller_name}
            minimal["buyer"] = {"name": contract.buyer_name}
            contract.data = contract.terms = {**minimal, "items": [], "payment": {}}
            for doc in contract.documents:
                doc.destroyed_at = doc.destroyed_at or now
            audit.record(session, actor, "retention.destroyed", number,
                         destruction=journal_id)  # fmt: skip
        journal.state = "done"
    log.info("destruction %d carried out: %s", journal_id, ", ".join(numbers))


def finish_pending(archive: Archive, actor: Actor | None = None) -> list[int]:
    """Finish destructions a crash interrupted (called at start and by every run)."""
    with archive.catalogue.reading() as session:
        open_ids = list(session.scalars(select(Destruction.id)
                                        .where(Destruction.state != "done")))  # fmt: skip
    for journal_id in open_ids:
        log.warning("finishing interrupted destruction %d", journal_id)
        _carry_out(archive, journal_id, actor or audit.SYSTEM)
    return open_ids


def certificate_file(archive: Archive, number: str, fmt: str = "pdf") -> tuple[Record, bytes]:
    with archive.catalogue.reading() as session:
        record = session.scalar(select(Record).where(Record.number == number))
    if record is None:
        raise NotFound(f"记录 {number} 不存在。")
    digest = record.pdf_sha256 if fmt == "pdf" else record.docx_sha256
    return record, archive.storage.get(digest)
