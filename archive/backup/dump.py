"""The catalogue copied as one consistent moment while the service runs, what that copy
names, and putting a copy back.

SQLite: the online backup API (readers and writers carry on). PostgreSQL: ``pg_dump`` in a
snapshot exported by a transaction that also reads the copy's inventory, so the files listed
are exactly those the dump names.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, create_engine, func, select, text
from sqlalchemy.engine import make_url

from archive.catalogue import Catalogue
from archive.chain import EMPTY, ChainHead
from archive.errors import ArchiveError
from archive.models import AuditEntry, Contract, Document, Record

SQLITE_FILE = "catalogue.sqlite3"
PG_FILE = "catalogue.pgdump"


class DumpFailed(ArchiveError):
    code = "backup_failed"


@dataclass
class Inventory:
    """What one copy of the catalogue names and holds."""

    revision: str
    files: dict[str, int | None]  # sha256 → size (None: a record's, measured when copied)
    counts: dict[str, int]
    audit_head: str


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL as PostgreSQL's own tools take it, and their environment: the
    password goes there (PGPASSWORD), never on a command line others can read (ps)."""
    parsed = make_url(url)
    environment = dict(os.environ)
    if parsed.password:
        environment["PGPASSWORD"] = parsed.password
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def tool(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))[::-1]), None
    )
    if not found:
        raise DumpFailed(
            f"未找到 {name}：请安装 PostgreSQL 客户端（sudo apt-get install postgresql-client）。"
        )
    return found


def dump(catalogue: Catalogue, into: Path) -> tuple[str, Inventory]:
    """Copy the catalogue into the folder ``into``; the file's name and what it holds."""
    if catalogue.dialect == "sqlite":
        copy = into / SQLITE_FILE
        source = sqlite3.connect(catalogue.engine.url.database)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # one consistent moment, writers carry on
        finally:
            target.close()
            source.close()
        copy.chmod(0o600)  # the whole archive's records: its owner's alone
        engine = create_engine(f"sqlite:///{copy}")
        try:
            with engine.connect() as connection:
                return SQLITE_FILE, inventory(connection)
        finally:
            engine.dispose()
    with _exported(catalogue) as (connection, snapshot):
        url, environment = libpq(catalogue.url)
        command = [
            tool("pg_dump"),
            "--format=custom",
            f"--snapshot={snapshot}",
            f"--file={into / PG_FILE}",
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, env=environment)
        if done.returncode:
            raise DumpFailed(f"pg_dump 失败：{done.stderr.strip()}")
        (into / PG_FILE).chmod(0o600)
        return PG_FILE, inventory(connection)


@contextmanager
def _exported(catalogue: Catalogue) -> Iterator[tuple[Connection, str]]:
    with catalogue.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            yield connection, snapshot


def inventory(connection: Connection) -> Inventory:
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    files: dict[str, int | None] = dict(
        connection.execute(
            select(Document.sha256, Document.size).where(Document.destroyed_at.is_(None))
        ).all()
    )
    for pdf, docx in connection.execute(select(Record.pdf_sha256, Record.docx_sha256)):
        files.setdefault(pdf, None)
        files.setdefault(docx, None)
    head = connection.execute(select(AuditEntry.seq, AuditEntry.hash)
                              .where(AuditEntry.seq.is_not(None))
                              .order_by(AuditEntry.seq.desc()).limit(1)).first()  # fmt: skip

    def count(query) -> int:
        return connection.execute(query).scalar_one()

    counts = {
        "contracts": count(select(func.count()).select_from(Contract)),
        "destroyed": count(
            select(func.count())
            .select_from(Contract)
            .where(Contract.retention_state == "destroyed")
        ),
        "documents": count(
            select(func.count()).select_from(Document).where(Document.destroyed_at.is_(None))
        ),
        "records": count(select(func.count()).select_from(Record)),
        "audit_entries": count(select(func.count()).select_from(AuditEntry)),
    }
    return Inventory(revision, files, counts, str(ChainHead(*head) if head else EMPTY))


def load(copy: Path, *, data_dir: Path, database_url: str) -> None:
    """Put a copy back: the SQLite file into the data root, or a dump into the (empty)
    PostgreSQL database ``database_url``."""
    if copy.name == SQLITE_FILE:
        if database_url:
            raise DumpFailed(
                "该备份的目录数据库是 SQLite，只能恢复为数据目录中的 SQLite 文件"
                "（不要给 --database-url）。"
            )
        shutil.copyfile(copy, data_dir / SQLITE_FILE)
        with (data_dir / SQLITE_FILE).open("rb+") as fh:
            os.fsync(fh.fileno())
        return
    if not database_url:
        raise DumpFailed("该备份的目录数据库是 PostgreSQL：请用 --database-url 指定一个空数据库。")
    url, environment = libpq(database_url)
    command = [
        tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={url}",
        str(copy),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=environment)
    if done.returncode:
        raise DumpFailed(f"pg_restore 失败：{done.stderr.strip()}")


def is_empty(database_url: str) -> bool:
    """Whether a PostgreSQL database holds no tables yet."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return not connection.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar_one()
    finally:
        engine.dispose()


def empty(database_url: str) -> None:
    """Empty again a PostgreSQL database a failed restore wrote to (it was empty before)."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
