"""The 5-year rule, run unattended: unpaid contracts set apart, paid ones destroyed only
with a manager's approval, held ones untouched — over several years and regions."""

from __future__ import annotations

import copy
import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from archive import retention, template_register
from archive import sweep as sweeping
from archive.actor import Actor
from archive.models import AuditEntry, Record
from service.cli import main
from templates.destruction import HASH_PREFIX
from tests.helpers import pdf_text

SIGNED = {"2019": "2019-05-10", "2020": "2020-03-15", "2021": "2021-08-01"}
# Nothing of these was shipped through hetong: completing them is confirmed with a reason.
DONE = {"status": "completed", "force": True, "note": "货物已由需方自提"}


@pytest.fixture
def spread(client, auth, payload):
    """A realistic archive. Returns name → contract number."""

    def contract(signed_on, region="华东", *, buyer="杭州临平精工机械有限公司"):
        body = copy.deepcopy(payload)
        body["signed_on"], body["region"] = signed_on, region
        body["buyer"]["name"] = buyer
        body["delivery"]["deadline"] = body["payment"]["due_on"] = signed_on[:4] + "-12-31"
        number = client.post("/api/v1/contracts", json=body, headers=auth()).get_json()
        return number["contract_no"]

    def act(number, what, body, role="clerk"):
        response = client.post(f"/api/v1/contracts/{number}/{what}", json=body,
                               headers=auth(role))  # fmt: skip
        assert response.status_code in (200, 201), response.get_json()

    def effective(number):
        act(number, "status", {"status": "effective"}, "manager")

    def pay(number, amount, on="2020-06-01"):
        act(number, "payments", {"amount": amount, "paid_on": on, "method": "银行转账"})

    names = {}
    # Due 2026-01-01 (signed 2020):
    names["paid"] = n = contract(SIGNED["2020"])
    effective(n), pay(n, "382505.00"), act(n, "status", DONE)
    names["partly_paid"] = n = contract(SIGNED["2020"], "华北", buyer="天津重工机械有限公司")
    effective(n), pay(n, "100000.00"), act(n, "status", DONE)
    names["unpaid_terminated"] = n = contract(SIGNED["2020"], "华北")
    effective(n), act(n, "status", {"status": "terminated"})
    names["amended"] = n = contract(SIGNED["2020"])
    effective(n), pay(n, "382505.00")
    act(n, "amendments", {"reason": "涨价", "effective_on": "2020-04-01", "changes": [
        {"field": "unit_price", "line": 2, "after": "1300.00"}]})  # fmt: skip
    act(n, "status", DONE)  # paid the old total: owes 495.00 now
    names["held"] = n = contract(SIGNED["2020"])
    effective(n), pay(n, "382505.00"), act(n, "status", DONE)
    act(n, "hold", {"reason": "诉讼保全：(2025)沪0115民初1234号"}, "archivist")
    names["still_effective"] = n = contract(SIGNED["2020"])
    effective(n)
    names["draft"] = contract(SIGNED["2020"], "华南")
    names["old_paid"] = n = contract(SIGNED["2019"], "华南")  # due 2025-01-01
    effective(n), pay(n, "382505.00", "2019-08-01"), act(n, "status", DONE)
    # Not due until 2027-01-01:
    names["young_paid"] = n = contract(SIGNED["2021"])
    effective(n), pay(n, "382505.00", "2021-09-01"), act(n, "status", DONE)
    return names


def outcome_of(report, number):
    return next((k for k, v in report["contracts"].items() if number in v), "not_due")


def sweep(client, auth, as_of, dry_run=False, role="archivist"):
    response = client.post("/api/v1/retention/runs", json={"as_of": as_of, "dry_run": dry_run},
                           headers=auth(role))  # fmt: skip
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_each_contract_gets_exactly_its_outcome(client, auth, spread):
    report = sweep(client, auth, "2026-01-01")
    expected = {
        "paid": "pending_destruction", "partly_paid": "moved_to_unpaid",
        "unpaid_terminated": "moved_to_unpaid", "amended": "moved_to_unpaid",
        "held": "held", "still_effective": "in_performance", "draft": "in_performance",
        "old_paid": "pending_destruction", "young_paid": "not_due",
    }  # fmt: skip
    assert {name: outcome_of(report, no) for name, no in spread.items()} == expected
    assert report["counts"]["pending_destruction"] == 2
    assert report["destruction_list"].startswith("XQ-")


