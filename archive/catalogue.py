"""The catalogue database: engine, sessions and migrations.

SQLite runs in WAL mode so readers never wait for a writer. Writers open their
transaction with ``BEGIN IMMEDIATE`` so two writers queue on the lock instead of
failing halfway through with "database is locked".

Work that must follow a commit (applying the index outbox) is not called by the code
that commits: a write transaction ``notify``-s a topic, and the callbacks registered for
it with ``on_commit`` run once the commit has succeeded (never after a rollback).

``lock(name)`` excludes every other holder of ``name`` wherever it runs: a file lock next to
an SQLite catalogue (one machine), a PostgreSQL advisory lock otherwise (every machine that
shares the catalogue).

Times are stored in UTC; ``zone`` is the local time zone people read them in (their days, in
the retrieval register's filters, are local days). A session carries it in ``info["zone"]``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.errors import CatalogueTooNew
from archive.locks import exclusive
from schemas.labels import DEFAULT_ZONE
from schemas.labels import zone as zone_of

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
_TOPICS = "hetong.topics"


def notify(session: Session, topic: str) -> None:
    """Have the callbacks registered for ``topic`` run once this transaction commits."""
    session.info.setdefault(_TOPICS, set()).add(topic)


def make_engine(url: str) -> Engine:
    is_sqlite = url.startswith("sqlite")
    if not is_sqlite:
        # psycopg prepares a statement after 5 uses; a generic plan can lose an index
        # condition (a LIKE prefix) that the custom plan had: plan each time instead.
        options = {"prepare_threshold": None} if "psycopg" in url else {}
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                             connect_args=options)  # fmt: skip
    engine = create_engine(url, connect_args={"timeout": 60})
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection):
            immediate = connection.get_execution_options().get("immediate", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Catalogue:
    """Sessions on the catalogue; ``writing()`` for anything that changes it."""

    def __init__(self, url: str, *, lock_dir: Path | None = None, zone: str = DEFAULT_ZONE) -> None:
        self.url = url
        self._sqlite = url.startswith("sqlite")
        self.lock_dir = Path(lock_dir) if lock_dir else None
        self.zone = zone_of(zone)
        self.engine = make_engine(url)
        info = {"zone": self.zone}
        self._read = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._write = sessionmaker(
            self.engine.execution_options(immediate=True), expire_on_commit=False, info=info
        )
        self._callbacks: dict[str, list[Callable[[], None]]] = {}
        event.listen(self._write, "after_commit", self._committed)
        event.listen(self._write, "after_rollback", self._rolled_back)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- locks -------------------------------------------------------------------------------

    @contextmanager
    def lock(self, name: str, *, blocking: bool = True) -> Iterator[None]:
        """Hold ``name`` exclusively; without ``blocking``, BlockingIOError when it is held."""
        if self._sqlite:
            folder = self.lock_dir or Path(self.engine.url.database or ".").parent
            with exclusive(folder / f"{name}.lock", blocking=blocking):
                yield
            return
        key = _key(name)
        with self.engine.connect() as connection:
            if blocking:
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            else:
                taken = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
                if not taken.scalar():
                    raise BlockingIOError(f"lock {name} is held")
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()

    # -- work after commit -------------------------------------------------------------------

    def on_commit(self, topic: str, callback: Callable[[], None]) -> None:
        """Run ``callback`` after every committed write transaction that notified ``topic``."""
        self._callbacks.setdefault(topic, []).append(callback)

    def _committed(self, session: Session) -> None:
        for topic in sorted(session.info.pop(_TOPICS, ())):
            for callback in self._callbacks.get(topic, ()):
                try:
                    callback()
                except Exception:  # the change is committed; a follower only logs
                    log.exception("after-commit work for %r failed", topic)

    def _rolled_back(self, session: Session) -> None:
        session.info.pop(_TOPICS, None)

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent).

        On SQLite, altering a table means copying it, which foreign keys forbid while other
        tables point at it: they are switched off for the migration (that can only be done
        outside a transaction) and every reference is checked before they are back on.

        A catalogue a newer program has migrated is refused (``CatalogueTooNew``), unchanged.
        """
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as connection:
            raw = connection.connection.driver_connection if self._sqlite else None
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with connection.begin():
                    if raw is None:  # nodes starting together migrate one after the other
                        key = _key("migrate")
                        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
                    _refuse_newer(connection, ScriptDirectory.from_config(cfg))
                    cfg.attributes["connection"] = connection
                    command.upgrade(cfg, "head")
                    if raw is not None:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if broken:
                            raise RuntimeError(f"migration left broken references: {broken}")
            finally:
                if raw is not None:
                    raw.execute("PRAGMA foreign_keys=ON")

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back on any error."""
        with self._write() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _refuse_newer(connection: Connection, script: ScriptDirectory) -> None:
    """Stop before upgrading a catalogue stamped with a revision this program does not know:
    a newer hetong migrated it. Checked under the migration lock, so a newer node that
    migrates meanwhile is seen."""
    known = {rev.revision for rev in script.walk_revisions()}
    current = MigrationContext.configure(connection).get_current_heads()
    unknown = sorted(set(current) - known)
    if unknown:
        found, newest = "、".join(unknown), "、".join(sorted(script.get_heads()))
        raise CatalogueTooNew(
            f"目录库（版本 {found}）比本程序新（本程序最高支持 {newest}）："
            "请使用更新版本的 hetong，切勿用旧版本打开。",
            revision=found, supported=newest,
        )  # fmt: skip


def known_revisions() -> set[str]:
    """The schema revisions this program's migrations know."""
    return {rev.revision for rev in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}


def hold_in_transaction(session: Session, name: str) -> None:
    """Hold ``name`` until ``session``'s transaction ends, against every other holder. SQLite
    needs nothing: its writers already run one at a time (``BEGIN IMMEDIATE``)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _key(name)})


def _key(name: str) -> int:
    """The PostgreSQL advisory lock key for ``name``: the same on every machine."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
