"""The daily retention sweep, at any size: every due contract gets its outcome
(``archive.retention.decide``), contracts with money owed move to the unpaid volume, and the
newly destroyable ones are listed for a manager — one destruction list per volume.

A real run works in three steps, each resumable, so no transaction and no document grows
with the archive:

1. **Deciding**, ``BATCH`` contracts per write transaction, by contract id (keyset), loading
   only the columns a decision needs. A batch commits its changes (moves to the unpaid volume,
   holds and reopenings cleared), its audit entries, its outcomes (a ``RetentionRunBatch``)
   and the run's ``cursor`` together.
2. **Listing**: the contracts found newly destroyable, grouped by volume (signing year ×
   region) and cut into parts of ``retention.PART_SIZE``, each part one numbered list
   (XQ-YYYY-NNNN) rendered outside any transaction and filed in a short one that also sets
   its contracts ``pending_destruction`` (so a contract pending destruction is always on a
   filed list) and records the part in the run's ``lists``.
3. **Finishing**: the report (outcomes and lists) is written to the run, which is ``done``.

An interrupted real run (a crash, a failed conversion) is carried on by the next real run
from where it stopped: the same outcomes, no list twice. Real runs exclude each other (the
catalogue's ``retention`` lock). A dry run decides the same way in read transactions,
changes nothing and keeps only its report. A second run on the same day changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Row, Select, delete, false, func, or_, select, update
from sqlalchemy.orm import Session, load_only, selectinload

from archive import audit, chain, numbering, retention
from archive.actor import Actor
from archive.dossier import tombstone
from archive.errors import Conflict, InvalidData
from archive.filing import Filing
from archive.models import Contract, Document, Record, RetentionRun, RetentionRunBatch, utcnow
from archive.receivables import outstanding
from archive.retention import OUTCOMES
from templates import destruction as destruction_doc

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

BATCH = 2000  # contracts decided per transaction
LOCK = "retention"
KEPT = ("unpaid_volume", "pending_destruction")  # states a run looks at again
# (stage, done, total): stage "contracts" while deciding, "lists" while filing lists.
Progress = Callable[[str, int, int], None]


def _quiet(stage: str, done: int, total: int) -> None:
    pass


def run(archive: Archive, *, as_of: dt.date, dry_run: bool, actor: Actor,
        progress: Progress | None = None) -> dict[str, Any]:  # fmt: skip
    """Sweep every contract due on ``as_of``; return (and keep) the report."""
    progress = progress or _quiet
    today = dt.date.today()
    if not dry_run and as_of > today:
        message = f"清理基准日 {as_of.isoformat()} 晚于今天（{today.isoformat()}）：只能演练。"
        raise InvalidData({"as_of": ["实际清理的基准日不能晚于今天；可以用演练（dry_run）预看。"]},
                          message)  # fmt: skip
    retention.finish_pending(archive, actor)
    if dry_run:
        return _dry_run(archive, as_of, actor, progress)
    with ExitStack() as exclusive:
        try:
            exclusive.enter_context(archive.catalogue.lock(LOCK, blocking=False))
        except BlockingIOError:
            raise Conflict("另一次清理正在进行，请稍后再试。") from None
        report = None
        for run_id, started_as_of in _unfinished(archive):
            log.warning("carrying on retention run %d (as of %s), interrupted earlier",
                        run_id, started_as_of)  # fmt: skip
            carried = _carry_on(archive, run_id, actor, progress)
            if started_as_of == as_of:  # this very run, finished now
                report = carried
        if report is None:
            report = _carry_on(archive, _begin(archive, as_of, actor), actor, progress)
    return report


def runs(archive: Archive, *, limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
    """Kept sweep reports, newest first: how many there are, and one page of them."""
    with archive.catalogue.reading() as session:
        total = session.scalar(select(func.count(RetentionRun.id)))
        rows = session.scalars(select(RetentionRun).order_by(RetentionRun.id.desc())
                               .limit(limit).offset(offset)).all()  # fmt: skip
        return total, [_view(r) for r in rows]


def _view(r: RetentionRun) -> dict[str, Any]:
    report = r.report
    # Runs from before lists came in parts name one list; unfinished runs have counts only.
    earlier = [report["destruction_list"]] if report.get("destruction_list") else []
    return {
        "id": r.id, "as_of": r.as_of.isoformat(), "dry_run": r.dry_run, "actor": r.actor,
        "started_at": r.started_at.isoformat(timespec="seconds"), "state": r.state,
        "contracts": {}, "destruction_list": None, "destruction_lists": earlier,
        **{k: v for k, v in report.items() if k not in ("as_of", "dry_run")},
    }  # fmt: skip


# -- deciding --------------------------------------------------------------------------------


@dataclass
class Decided:
    """What one batch decided."""

    outcomes: dict[str, list[str]] = field(default_factory=lambda: {o: [] for o in OUTCOMES})
    moved: list[Row] = field(default_factory=list)  # to the unpaid volume
    cleared: list[int] = field(default_factory=list)  # reopened or held: plainly kept again
    # Newly destroyable, to be listed: [id, contract number, signing year, region].
    listing: list[list[Any]] = field(default_factory=list)


def _due_after(as_of: dt.date, years: int, after: int) -> list[ColumnElement[bool]]:
    """Contracts due on ``as_of`` (and not destroyed) with an id above ``after``."""
    last = retention.last_signing_day(as_of, years)
    return [
        Contract.id > after,
        Contract.signed_on <= last if last else false(),
        or_(Contract.retention_state.is_(None), Contract.retention_state.in_(KEPT)),
    ]


def _due(as_of: dt.date, years: int, after: int, size: int) -> Select:
    """The next ``size`` due contracts after id ``after``: only what deciding needs (never the
    terms, the documents or their words)."""
    return (
        select(Contract.id, Contract.contract_no, Contract.status, Contract.retention_state,
               Contract.hold_reason.is_not(None).label("held"), Contract.total, Contract.paid,
               Contract.approved_at, Contract.signed_on, Contract.region)
        .where(*_due_after(as_of, years, after)).order_by(Contract.id).limit(size)
    )  # fmt: skip


def _count_due(session: Session, as_of: dt.date, years: int, after: int = 0) -> int:
    return session.scalar(select(func.count(Contract.id)).where(*_due_after(as_of, years, after)))


def _decide(rows: Sequence[Row]) -> Decided:
    decided = Decided()
    for row in rows:
        outcome = retention.decide(held=row.held, status=row.status, owed=outstanding(row),
                                   state=row.retention_state)  # fmt: skip
        decided.outcomes[outcome].append(row.contract_no)
        if outcome == "moved_to_unpaid":
            decided.moved.append(row)
        elif outcome == "pending_destruction":
            decided.listing.append([row.id, row.contract_no, row.signed_on.year, row.region])
        elif outcome in ("in_performance", "held") and row.retention_state:
            decided.cleared.append(row.id)
    return decided


def _apply(session: Session, decided: Decided, as_of: dt.date, actor: Actor) -> None:
    """Write one batch's decisions (not the newly destroyable: their lists do that)."""
    for state, ids in (("unpaid_volume", [r.id for r in decided.moved]),
                       (None, decided.cleared)):  # fmt: skip
        if ids:
            session.execute(update(Contract).where(Contract.id.in_(ids))
                            .values(retention_state=state)
                            .execution_options(synchronize_session=False))  # fmt: skip
    for row in decided.moved:
        audit.record(session, actor, "retention.move_to_unpaid", row.contract_no,
                     volume=retention.unpaid_volume(row.signed_on.year, row.region),
                     as_of=as_of.isoformat(), outstanding=str(outstanding(row)))  # fmt: skip


