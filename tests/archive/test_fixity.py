"""Fixity checks: every stored file is re-read against its SHA-256; a lost or damaged one is
named for whoever restores it (never deleted or repaired), and nightly samples work through
the whole archive, least recently verified first — on both catalogues."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from archive import fixity
from archive.actor import SYSTEM, Actor
from archive.errors import Forbidden
from archive.models import AuditEntry, Contract, Document, FixityRun, Record
from tests.conftest import BOTH_DATABASES

pytestmark = BOTH_DATABASES
ARCHIVIST = Actor("zhou", "archivist", client="cli")


def _documents(archive) -> list[Document]:
    with archive.catalogue.reading() as session:
        query = select(Document).options(joinedload(Document.contract)).order_by(Document.id)
        return list(session.scalars(query))


def _record(archive, number: str = "XH-2026-0001") -> Record:
    """A destruction certificate with its two files (filed as retention files them)."""
    pdf = archive.storage.put(f"%PDF certificate {number}".encode())
    docx = archive.storage.put(f"PK certificate {number}".encode())
    with archive.catalogue.writing() as session:
        record = Record(kind="destruction_certificate", number=number, pdf_sha256=pdf,
                        docx_sha256=docx, created_by="wang")  # fmt: skip
        session.add(record)
    return record


def _stamp(archive, when: dict[str, dt.datetime]) -> None:
    """Set ``verified_at`` of the documents with these SHA-256, as if checked back then."""
    with archive.catalogue.writing() as session:
        for digest, at in when.items():
            session.execute(update(Document).where(Document.sha256 == digest)
                            .values(verified_at=at))  # fmt: skip


def test_a_full_check_reads_every_file_once_and_stamps_every_row(archive, create):
    create(), create()
    record = _record(archive)
    docs = _documents(archive)
    assert docs and all(d.verified_at is None for d in docs)

    run = fixity.check(archive, ARCHIVIST)

    files = {d.sha256 for d in docs} | {record.pdf_sha256, record.docx_sha256}
    assert (run.mode, run.checked, run.failures) == ("all", len(files), [])
    assert run.finished_at is not None and run.actor == "zhou"
    assert all(d.verified_at is not None for d in _documents(archive))
    with archive.catalogue.reading() as session:
        assert session.get(Record, record.id).verified_at is not None
        stored = session.get(FixityRun, run.id)
        assert (stored.checked, stored.failures) == (len(files), [])
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "fixity.check"))
    assert entry.actor == "zhou" and entry.target is None
    assert entry.detail == {"run": run.id, "mode": "all", "sample": None,
                            "checked": len(files), "failures": 0}  # fmt: skip


def test_missing_and_damaged_files_are_named_and_audited_but_left_alone(archive, create):
    first, second = create()["contract_no"], create()["contract_no"]
    record = _record(archive)
    fixity.check(archive, SYSTEM)
    docs = _documents(archive)
    damaged = next(d for d in docs if d.format == "pdf" and d.contract.contract_no == first)
    missing = next(d for d in docs if d.format == "docx" and d.contract.contract_no == second)
    path = archive.storage.path_for(damaged.sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    archive.storage.path_for(missing.sha256).unlink()
    archive.storage.path_for(record.docx_sha256).unlink()

    run = fixity.check(archive, ARCHIVIST)

    found = {f["sha256"]: f for f in run.failures}
    assert found[damaged.sha256] == {
        "sha256": damaged.sha256, "problem": "damaged",
        "documents": [f"合同 {first} 的文件 {damaged.filename}"],
    }  # fmt: skip
    assert found[missing.sha256] == {
        "sha256": missing.sha256, "problem": "missing",
        "documents": [f"合同 {second} 的文件 {missing.filename}"],
    }  # fmt: skip
    assert found[record.docx_sha256]["documents"] == [
        "销毁记录 XH-2026-0001 的文件 XH-2026-0001.docx"
    ]
    assert len(run.failures) == 3
    # nothing deleted or repaired: the damaged bytes are still there, the missing file gone
    assert path.read_bytes() == bytes(data)
    assert not archive.storage.path_for(missing.sha256).exists()
    with archive.catalogue.reading() as session:
        stored = session.get(FixityRun, run.id)
        assert {f["sha256"] for f in stored.failures} == set(found)
        entries = list(session.scalars(select(AuditEntry)
                                       .where(AuditEntry.action == "fixity.failed")))  # fmt: skip
        stamps = {d.id: d.verified_at for d in session.scalars(select(Document))}
        certificate = session.get(Record, record.id)
    assert {(e.target, e.detail["sha256"], e.detail["problem"]) for e in entries} == {
        (first, damaged.sha256, "damaged"), (second, missing.sha256, "missing"),
        ("XH-2026-0001", record.docx_sha256, "missing"),
    }  # fmt: skip
    assert all(e.detail["run"] == run.id for e in entries)
    # the failed files keep the stamp of the check that last found them intact
    assert stamps[damaged.id] == damaged.verified_at
    assert stamps[missing.id] == missing.verified_at
    assert all(at > damaged.verified_at for i, at in stamps.items()
               if i not in (damaged.id, missing.id))  # fmt: skip
    assert certificate.verified_at < run.started_at  # its Word file is gone


def test_samples_read_the_least_recently_verified_files_first(archive, create):
    create()
    fixity.check(archive, SYSTEM)
    docs = _documents(archive)
    oldest, older = docs[-1], docs[0]
    _stamp(archive, {oldest.sha256: dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
                     older.sha256: dt.datetime(2021, 1, 1, tzinfo=dt.UTC)})  # fmt: skip

    one = fixity.check(archive, SYSTEM, sample=1)
    assert (one.mode, one.checked, one.failures) == ("sample", 1, [])
    after = {d.sha256: d.verified_at for d in _documents(archive)}
    assert after[oldest.sha256] >= one.started_at
    assert after[older.sha256] == dt.datetime(2021, 1, 1, tzinfo=dt.UTC)

    newcomer = create()["contract_no"]  # never verified: before every stamped file
    two = fixity.check(archive, SYSTEM, sample=2)
    fresh = {d.sha256 for d in _documents(archive) if d.contract.contract_no == newcomer}
    assert two.checked == 2
    assert all(d.verified_at >= two.started_at for d in _documents(archive) if d.sha256 in fresh)

    # samples go round: as many one-file nights as files, and every file has been read again
    start = dt.datetime.now(dt.UTC)
    total = len({d.sha256 for d in _documents(archive)})
    for _ in range(total):
        assert fixity.check(archive, SYSTEM, sample=1).checked == 1
    assert all(d.verified_at >= start for d in _documents(archive))


def test_a_sample_passes_over_a_failed_file_instead_of_reading_it_again(archive, create):
    create()
    docs = _documents(archive)
    archive.storage.path_for(docs[0].sha256).unlink()
    run = fixity.check(archive, SYSTEM, sample=len(docs) + 5)
    assert run.checked == len({d.sha256 for d in docs})
    assert [f["sha256"] for f in run.failures] == [docs[0].sha256]


def test_a_broken_file_is_reported_every_night_without_holding_the_sample_back(archive, create):
    """Until it is mended, a missing file is the least recently verified one: it is read
    (and named) every night, and the sample of intact files still goes round."""
    create(), create()
    docs = _documents(archive)
    broken = docs[0].sha256
    archive.storage.path_for(broken).unlink()
    fixity.check(archive, SYSTEM)  # the others verified: the broken one is now the oldest
    intact = {d.sha256 for d in docs} - {broken}
    seen = set()
    for _ in range(len(intact)):
        night = fixity.check(archive, SYSTEM, sample=1)
        assert [f["sha256"] for f in night.failures] == [broken]
        seen |= {d.sha256 for d in _documents(archive) if d.verified_at
                 and d.verified_at >= night.started_at}  # fmt: skip
    assert seen == intact


def test_a_file_shared_by_two_documents_is_read_once_and_both_are_named(archive, create):
    first, second = create()["contract_no"], create()["contract_no"]
    docs = _documents(archive)
    pdf = next(d for d in docs if d.format == "pdf" and d.contract.contract_no == first)
    other = next(d for d in docs if d.contract.contract_no == second)
    with archive.catalogue.writing() as session:  # the same bytes filed twice share one file
        twin = Document(contract_id=other.contract_id, kind="signed_scan", number=second,
                        format="original", filename="扫描件-原件.pdf", media_type=pdf.media_type,
                        sha256=pdf.sha256, size=pdf.size, created_by="li")  # fmt: skip
        session.add(twin)
    run = fixity.check(archive, SYSTEM)
    assert run.checked == len({d.sha256 for d in docs})
    assert all(d.verified_at for d in _documents(archive))

    archive.storage.path_for(pdf.sha256).unlink()
    (failure,) = fixity.check(archive, SYSTEM).failures
    assert failure["documents"] == [f"合同 {first} 的文件 {pdf.filename}",
                                    f"合同 {second} 的文件 扫描件-原件.pdf"]  # fmt: skip
    with archive.catalogue.reading() as session:
        targets = set(session.scalars(select(AuditEntry.target)
                                      .where(AuditEntry.action == "fixity.failed")))  # fmt: skip
    assert targets == {first, second}


def test_the_files_of_a_dossier_being_destroyed_are_not_missed(archive, create):
    number = create()["contract_no"]
    with archive.catalogue.writing() as session:
        session.execute(update(Contract).where(Contract.contract_no == number)
                        .values(retention_state="destroying"))  # fmt: skip
    for doc in _documents(archive):
        archive.storage.delete(doc.sha256)  # what carrying out a destruction does first
    run = fixity.check(archive, SYSTEM)
    assert (run.checked, run.failures) == (0, [])


def test_only_archivists_check_the_store(archive):
    with pytest.raises(Forbidden):
        fixity.check(archive, Actor("li", "clerk"))
    with archive.catalogue.reading() as session:
        assert session.scalar(select(FixityRun)) is None


def test_a_file_store_not_mounted_does_not_make_one_night_read_the_whole_archive(
    archive, create, monkeypatch
):
    create(), create()
    files = {d.sha256 for d in _documents(archive)}
    for digest in files:
        archive.storage.path_for(digest).unlink()
    monkeypatch.setattr(fixity, "BROKEN_EXTRA", 1)
    night = fixity.check(archive, SYSTEM, sample=1)
    assert len(night.failures) == 2 < len(files)
