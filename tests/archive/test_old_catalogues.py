"""Every catalogue a released schema made opens in place, its records intact; a catalogue a
newer hetong migrated is refused and left as it was.

The fixtures (``tests/data/catalogues``) come from ``tools/make_old_catalogues.py``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import inspect, text

from archive import chain, contracts, numbering, searching, startup, users
from archive.actor import SYSTEM
from archive.catalogue import MIGRATIONS, Catalogue
from archive.core import CATALOGUE_FILE, Archive
from archive.errors import CatalogueTooNew
from service.cli import main
from templates.convert import Converter

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "data" / "catalogues"
REVISIONS = sorted(path.stem for path in FIXTURES.glob("*.sqlite3"))
# A conversion host nobody listens on: opening an archive converts nothing, and were anything
# to try, it fails instead of starting LibreOffice.
NOWHERE = "http://127.0.0.1:9"


def _tool():
    path = ROOT / "tools" / "make_old_catalogues.py"
    spec = importlib.util.spec_from_file_location("make_old_catalogues", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()


def _heads() -> tuple[str, ...]:
    return tuple(ScriptDirectory(str(MIGRATIONS)).get_heads())


def _data_root(tmp_path: Path, revision: str) -> Path:
    """A data root holding the fixture of ``revision`` and the documents' files."""
    root = tmp_path / "var"
    root.mkdir()
    shutil.copyfile(FIXTURES / f"{revision}.sqlite3", root / CATALOGUE_FILE)
    shutil.copytree(FIXTURES / "files", root / "files")
    return root


def _sql(root: Path, query: str) -> list[tuple]:
    db = sqlite3.connect(root / CATALOGUE_FILE)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def _dump(root: Path) -> list[str]:
    db = sqlite3.connect(root / CATALOGUE_FILE)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def test_every_released_revision_has_its_fixture():
    """Bumping ``RELEASED`` without running the tool (or the reverse) shows here."""
    assert TOOL.released() == REVISIONS
    assert REVISIONS[-1] == TOOL.RELEASED


@pytest.mark.parametrize("revision", REVISIONS)
def test_a_catalogue_made_by_a_released_schema_opens_with_its_records(tmp_path, revision):
    root = _data_root(tmp_path, revision)
    assert _sql(root, "SELECT version_num FROM alembic_version") == [(revision,)]
    entries = _sql(root, "SELECT count(*) FROM audit_log")[0][0]

    archive = startup.start(Archive(data_dir=root, converter=Converter(url=NOWHERE)))
    try:
        with archive.catalogue.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_heads() == _heads()
            assert connection.execute(text("SELECT count(*) FROM audit_log")).scalar() == entries
        # The entries written before the chain existed are chained by the upgrade, in order.
        chained = chain.verify(archive.catalogue)
        assert chained.intact and chained.count == entries

        total, listed = contracts.listing(archive, SYSTEM, sort="contract_no", order="asc")
        assert total == 2
        assert [c.contract_no for c in listed] == ["HT-202611-0001", "HT-202611-0002"]

        paid = Decimal("114751.50") if revision >= "0002" else Decimal(0)
        first = contracts.get(archive, "HT-202611-0001", SYSTEM)
        assert (first.status, first.buyer_name) == ("effective", "杭州临平精工机械有限公司")
        assert (first.total, first.original_total) == (Decimal("382505.00"), Decimal("382505.00"))
        assert (first.paid, first.outstanding) == (paid, Decimal("382505.00") - paid)
        assert [p.amount for p in first.payments] == ([paid] if paid else [])
        assert first.due_on == dt.date(2027, 1, 31)
        assert first.terms["buyer"]["name"] == first.buyer_name
        assert (first.approved_by, first.owner) == ("wang", "li")
        assert first.archival_code == "HT·2026·华东·0001"

        second = contracts.get(archive, "HT-202611-0002", SYSTEM)
        assert (second.status, second.buyer_name) == ("draft", "苏州恒泰精密制造有限公司")
        assert (second.total, second.paid) == (Decimal("12505.00"), Decimal(0))
        assert second.due_on == dt.date(2027, 2, 28)
        assert second.confidential is (revision >= "0011")

        for contract in (first, second):
            docs = sorted(contract.documents, key=lambda d: d.format)
            assert [(d.format, d.number) for d in docs] == [
                ("docx", contract.contract_no), ("pdf", contract.contract_no)]  # fmt: skip
            assert {d.archival_code for d in docs} == {f"{contract.archival_code}-01"}
            for doc in docs:  # the files are still there, whole (start-up removed none)
                assert len(archive.storage.read(doc.sha256, doc.filename)) == doc.size
            # Texts filed before 0006 were read from the files when the index was built.
            assert contract.buyer_name in docs[0].text
        found = searching.search(archive, SYSTEM, "恒泰")
        assert [hit["contract_no"] for hit in found.hits] == ["HT-202611-0002"]

        li = users.by_token(archive.catalogue, TOOL.TOKENS["li"])
        assert li is not None and li.name == "li"
        assert li.display_name == ("李明" if revision >= "0010" else "li")
        assert li.department == "销售部"
        wang = users.by_password(archive.catalogue, "wang", TOOL.PASSWORD)
        assert (wang.name if wang else None) == ("wang" if revision >= "0005" else None)

        # The sequences carry on: the next contract of the month is the third.
        held = numbering.reserve(archive.catalogue, archive.number_pattern, dt.date(2026, 11, 28))
        assert held.number == "HT-202611-0003"
        numbering.release(archive.catalogue, held)
    finally:
        archive.close()


