"""Retention (001 §9-03 第15-16条): keep 5 years; then set contracts with money owed apart
in their own volume (另册保管) and destroy paid ones once a sales manager approves.

This module holds the rules (what is due, and the outcome ``decide`` gives a due contract),
legal holds, and destruction; the daily sweep that applies the rules to every contract is
``archive.sweep``. The outcomes:

- ``held``: under a legal hold, untouched;
- ``in_performance``: still draft or effective, never due;
- ``moved_to_unpaid`` / ``unpaid``: money outstanding, kept in the unpaid volume of its
  year and region (moved by this run / already there);
- ``pending_destruction`` / ``awaiting_approval``: completed or terminated and owing nothing
  (paid, or never took effect), listed for a manager (newly / already).

Destruction is journaled (``Destruction.state``): the approval, the tombstones and the
certificate are committed first, files and index entries are removed after, and an
interrupted destruction is finished by the next run or start. The certificate is rendered
before that transaction (its numbers reserved first), in parts of ``PART_SIZE`` rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import audit, chain, journal, numbering
from archive.access import scope_of
from archive.actor import SYSTEM, Actor
from archive.dossier import Changed, approver, fetch, load, tombstone
from archive.errors import Conflict, Forbidden, InvalidData, NotFound
from archive.filing import Filing, Rendition, numbered, render, retried
from archive.models import GONE, Contract, Destruction, Document, Record, utcnow
from archive.outbox import enqueue
from archive.receivables import outstanding
from templates import destruction as destruction_doc

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

OUTCOMES = ("in_performance", "held", "moved_to_unpaid", "unpaid", "pending_destruction",
            "awaiting_approval")  # fmt: skip
IN_PERFORMANCE = ("draft", "effective")
CLOSED = ("completed", "terminated")
FOLLOWERS = ("amendment", "delivery_notice", "signed_scan")
# Rows per list or certificate document: a conversion of a few hundred rows takes a second
# or two; one of tens of thousands passed the converter's timeout.
PART_SIZE = 200
LIST_PATTERN = "XQ-{year:04d}-{seq:04d}"
CERTIFICATE_PATTERN = "XH-{year:04d}-{seq:04d}"
# What people are told when an approval's files wait for the journal (``files_deleted``).
FILES_WAIT = "销毁日志尚未写入全部备份位置：文件暂留，待下次启动或清理时删除。"

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")


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


def last_signing_day(as_of: dt.date, years: int) -> dt.date | None:
    """The latest signing day of a contract due on ``as_of`` (None: nothing can be due)."""
    year = as_of.year - 1 - years
    return dt.date(year, 12, 31) if year >= dt.MINYEAR else None


def unpaid_volume(year: int, region: str) -> str:
    return f"{year}·{region}·未收款另册"


def decide(*, held: bool, status: str, owed: Decimal, state: str | None) -> str:
    """The outcome for a due contract (``owed``: ``receivables.outstanding``)."""
    if held:
        return "held"
    if status in IN_PERFORMANCE:
        return "in_performance"
    if owed > 0:
        return "unpaid" if state == "unpaid_volume" else "moved_to_unpaid"
    if state == "pending_destruction":
        return "awaiting_approval"
    return "pending_destruction"


# -- lists and certificates ------------------------------------------------------------------


def parts(items: Sequence[T], size: int = 0) -> list[Sequence[T]]:
    """``items`` in parts of at most ``size`` (``PART_SIZE``)."""
    size = size or PART_SIZE
    return [items[i : i + size] for i in range(0, len(items), size)] or [items]


def render_record(archive: Archive, number: str, context: dict[str, Any]) -> Rendition:
    """Render one list or certificate part, outside any transaction."""
    context = {**context, "number": number}
    return render(archive, destruction_doc.TEMPLATE, context,
                  destruction_doc.properties(number, context["title"]))  # fmt: skip


def add_record(filing: Filing, kind: str, number: str, rendition: Rendition,
               actor: Actor) -> Record:  # fmt: skip
    """Store a rendered list or certificate with its filing; kept permanently."""
    record = Record(kind=kind, number=number, pdf_sha256=filing.store(rendition.pdf),
                    docx_sha256=filing.store(rendition.docx),
                    template_version_id=rendition.template_version_id,
                    created_by=actor.name)  # fmt: skip
    filing.session.add(record)
    filing.session.flush()
    return record


def in_turn(archive: Archive, items: Sequence[T], work: Callable[[T, C | None], R],
            claim: Callable[[T], C] | None = None) -> list[R]:  # fmt: skip
    """``work(item, claim(item))`` for every item, on one thread more than the converter has
    workers (the conversions run in parallel; the extra thread renders or files while they
    convert, so no worker waits for Python). Items are
    claimed one at a time in order, so what ``claim`` hands out (numbers) follows the order
    of the items. Stops at the first failure and raises it."""
    claim = claim or (lambda item: None)
    threads = min(len(items), len(archive.converter.workers) + 1)
    if threads <= 1:
        return [work(item, claim(item)) for item in items]
    todo = deque(enumerate(items))
    results: list[Any] = [None] * len(items)
    failures: list[BaseException] = []
    turn = threading.Lock()

    def worker() -> None:
        while True:
            with turn:
                if failures or not todo:
                    return
                n, item = todo.popleft()
                try:
                    claimed = claim(item)
                except BaseException as exc:
                    failures.append(exc)
                    return
            try:
                results[n] = work(item, claimed)
            except BaseException as exc:
                with turn:
                    failures.append(exc)
                return

    # Daemons: an interrupted command does not wait for renderings nobody will file.
    pool = [threading.Thread(target=worker, name=f"retention-{n}", daemon=True)
            for n in range(threads)]  # fmt: skip
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if failures:
        raise failures[0]
    return results


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
        contract = load(session, contract_no, actor, lock=True)  # Gone once destroyed
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
    return fetch(archive.catalogue, contract_no, actor)


# -- destruction -----------------------------------------------------------------------------


def _refusal(contract: Contract, as_of: dt.date, years: int) -> str | None:
    if contract.gone:
        return "已销毁"
    if contract.hold_reason:
        return "处于保全状态"
    if contract.status not in CLOSED:
        return "尚在履行（未履行完毕或解除）"
    if (owed := outstanding(contract)) > 0:
        return f"尚有欠款 {owed:.2f} 元"
    if due_on(contract.signed_on, years) > as_of:
        return "未满保存期限"
    if contract.retention_state != "pending_destruction":
        return "未经清理列入待销毁"
    return None


def _contracts(session: Session, numbers: list[str], *, lock: bool = False,
               actor: Actor = SYSTEM) -> list[Contract]:  # fmt: skip
    """The contracts named, destroyed ones too, with their documents (what a tombstone and a
    refusal need), in one query however many there are; ``lock``: their rows, for the
    transaction. One ``actor`` may not see is not found, as one that does not exist."""
    query = (select(Contract).where(Contract.contract_no.in_(numbers),
                                    scope_of(session, actor).where())
             .options(selectinload(Contract.documents)))  # fmt: skip
    found = {c.contract_no: c for c in session.scalars(
        query.with_for_update(of=Contract) if lock else query)}  # fmt: skip
    if missing := [no for no in numbers if no not in found]:
        raise NotFound(f"合同 {missing[0]} 不存在。")
    return [found[no] for no in numbers]


def _refuse(contracts: Iterable[Contract], years: int) -> None:
    refused = {c.contract_no: why for c in contracts
               if (why := _refusal(c, dt.date.today(), years))}  # fmt: skip
    if refused:
        detail = "；".join(f"{no}：{why}" for no, why in refused.items())
        raise Conflict(f"以下合同不能销毁：{detail}。", refused=refused)


NONE_CHOSEN = "请至少选择一份合同。"


def preview(archive: Archive, contract_nos: Iterable[str], actor: Actor) -> list[dict[str, Any]]:
    """What approving the destruction of these contracts would destroy: their tombstones
    (parties, amounts, documents), after the checks ``destroy`` makes. Changes nothing."""
    if not actor.can("manager"):
        raise Forbidden("销毁须经销售经理批准。")
    numbers = list(dict.fromkeys(contract_nos))
    if not numbers:
        raise InvalidData({"contract_nos": [NONE_CHOSEN]}, NONE_CHOSEN)
    with archive.catalogue.reading() as session:
        contracts = _contracts(session, numbers, actor=actor)
        _refuse(contracts, archive.retention_years["sales_contract"])
        return [tombstone(c) for c in contracts]


def awaiting(archive: Archive, actor: Actor) -> tuple[list[Contract], list[Contract]]:
    """What the retention page lists for ``actor``, within what they see: the contracts
    pending destruction (by number) and those kept in an unpaid volume (oldest first)."""
    with archive.catalogue.reading() as session:
        visible = scope_of(session, actor).where()
        pending = session.scalars(
            select(Contract).where(Contract.retention_state == "pending_destruction", visible)
            .order_by(Contract.contract_no)
        ).all()  # fmt: skip
        unpaid = session.scalars(
            select(Contract).where(Contract.retention_state == "unpaid_volume", visible)
            .order_by(Contract.signed_on, Contract.contract_no)
        ).all()  # fmt: skip
    return list(pending), list(unpaid)


def destroy(archive: Archive, contract_nos: Iterable[str], note: str | None,
            actor: Actor) -> dict[str, Any]:  # fmt: skip
    """A manager approves the destruction of contracts pending it; returns the certificate
    (``certificate``: its first part; ``certificates``: every part) and whether the files are
    deleted already (``files_deleted``: not while a backup target lacks the journal entry)."""
    if not actor.can("manager"):
        raise Forbidden("销毁须经销售经理批准。")
    numbers = list(dict.fromkeys(contract_nos))
    if not numbers:
        raise InvalidData({"contract_nos": ["至少列出一份合同。"]})
    journal_id, certificates = retried(lambda: _approve(archive, numbers, note, actor))
    deleted = _publish(archive, journal_id)
    if deleted:
        _carry_out(archive, journal_id, actor)
    return {"certificate": certificates[0].number, "contracts": numbers,
            "certificate_pdf_sha256": certificates[0].pdf_sha256,
            "certificates": [c.number for c in certificates],
            "files_deleted": deleted}  # fmt: skip


def _approve(archive: Archive, numbers: list[str], note: str | None,
             actor: Actor) -> tuple[int, list[Record]]:  # fmt: skip
    """Render the certificate from the contracts as they are, then commit the approval, the
    certificate and the journal in one short transaction — unless a contract changed in
    between (``Changed``: rendered anew)."""
    years = archive.retention_years["sales_contract"]
    with archive.catalogue.reading() as session:
        contracts = _contracts(session, numbers, actor=actor)
        _refuse(contracts, years)
        items = [tombstone(c) for c in contracts]
        signed_by = approver(session, actor.name)  # 王经理（wang）
    head = str(chain.head_of(archive.catalogue))  # printed on the certificate
    now = utcnow()
    pieces = parts(items)
    with ExitStack() as held:
        reserved = [held.enter_context(numbered(archive, CERTIFICATE_PATTERN, dt.date.today()))
                    for _ in pieces]  # fmt: skip

        def draw(n: int, _: None) -> Rendition:
            context = destruction_doc.certificate_context(
                pieces[n], signed_by, now, note, part=n + 1, parts=len(pieces),
                start=n * PART_SIZE + 1, zone=archive.zone, audit_head=head,
            )  # fmt: skip
            return render_record(archive, reserved[n].number, context)

        renditions = in_turn(archive, range(len(pieces)), draw)
        with Filing(archive) as filing:
            session = filing.session
            contracts = _contracts(session, numbers, lock=True)
            _refuse(contracts, years)
            if [tombstone(c) for c in contracts] != items:
                raise Changed("待销毁的合同在生成销毁记录期间已被修改，请重试。")
            records = []
            for held_number, rendition in zip(reserved, renditions, strict=True):
                filing.use(held_number)
                records.append(add_record(filing, "destruction_certificate", held_number.number,
                                          rendition, actor))  # fmt: skip
            journal = Destruction(
                state="approved", approved_by=actor.name, approved_at=now, note=note,
                items=items, certificate_record_id=records[0].id,
                certificates=[r.number for r in records],
            )  # fmt: skip
            session.add(journal)
            for n, contract in enumerate(contracts):
                contract.retention_state = "destroying"
                contract.destroyed_by, contract.destroyed_at = actor.name, now
                enqueue(session, contract.contract_no)  # its index entries go
                audit.record(session, actor, "retention.destroy_approved", contract.contract_no,
                             note=note, certificate=records[n // PART_SIZE].number)  # fmt: skip
            session.flush()
            approved = journal.id, records
    return approved


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
    archive.indexer.apply_pending()  # destroyed contracts yield no entries
    with archive.catalogue.writing() as session:
        journal = session.get(Destruction, journal_id, with_for_update=True)
        if journal.state == "done":  # another process (a start, a sweep) closed it meanwhile
            return
        now = utcnow()
        for number in numbers:
            contract = load(session, number, SYSTEM, allow_destroyed=True, lock=True)
            contract.retention_state = "destroyed"
            # The register entry keeps only what the tombstone names.
            minimal = {k: contract.terms[k] for k in ("region", "signed_on")}
            minimal["seller"] = {"name": contract.seller_name}
            minimal["buyer"] = {"name": contract.buyer_name}
            contract.data = contract.terms = {**minimal, "items": [], "payment": {}}
            for doc in contract.documents:
                doc.destroyed_at = doc.destroyed_at or now
                doc.text = None  # the words go with the file
            audit.record(session, actor, "retention.destroyed", number,
                         destruction=journal_id)  # fmt: skip
        journal.state = "done"
    log.info("destruction %d carried out: %s", journal_id, ", ".join(numbers))


def _publish(archive: Archive, journal_id: int) -> bool:
    """Write the approval to the destruction journal of every backup target before any file
    goes, so that a restore from an older backup destroys them again. Not written to one:
    the destruction waits (its contracts already gone to readers, their files kept) for the
    next start or run (``finish_pending``) to try again."""
    if not archive.backup_targets:
        return True
    with archive.catalogue.reading() as session:
        entries = [journal.entry(session.get(Destruction, journal_id))]
    if journal.publish(archive.backup_targets, entries):
        return True
    log.error("destruction %d waits: its journal could not be written to every backup target",
              journal_id)  # fmt: skip
    return False


def replay(archive: Archive, entry: dict[str, Any], actor: Actor) -> list[str]:
    """Carry out again a destruction the journal holds and this catalogue does not (it was
    restored from a backup made before the approval): the contracts it names that are still
    here are destroyed, under the original approval. Returns their numbers."""
    with archive.catalogue.writing() as session:
        known = select(Contract).where(Contract.contract_no.in_(entry["contracts"]))
        contracts = [c for c in session.scalars(known.options(selectinload(Contract.documents))
                                                .with_for_update(of=Contract))
                     if c.retention_state not in GONE]  # fmt: skip
        if not contracts:
            return []
        approved_at = dt.datetime.fromisoformat(entry["approved_at"])
        destruction = Destruction(
            state="approved", approved_by=entry["approved_by"], approved_at=approved_at,
            note=entry.get("note"), items=[tombstone(c) for c in contracts],
            certificates=entry.get("certificates") or None,
        )  # fmt: skip
        session.add(destruction)
        for number in entry.get("certificates") or ():  # never issued twice
            if found := re.fullmatch(r"XH-(\d{4})-(\d+)", number):  # CERTIFICATE_PATTERN
                year, seq = int(found[1]), int(found[2])
                scope = numbering.scope_of(CERTIFICATE_PATTERN, dt.date(year, 1, 1))
                numbering.catch_up(session, scope, seq)
        for contract in contracts:
            contract.retention_state = "destroying"
            contract.destroyed_by, contract.destroyed_at = entry["approved_by"], approved_at
            enqueue(session, contract.contract_no)
            audit.record(session, actor, "retention.destroy_replayed", contract.contract_no,
                         approved_by=entry["approved_by"], approved_at=entry["approved_at"],
                         certificates=entry.get("certificates") or [])  # fmt: skip
        session.flush()
        journal_id = destruction.id
    _carry_out(archive, journal_id, actor)
    return [c.contract_no for c in contracts]


def finish_pending(archive: Archive, actor: Actor | None = None) -> list[int]:
    """Finish destructions a crash interrupted (called at start and by every run)."""
    with archive.catalogue.reading() as session:
        open_ids = list(session.scalars(select(Destruction.id)
                                        .where(Destruction.state != "done")))  # fmt: skip
    finished = []
    for journal_id in open_ids:
        log.warning("finishing interrupted destruction %d", journal_id)
        if _publish(archive, journal_id):
            _carry_out(archive, journal_id, actor or SYSTEM)
            finished.append(journal_id)
    return finished


def certificate_file(archive: Archive, number: str, fmt: str = "pdf") -> tuple[Record, bytes]:
    with archive.catalogue.reading() as session:
        record = session.scalar(select(Record).where(Record.number == number))
    if record is None:
        raise NotFound(f"记录 {number} 不存在。")
    digest = record.pdf_sha256 if fmt == "pdf" else record.docx_sha256
    return record, archive.storage.get(digest)
