"""The archive outlives its machine: backed up while it runs, restored on a new one with every
hash checked, destroyed contracts staying destroyed, and its history provably unrewritten."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from archive import backup, chain, retention
from archive.actor import SYSTEM
from archive.backup import Manifest, Target, making
from archive.backup.dump import dump
from archive.catalogue import MIGRATIONS
from archive.chain import GENESIS
from archive.models import AuditEntry, Contract, Destruction, Document, Record
from archive.storage import digest_of
from service import create_app
from service.cli import main
from tests.conftest import BOTH_DATABASES
from tests.helpers import pdf_text


@pytest.fixture
def target(tmp_path, archive, monkeypatch) -> Path:
    """The configured backup target (destructions are journaled there as they happen)."""
    folder = Target.init(tmp_path / "backups").root
    archive.backup_targets = [folder]
    monkeypatch.setenv("HETONG_BACKUP_TARGETS", str(folder))
    return folder


def destroyable(client, auth, payload) -> str:
    """A 2020 draft withdrawn before approval: due for destruction in 2026."""
    payload["signed_on"] = "2020-03-15"
    payload["delivery"]["deadline"] = payload["payment"]["due_on"] = "2020-12-31"
    number = client.post("/api/v1/contracts", json=payload, headers=auth()).get_json()
    number = number["contract_no"]
    client.post(f"/api/v1/contracts/{number}/status", json={"status": "terminated"},
                headers=auth())  # fmt: skip
    return number


def destroy(client, auth, number):
    run = client.post("/api/v1/retention/runs", json={"as_of": "2026-01-01", "dry_run": False},
                      headers=auth("archivist"))  # fmt: skip
    assert run.status_code == 201, run.get_json()
    done = client.post("/api/v1/retention/destructions", headers=auth("manager"),
                       json={"contract_nos": [number], "note": "从未生效"})  # fmt: skip
    assert done.status_code == 201, done.get_json()
    return done.get_json()["certificate"]


def found(client, auth, query):
    body = client.get("/api/v1/search", query_string={"q": query},
                      headers=auth("archivist")).get_json()  # fmt: skip
    return sorted({hit["number"] for hit in body["hits"]})


def download(client, auth, number) -> bytes:
    shown = client.get(f"/api/v1/contracts/{number}", headers=auth())
    url = shown.get_json()["documents"][0]["pdf"]["url"]
    response = client.get(url, query_string={"purpose": "核对恢复"}, headers=auth())
    assert response.status_code == 200, response.get_json()
    return response.data


@BOTH_DATABASES
def test_back_up_while_running_then_restore_on_a_new_machine(
    runner,
    client,
    auth,
    payload,
    effective,
    archive,
    target,
    tmp_path,
    settings,
    request,
    database,
):
    kept = effective()
    gone = destroyable(client, auth, json.loads(json.dumps(payload)))
    later = destroyable(client, auth, json.loads(json.dumps(payload)))
    before = found(client, auth, "精工")
    assert kept in before and gone in before

    first = runner.invoke(main, ["backup", "create"])
    assert first.exit_code == 0, first.output + first.stderr
    assert "3 份合同" in first.output and "审计链头" in first.output
    (snapshot,) = Target(target).snapshots()
    manifest = Manifest.read(snapshot)
    assert manifest.counts["contracts"] == 3 and manifest.copied["files"] == len(manifest.files)
    assert manifest.schema_revision and manifest.hetong_version
    assert all(Target(target).path_for(d).stat().st_size == s for d, s in manifest.files.items())

    # After the backup: the withdrawn draft is destroyed, and a payment is recorded.
    certificate = destroy(client, auth, gone)
    journal = (target / "journal" / "destructions.jsonl").read_text("utf-8")
    assert gone in journal  # written when the manager approved, before the next backup

    # The second backup copies only what is new: the destruction list and certificate
    # (a PDF and a Word file each); the contracts' files are in the target already.
    second = runner.invoke(main, ["backup", "create", "--json"])
    assert second.exit_code == 0, second.output + second.stderr
    summary = json.loads(second.output)
    assert summary["counts"]["records"] == 2 and summary["counts"]["destroyed"] == 1
    assert summary["copied"]["files"] == 4
    assert len(Target(target).snapshots()) == 2

    # A byte of a stored file flips: the nightly check names the contract, the file comes
    # back from the backup.
    with archive.catalogue.reading() as session:
        pdf = select(Document.sha256, Document.filename).join(Contract)
        digest, filename = session.execute(
            pdf.where(Contract.contract_no == kept, Document.format == "pdf")
        ).one()
    stored = archive.storage.path_for(digest)
    flipped = bytearray(stored.read_bytes())
    flipped[100] ^= 0x20
    stored.write_bytes(bytes(flipped))
    checked = runner.invoke(main, ["fixity", "check", "--all"])
    assert checked.exit_code == 7
    assert f"合同 {kept} 的文件 {filename}" in checked.output and "已损坏" in checked.output
    repaired = runner.invoke(main, ["fixity", "repair"])
    assert repaired.exit_code == 0 and "已从备份修复" in repaired.output, repaired.output
    assert runner.invoke(main, ["fixity", "check", "--all"]).exit_code == 0

    # Someone deletes an audit entry from the database: the chain names where.
    if database == "sqlite":
        db = sqlite3.connect(archive.catalogue.engine.url.database)
        ids = [row[0] for row in db.execute("SELECT seq FROM audit_log ORDER BY seq")]
        db.execute("DELETE FROM audit_log WHERE seq = ?", (ids[3],))
        db.commit()
        db.close()
    else:
        with archive.catalogue.engine.begin() as connection:
            ids = list(connection.execute(text("SELECT seq FROM audit_log ORDER BY seq")).scalars())
            connection.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": ids[3]})
    broken = runner.invoke(main, ["audit", "verify"])
    assert broken.exit_code == 1 and f"第 {ids[4]} 条" in broken.stderr

    # Restore the FIRST backup (made before the destruction) on a "new machine".
    new_root = tmp_path / "new-machine"
    url = request.getfixturevalue("postgres").create() if database == "postgresql" else ""
    restored = runner.invoke(main, ["backup", "restore", str(snapshot), "--data-dir",
                                    str(new_root), "--database-url", url])  # fmt: skip
    assert restored.exit_code == 0, restored.output + restored.stderr
    out = restored.output
    assert f"{len(manifest.files)} 个文件" in out and "逐一核验 SHA-256" in out
    assert f"重放 1 份合同：{gone}" in out
    assert "审计链完整" in out

    # The service starts on the restored data root; the same people sign in with the same
    # tokens; search finds the same contracts, less the one destroyed after the backup.
    app = create_app({**settings, "DATA_DIR": str(new_root), "DATABASE_URL": url})
    try:
        again = app.test_client()
        assert again.get("/healthz").status_code == 200
        assert found(again, auth, "精工") == sorted(set(before) - {gone})
        assert again.get(f"/api/v1/contracts/{gone}", headers=auth()).status_code == 410
        # The next destruction here does not reuse the certificate number issued after
        # the backup (the journal named it).
        assert destroy(again, auth, later) > certificate
        assert download(again, auth, kept) == download(client, auth, kept)
    finally:
        app.extensions["hetong.archive"].close()


def test_a_backup_with_a_damaged_file_is_refused_and_nothing_is_restored(
    runner, effective, target, tmp_path
):
    effective()
    assert runner.invoke(main, ["backup", "create"]).exit_code == 0
    (snapshot,) = Target(target).snapshots()
    digest = next(iter(Manifest.read(snapshot).files))
    damaged = Target(target).path_for(digest)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))

    check = runner.invoke(main, ["backup", "check", str(target)])
    assert check.exit_code == 7 and f"文件 {digest} 已损坏" in check.stderr

    new_root = tmp_path / "new-machine"
    refused = runner.invoke(main, ["backup", "restore", str(target), "--data-dir", str(new_root)])
    assert refused.exit_code == 7, refused.output
    assert "未通过校验" in refused.stderr and digest in refused.stderr
    assert not (new_root / "catalogue.sqlite3").exists() and not (new_root / "files").exists()


def test_an_edited_or_deleted_audit_entry_breaks_the_chain_where_it_happened(
    runner, effective, archive, target
):
    effective(), effective()
    assert runner.invoke(main, ["backup", "create"]).exit_code == 0
    (snapshot,) = Target(target).snapshots()
    ok = runner.invoke(main, ["audit", "verify", "--against", str(target)])
    assert ok.exit_code == 0, ok.stderr
    assert "审计链完整" in ok.output and "一致" in ok.output

    db = sqlite3.connect(archive.catalogue.engine.url.database)
    ids = [row[0] for row in db.execute("SELECT seq FROM audit_log ORDER BY seq")]
    db.execute("DELETE FROM audit_log WHERE seq = ?", (ids[2],))
    db.commit()
    broken = runner.invoke(main, ["audit", "verify"])
    assert broken.exit_code == 1
    assert f"第 {ids[3]} 条" in broken.stderr and "接不上" in broken.stderr

    # Deleting the newest entries leaves a chain that holds on its own: the head kept in the
    # backup's manifest shows the cut.
    db.execute("DELETE FROM audit_log WHERE seq >= ?", (ids[2],))
    db.commit()
    db.close()
    cut = runner.invoke(main, ["audit", "verify", "--against", str(snapshot)])
    assert cut.exit_code == 1 and "已不在审计记录中" in cut.stderr


def test_the_off_site_copy_is_the_same_backup_checked_on_the_way(runner, effective, tmp_path):
    effective()
    local, remote = tmp_path / "local", tmp_path / "mnt-offsite"
    assert runner.invoke(main, ["backup", "init", str(local), str(remote)]).exit_code == 0
    made = runner.invoke(main, ["backup", "create", "--to", str(local), "--to", str(remote)])
    assert made.exit_code == 0, made.stderr
    (here,), (there,) = Target(local).snapshots(), Target(remote).snapshots()
    assert here.name == there.name
    assert (here / "manifest.json").read_bytes() == (there / "manifest.json").read_bytes()
    assert runner.invoke(main, ["backup", "check", str(remote)]).exit_code == 0
    assert (remote / "journal" / "destructions.jsonl").exists()
    listed = runner.invoke(main, ["backup", "list", str(remote)])
    assert there.name in listed.output and "1 份合同" in listed.output


def test_an_off_site_share_not_mounted_fails_the_run_but_keeps_the_local_backup(
    runner, effective, tmp_path
):
    effective()
    local, unmounted = Target.init(tmp_path / "local").root, tmp_path / "mnt"
    unmounted.mkdir()  # a mount point with nothing mounted on it: an empty folder
    made = runner.invoke(main, ["backup", "create", "--to", str(local), "--to", str(unmounted)])
    assert made.exit_code == 1 and f"未能复制到 {unmounted}" in made.stderr
    assert "共享未挂载" in made.stderr and list(unmounted.iterdir()) == []
    assert len(Target(local).snapshots()) == 1
    assert runner.invoke(main, ["backup", "check", str(local)]).exit_code == 0


def test_what_is_filed_or_destroyed_while_the_backup_copies_files_leaves_it_whole(
    runner, client, auth, payload, effective, target, tmp_path, monkeypatch
):
    """Between the catalogue's copy and the copying of its files, a clerk files a contract
    and a manager destroys one: the snapshot names neither the new files nor fails on the
    destroyed ones, and restores whole (the destruction is replayed)."""
    kept = effective()
    doomed = destroyable(client, auth, json.loads(json.dumps(payload)))
    filed = []

    def dump_then_work_goes_on(catalogue, into):
        copied = dump(catalogue, into)
        filed.append(client.post("/api/v1/contracts", json=payload, headers=auth()).get_json())
        destroy(client, auth, doomed)
        return copied

    monkeypatch.setattr(making, "dump", dump_then_work_goes_on)
    made = runner.invoke(main, ["backup", "create", "--json"])
    assert made.exit_code == 0, made.stderr
    summary = json.loads(made.output)
    assert summary["counts"]["contracts"] == 2 and len(summary["gone"]) >= 1
    assert summary["problems"] == []

    new_root = tmp_path / "restored"
    restored = runner.invoke(main, ["backup", "restore", str(target), "--data-dir", str(new_root),
                                    "--json"])  # fmt: skip
    assert restored.exit_code == 0, restored.stderr
    done = json.loads(restored.output)
    assert done["replayed"] == [doomed] and done["audit_chain"]["intact"]
    shown = runner.invoke(main, ["--data-dir", str(new_root), "contracts", "show", kept])
    assert shown.exit_code == 0
    assert filed[0]["contract_no"] not in runner.invoke(
        main, ["--data-dir", str(new_root), "search", "精工"]).output  # fmt: skip


def test_a_file_damaged_before_its_first_backup_is_named_and_fails_the_run(
    runner, archive, effective, target
):
    number = effective()
    with archive.catalogue.reading() as session:
        digest = session.scalar(select(Document.sha256).where(Document.format == "pdf"))
    path = archive.storage.path_for(digest)
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    made = runner.invoke(main, ["backup", "create"])
    assert made.exit_code == 7
    assert f"合同 {number} 的文件" in made.stderr and "已损坏" in made.stderr
    (snapshot,) = Target(target).snapshots()
    assert Manifest.read(snapshot).problems[0]["sha256"] == digest


def test_restoring_refuses_a_used_data_root_and_a_target_without_its_journal(
    runner, effective, target, data_dir, tmp_path
):
    effective()
    assert runner.invoke(main, ["backup", "create"]).exit_code == 0
    used = runner.invoke(main, ["backup", "restore", str(target), "--data-dir", str(data_dir)])
    assert used.exit_code == 4 and "只能恢复到一个空的（或新的）数据目录" in used.stderr

    (target / "journal" / "destructions.jsonl").unlink()
    new_root = tmp_path / "restored"
    blind = runner.invoke(main, ["backup", "restore", str(target), "--data-dir", str(new_root)])
    assert blind.exit_code == 4 and "--without-journal" in blind.stderr
    assert not new_root.exists()
    knowing = runner.invoke(main, ["backup", "restore", str(target), "--data-dir",
                                   str(new_root), "--without-journal"])  # fmt: skip
    assert knowing.exit_code == 0, knowing.stderr
    assert "没有销毁日志" in knowing.output

    # A folder used only with --to knows destructions up to its last backup: said so.
    usb, third = Target.init(tmp_path / "usb").root, tmp_path / "third"
    assert runner.invoke(main, ["backup", "create", "--to", str(usb)]).exit_code == 0
    warned = runner.invoke(main, ["backup", "restore", str(usb), "--data-dir", str(third)])
    assert warned.exit_code == 0 and "只在备份时更新" in warned.output
    assert "只在备份时更新" not in knowing.output


def test_a_backup_from_an_older_release_is_migrated_forward_on_restore(runner, tmp_path):
    """A snapshot whose catalogue an earlier schema made (the released 0011 fixture)."""
    fixtures = Path(__file__).resolve().parents[1] / "data" / "catalogues"
    target = Target(tmp_path / "old-backups")
    folder = target.snapshots_dir / "20260105T010000Z"
    folder.mkdir(parents=True)
    shutil.copyfile(fixtures / "0011.sqlite3", folder / "catalogue.sqlite3")
    files = {}
    for path in (fixtures / "files").glob("??/??/*"):
        target.path_for(path.name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target.path_for(path.name))
        files[path.name] = path.stat().st_size
    Manifest(
        name=folder.name, created_at="2026-01-05T01:00:00+00:00", hetong_version="0.1.0",
        schema_revision="0011", dialect="sqlite", counts={"contracts": 2},
        catalogue={"file": "catalogue.sqlite3", "size": 0,
                   "sha256": digest_of(folder / "catalogue.sqlite3")},
        audit_head=f"0:{GENESIS}", files=files,
    ).write(folder)  # fmt: skip
    (target.root / "journal").mkdir()
    (target.root / "journal" / "destructions.jsonl").touch()

    new_root = tmp_path / "restored"
    restored = runner.invoke(main, ["backup", "restore", str(target.root), "--data-dir",
                                    str(new_root), "--json"])  # fmt: skip
    assert restored.exit_code == 0, restored.stderr
    done = json.loads(restored.output)
    assert done["schema"] == ["0011", _head_revision()] and done["files"] == len(files)
    assert done["audit_chain"]["intact"] and done["indexed"] >= 2
    shown = runner.invoke(main, ["--data-dir", str(new_root), "contracts", "show",
                                 "HT-202611-0001"])  # fmt: skip
    assert shown.exit_code == 0 and "HT-202611-0001" in shown.output


def _head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_a_backup_made_by_a_newer_release_is_refused_before_anything_is_written(
    runner, effective, target, tmp_path
):
    effective()
    assert runner.invoke(main, ["backup", "create"]).exit_code == 0
    (snapshot,) = Target(target).snapshots()
    manifest = json.loads((snapshot / "manifest.json").read_text("utf-8"))
    manifest["schema_revision"] = "9999"
    (snapshot / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    new_root = tmp_path / "restored"
    refused = runner.invoke(main, ["backup", "restore", str(target), "--data-dir", str(new_root)])
    assert refused.exit_code == 1 and "更新版本的 hetong" in refused.stderr
    assert not new_root.exists()


def test_the_destruction_certificate_carries_the_chain_head_that_verify_checks_against(
    runner, client, auth, payload, archive
):
    number = destroyable(client, auth, payload)
    destroy(client, auth, number)
    with archive.catalogue.reading() as session:
        record = session.scalar(select(Record).where(Record.kind == "destruction_certificate"))
    printed = pdf_text(archive.storage.get(record.pdf_sha256))
    seq, digest = re.search(r"审计链头：第 (\d+) 条\s*SHA-256 ([0-9a-f]{64})", printed).groups()
    assert 0 < int(seq) < chain.head_of(archive.catalogue).seq  # the approval came after it
    ok = runner.invoke(main, ["audit", "verify", "--against", f"{seq}:{digest}"])
    assert ok.exit_code == 0 and f"对照的链头（第 {seq} 条）一致" in ok.output
    with archive.catalogue.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET note = '改' WHERE seq = :s"), {"s": int(seq)})
    broken = runner.invoke(main, ["audit", "verify", "--against", f"{seq}:{digest}"])
    assert broken.exit_code == 1 and f"第 {seq} 条" in broken.stderr


def test_a_restore_that_fails_halfway_leaves_no_data_root_behind(
    archive, effective, target, tmp_path
):
    effective()
    assert backup.create(archive, SYSTEM, [target]).files
    new_root = tmp_path / "restored"

    def broken_machine(root):
        raise OSError("磁盘已满")

    with pytest.raises(OSError):
        backup.restore(backup.find(target), data_dir=new_root, database_url="",
                       open_archive=broken_machine, actor=SYSTEM)  # fmt: skip
    assert not new_root.exists()

    # Into a folder that exists (a mount point, a folder provisioned for the service): it
    # stays, empty.
    new_root.mkdir()
    with pytest.raises(OSError):
        backup.restore(backup.find(target), data_dir=new_root, database_url="",
                       open_archive=broken_machine, actor=SYSTEM)  # fmt: skip
    assert new_root.is_dir() and list(new_root.iterdir()) == []


def test_a_file_damaged_in_the_local_target_is_mended_and_never_reaches_the_off_site_copy(
    runner, effective, tmp_path
):
    effective()
    local, remote = Target.init(tmp_path / "local").root, Target.init(tmp_path / "offsite").root
    assert runner.invoke(main, ["backup", "create", "--to", str(local)]).exit_code == 0
    digest = next(iter(Manifest.read(Target(local).snapshots()[0]).files))
    rotten = Target(local).path_for(digest)
    rotten.write_bytes(rotten.read_bytes()[:-1] + b"?")

    # The off-site copy takes that file from the file store instead, and mends the local one.
    made = runner.invoke(main, ["backup", "create", "--to", str(local), "--to", str(remote)])
    assert made.exit_code == 0, made.stderr
    assert runner.invoke(main, ["backup", "check", str(remote)]).exit_code == 0
    assert runner.invoke(main, ["backup", "check", str(local)]).exit_code == 0

    # Damage the local copy again: check finds it, --repair puts it right.
    rotten.write_bytes(b"")
    found = runner.invoke(main, ["backup", "check", str(local)])
    assert found.exit_code == 7 and "--repair" in found.stderr
    mended = runner.invoke(main, ["backup", "check", str(local), "--repair"])
    assert mended.exit_code == 0 and f"已从文件库重新复制：{digest}" in mended.output


def test_files_are_not_destroyed_until_every_target_has_the_journal_entry(
    client, auth, payload, archive, tmp_path
):
    (tmp_path / "mnt").mkdir()  # the share is not mounted: an empty folder
    archive.backup_targets = [tmp_path / "mnt"]
    number = destroyable(client, auth, payload)
    with archive.catalogue.reading() as session:
        digests = list(session.scalars(select(Document.sha256).join(Contract)
                                       .where(Contract.contract_no == number)))  # fmt: skip
    destroy(client, auth, number)  # approved: gone for readers…
    assert client.get(f"/api/v1/contracts/{number}", headers=auth()).status_code == 410
    assert all(archive.storage.exists(d) for d in digests)  # …but its files wait
    with archive.catalogue.reading() as session:
        assert session.scalar(select(Destruction.state)) == "approved"

    assert list((tmp_path / "mnt").iterdir()) == []  # nothing written on the local disk
    Target.init(tmp_path / "mnt")  # the share is back (mounted and set up): the next start
    assert retention.finish_pending(archive) == [1]
    assert number in (tmp_path / "mnt" / "journal" / "destructions.jsonl").read_text()
    assert not any(archive.storage.exists(d) for d in digests)


def test_a_destruction_carried_out_twice_is_recorded_once(client, auth, payload, archive):
    """A command started while the service carries a destruction out finishes it too: the
    files and entries go once, and the register says so once."""
    number = destroyable(client, auth, payload)
    destroy(client, auth, number)
    retention._carry_out(archive, 1, SYSTEM)  # as finish_pending would, a moment later
    with archive.catalogue.reading() as session:
        destroyed = select(AuditEntry.target).where(AuditEntry.action == "retention.destroyed")
        done = session.scalars(destroyed).all()
    assert done == [number]