def test_a_sweep_in_batches_smaller_than_the_archive_gives_the_same_outcomes(
    client, auth, spread, monkeypatch
):
    whole = sweep(client, auth, "2026-01-01", dry_run=True)
    monkeypatch.setattr(sweeping, "BATCH", 2)  # nine contracts due: five batches
    batched = sweep(client, auth, "2026-01-01")
    assert batched["contracts"] == whole["contracts"]
    assert outcome_of(batched, spread["amended"]) == "moved_to_unpaid"
    assert outcome_of(batched, spread["young_paid"]) == "not_due"
    # Newly destroyable in two volumes (2019·华南 and 2020·华东): a list for each, in that order.
    assert batched["destruction_lists"] == ["XQ-2026-0001", "XQ-2026-0002"]
    assert batched["destruction_list"] == "XQ-2026-0001"
    second = sweep(client, auth, "2026-01-01")
    assert second["counts"]["unpaid"] == 3 and second["counts"]["awaiting_approval"] == 2


def test_a_draft_terminated_before_approval_owes_nothing_and_is_destroyable(client, auth, payload):
    """A clerk drafts a contract in 2020 and withdraws it before the manager approves it."""
    payload["signed_on"] = "2020-03-15"
    payload["delivery"]["deadline"] = payload["payment"]["due_on"] = "2020-12-31"
    created = client.post("/api/v1/contracts", json=payload, headers=auth()).get_json()
    number = created["contract_no"]
    ended = client.post(f"/api/v1/contracts/{number}/status", json={"status": "terminated"},
                        headers=auth())  # fmt: skip
    assert ended.status_code == 200, ended.get_json()
    body = client.get(f"/api/v1/contracts/{number}", headers=auth()).get_json()
    assert (body["outstanding"], body["payment_state"]) == ("0.00", "unpaid")
    assert body["overdue"] is False and body["days_overdue"] == 0
    owed = client.get("/api/v1/receivables?as_of=2026-01-01", headers=auth()).get_json()
    assert number not in [r["contract_no"] for r in owed["items"]]

    report = sweep(client, auth, "2026-01-01")
    assert outcome_of(report, number) == "pending_destruction"
    done = client.post("/api/v1/retention/destructions", headers=auth("manager"),
                       json={"contract_nos": [number], "note": "从未生效"})  # fmt: skip
    assert done.status_code == 201, done.get_json()
    assert client.get(f"/api/v1/contracts/{number}", headers=auth()).status_code == 410


def test_the_unpaid_volume_holds_exactly_the_contracts_with_money_owed(client, auth, spread):
    sweep(client, auth, "2026-01-01")
    states = {name: client.get(f"/api/v1/contracts/{no}", headers=auth()).get_json()
              for name, no in spread.items()}  # fmt: skip
    in_unpaid = {name for name, body in states.items()
                 if body["retention"]["state"] == "unpaid_volume"}  # fmt: skip
    assert in_unpaid == {"partly_paid", "unpaid_terminated", "amended"}
    assert states["amended"]["outstanding"] == "495.00"
    owed = client.get("/api/v1/receivables?as_of=2026-01-01", headers=auth()).get_json()
    assert {spread[n] for n in in_unpaid} <= {r["contract_no"] for r in owed["items"]}
    # still searchable
    found = client.get("/api/v1/search?q=天津重工", headers=auth("archivist")).get_json()
    assert [h["number"] for h in found["hits"]] == [spread["partly_paid"]]


def test_a_dry_run_reports_the_same_and_changes_nothing(client, auth, spread, archive):
    dry = sweep(client, auth, "2026-01-01", dry_run=True)
    assert all(client.get(f"/api/v1/contracts/{no}", headers=auth()).get_json()["retention"]
               ["state"] is None for no in spread.values())  # fmt: skip
    real = sweep(client, auth, "2026-01-01")
    assert dry["contracts"] == real["contracts"]
    assert dry["destruction_list"] is None


def test_running_twice_changes_nothing_the_second_time(client, auth, spread):
    sweep(client, auth, "2026-01-01")
    before = {no: client.get(f"/api/v1/contracts/{no}", headers=auth()).get_json()["retention"]
              for no in spread.values()}  # fmt: skip
    second = sweep(client, auth, "2026-01-01")
    after = {no: client.get(f"/api/v1/contracts/{no}", headers=auth()).get_json()["retention"]
             for no in spread.values()}  # fmt: skip
    assert before == after
    assert second["counts"]["moved_to_unpaid"] == second["counts"]["pending_destruction"] == 0
    assert second["counts"]["unpaid"] == 3 and second["counts"]["awaiting_approval"] == 2
    assert second["destruction_list"] is None
    runs = client.get("/api/v1/retention/runs", headers=auth("manager")).get_json()["items"]
    assert len(runs) == 2 and runs[0]["counts"] == second["counts"]


