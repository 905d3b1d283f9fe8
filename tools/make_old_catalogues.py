"""Catalogues as each released schema left them, for tests/archive/test_old_catalogues.py.

For every migration revision up to ``RELEASED``, an SQLite catalogue is built by running the
migrations only that far and writing, with plain SQL, what that release would have written:
two people, a contract in force with a payment (once payments exist) and a draft, their
documents, sequences and audit log. It is kept as ``tests/data/catalogues/<rev>.sqlite3``;
the documents' files are kept once, in the store's own layout, under
``tests/data/catalogues/files/`` (they are needed: a catalogue from before revision 0006 holds
no document texts, so the search index is built from the files).

A fixture is the evidence of what an old release wrote: existing ones are left as they are.
When a release ships a new revision, set ``RELEASED`` to it and run

    .venv/bin/python tools/make_old_catalogues.py

then commit the new file. ``--rebuild`` writes every fixture again (only after a deliberate
change to the rows below).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sqlite3
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from werkzeug.security import generate_password_hash

from archive.catalogue import MIGRATIONS, Catalogue
from archive.storage import Storage

# The newest revision a release has shipped. Later revisions are still being written: a
# fixture made from them would pin a schema that may yet change.
RELEASED = "0011"

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "catalogues"
CONTRACT = ROOT / "tests" / "data" / "contract.json"

# What the tests sign in with (the token of li, the password of wang).
TOKENS = {"li": "fixture-token-li", "wang": "fixture-token-wang"}
PASSWORD = "fixture-password"

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SIGNED = "2026-11-20"


def released() -> list[str]:
    """The revisions from the first up to ``RELEASED``, oldest first."""
    script = ScriptDirectory(str(MIGRATIONS))
    order = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    return order[: order.index(RELEASED) + 1]


# -- the documents' files ------------------------------------------------------------------


def docx(lines: list[str]) -> bytes:
    """A minimal .docx with one paragraph a line; fixed zip times, so the bytes (and their
    sha256) are the same on every run."""
    body = "".join(f"<w:p><w:r><w:t>{escape(line)}</w:t></w:r></w:p>" for line in lines)
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body>{body}</w:body></w:document>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(zipfile.ZipInfo(name, (2026, 11, 20, 0, 0, 0)), content)
    return out.getvalue()


def pdf(title: str) -> bytes:
    """A one-page PDF (blank; ``title`` in its information) with a correct xref table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        f"<< /Title ({title}) >>".encode("ascii"),
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# -- what the releases wrote ---------------------------------------------------------------


def contracts() -> list[dict[str, Any]]:
    """The example contract, approved and partly paid; and a second one, a draft."""
    first = json.loads(CONTRACT.read_text("utf-8"))
    second = json.loads(CONTRACT.read_text("utf-8"))
    second["signed_on"] = "2026-11-22"
    second["buyer"] = {**second["buyer"], "name": "苏州恒泰精密制造有限公司",
                       "representative": "周宁"}  # fmt: skip
    second["items"] = [second["items"][1]]
    second["payment"] = {**second["payment"], "due_on": "2027-02-28"}
    return [
        {"id": 1, "no": "HT-202611-0001", "status": "effective", "data": first,
         "total": 38250500, "paid": 11475150, "approved_by": "wang"},
        {"id": 2, "no": "HT-202611-0002", "status": "draft", "data": second,
         "total": 1250500, "paid": 0, "approved_by": None},
    ]  # fmt: skip


def at(day: str, time: str = "09:00:00") -> str:
    """A stored UTC time, as SQLAlchemy writes one to SQLite."""
    return f"{day} {time}.000000"


def insert(connection: Connection, table: str, row: dict[str, Any]) -> None:
    """Insert the values of ``row`` whose columns ``table`` has at this revision. A required
    column the row does not give (a newer release added it) stops the tool: add it above."""
    columns = {c["name"]: c for c in inspect(connection).get_columns(table)}
    values = {name: value for name, value in row.items() if name in columns}
    lacking = [name for name, c in columns.items()
               if not c["nullable"] and c.get("default") is None and name not in values]  # fmt: skip
    if lacking:
        raise SystemExit(f"{table}: no value for the required column(s) {', '.join(lacking)}")
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)


def has(connection: Connection, table: str) -> bool:
    return inspect(connection).has_table(table)


