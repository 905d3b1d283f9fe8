"""Fixity checks (文件核验, ``hetong fixity check``): re-read the stored files and compare each
one's SHA-256 with the catalogue, so that a file lost or damaged on disk is found while a
backup still holds it — not years later, when someone needs it.

``check()`` reads every live file (the documents of dossiers not destroyed, and the
destruction lists and certificates, kept permanently). ``check(sample=N)`` reads the N files
verified least recently, never-verified ones first: each file read is stamped
(``verified_at``), so nightly samples work through the whole archive over time and then start
again with the oldest (all files in about files ÷ N nights).

Several documents may share one stored file: it is read once. A destruction list's or
certificate's two files (PDF, Word) are read together, since their row has one stamp.
The work goes in batches — a short read of their names, the files read one block at a time,
a short write of the stamps — so the catalogue is never locked for long and a large archive
never sits in memory.

Nothing is deleted or repaired. A missing or damaged file is reported: in the run
(``FixityRun``, written when the run ends), and in the audit log as it is found
(``fixity.failed``, per contract or record), for someone to restore it from a backup.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, union, union_all, update
from sqlalchemy.orm import Session

from archive import audit
from archive.actor import Actor
from archive.core import Archive
from archive.errors import Forbidden, InvalidData
from archive.models import GONE, Contract, Document, FixityRun, Record, UTCDateTime, iso, utcnow
from archive.storage import Storage, StorageError, digest_of
from schemas.labels import RECORD_NAMES

log = logging.getLogger(__name__)

BATCH = 500  # files per batch: one short read of their rows, one short write of their stamps
# Broken files a sample may read beyond its size before it stops (they are reported anyway).
BROKEN_EXTRA = 100
# The rank of a file never verified (or shared with a row never verified): before any stamp.
NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# Stamps are written by plain UPDATEs: no ORM objects are loaded to be kept in step.
BULK = {"synchronize_session": False}
# (files read so far, files to read)
Progress = Callable[[int, int], None]


def _live() -> tuple[Any, ...]:
    """Documents whose file must exist: not destroyed, and not of a dossier being destroyed
    (its files go before its rows are marked)."""
    kept = or_(Contract.retention_state.is_(None), Contract.retention_state.notin_(GONE))
    return Document.destroyed_at.is_(None), kept


def check(
    archive: Archive,
    actor: Actor,
    *,
    sample: int | None = None,
    progress: Progress | None = None,
) -> FixityRun:
    """Verify every live stored file (``sample=None``) or the ``sample`` least recently
    verified ones; return the finished run (``failures`` lists what was missing or damaged)."""
    if not (actor.operator or actor.can("archivist")):
        raise Forbidden("只有档案管理员可以核验文件库。")
    if sample is not None and sample < 1:
        raise InvalidData({"sample": ["抽查的文件数须为正整数。"]})
    mode = "all" if sample is None else "sample"
    with archive.catalogue.writing() as session:
        run = FixityRun(actor=actor.name, mode=mode, started_at=utcnow(), checked=0,
                        failures=[])  # fmt: skip
        session.add(run)
        session.flush()
        run_id, started = run.id, run.started_at
    total = _count(archive)
    total = total if sample is None else min(sample, total)
    intact = 0  # a sample counts intact files: ones found broken are read every night

    # (reported until mended) without keeping the sample from the rest of the archive
    # ...but a bounded number of broken ones: a file store not mounted makes every file
    # "missing", and one night must not read (and audit) the whole archive.
    def budget() -> int:
        return sample - intact if len(failures) < sample + BROKEN_EXTRA else 0

    batches = _everything(archive) if sample is None else _least_recent(archive, budget, started)
    checked, failures = 0, []
    together: set[str] = set()  # the files of records read so far (read with their partner)
    for digests in batches:
        read, found = _batch(archive, actor, run_id, digests, together, checked)
        checked += read
        failures += found
        intact += read - len(found)
        if progress:
            progress(checked, max(total, checked))
    with archive.catalogue.writing() as session:
        run = session.get(FixityRun, run_id)
        run.checked, run.failures, run.finished_at = checked, failures, utcnow()
        audit.record(session, actor, "fixity.check", None, run=run_id, mode=mode, sample=sample,
                     checked=checked, failures=len(failures))  # fmt: skip
    if failures:
        log.error("fixity check %d: %d of %d stored file(s) missing or damaged",
                  run_id, len(failures), checked)  # fmt: skip
    else:
        log.info("fixity check %d: %d stored file(s) intact", run_id, checked)
    return run


def as_dict(run: FixityRun) -> dict[str, Any]:
    """A run as JSON: times in UTC (ISO 8601)."""
    return {"id": run.id, "actor": run.actor, "mode": run.mode,
            "started_at": iso(run.started_at), "finished_at": iso(run.finished_at),
            "checked": run.checked, "failures": list(run.failures or [])}  # fmt: skip


# -- which files ----------------------------------------------------------------------------


def _count(archive: Archive) -> int:
    """How many distinct live files there are (for the progress lines)."""
    files = union(
        select(Document.sha256.label("sha256")).join(Contract).where(*_live()),
        select(Record.pdf_sha256),
        select(Record.docx_sha256),
    ).subquery()
    with archive.catalogue.reading() as session:
        return session.scalar(select(func.count()).select_from(files)) or 0


def _everything(archive: Archive) -> Iterator[list[str]]:
    """Every live file once, in batches in the order of their SHA-256 (a stamp written
    meanwhile does not move a file, so none is skipped or read twice)."""
    after = ""
    while True:
        with archive.catalogue.reading() as session:
            found = set(session.scalars(
                select(Document.sha256).distinct().join(Contract)
                .where(*_live(), Document.sha256 > after)
                .order_by(Document.sha256).limit(BATCH)
            ))  # fmt: skip
            for column in (Record.pdf_sha256, Record.docx_sha256):
                found.update(session.scalars(
                    select(column).where(column > after).order_by(column).limit(BATCH)
                ))  # fmt: skip
        digests = sorted(found)[:BATCH]
        if not digests:
            return
        yield digests
        after = digests[-1]


def _least_recent(archive: Archive, budget: Callable[[], int],
                  started: dt.datetime) -> Iterator[list[str]]:  # fmt: skip
    """Files verified least recently, in batches while ``budget()`` is positive (what is left
    of the sample, asked after each batch). A file is as old as its
    oldest row (a new document sharing a verified file has not been verified itself). The
    cursor passes files that failed (their stamps stay old); files stamped by this run are
    newer than its start and drop out."""
    files = union_all(
        select(Document.sha256.label("sha256"), Document.verified_at.label("at"))
        .join(Contract).where(*_live()),
        select(Record.pdf_sha256, Record.verified_at),
        select(Record.docx_sha256, Record.verified_at),
    ).subquery()  # fmt: skip
    never = func.max(case((files.c.at.is_(None), 1), else_=0)) == 1
    rank = case((never, literal(NEVER, UTCDateTime())), else_=func.min(files.c.at))
    cursor: tuple[dt.datetime, str] | None = None
    while (left := budget()) > 0:
        query = (select(files.c.sha256, rank.label("rank")).group_by(files.c.sha256)
                 .having(rank < started).order_by(rank, files.c.sha256)
                 .limit(min(BATCH, left)))  # fmt: skip
        if cursor is not None:
            at, digest = cursor
            query = query.having(or_(rank > at, and_(rank == at, files.c.sha256 > digest)))
        with archive.catalogue.reading() as session:
            rows = session.execute(query).all()
        if not rows:
            return
        yield [row.sha256 for row in rows]
        cursor = (rows[-1].rank, rows[-1].sha256)


# -- one batch ------------------------------------------------------------------------------


def _batch(archive: Archive, actor: Actor, run_id: int, digests: list[str],
           together: set[str], before: int) -> tuple[int, list[dict[str, Any]]]:  # fmt: skip
    """Read one batch of files, stamp the intact ones, report the others; return how many
    files were read and the failures."""
    wanted = [d for d in digests if d not in together]
    with archive.catalogue.reading() as session:
        pairs = session.execute(
            select(Record.pdf_sha256, Record.docx_sha256)
            .where(or_(Record.pdf_sha256.in_(wanted), Record.docx_sha256.in_(wanted)))
        ).all()  # fmt: skip
    partners = {d for pair in pairs for d in pair}
    together |= partners
    files = list(dict.fromkeys([*wanted, *sorted(partners)]))
    problems = {d: p for d in files if (p := _problem(archive.storage, d))}
    intact = [d for d in files if d not in problems]
    failures: list[dict[str, Any]] = []
    with archive.catalogue.writing() as session:
        now = utcnow()
        if intact:
            session.execute(update(Document)
                            .where(Document.sha256.in_(intact), Document.destroyed_at.is_(None))
                            .values(verified_at=now), execution_options=BULK)  # fmt: skip
            session.execute(update(Record)
                            .where(Record.pdf_sha256.in_(intact), Record.docx_sha256.in_(intact))
                            .values(verified_at=now), execution_options=BULK)  # fmt: skip
        if problems:
            failures = _report(session, actor, run_id, problems)
        session.execute(update(FixityRun).where(FixityRun.id == run_id)
                        .values(checked=before + len(files)))  # fmt: skip
    return len(files), failures


def _problem(storage: Storage, digest: str) -> str | None:
    """``None`` when the stored file still has its SHA-256, else "missing" or "damaged"."""
    try:
        path = storage.path_for(digest)
    except StorageError:  # not a digest: no file can be named by it
        return "missing"
    try:
        found = digest_of(path)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:  # unreadable (a bad sector, permissions): as good as damaged
        log.error("stored file %s cannot be read: %s", digest, exc)
        return "damaged"
    return None if found == digest else "damaged"


def _report(session: Session, actor: Actor, run_id: int,
            problems: dict[str, str]) -> list[dict[str, Any]]:  # fmt: skip
    """Name the documents behind each failed file and audit it once per contract (or record).
    A file no live row names any more (its dossier was destroyed meanwhile) is no failure."""
    named = names(session, set(problems))
    failures = []
    for digest, problem in problems.items():
        owners = named.get(digest)
        if not owners:
            continue
        failures.append({"sha256": digest, "problem": problem,
                         "documents": [name for _, name in owners]})  # fmt: skip
        by_target: dict[str, list[str]] = defaultdict(list)
        for target, name in owners:
            by_target[target].append(name)
        for target, listed in by_target.items():
            audit.record(session, actor, "fixity.failed", target, run=run_id, sha256=digest,
                         problem=problem, documents=listed)  # fmt: skip
        log.error("stored file %s is %s: %s", digest, problem, "; ".join(n for _, n in owners))
    return failures


def names(session: Session, digests: set[str]) -> dict[str, list[tuple[str, str]]]:
    """SHA-256 → (contract or record number, the name people read) of each live row that
    names the file, in the words of ``Storage.read``'s callers."""
    named: dict[str, list[tuple[str, str]]] = defaultdict(list)
    rows = session.execute(
        select(Document.sha256, Contract.contract_no, Document.filename).join(Contract)
        .where(Document.sha256.in_(sorted(digests)), *_live())
        .order_by(Contract.contract_no, Document.id)
    )  # fmt: skip
    for digest, contract_no, filename in rows:
        named[digest].append((contract_no, f"合同 {contract_no} 的文件 {filename}"))
    records = session.execute(
        select(Record.kind, Record.number, Record.pdf_sha256, Record.docx_sha256)
        .where(or_(Record.pdf_sha256.in_(sorted(digests)), Record.docx_sha256.in_(sorted(digests))))
        .order_by(Record.number)
    )  # fmt: skip
    for kind, number, pdf, docx in records:
        for digest, ext in ((pdf, "pdf"), (docx, "docx")):
            if digest in digests:
                title = RECORD_NAMES.get(kind, kind)
                named[digest].append((number, f"{title} {number} 的文件 {number}.{ext}"))
    return named