def test_a_contract_paid_off_later_becomes_pending_destruction(client, auth, spread):
    sweep(client, auth, "2026-01-01")
    number = spread["partly_paid"]
    rest = {"amount": "282505.00", "paid_on": "2026-02-01", "method": "银行转账"}
    client.post(f"/api/v1/contracts/{number}/payments", headers=auth(), json=rest)
    report = sweep(client, auth, "2026-03-01")
    assert outcome_of(report, number) == "pending_destruction"


def test_only_a_manager_destroys_and_only_what_is_pending(client, auth, spread):
    sweep(client, auth, "2026-01-01")
    url = "/api/v1/retention/destructions"
    body = {"contract_nos": [spread["paid"]], "note": "到期销毁"}
    for role in ("clerk", "archivist"):
        assert client.post(url, json=body, headers=auth(role)).status_code == 403
    for name in ("partly_paid", "held", "still_effective", "young_paid"):
        refused = client.post(url, json={"contract_nos": [spread[name]]}, headers=auth("manager"))
        assert refused.status_code == 409, name
        assert spread[name] in refused.get_json()["message"]
    # all or nothing: one bad number refuses the whole request
    mixed = {"contract_nos": [spread["paid"], spread["held"]]}
    assert client.post(url, json=mixed, headers=auth("manager")).status_code == 409
    assert client.get(f"/api/v1/contracts/{spread['paid']}", headers=auth()).status_code == 200


def test_after_destruction_the_contract_is_gone_but_registered(client, auth, spread, archive):
    sweep(client, auth, "2026-01-01")
    number = spread["paid"]
    before = client.get(f"/api/v1/contracts/{number}", headers=auth()).get_json()
    pdf_url = before["documents"][0]["pdf"]["url"]
    digests = [before["documents"][0][f]["sha256"] for f in ("pdf", "docx")]

    done = client.post("/api/v1/retention/destructions", headers=auth("manager"),
                       json={"contract_nos": [number], "note": "到期销毁"})  # fmt: skip
    assert done.status_code == 201, done.get_json()
    certificate = done.get_json()["certificate"]

    gone = client.get(f"/api/v1/contracts/{number}", headers=auth())
    assert gone.status_code == 410
    stone = gone.get_json()["tombstone"]
    assert stone["contract_no"] == number and stone["buyer"] == "杭州临平精工机械有限公司"
    assert stone["total"] == "382505.00" and stone["signed_on"] == "2020-03-15"
    assert {d["sha256"] for d in stone["documents"]} == set(digests)
    assert (stone["certificate"], stone["destroyed_by"]) == (certificate, "manager-user")
    audit_copy = client.get(
        pdf_url, query_string={"purpose": "审计抽查"}, headers=auth("archivist")
    )
    assert audit_copy.status_code == 410
    assert all(not archive.storage.exists(d) for d in digests)
    found = client.get("/api/v1/search?q=HT-202003", headers=auth("archivist")).get_json()
    assert number not in [h["contract_no"] for h in found["hits"]]
    # The list and the certificate name the template version they were made with.
    destruction = template_register.active(archive.catalogue, "destruction")
    with archive.catalogue.reading() as session:
        made_with = set(session.scalars(select(Record.template_version_id)))
    assert made_with == {destruction.version_id}

    cert = client.get(f"/api/v1/retention/records/{certificate}/pdf", headers=auth("manager"))
    text = pdf_text(cert.data)
    for expected in ("销售合同销毁记录", number, "杭州临平精工机械有限公司", "382,505.00",
                     digests[0][:HASH_PREFIX], "manager-user", "到期销毁"):  # fmt: skip
        assert expected in text.replace("\n", ""), expected
    assert PdfReader(io.BytesIO(cert.data)).xmp_metadata.pdfaid_part == "2"
    # the certificate survives the start-up clean-up: it is kept permanently
    assert archive.heal() == []
    assert client.get(f"/api/v1/retention/records/{certificate}/pdf",
                      headers=auth("manager")).status_code == 200  # fmt: skip

    with archive.catalogue.reading() as s:
        actions = {e.action for e in s.scalars(select(AuditEntry)
                                               .where(AuditEntry.target == number))}  # fmt: skip
    assert {"retention.pending_destruction", "retention.destroy_approved",
            "retention.destroyed"} <= actions  # fmt: skip


def test_holds_are_set_and_released_by_archivists_and_managers(client, auth, create):
    number = create()["contract_no"]
    url = f"/api/v1/contracts/{number}/hold"
    assert client.post(url, json={"reason": "x"}, headers=auth("clerk")).status_code == 403
    assert client.post(url, json={}, headers=auth("archivist")).status_code == 422
    held = client.post(url, json={"reason": "审计冻结"}, headers=auth("archivist")).get_json()
    assert held["retention"]["hold"]["reason"] == "审计冻结"
    released = client.delete(url, headers=auth("manager")).get_json()
    assert released["retention"]["hold"] is None
    assert client.delete(url, headers=auth("manager")).status_code == 409


