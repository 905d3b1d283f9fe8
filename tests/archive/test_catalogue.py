"""The catalogue, the file store and the numbers agree, even after a crash."""

from __future__ import annotations

import sqlite3

from alembic.script import ScriptDirectory
from sqlalchemy import select

from archive.catalogue import MIGRATIONS
from archive.models import Document


def test_catalogue_is_sqlite_in_wal_mode_at_the_newest_migration(archive, data_dir):
    db = sqlite3.connect(data_dir / "catalogue.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert db.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head
    db.close()


def test_money_is_stored_as_exact_fen(archive, create, data_dir):
    create()
    db = sqlite3.connect(data_dir / "catalogue.sqlite3")
    assert db.execute("SELECT total, typeof(total) FROM contracts").fetchone() == (
        38250500,
        "integer",
    )
    db.close()


def test_documents_record_their_provenance(archive, create):
    create()
    with archive.catalogue.reading() as s:
        docs = {d.format: d for d in s.scalars(select(Document))}
    pdf, docx = docs["pdf"], docs["docx"]
    for doc in (pdf, docx):
        assert doc.template_name == "sales_contract"
        assert len(doc.template_sha256) == 64
        assert len(doc.input_sha256) == 64
        assert doc.renderer.startswith("docxtpl ")
        assert archive.storage.get(doc.sha256)  # present and its hash verifies
    assert pdf.libreoffice_version and pdf.libreoffice_version[0].isdigit()
    assert pdf.input_sha256 == docx.input_sha256


def test_files_left_by_a_crash_before_commit_are_removed_at_start(settings, create):
    from service import create_app

    create()
    app = create_app(settings)
    archive = app.extensions["hetong.archive"]
    orphan = archive.storage.put(b"%PDF-1.7 written, then the process died before commit")
    partial = archive.storage.tmp / "deadbeef.part"
    partial.write_bytes(b"half a file")
    with archive.catalogue.reading() as s:
        kept = set(s.scalars(select(Document.sha256)))
    archive.close()

    restarted = create_app(settings).extensions["hetong.archive"]
    assert set(restarted.storage.digests()) == kept
    assert orphan not in kept
    assert not partial.exists()
    restarted.close()


def test_the_number_pattern_is_configurable(settings, payload):
    from archive import contracts
    from archive.actor import SYSTEM
    from service import create_app

    app = create_app({**settings, "CONTRACT_NUMBER_PATTERN": "XS{year}-{seq:05d}"})
    archive = app.extensions["hetong.archive"]
    data = contracts.validate(archive, payload)
    assert contracts.create(archive, data, SYSTEM).contract_no == "XS2026-00001"
    payload["signed_on"] = "2026-12-01"
    data = contracts.validate(archive, payload)
    assert contracts.create(archive, data, SYSTEM).contract_no == "XS2026-00002"
    archive.close()
