"""A catalogue made by an earlier release upgrades in place, keeping every record."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config

from archive.catalogue import MIGRATIONS, Catalogue

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
