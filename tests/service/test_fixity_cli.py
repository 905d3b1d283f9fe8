"""``hetong fixity check`` from a nightly timer: a clean archive exits 0; a file the disk lost
or damaged is named (contract, file) and the exit code says so; the dossier, in the API and on
its page, shows when its files were last verified."""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from archive import users
from archive.models import AuditEntry, Document, FixityRun
from service.cli import main
from service.cli.base import EXIT_DAMAGED

PASSWORD = "correct-horse-9"
BEIJING = ZoneInfo("Asia/Shanghai")


def _documents(archive) -> list[Document]:
    with archive.catalogue.reading() as session:
        return list(session.scalars(select(Document).order_by(Document.id)))


def _sign_in(client, name: str) -> None:
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"username": name, "password": PASSWORD, "csrf": token})
    assert response.status_code == 302


def test_a_nightly_check_finds_nothing_then_names_what_the_disk_lost(
    runner, archive, client, auth, create, effective
):
    first, second = create()["contract_no"], effective()
    files = {d.sha256 for d in _documents(archive)}

    clean = runner.invoke(main, ["fixity", "check", "--all"])
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.strip() == f"已核验 {len(files)} 个文件，全部完好。"
    assert all(d.verified_at is not None for d in _documents(archive))

    # the dossier says when: the API in UTC, the page in local time
    body = client.get(f"/api/v1/contracts/{first}", headers=auth()).get_json()
    pdf = body["documents"][0]["pdf"]
    stamp = dt.datetime.fromisoformat(pdf["verified_at"])
    assert stamp.utcoffset() == dt.timedelta(0)
    users.add_user(archive.catalogue, "zhou", "archivist", password=PASSWORD)
    _sign_in(client, "zhou")
    page = client.get(f"/contracts/{first}").get_data(as_text=True)
    assert "最近核验" in page and "未核验" not in page
    assert stamp.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") in page

    docs = _documents(archive)
    damaged = next(d for d in docs if d.number == first and d.format == "pdf")
    missing = next(d for d in docs if d.number == second and d.format == "docx")
    path = archive.storage.path_for(damaged.sha256)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    archive.storage.path_for(missing.sha256).unlink()

    found = runner.invoke(main, ["fixity", "check", "--all"])
    assert found.exit_code == EXIT_DAMAGED, found.output
    lines = found.stdout.splitlines()
    assert lines[0] == f"已核验 {len(files)} 个文件，发现 2 个问题："
    assert f"  已损坏：SHA-256 {damaged.sha256}" in lines
    assert f"    合同 {first} 的文件 {damaged.filename}" in lines
    assert f"  缺失：SHA-256 {missing.sha256}" in lines
    assert f"    合同 {second} 的文件 {missing.filename}" in lines
    assert path.read_bytes() == bytes(data)  # reported, never repaired

    with archive.catalogue.reading() as session:
        run = session.scalars(select(FixityRun).order_by(FixityRun.id.desc())).first()
        failed = list(session.scalars(select(AuditEntry)
                                      .where(AuditEntry.action == "fixity.failed")))  # fmt: skip
        checks = list(session.scalars(select(AuditEntry)
                                      .where(AuditEntry.action == "fixity.check")))  # fmt: skip
    assert (run.mode, run.checked, run.finished_at is not None) == ("all", len(files), True)
    assert {(f["problem"], tuple(f["documents"])) for f in run.failures} == {
        ("damaged", (f"合同 {first} 的文件 {damaged.filename}",)),
        ("missing", (f"合同 {second} 的文件 {missing.filename}",)),
    }  # fmt: skip
    assert {(e.target, e.detail["problem"]) for e in failed} == {(first, "damaged"),
                                                                 (second, "missing")}  # fmt: skip
    assert [e.detail["failures"] for e in checks] == [0, 2]

    # the page says which documents have a file not verified since it was filed
    later = create()["contract_no"]
    page = client.get(f"/contracts/{later}").get_data(as_text=True)
    assert "未核验" in page
    api = client.get(f"/api/v1/contracts/{later}", headers=auth()).get_json()
    assert api["documents"][0]["pdf"]["verified_at"] is None


def test_json_for_scripts_and_a_sample_takes_the_least_recently_verified(runner, archive, create):
    create()
    full = runner.invoke(main, ["fixity", "check", "--all", "--json"])
    assert full.exit_code == 0, full.output
    report = json.loads(full.stdout)  # stdout is the report alone
    assert (report["mode"], report["failures"]) == ("all", [])
    assert report["checked"] == len({d.sha256 for d in _documents(archive)})
    assert report["started_at"].endswith("+00:00") and report["finished_at"]

    docs = _documents(archive)
    oldest = docs[-1]
    with archive.catalogue.writing() as session:
        session.execute(update(Document).where(Document.sha256 == oldest.sha256)
                        .values(verified_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)))  # fmt: skip
    sample = runner.invoke(main, ["fixity", "check", "--sample", "1", "--json"])
    assert sample.exit_code == 0, sample.output
    assert json.loads(sample.stdout)["checked"] == 1
    after = {d.id: d.verified_at for d in _documents(archive)}
    assert after[oldest.id] > dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert all(after[d.id] == d.verified_at for d in docs if d.sha256 != oldest.sha256)

    default = runner.invoke(main, ["fixity", "check"])  # a sample of 1000: the whole of it
    assert default.exit_code == 0, default.output
    assert default.stdout.startswith(f"已核验 {report['checked']} 个文件")


def test_one_mode_at_a_time_and_only_for_archivists(runner, archive):
    both = runner.invoke(main, ["fixity", "check", "--all", "--sample", "5"])
    assert both.exit_code == 2 and "只能选一个" in both.stderr
    users.add_user(archive.catalogue, "li", "clerk")
    refused = runner.invoke(main, ["--as", "li", "fixity", "check"])
    assert refused.exit_code == 4 and "档案管理员" in refused.stderr
    help_text = runner.invoke(main, ["fixity", "check", "--help"]).output
    assert "每晚" in help_text and "退出码为 7" in help_text
