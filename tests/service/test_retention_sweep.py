"""The sweep at any size: decided in batches, carried on after an interruption without a list
filed twice, one destruction list per volume in parts, a real run never dated ahead of today.

The archives here are filed straight into the catalogue (the sweep reads only catalogue rows
and the documents' hashes), so a story can hold dozens of contracts; the lists are rendered
through the real LibreOffice.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from archive import retention, sweep
from archive.actor import Actor
from archive.models import AuditEntry, Contract, Document, Record, RetentionRun
from service.cli import main
from templates.destruction import HASH_PREFIX
from tests.helpers import pdf_text

ARCHIVIST = Actor("archivist-user", "archivist", "test")
MANAGER = Actor("manager-user", "manager", "test")
AS_OF = dt.date(2026, 1, 1)


def file_contracts(archive, specs: list[dict]) -> list[str]:
    """Contracts straight into the catalogue, each with its contract PDF and .docx stored.

    A spec: ``signed_on``, ``region``, ``status`` and optionally ``paid`` ("all", "part",
    "none"; default "all"), ``approved`` (default: unless a draft), ``hold``."""
    numbers = []
    with archive.catalogue.writing() as session:
        for spec in specs:
            signed = dt.date.fromisoformat(spec["signed_on"])
            seq = session.scalar(select(func.count(Contract.id))) + 1
            number = f"HT-{signed:%Y%m}-{seq:04d}"
            total = Decimal("1000.00") + seq
            paid = {"all": total, "part": Decimal("100.00"), "none": Decimal(0)}[
                spec.get("paid", "all")]  # fmt: skip
            approved = spec.get("approved", spec["status"] != "draft")
            terms = {"region": spec["region"], "signed_on": spec["signed_on"],
                     "seller": {"name": "上海申远机电设备有限公司"},
                     "buyer": {"name": f"需方{seq}有限公司"},
                     "items": [], "payment": {}}  # fmt: skip
            contract = Contract(
                contract_no=number, archival_code=f"HT·{signed.year}·{spec['region']}·{seq:04d}",
                status=spec["status"], region=spec["region"], signed_on=signed,
                seller_name="上海申远机电设备有限公司", buyer_name=f"需方{seq}有限公司",
                total=total, original_total=total, paid=paid, due_on=dt.date(signed.year, 12, 31),
                data=terms, terms=terms, input_sha256="0" * 64, created_by="clerk-user",
                owner="clerk-user",
                approved_by="manager-user" if approved else None,
                approved_at=dt.datetime(signed.year, signed.month, 28, tzinfo=dt.UTC)
                if approved else None,
                hold_reason=spec.get("hold"),
            )  # fmt: skip
            session.add(contract)
            session.flush()
            for fmt in ("pdf", "docx"):
                data = f"{fmt} of {number}".encode()
                session.add(Document(
                    contract_id=contract.id, kind="sales_contract", number=number, format=fmt,
                    filename=f"{number}.{fmt}", media_type="application/octet-stream",
                    sha256=archive.storage.put(data), size=len(data), created_by="clerk-user",
                    text=f"销售合同 {number}" if fmt == "docx" else None,
                ))  # fmt: skip
            numbers.append(number)
    return numbers


def closed(signed_on: str, region: str, n: int, **spec) -> list[dict]:
    return [{"signed_on": signed_on, "region": region, "status": "completed", **spec}] * n


@pytest.fixture
def mixed(archive) -> list[str]:
    """30 contracts over three volumes and every outcome."""
    return file_contracts(archive, [
        *closed("2020-03-15", "华东", 9),  # destroyable
        *closed("2020-06-01", "华北", 4),
        *closed("2019-05-10", "华南", 3),
        *closed("2020-04-01", "华东", 5, paid="part"),  # to the unpaid volume
        *closed("2019-09-09", "华北", 2, paid="none"),
        {"signed_on": "2020-05-05", "region": "华东", "status": "terminated", "paid": "none",
         "approved": False},  # never took effect: owes nothing, destroyable
        {"signed_on": "2020-05-06", "region": "华东", "status": "terminated", "paid": "none"},
        *closed("2020-07-07", "华北", 2, hold="诉讼保全"),
        {"signed_on": "2020-08-08", "region": "华南", "status": "effective", "paid": "none"},
        {"signed_on": "2020-08-09", "region": "华南", "status": "draft", "paid": "none"},
        *closed("2021-02-02", "华东", 1),  # not due until 2027
    ])  # fmt: skip


def run(archive, as_of=AS_OF, dry_run=False):
    return sweep.run(archive, as_of=as_of, dry_run=dry_run, actor=ARCHIVIST)


def states(archive) -> dict[str, str | None]:
    with archive.catalogue.reading() as session:
        return {no: state for no, state in session.execute(
            select(Contract.contract_no, Contract.retention_state))}  # fmt: skip


def actions(archive, action: str) -> list[str]:
    with archive.catalogue.reading() as session:
        return list(session.scalars(select(AuditEntry.target).where(AuditEntry.action == action)))


def lists(archive) -> list[Record]:
    with archive.catalogue.reading() as session:
        return list(session.scalars(select(Record).where(Record.kind == "destruction_list")
                                    .order_by(Record.number)))  # fmt: skip


def list_text(archive, record: Record) -> str:
    return pdf_text(archive.storage.get(record.pdf_sha256)).replace("\n", "")


def test_small_batches_decide_exactly_what_one_pass_decides(archive, mixed, monkeypatch):
    whole = run(archive, dry_run=True)  # one batch holds them all
    monkeypatch.setattr(sweep, "BATCH", 4)
    batched = run(archive)
    assert batched["contracts"] == whole["contracts"]
    assert batched["counts"] == {"in_performance": 2, "held": 2, "moved_to_unpaid": 8,
                                 "unpaid": 0, "pending_destruction": 17,
                                 "awaiting_approval": 0}  # fmt: skip
    never_effective = mixed[23]
    assert never_effective in batched["contracts"]["pending_destruction"]
    # every decision written once, and a second run changes nothing
    assert sorted(actions(archive, "retention.move_to_unpaid")) == sorted(
        batched["contracts"]["moved_to_unpaid"])  # fmt: skip
    assert sorted(actions(archive, "retention.pending_destruction")) == sorted(
        batched["contracts"]["pending_destruction"])  # fmt: skip
    before = states(archive)
    again = run(archive)
    assert states(archive) == before
    assert again["counts"]["unpaid"] == 8 and again["counts"]["awaiting_approval"] == 17
    assert again["destruction_lists"] == [] and len(lists(archive)) == 3


def test_a_sweep_interrupted_while_deciding_is_carried_on_by_the_next_run(
    archive, mixed, monkeypatch
):
    expected = run(archive, dry_run=True)
    monkeypatch.setattr(sweep, "BATCH", 4)
    applied = sweep._apply
    calls = []

    def dies_in_the_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return applied(*args, **kwargs)

    monkeypatch.setattr(sweep, "_apply", dies_in_the_third_batch)
    with pytest.raises(RuntimeError):
        run(archive)
    monkeypatch.setattr(sweep, "_apply", applied)
    # two batches committed, the third rolled back; no list yet, nothing pending yet
    with archive.catalogue.reading() as session:
        interrupted = session.scalar(select(RetentionRun).where(RetentionRun.dry_run.is_(False)))
        assert (interrupted.state, interrupted.cursor) == ("sweeping", 8)
    assert lists(archive) == []
    assert "pending_destruction" not in states(archive).values()

    resumed = run(archive)
    assert resumed["contracts"] == expected["contracts"]
    assert len(resumed["destruction_lists"]) == 3 == len(lists(archive))
    assert sorted(actions(archive, "retention.move_to_unpaid")) == sorted(
        expected["contracts"]["moved_to_unpaid"])  # fmt: skip
    with archive.catalogue.reading() as session:
        kept = session.scalars(select(RetentionRun)).all()
        assert [(r.state, r.dry_run) for r in kept] == [("done", True), ("done", False)]


def test_a_sweep_interrupted_while_listing_files_no_list_twice(archive, mixed, monkeypatch):
    expected = run(archive, dry_run=True)
    monkeypatch.setattr(retention, "PART_SIZE", 4)
    rendered = retention.render_record
    calls = []

    def converter_dies_at_the_third_list(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("LibreOffice died")
        return rendered(*args, **kwargs)

    monkeypatch.setattr(retention, "render_record", converter_dies_at_the_third_list)
    with pytest.raises(RuntimeError):
        run(archive)
    assert len(lists(archive)) == 2
    on_lists = [no for no, state in states(archive).items() if state == "pending_destruction"]
    # 2019·华南 (3) and the first part of 2020·华东 (4): a pending contract is on a list
    assert len(on_lists) == 7

    # The next day's run first finishes the interrupted one (as of its own day).
    monkeypatch.setattr(retention, "render_record", rendered)
    next_day = run(archive, as_of=AS_OF + dt.timedelta(days=1))
    assert next_day["counts"]["pending_destruction"] == 0
    with archive.catalogue.reading() as session:
        first = session.scalars(select(RetentionRun).where(RetentionRun.dry_run.is_(False))
                                .order_by(RetentionRun.id)).first()  # fmt: skip
        assert first.state == "done"
        assert first.report["contracts"] == expected["contracts"]
    numbers = [r.number for r in lists(archive)]
    # 华东 2020: 10 → 3 parts; 华北 2020: 4 → 1; 华南 2019: 3 → 1; the number given back by
    # the failed rendering is used again: no gap, no duplicate.
    year = dt.date.today().year
    assert numbers == [f"XQ-{year}-{n:04d}" for n in range(1, 6)]
    assert sorted(first.report["destruction_lists"]) == numbers
    assert sorted(actions(archive, "retention.pending_destruction")) == sorted(
        expected["contracts"]["pending_destruction"])  # fmt: skip


def test_one_list_per_volume_split_into_parts(archive, monkeypatch):
    east = file_contracts(archive, closed("2020-03-15", "华东", 7))
    north = file_contracts(archive, closed("2019-05-10", "华北", 2))
    monkeypatch.setattr(retention, "PART_SIZE", 3)
    report = run(archive)
    assert len(report["destruction_lists"]) == 4
    assert report["destruction_list"] == report["destruction_lists"][0]
    texts = {r.number: list_text(archive, r) for r in lists(archive)}
    # The volumes in order (2019 before 2020), each part with its own contracts.
    first, *east_parts = report["destruction_lists"]
    assert "2019 年度·华北卷" in texts[first] and all(no in texts[first] for no in north)
    for n, number in enumerate(east_parts):
        text = texts[number]
        assert "2020 年度·华东卷" in text and f"本件共 3 部分，此为第 {n + 1} 部分" in text
        assert [no for no in east if no in text] == east[3 * n : 3 * n + 3]
    # Hashes shown by a short prefix; the tombstones keep them whole.
    with archive.catalogue.reading() as session:
        digest = session.scalar(select(Document.sha256).where(
            Document.number == east[0], Document.format == "pdf"))  # fmt: skip
    assert digest[:HASH_PREFIX] in texts[east_parts[0]]
    rows = re.sub(r"SHA-256 [0-9a-f]{64}", "", "".join(texts.values()))  # the chain's head
    assert not re.search(r"[0-9a-f]{40}", rows)


def test_a_large_approval_files_its_certificate_in_parts(archive, monkeypatch):
    numbers = file_contracts(archive, closed("2020-03-15", "华东", 5))
    run(archive)
    monkeypatch.setattr(retention, "PART_SIZE", 2)
    result = retention.destroy(archive, numbers, "到期销毁", MANAGER)
    assert result["certificate"] == result["certificates"][0]
    assert len(result["certificates"]) == 3
    with archive.catalogue.reading() as session:
        certificates = {r.number: r for r in session.scalars(
            select(Record).where(Record.kind == "destruction_certificate"))}  # fmt: skip
    assert set(certificates) == set(result["certificates"])
    last = list_text(archive, certificates[result["certificates"][2]])
    assert "此为第 3 部分" in last and numbers[4] in last and numbers[0] not in last
    assert set(states(archive).values()) == {"destroyed"}
    named = {
        e.target: e.detail["certificate"] for e in _entries(archive, "retention.destroy_approved")
    }
    assert named[numbers[0]] == result["certificates"][0]
    assert named[numbers[4]] == result["certificates"][2]


def _entries(archive, action: str) -> list[AuditEntry]:
    with archive.catalogue.reading() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_real_run_is_never_dated_after_today_but_a_dry_run_may_look_ahead(
    client, auth, runner, archive
):
    file_contracts(archive, closed("2021-06-01", "华东", 1))
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    url = "/api/v1/retention/runs"
    refused = client.post(url, json={"as_of": tomorrow}, headers=auth("archivist"))
    assert refused.status_code == 422
    body = refused.get_json()
    assert "as_of" in body["errors"] and "今天" in body["errors"]["as_of"][0]
    cli = runner.invoke(main, ["retention", "run", "--as-of", tomorrow])
    assert cli.exit_code == 2 and "今天" in cli.output
    assert set(states(archive).values()) == {None}

    ahead = client.post(url, json={"as_of": "2027-01-01", "dry_run": True},
                        headers=auth("archivist"))  # fmt: skip
    assert ahead.status_code == 201
    assert ahead.get_json()["counts"]["pending_destruction"] == 1
    assert set(states(archive).values()) == {None}


def test_a_run_while_another_runs_is_refused(client, auth, archive):
    with archive.catalogue.lock(sweep.LOCK):
        busy = client.post("/api/v1/retention/runs", json={"as_of": "2026-01-01"},
                           headers=auth("archivist"))  # fmt: skip
    assert busy.status_code == 409 and "正在进行" in busy.get_json()["message"]


def test_progress_goes_to_stderr_and_the_json_report_alone_to_stdout(runner, archive, monkeypatch):
    from service.cli import retention as retention_cli

    file_contracts(archive, closed("2020-03-15", "华东", 5) + closed("2020-03-15", "华北", 1))
    monkeypatch.setattr(retention_cli, "PROGRESS_EVERY", 0)
    monkeypatch.setattr(sweep, "BATCH", 2)
    result = runner.invoke(main, ["retention", "run", "--as-of", "2026-01-01", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["counts"]["pending_destruction"] == 6 and len(report["destruction_lists"]) == 2
    assert "清理：6/6 份合同" in result.stderr and "销毁清单：2/2 份" in result.stderr