def _unfinished(archive: Archive) -> list[tuple[int, dt.date]]:
    with archive.catalogue.reading() as session:
        return [tuple(r) for r in session.execute(
            select(RetentionRun.id, RetentionRun.as_of)
            .where(RetentionRun.state != "done", RetentionRun.dry_run.is_(False))
            .order_by(RetentionRun.id))]  # fmt: skip


def _begin(archive: Archive, as_of: dt.date, actor: Actor) -> int:
    with archive.catalogue.writing() as session:
        started = RetentionRun(
            as_of=as_of, dry_run=False, actor=actor.name, state="sweeping", cursor=0,
            report={"as_of": as_of.isoformat(), "dry_run": False,
                    "counts": {o: 0 for o in OUTCOMES}},
            lists={"part_size": retention.PART_SIZE, "filed": {}},
        )  # fmt: skip
        session.add(started)
        session.flush()
        return started.id


def _carry_on(archive: Archive, run_id: int, actor: Actor, progress: Progress) -> dict:
    """Take a real run from wherever it is to done; return its report."""
    with archive.catalogue.reading() as session:
        state = session.get(RetentionRun, run_id).state
    if state == "sweeping":
        _sweep(archive, run_id, actor, progress)
    numbers = _list(archive, run_id, actor, progress)
    return _finish(archive, run_id, numbers, actor)