def fill(connection: Connection, revision: str, files: dict[str, bytes]) -> None:
    """The rows of the fixture; ``files`` gets the bytes of every document (by sha256)."""
    people = [("li", "李明", "clerk", "华东", False, None),
              ("wang", "王经理", "manager", None, True, generate_password_hash(PASSWORD))]  # fmt: skip
    for n, (name, shown, role, region, head, password) in enumerate(people, 1):
        digest = hashlib.sha256(TOKENS[name].encode()).hexdigest()
        insert(connection, "users", {
            "id": n, "name": name, "display_name": shown, "role": role, "token_hash": digest,
            "created_at": at("2026-11-19"), "password_hash": password, "department": "销售部",
            "region": region, "is_head": head, "active": True, "session_version": 1,
        })  # fmt: skip
        if has(connection, "api_tokens"):  # 0011: tokens have their own table
            insert(connection, "api_tokens", {
                "id": n, "user_id": n, "token_hash": digest, "label": "初始令牌",
                "created_at": at("2026-11-19"),
                # Far off, so that the test does not age (a release gave 90 days).
                "expires_at": at("2099-12-31"),
            })  # fmt: skip
    audit = []
    for c in contracts():
        data, no = c["data"], c["no"]
        raw = json.dumps(data, ensure_ascii=False)
        code = f"HT·2026·{data['region']}·{c['id']:04d}"
        insert(connection, "contracts", {
            "id": c["id"], "contract_no": no, "status": c["status"], "region": data["region"],
            "signed_on": data["signed_on"], "seller_name": data["seller"]["name"],
            "buyer_name": data["buyer"]["name"], "total": c["total"], "data": raw,
            "input_sha256": hashlib.sha256(raw.encode()).hexdigest(), "created_by": "li",
            "created_at": at(data["signed_on"]), "updated_at": at(data["signed_on"], "10:00:00"),
            "approved_by": c["approved_by"],
            "approved_at": at(data["signed_on"], "10:00:00") if c["approved_by"] else None,
            # 0002 on: the terms in force and the balance
            "original_total": c["total"], "paid": c["paid"] if has(connection, "payments") else 0,
            "due_on": data["payment"]["due_on"], "terms": raw,
            "archival_code": code,  # 0003
            "version": 2 if c["approved_by"] else 1,  # 0008
            "owner": "li", "confidential": c["status"] == "draft",  # 0011
        })  # fmt: skip
        lines = ["销售合同", f"合同编号：{no}", f"供方：{data['seller']['name']}",
                 f"需方：{data['buyer']['name']}",
                 *(f"{i['name']} {i['spec']} {i['quantity']}{i['unit']}" for i in data["items"])]  # fmt: skip
        renditions = {"pdf": pdf(no), "docx": docx(lines)}
        for n, (fmt, content) in enumerate(renditions.items()):
            digest = hashlib.sha256(content).hexdigest()
            files[digest] = content
            insert(connection, "documents", {
                "id": 2 * c["id"] - 1 + n, "contract_id": c["id"], "kind": "sales_contract",
                "number": no, "format": fmt, "filename": f"销售合同-{no}.{fmt}",
                "media_type": "application/pdf" if fmt == "pdf" else DOCX, "sha256": digest,
                "size": len(content), "template_name": "sales_contract.docx",
                "template_sha256": "5" * 64, "input_sha256": hashlib.sha256(raw.encode()).hexdigest(),
                "renderer": "docxtpl 0.20.2",
                "libreoffice_version": "24.2.7.2" if fmt == "pdf" else None,
                "created_by": "li", "created_at": at(data["signed_on"]),
                "archival_code": f"{code}-01",  # 0003
                "text": "\n".join(lines) if fmt == "docx" else None,  # 0006
            })  # fmt: skip
        audit.append((at(data["signed_on"]), "li", "contract.create", no,
                      {"total": str(Decimal(c["total"]).scaleb(-2))}, None))  # fmt: skip
        if c["approved_by"]:
            audit.append((at(data["signed_on"], "10:00:00"), "wang", "contract.status", no,
                          {"from": "draft", "to": c["status"]}, None))  # fmt: skip
    if has(connection, "payments"):  # 0002
        insert(connection, "payments", {
            "id": 1, "contract_id": 1, "amount": 11475150, "paid_on": "2026-11-25",
            "method": "银行转账", "reference": "工行回单 20261125-0001",
            "note": "合同生效后预付30%", "created_by": "li", "created_at": at("2026-11-25"),
        })  # fmt: skip
        audit.append((at("2026-11-25"), "li", "payment.create", "HT-202611-0001",
                      {"amount": "114751.50"}, None))  # fmt: skip
    audit.append((at("2026-11-26"), "wang", "document.download", "HT-202611-0001",
                  {"document_id": 1, "kind": "sales_contract", "format": "pdf"}, "核对条款"))  # fmt: skip
    for n, (when, actor, action, target, detail, note) in enumerate(audit, 1):
        insert(connection, "audit_log", {
            "id": n, "at": when, "actor": actor, "action": action, "target": target,
            "detail": json.dumps(detail, ensure_ascii=False), "client": "127.0.0.1",
            "note": note,
        })  # fmt: skip
    insert(connection, "sequences", {"scope": "HT-202611-0000", "last": 2})
    if revision >= "0003":  # 档号 numbered per year and region from then on
        insert(connection, "sequences", {"scope": "volume:2026:华东", "last": 2})


# -- writing the fixtures ------------------------------------------------------------------


def build(revision: str, target: Path, files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalogue.sqlite3"
        catalogue = Catalogue(f"sqlite:///{path}")
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with catalogue.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
            fill(connection, revision, files)
        catalogue.dispose()
        # One self-contained file (no WAL beside it), small in the repository: every table
        # and index takes a page at least, so the pages are the smallest SQLite has.
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA page_size=512")
        db.execute("VACUUM")
        db.close()
        target.write_bytes(path.read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="write existing fixtures again")
    rebuild = parser.parse_args().rebuild
    OUT.mkdir(parents=True, exist_ok=True)
    store = Storage(OUT / "files")
    for revision in released():
        target = OUT / f"{revision}.sqlite3"
        if target.exists() and not rebuild:
            continue
        files: dict[str, bytes] = {}
        build(revision, target, files)
        for content in files.values():
            store.put(content)
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size // 1024} KB")
    store.tmp.rmdir()  # the store's scratch folder: nothing to keep in the repository


if __name__ == "__main__":
    main()
