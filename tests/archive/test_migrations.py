"""A catalogue made by an earlier release upgrades in place, keeping every record."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text

from archive.catalogue import MIGRATIONS, Catalogue
from archive.models import Base

DATA = Path(__file__).resolve().parents[1] / "data" / "contract.json"


def test_upgrading_a_first_release_catalogue_keeps_its_contracts_and_documents(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    catalogue = Catalogue(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with catalogue.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
    db = sqlite3.connect(tmp_path / "catalogue.sqlite3")
    db.execute(
        "INSERT INTO contracts (id, contract_no, status, region, signed_on, seller_name,"
        " buyer_name, total, data, input_sha256, created_by, created_at, updated_at) VALUES"
        " (1, 'HT-202611-0001', 'effective', '华东', '2026-11-20', '上海申远', '杭州临平',"
        " 38250500, ?, 'x', 'li', '2026-11-20 00:00:00', '2026-11-20 00:00:00')",
        (DATA.read_text("utf-8"),),
    )
    db.execute(
        "INSERT INTO documents (contract_id, kind, number, format, filename, media_type, sha256,"
        " size, created_by, created_at) VALUES (1, 'sales_contract', 'HT-202611-0001', 'pdf',"
        " 'x.pdf', 'application/pdf', ?, 1, 'li', '2026-11-20 00:00:00')",
        ("0" * 64,),
    )
    db.commit()
    db.close()

    catalogue.migrate()

    db = sqlite3.connect(tmp_path / "catalogue.sqlite3")
    row = db.execute("SELECT original_total, paid, due_on, terms FROM contracts").fetchone()
    assert row[:3] == (38250500, 0, "2027-01-31")
    assert json.loads(row[3])["buyer"]["name"] == "杭州临平精工机械有限公司"
    assert db.execute("SELECT count(*) FROM documents").fetchone() == (1,)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()
    catalogue.dispose()


def _revisions() -> list[str]:
    script = ScriptDirectory(str(MIGRATIONS))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _shape(url: str) -> dict[str, set[str]]:
    engine = create_engine(url)
    try:
        found = inspect(engine)
        return {t: {c["name"] for c in found.get_columns(t)} for t in found.get_table_names()}
    finally:
        engine.dispose()


@pytest.mark.parametrize("start", _revisions()[:-1])
def test_every_earlier_revision_upgrades_to_the_same_schema_as_a_new_catalogue(tmp_path, start):
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    Catalogue(fresh).migrate()
    old = Catalogue(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with old.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, start)
    old.migrate()
    old.dispose()
    assert _shape(f"sqlite:///{tmp_path / 'old.sqlite3'}") == _shape(fresh)


def test_the_migrations_build_exactly_what_the_models_declare(tmp_path):
    """A model change without its migration (or the reverse) shows here."""
    catalogue = Catalogue(f"sqlite:///{tmp_path / 'catalogue.sqlite3'}")
    catalogue.migrate()
    with catalogue.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"render_as_batch": True})
        differences = compare_metadata(context, Base.metadata)
    catalogue.dispose()
    assert differences == []


@pytest.mark.parametrize("start", _revisions()[:-1])
def test_a_postgresql_catalogue_upgrades_from_an_earlier_revision(postgres, start):
    catalogue = Catalogue(postgres.create())
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with catalogue.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, start)
    catalogue.migrate()
    with catalogue.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []
    catalogue.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_people_get_a_department_and_contracts_their_creator_as_owner(tmp_path, request, database):
    """Upgrading to access rules (0011) keeps every token working, puts each person in the
    department their role implies, and makes each contract's creator its owner."""
    url = (request.getfixturevalue("postgres").create() if database == "postgresql"
           else f"sqlite:///{tmp_path / 'catalogue.sqlite3'}")  # fmt: skip
    catalogue = Catalogue(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with catalogue.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0010")
        roles = (("li", "clerk"), ("wang", "manager"), ("zhou", "archivist"), ("root", "admin"))
        for n, (name, role) in enumerate(roles, 1):
            connection.execute(text(
                "INSERT INTO users (id, name, display_name, role, token_hash, created_at)"
                " VALUES (:id, :name, :name, :role, :hash, '2026-11-20 00:00:00')"
            ), {"id": n, "name": name, "role": role, "hash": f"{n:064d}"})  # fmt: skip
        connection.execute(text(
            "INSERT INTO contracts (id, contract_no, status, region, signed_on, seller_name,"
            " buyer_name, total, original_total, paid, due_on, data, terms, input_sha256,"
            " created_by, created_at, updated_at, version) VALUES (1, 'HT-202611-0001',"
            " 'effective', '华东', '2026-11-20', '上海申远', '杭州临平', 100, 100, 0,"
            " '2027-01-31', '{}', '{}', 'x', 'li', '2026-11-20 00:00:00',"
            " '2026-11-20 00:00:00', 1)"
        ))  # fmt: skip

    catalogue.migrate()

    with catalogue.engine.connect() as connection:
        people = dict(connection.execute(text("SELECT name, department FROM users")).all())
        assert people == {
            "li": "销售部",
            "wang": "销售部",
            "zhou": "档案室",
            "root": "总经理办公室",
        }
        owner, secret = connection.execute(text("SELECT owner, confidential FROM contracts")).one()
        assert (owner, bool(secret)) == ("li", False)
        kept = connection.execute(text("SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL"
                                       " AND expires_at > created_at")).scalar()  # fmt: skip
        assert kept == 4
    with catalogue.engine.connect() as connection:
        hashed = connection.execute(text("SELECT token_hash FROM api_tokens WHERE user_id = 1"))
        assert hashed.scalar() == f"{1:064d}"  # the stored hash, carried over as it was
    catalogue.dispose()


@contextmanager
def at_revision(url: str, revision: str) -> Iterator[tuple[Catalogue, Connection]]:
    """A catalogue upgraded to ``revision`` and a connection to fill it in (committed at the
    end of the block; the test then runs ``catalogue.migrate()``)."""
    catalogue = Catalogue(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with catalogue.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
        yield catalogue, connection


def _url(tmp_path, request, database: str) -> str:
    if database == "postgresql":
        return request.getfixturevalue("postgres").create()
    return f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"


def test_contracts_filed_before_revisions_are_in_their_first_revision(tmp_path):
    """Upgrading to draft revisions (0016): every contract and its own rendering are 第 1 稿,
    nothing superseded; amendments and notices belong to no revision."""
    with at_revision(f"sqlite:///{tmp_path / 'catalogue.sqlite3'}", "0015") as (
        catalogue, connection):  # fmt: skip
        connection.execute(text(
            "INSERT INTO contracts (id, contract_no, status, region, signed_on, seller_name,"
            " buyer_name, total, original_total, paid, due_on, data, terms, input_sha256,"
            " created_by, owner, confidential, created_at, updated_at, version) VALUES (1,"
            " 'HT-202611-0001', 'draft', '华东', '2026-11-20', '上海申远', '杭州临平', 100, 100,"
            " 0, '2027-01-31', '{}', '{}', 'x', 'li', 'li', 0, '2026-11-20 00:00:00',"
            " '2026-11-20 00:00:00', 1)"
        ))  # fmt: skip
        for kind, number in (("sales_contract", "HT-202611-0001"),
                             ("amendment", "HT-202611-0001-BC01")):  # fmt: skip
            connection.execute(text(
                "INSERT INTO documents (contract_id, kind, number, format, filename, media_type,"
                " sha256, size, created_by, created_at) VALUES (1, :kind, :number, 'pdf', 'x.pdf',"
                " 'application/pdf', :sha, 1, 'li', '2026-11-20 00:00:00')"
            ), {"kind": kind, "number": number, "sha": "0" * 64})  # fmt: skip

    catalogue.migrate()

    with catalogue.engine.connect() as connection:
        assert connection.execute(text("SELECT revision FROM contracts")).scalar() == 1
        rows = connection.execute(text(
            "SELECT kind, revision, superseded_at FROM documents ORDER BY id")).all()  # fmt: skip
        assert [tuple(r) for r in rows] == [("sales_contract", 1, None), ("amendment", None, None)]
    catalogue.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_buyers_of_earlier_contracts_become_customers(tmp_path, request, database):
    """Upgrading to the customer register (0017): one customer per buyer, with the details of
    its latest contract that still has them; every contract names its customer."""
    buyers = [
        ("杭州临平精工", {"name": "杭州临平精工", "address": "临平区东湖街道99号"}),
        ("宁波港城", {"name": "宁波港城", "address": "北仑区港城大道1号", "bank": "宁波银行"}),
        ("杭州临平精工", {"name": "杭州临平精工", "address": "临平区新址1号", "tax_id": "9133X"}),
        ("杭州临平精工", {"name": "杭州临平精工"}),  # destroyed: only its name is left
        ("宁波 港城", {"name": "宁波 港城"}),  # the same buyer, typed with a space
    ]
    with at_revision(_url(tmp_path, request, database), "0016") as (catalogue, connection):
        for n, (name, buyer) in enumerate(buyers, 1):
            connection.execute(text(
                "INSERT INTO contracts (id, contract_no, status, region, signed_on, seller_name,"
                " buyer_name, total, original_total, paid, due_on, data, terms, input_sha256,"
                " created_by, owner, confidential, created_at, updated_at, version, revision)"
                " VALUES (:id, :no, 'effective', '华东', '2026-11-20', '上海申远', :name, 100,"
                " 100, 0, '2027-01-31', '{}', :terms, 'x', :by, :by, false,"
                " '2026-11-20 00:00:00', '2026-11-20 00:00:00', 1, 1)"
            ), {"id": n, "no": f"HT-202611-{n:04d}", "name": name, "by": f"clerk{n}",
                "terms": json.dumps({"buyer": buyer}, ensure_ascii=False)})  # fmt: skip

    catalogue.migrate()

    with catalogue.engine.connect() as connection:
        query = "SELECT name, address, bank, tax_id, created_by FROM customers ORDER BY name"
        rows = connection.execute(text(query)).all()
        assert [tuple(r) for r in rows] == [
            ("宁波港城", "北仑区港城大道1号", "宁波银行", None, "clerk2"),
            ("杭州临平精工", "临平区新址1号", None, "9133X", "clerk1"),
        ]
        linked = connection.execute(text(
            "SELECT c.contract_no, k.name FROM contracts c JOIN customers k"
            " ON k.id = c.customer_id ORDER BY c.id")).all()  # fmt: skip
        assert [r[1] for r in linked] == [
            "杭州临平精工",
            "宁波港城",
            "杭州临平精工",
            "杭州临平精工",
            "宁波港城",  # the variant spelling joins it
        ]
    catalogue.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_contracts_approved_before_the_chain_are_recorded_as_a_one_step_chain(
    tmp_path, request, database
):
    """Upgrading to the review chain (0018): each approved contract gets one decision, the
    manager's approval, by whom and when it was given; drafts get none."""
    with at_revision(_url(tmp_path, request, database), "0017") as (catalogue, connection):
        for n, (status, by) in enumerate((("effective", "wang"), ("draft", None)), 1):
            connection.execute(text(
                "INSERT INTO contracts (id, contract_no, status, region, signed_on, seller_name,"
                " buyer_name, total, original_total, paid, due_on, data, terms, input_sha256,"
                " created_by, owner, confidential, created_at, updated_at, version, revision,"
                " approved_by, approved_at) VALUES (:id, :no, :status, '华东', '2026-11-20',"
                " '上海申远', '杭州临平', 100, 100, 0, '2027-01-31', '{}', '{}', 'x', 'li', 'li',"
                " false, '2026-11-20 00:00:00', '2026-11-20 00:00:00', 1, 1, :by, :at)"
            ), {"id": n, "no": f"HT-202611-{n:04d}", "status": status, "by": by,
                "at": "2026-11-21 08:00:00" if by else None})  # fmt: skip

    catalogue.migrate()

    with catalogue.engine.connect() as connection:
        query = "SELECT contract_id, round, step, decision, actor FROM contract_reviews"
        rows = connection.execute(text(query)).all()
        assert [tuple(r) for r in rows] == [(1, 1, "销售经理", "approved", "wang")]
        query = "SELECT review_round, review_state FROM contracts ORDER BY id"
        rounds = connection.execute(text(query)).all()
        assert [tuple(r) for r in rounds] == [(1, "approved"), (0, None)]
    catalogue.dispose()