def _sweep(archive: Archive, run_id: int, actor: Actor, progress: Progress) -> None:
    years = archive.retention_years["sales_contract"]
    with archive.catalogue.reading() as session:
        started = session.get(RetentionRun, run_id)
        done = sum(started.report["counts"].values())
        total = done + _count_due(session, started.as_of, years, started.cursor)
    progress("contracts", done, total)
    while decided := _sweep_batch(archive, run_id, years, actor):
        done += decided
        progress("contracts", done, max(total, done))


def _sweep_batch(archive: Archive, run_id: int, years: int, actor: Actor) -> int:
    """Decide and write the next batch; how many contracts it held (0: all decided)."""
    with archive.catalogue.writing() as session:
        current = session.get(RetentionRun, run_id, with_for_update=True)
        rows = session.execute(
            _due(current.as_of, years, current.cursor, BATCH).with_for_update()
        ).all()
        if not rows:
            current.state = "listing"
            return 0
        decided = _decide(rows)
        _apply(session, decided, current.as_of, actor)
        session.add(RetentionRunBatch(run_id=run_id, upto=rows[-1].id,
                                      outcomes=decided.outcomes,
                                      listing=decided.listing))  # fmt: skip
        current.cursor = rows[-1].id
        counts = current.report["counts"]
        current.report = {**current.report, "counts": {
            o: counts.get(o, 0) + len(decided.outcomes[o]) for o in OUTCOMES}}  # fmt: skip
        return len(rows)


# -- listing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One list document: a volume's newly destroyable contracts, or a part of them."""

    year: int
    region: str
    part: int
    parts: int
    start: int  # the number of its first row: rows go on numbering across a volume's parts
    ids: tuple[int, ...]

    @property
    def key(self) -> str:
        return f"{self.year}·{self.region}·{self.part}"


def plan(listing: list[list[Any]], size: int) -> list[Part]:
    """Lists per volume (signing year × region), in parts of at most ``size`` contracts, in
    contract-number order: the same plan every time for the same run."""
    volumes: dict[tuple[int, str], list[int]] = {}
    for contract_id, _no, year, region in sorted(listing, key=lambda e: (e[2], e[3], e[1])):
        volumes.setdefault((year, region), []).append(contract_id)
    planned = []
    for (year, region), ids in volumes.items():
        pieces = retention.parts(ids, size)
        planned += [Part(year, region, n + 1, len(pieces), n * size + 1, tuple(piece))
                    for n, piece in enumerate(pieces)]  # fmt: skip
    return planned


def _list(archive: Archive, run_id: int, actor: Actor, progress: Progress) -> list[str]:
    """File the lists of the run not filed yet; return all its list numbers in plan order."""
    with archive.catalogue.reading() as session:
        current = session.get(RetentionRun, run_id)
        as_of, lists = current.as_of, current.lists
        listing = [entry for (batch,) in session.execute(
            select(RetentionRunBatch.listing).where(RetentionRunBatch.run_id == run_id)
            .order_by(RetentionRunBatch.id)) for entry in batch]  # fmt: skip
    planned = plan(listing, lists["part_size"])
    filed = dict(lists["filed"])
    todo = [p for p in planned if p.key not in filed]
    counted = threading.Lock()
    done = [len(planned) - len(todo)]
    if todo:
        progress("lists", done[0], len(planned))
    today = dt.date.today()

    def claim(part: Part) -> numbering.Reserved:
        return numbering.reserve(archive.catalogue, retention.LIST_PATTERN, today)

    def work(part: Part, reserved: numbering.Reserved | None) -> str:
        assert reserved is not None
        try:
            _file_part(archive, run_id, part, reserved, as_of, actor)
        except BaseException:
            numbering.release(archive.catalogue, reserved)  # for the next filing of the scope
            raise
        with counted:
            done[0] += 1
            progress("lists", done[0], len(planned))
        return reserved.number

    for part, number in zip(todo, retention.in_turn(archive, todo, work, claim), strict=True):
        filed[part.key] = number
    return [filed[p.key] for p in planned]