# -- a catalogue from a newer program ----------------------------------------------------------


def _too_new(tmp_path: Path) -> Path:
    """The newest fixture, stamped as a later hetong would have left it."""
    root = _data_root(tmp_path, REVISIONS[-1])
    db = sqlite3.connect(root / CATALOGUE_FILE)
    with db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    db.close()
    return root


def test_the_catalogue_refuses_a_newer_schema_and_changes_nothing(tmp_path):
    root = _too_new(tmp_path)
    before = _dump(root)
    catalogue = Catalogue(f"sqlite:///{root / CATALOGUE_FILE}")
    with pytest.raises(CatalogueTooNew) as refused:
        catalogue.migrate()
    catalogue.dispose()
    assert refused.value.code == "catalogue_too_new"
    assert "9999" in refused.value.message and _heads()[0] in refused.value.message
    assert "请使用更新版本的 hetong" in refused.value.message
    assert _dump(root) == before


def test_a_newer_postgresql_catalogue_is_refused_too(postgres):
    catalogue = Catalogue(postgres.create())
    catalogue.migrate()
    with catalogue.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        tables = inspect(connection).get_table_names()
    with pytest.raises(CatalogueTooNew):
        catalogue.migrate()
    with catalogue.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [
            ("9999",)
        ]
        assert inspect(connection).get_table_names() == tables
    catalogue.dispose()


@pytest.mark.parametrize(
    "args",
    [["contracts", "show", "HT-202611-0001"], ["users", "list"],
     ["users", "add", "zhou", "--role", "archivist"], ["serve"]],
    ids=lambda a: " ".join(a),
)  # fmt: skip
def test_the_command_line_names_the_reason_and_exits_1(tmp_path, monkeypatch, args):
    for name in ("HETONG_DATA_DIR", "HETONG_DATABASE_URL", "HETONG_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HETONG_CONVERTER_URL", NOWHERE)
    root = _too_new(tmp_path)
    before = _dump(root)

    result = CliRunner().invoke(main, ["--data-dir", str(root), *args])

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not an uncaught error
    assert "目录库（版本 9999）比本程序新" in result.stderr
    assert "请使用更新版本的 hetong" in result.stderr
    assert "Traceback" not in result.output
    assert _dump(root) == before