def test_a_destruction_interrupted_midway_is_finished_by_the_next_start(
    settings, client, auth, spread, archive, monkeypatch
):
    """The process dies after the approval is journaled, before the files are deleted."""
    from service import create_app

    sweep(client, auth, "2026-01-01")
    number = spread["paid"]
    digests = [d["sha256"] for d in
               client.get(f"/api/v1/contracts/{number}", headers=auth()).get_json()["documents"]
               for d in (d["pdf"], d["docx"])]  # fmt: skip

    def crash(*args, **kwargs):
        raise SystemExit("killed")

    monkeypatch.setattr(retention, "_carry_out", crash)
    with pytest.raises(SystemExit):
        retention.destroy(archive, [number], "到期", Actor("manager-user", "manager"))
    monkeypatch.undo()
    # half done: approved and journaled, files still there, never served again
    assert all(archive.storage.exists(d) for d in digests)
    assert client.get(f"/api/v1/contracts/{number}", headers=auth()).status_code == 410

    restarted = create_app(settings)
    assert not any(restarted.extensions["hetong.archive"].storage.exists(d) for d in digests)
    body = restarted.test_client().get(f"/api/v1/contracts/{number}", headers=auth())
    assert body.status_code == 410
    restarted.extensions["hetong.archive"].close()


def test_the_cli_sweep_for_cron(runner, spread):
    dry = runner.invoke(main, ["retention", "run", "--as-of", "2026-01-01", "--dry-run",
                               "--json"])  # fmt: skip
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.output)
    assert report["dry_run"] and report["counts"]["pending_destruction"] == 2
    real = runner.invoke(main, ["retention", "run", "--as-of", "2026-01-01"])
    assert real.exit_code == 0
    assert "移入欠款另册：3" in real.output
    rules = runner.invoke(main, ["retention", "rules"])
    assert "5 年" in rules.output
    refused = runner.invoke(main, ["--as", "archivist-user", "retention", "destroy",
                                   spread["paid"]])  # fmt: skip
    assert refused.exit_code == 4
    ok = runner.invoke(main, ["--as", "manager-user", "retention", "destroy", spread["paid"],
                              "--note", "到期"])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert "XH-" in ok.output


def test_a_destroyed_contract_on_the_command_line_shows_its_register_entry(runner, spread):
    """No traceback: each command that reads the contract prints what the register keeps of
    it (JSON on stdout), says why on stderr and exits 6 (gone)."""
    number = spread["paid"]
    assert runner.invoke(main, ["retention", "run", "--as-of", "2026-01-01"]).exit_code == 0
    done = runner.invoke(main, ["--as", "manager-user", "retention", "destroy", number,
                                "--note", "到期"])  # fmt: skip
    assert done.exit_code == 0, done.output
    certificate = done.output.split()[-1]
    assert certificate.startswith("XH-")

    shown = runner.invoke(main, ["contracts", "show", number])
    assert shown.exit_code == 6, shown.output
    assert "Traceback" not in shown.output and "已销毁" not in shown.stdout
    assert number in shown.stderr and "销毁" in shown.stderr
    stone = json.loads(shown.stdout)
    assert (stone["contract_no"], stone["buyer"], stone["seller"]) == (
        number, "杭州临平精工机械有限公司", "上海申远机电设备有限公司")  # fmt: skip
    assert (stone["signed_on"], stone["total"], stone["paid"]) == (
        "2020-03-15", "382505.00", "382505.00")  # fmt: skip
    assert stone["certificate"] == certificate and stone["destroyed_by"] == "manager-user"
    assert stone["destroyed_at"][:4] >= "2026"
    assert len(stone["documents"]) == 2 and all(len(d["sha256"]) == 64
                                                for d in stone["documents"])  # fmt: skip

    for command in (["contracts", "export", number, "--purpose", "核对销毁记录"],
                    ["contracts", "status", number, "completed"],
                    ["contracts", "hold", number, "--reason", "诉讼"]):  # fmt: skip
        result = runner.invoke(main, command)
        assert result.exit_code == 6, (command, result.output)
        assert json.loads(result.stdout)["certificate"] == certificate


def test_a_failing_sweep_exits_non_zero_with_a_message(runner, spread, settings, monkeypatch):
    monkeypatch.setenv("HETONG_CONVERTER_URL", "http://127.0.0.1:9")  # nothing listens there
    result = runner.invoke(main, ["retention", "run", "--as-of", "2026-01-01"])
    assert result.exit_code != 0
    assert "错误" in result.output