def _file_part(archive: Archive, run_id: int, part: Part, reserved: numbering.Reserved,
               as_of: dt.date, actor: Actor) -> None:  # fmt: skip
    """Render one list part (outside any transaction), then file it, mark its contracts
    pending destruction and record the part in the run — all in one short transaction."""
    with archive.catalogue.reading() as session:
        contracts = session.scalars(
            select(Contract).where(Contract.id.in_(part.ids)).order_by(Contract.contract_no)
            .options(load_only(Contract.contract_no, Contract.archival_code,
                               Contract.seller_name, Contract.buyer_name, Contract.region,
                               Contract.signed_on, Contract.status, Contract.total,
                               Contract.paid),
                     selectinload(Contract.documents).load_only(
                         Document.kind, Document.number, Document.format, Document.sha256))
        ).all()  # fmt: skip
        items = [tombstone(c) for c in contracts]
    context = destruction_doc.list_context(
        items, as_of, volume=destruction_doc.volume_name(part.year, part.region),
        part=part.part, parts=part.parts, start=part.start,
        audit_head=str(chain.head_of(archive.catalogue)),
    )  # fmt: skip
    rendition = retention.render_record(archive, reserved.number, context)
    with Filing(archive) as filing:
        session = filing.session
        current = session.get(RetentionRun, run_id, with_for_update=True)
        if part.key in current.lists["filed"]:  # the run lock makes this impossible
            raise Conflict(f"清理 {run_id} 的销毁清单 {part.key} 已经生成。")
        filing.use(reserved)
        retention.add_record(filing, "destruction_list", reserved.number, rendition, actor)
        session.execute(
            update(Contract)
            .where(Contract.id.in_(part.ids),
                   or_(Contract.retention_state.is_(None),
                       Contract.retention_state == "unpaid_volume"))
            .values(retention_state="pending_destruction")
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        for item in items:
            audit.record(session, actor, "retention.pending_destruction", item["contract_no"],
                         as_of=as_of.isoformat(), destruction_list=reserved.number)  # fmt: skip
        filed = {**current.lists["filed"], part.key: reserved.number}
        current.lists = {**current.lists, "filed": filed}  # a new value: the change is seen
    log.info("destruction list %s filed: %s part %d of %d, %d contracts", reserved.number,
             destruction_doc.volume_name(part.year, part.region), part.part, part.parts,
             len(part.ids))  # fmt: skip


# -- finishing -------------------------------------------------------------------------------


def report_of(as_of: dt.date, dry_run: bool, outcomes: dict[str, list[str]],
              lists: list[str]) -> dict[str, Any]:  # fmt: skip
    """The report every interface shows; ``destruction_list`` is the first list, for callers
    from before lists came per volume."""
    contracts = {name: sorted(outcomes[name]) for name in OUTCOMES}
    return {
        "as_of": as_of.isoformat(), "dry_run": dry_run,
        "counts": {name: len(numbers) for name, numbers in contracts.items()},
        "contracts": contracts, "destruction_list": lists[0] if lists else None,
        "destruction_lists": lists,
    }  # fmt: skip


def _finish(archive: Archive, run_id: int, lists: list[str], actor: Actor) -> dict[str, Any]:
    with archive.catalogue.writing() as session:
        current = session.get(RetentionRun, run_id, with_for_update=True)
        outcomes: dict[str, list[str]] = {name: [] for name in OUTCOMES}
        for (batch,) in session.execute(
            select(RetentionRunBatch.outcomes).where(RetentionRunBatch.run_id == run_id)
        ):  # fmt: skip
            for name, numbers in batch.items():
                outcomes[name].extend(numbers)
        report = report_of(current.as_of, False, outcomes, lists)
        current.report, current.state, current.finished_at = report, "done", utcnow()
        if lists:
            current.list_record_id = session.scalar(
                select(Record.id).where(Record.number == lists[0])
            )
        session.execute(delete(RetentionRunBatch).where(RetentionRunBatch.run_id == run_id))
        audit.record(session, actor, "retention.run", None, as_of=current.as_of.isoformat(),
                     dry_run=False, counts=report["counts"], destruction_lists=lists)  # fmt: skip
    return report


def _dry_run(archive: Archive, as_of: dt.date, actor: Actor,
             progress: Progress) -> dict[str, Any]:  # fmt: skip
    """Decide as a real run would, in read transactions; keep only the report."""
    years = archive.retention_years["sales_contract"]
    outcomes: dict[str, list[str]] = {name: [] for name in OUTCOMES}
    after = done = 0
    with archive.catalogue.reading() as session:
        total = _count_due(session, as_of, years)
    progress("contracts", 0, total)
    while True:
        with archive.catalogue.reading() as session:
            rows = session.execute(_due(as_of, years, after, BATCH)).all()
        if not rows:
            break
        for name, numbers in _decide(rows).outcomes.items():
            outcomes[name] += numbers
        after, done = rows[-1].id, done + len(rows)
        progress("contracts", done, max(total, done))
    report = report_of(as_of, True, outcomes, [])
    with archive.catalogue.writing() as session:
        session.add(RetentionRun(as_of=as_of, dry_run=True, actor=actor.name, report=report,
                                 state="done", finished_at=utcnow()))  # fmt: skip
        audit.record(session, actor, "retention.run", None, as_of=as_of.isoformat(),
                     dry_run=True, counts=report["counts"])  # fmt: skip
    return report
