"""From draft to signature (004 銷售合同簽訂流程): a clerk drafts and corrects a contract, the
contract reviewer sees the buyer's overdue contracts and returns it, the clerk corrects it,
the chain runs through supervisor and legal to the sales manager, who approves it over the
credit rules only with a feasibility note and an explicit override; then the signed copy
comes back."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

from archive import users
from archive.models import Contract, ContractReview, utcnow
from service import create_app
from service.cli import main
from tests.conftest import BOTH_DATABASES
from tests.service.test_archive_api import scan_pdf, upload  # noqa: F401 (a fixture)

pytestmark = BOTH_DATABASES

STEPS = ["合同审核", "销售主管", "法务", "销售经理"]
# login → (role, department, region, duties)
STAFF = {
    "li": ("clerk", "销售部", "华东", []),
    "shen": ("staff", "财务部", None, ["合同审核"]),
    "zhu": ("clerk", "销售部", "华东", ["销售主管"]),
    "fa": ("staff", "法务部", None, ["法务"]),
    "wang": ("manager", "销售部", "华东", []),
}
OVERRIDE = {"override": True, "feasibility_note": "区域经理：客户已承诺月底结清，建议签订。"}


@pytest.fixture
def chain_app(settings):
    app = create_app({**settings, "REVIEW_STEPS": STEPS, "SIGNED_COPY_DAYS": 0})
    yield app
    app.extensions["hetong.archive"].close()


@pytest.fixture
def office(chain_app):
    """The client and each person's headers."""
    archive = chain_app.extensions["hetong.archive"]
    headers = {}
    for name, (role, department, region, duties) in STAFF.items():
        token = users.add_user(archive.catalogue, name, role, department=department,
                               region=region)[1]  # fmt: skip
        if duties:
            users.set_duties(archive.catalogue, name, duties)
        headers[name] = {"Authorization": f"Bearer {token}"}
    return chain_app.test_client(), headers, archive


def review(client, who, number, decision, **body):
    return client.post(f"/api/v1/contracts/{number}/reviews", headers=who,
                       json={"decision": decision, **body})  # fmt: skip


def through_chain(client, h, number):
    """Submit and approve at every step (the last with a feasibility note and override)."""
    assert review(client, h["li"], number, "submitted").status_code == 201
    for who in ("shen", "zhu", "fa"):
        assert review(client, h[who], number, "approved").status_code == 201
    done = review(client, h["wang"], number, "approved", **OVERRIDE)
    assert done.status_code == 201, done.get_json()


def file(client, h, body):
    made = client.post("/api/v1/contracts", json=body, headers=h["li"])
    assert made.status_code == 201, made.get_json()
    return made.get_json()


@pytest.fixture
def overdue_twice(office, payload):
    """The buyer already has two effective contracts, both overdue (by about 9 and 2 months)."""
    client, h, _ = office
    numbers = []
    for due in ("2026-03-01", "2026-09-20"):
        old = copy.deepcopy(payload)
        old["signed_on"], old["delivery"]["deadline"] = "2026-01-10", "2026-02-10"
        old["payment"]["due_on"] = due
        number = file(client, h, old)["contract_no"]
        through_chain(client, h, number)
        numbers.append(number)
    return numbers


def test_a_draft_goes_from_the_clerk_through_the_chain_to_the_manager(
    office, payload, overdue_twice
):
    client, h, _ = office
    body = copy.deepcopy(payload)
    for clause in ("quality_standard", "liability_exemptions", "breach_liability",
                   "dispute_resolution"):  # fmt: skip
        del body[clause]  # drafted from the standard clauses of its business type
    body["buyer"]["address"] = "浙江省杭州市临平区东湖街道9号"  # a typo: 99号
    draft = file(client, h, body)
    deviating = {d["field"] for d in draft["clause_deviations"]}
    assert "dispute_resolution" not in deviating and "delivery.acceptance" in deviating
    number, code = draft["contract_no"], draft["archival_code"]
    body["buyer"]["address"] = "浙江省杭州市临平区东湖街道99号"
    fixed = client.put(f"/api/v1/contracts/{number}", json=body, headers=h["li"])
    assert fixed.status_code == 200
    assert (fixed.get_json()["contract_no"], fixed.get_json()["archival_code"]) == (number, code)

    # A manager cannot skip the chain.
    skipped = client.post(f"/api/v1/contracts/{number}/status", json={"status": "effective"},
                          headers=h["wang"])  # fmt: skip
    assert skipped.status_code == 409 and "审批流程" in skipped.get_json()["message"]

    assert review(client, h["li"], number, "submitted").status_code == 201
    # The contract reviewer (财务部, no sales scope) reads the draft because it waits for her,
    # and sees, from the archive itself, the buyer's two overdue contracts.
    seen = client.get(f"/api/v1/contracts/{number}/reviews", headers=h["shen"]).get_json()
    assert seen["may_decide"] and seen["step"] == "合同审核"
    assert seen["credit"]["overdue_contracts"] == 2
    # She may not read those two contracts: they are counted, their numbers withheld.
    assert [(e["contract_no"], e["outstanding"]) for e in seen["credit"]["overdue"]] == [
        (None, "382505.00"), (None, "382505.00")]  # fmt: skip
    assert seen["credit"]["days_overdue"] > 30
    assert seen["credit"]["needs_override"]
    assert client.get(f"/api/v1/contracts/{number}", headers=h["shen"]).status_code == 200
    waiting = client.get("/api/v1/tasks", headers=h["shen"]).get_json()
    assert [(t["kind"], t["contract_no"]) for t in waiting] == [("review", number)]

    # Not yet legal's step: to legal the draft does not exist yet; the supervisor (who sees
    # it as sales staff of the region) may not decide another's step.
    assert review(client, h["fa"], number, "approved").status_code == 404
    assert review(client, h["zhu"], number, "approved").status_code == 404
    returned = review(client, h["shen"], number, "returned",
                      note="需方有两笔逾期欠款，请补充付款计划")  # fmt: skip
    assert returned.status_code == 201
    assert client.get(f"/api/v1/contracts/{number}", headers=h["shen"]).status_code == 404
    mine = client.get("/api/v1/tasks", headers=h["li"]).get_json()
    assert {
        "kind": "returned",
        "contract_no": number,
        "note": "需方有两笔逾期欠款，请补充付款计划",
        "step": "合同审核",
    }.items() <= next(t for t in mine if t["kind"] == "returned").items()

    # The clerk corrects it: the chain starts again.
    body["payment"]["terms"] = "合同生效后预付50%，验收合格后30日内付清余款"
    again = client.put(f"/api/v1/contracts/{number}", json=body, headers=h["li"])
    assert again.status_code == 200 and again.get_json()["revision"] == 3
    chain = client.get(f"/api/v1/contracts/{number}/reviews", headers=h["li"]).get_json()
    assert (chain["state"], chain["step"], chain["round"]) == ("in_review", "合同审核", 2)
    for who in ("shen", "zhu", "fa"):
        assert review(client, h[who], number, "approved").status_code == 201

    # The manager: overdue past 30 days needs a feasibility note and an explicit override.
    plain = review(client, h["wang"], number, "approved")
    assert plain.status_code == 409
    assert set(plain.get_json()["errors"]) == {"override", "feasibility_note"}
    assert "逾期超过 30 天" in plain.get_json()["message"]
    assert client.get(f"/api/v1/contracts/{number}", headers=h["li"]).get_json()["status"] == \
        "draft"  # fmt: skip
    done = review(client, h["wang"], number, "approved", **OVERRIDE)
    assert done.status_code == 201
    assert done.headers["Location"].endswith(f"/api/v1/contracts/{number}/reviews")
    shown = client.get(f"/api/v1/contracts/{number}", headers=h["li"]).get_json()
    assert shown["status"] == "effective" and shown["approved_by"] == "wang"
    final = done.get_json()["history"][-1]
    assert (final["step"], final["override"], final["by"]) == ("销售经理", True, "wang")
    assert final["feasibility_note"] == OVERRIDE["feasibility_note"]
    steps = [(s["step"], s["decision"]) for s in done.get_json()["steps"]]
    assert steps == [(s, "approved") for s in STEPS]


def test_a_customer_over_its_limit_cannot_pass_without_the_override(office, payload):
    client, h, archive = office
    number = file(client, h, payload)["contract_no"]
    url = client.get(f"/api/v1/contracts/{number}", headers=h["li"]).get_json()["customer"]["url"]
    limited = client.patch(url, json={"grade": "C", "credit_limit": "300000.00"},
                           headers=h["wang"])  # fmt: skip
    assert limited.status_code == 200
    assert review(client, h["li"], number, "submitted").status_code == 201
    for who in ("shen", "zhu", "fa"):
        assert review(client, h[who], number, "approved").status_code == 201
    refused = review(client, h["wang"], number, "approved", feasibility_note="客户资信良好")
    assert refused.status_code == 409
    assert "信用额度" in refused.get_json()["message"]
    assert refused.get_json()["credit"]["over_limit"]
    with archive.catalogue.reading() as session:
        decided = session.scalars(select(ContractReview.step)
                                  .where(ContractReview.decision == "approved")).all()  # fmt: skip
    assert "销售经理" not in decided
    assert review(client, h["wang"], number, "approved", **OVERRIDE).status_code == 201


def test_the_signed_copy_is_waited_for_until_it_comes_back(office, payload, scan_pdf):  # noqa: F811
    client, h, _ = office
    number = file(client, h, payload)["contract_no"]
    through_chain(client, h, number)
    waiting = client.get("/api/v1/tasks", headers=h["li"]).get_json()
    assert [(t["kind"], t["contract_no"]) for t in waiting] == [("signed_copy", number)]
    assert client.get(f"/api/v1/contracts/{number}", headers=h["li"]).get_json()[
        "countersigned"] is False  # fmt: skip

    def auth(role):
        return h[{"clerk": "li"}.get(role, role)]

    assert upload(client, auth, number, scan_pdf).status_code == 201
    assert client.get("/api/v1/tasks", headers=h["li"]).get_json() == []
    assert client.get(f"/api/v1/contracts/{number}", headers=h["li"]).get_json()[
        "countersigned"] is True  # fmt: skip


def test_an_operator_runs_the_chain_and_the_unsigned_check_from_the_shell(
    runner, monkeypatch, tmp_path, payload
):
    monkeypatch.setenv("HETONG_REVIEW_STEPS", "合同审核,销售经理")
    monkeypatch.setenv("HETONG_SIGNED_COPY_DAYS", "0")
    for name, role, extra in (("li", "clerk", ["--region", "华东"]), ("shen", "staff", [
            "--department", "财务部"]), ("wang", "manager", ["--region", "华东"])):  # fmt: skip
        assert runner.invoke(main, ["users", "add", name, "--role", role, *extra]).exit_code == 0
    given = runner.invoke(main, ["users", "duties", "shen", "合同审核"])
    assert given.exit_code == 0 and "合同审核" in given.output
    source = tmp_path / "contract.json"
    source.write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
    number = runner.invoke(main, ["--as", "li", "contracts", "create", str(source)]).output.strip()

    def as_(who, *args):
        return runner.invoke(main, ["--as", who, "contracts", "review", number, *args])

    submitted = as_("li", "submitted")
    assert submitted.exit_code == 0 and "审批中（待合同审核）" in submitted.output
    assert as_("wang", "approved").exit_code != 0  # not the manager's step yet
    assert as_("shen", "approved").exit_code == 0
    assert "已审批" in as_("wang", "approved").output

    missing = runner.invoke(main, ["contracts", "unsigned"])
    assert missing.exit_code == 1 and number in missing.output and "未回签" in missing.output
    later = runner.invoke(main, ["contracts", "unsigned", "--days", "30"])
    assert later.exit_code == 0 and later.output == ""


def _waiting_at(client, h, number, step):
    """Submit and approve up to ``step``."""
    assert review(client, h["li"], number, "submitted").status_code == 201
    for who, at in (("shen", "合同审核"), ("zhu", "销售主管"), ("fa", "法务")):
        if at == step:
            return
        assert review(client, h[who], number, "approved").status_code == 201


def test_a_duty_opens_the_draft_for_reading_only(office, payload):
    """Waiting for the supervisor, the draft is his to read and decide — not its customer to
    change, nor the buyer's other business to see while it does not wait for him."""
    client, h, _ = office
    number = file(client, h, payload)["contract_no"]
    early = client.get(f"/api/v1/contracts/{number}/reviews", headers=h["zhu"])
    assert early.status_code == 404  # not his yet
    _waiting_at(client, h, number, "销售主管")
    seen = client.get(f"/api/v1/contracts/{number}/reviews", headers=h["zhu"]).get_json()
    assert seen["may_decide"] and seen["credit"] is not None
    url = client.get(f"/api/v1/contracts/{number}", headers=h["zhu"]).get_json()["customer"]["url"]
    patched = client.patch(url, json={"bank": "骗子银行", "account": "666"}, headers=h["zhu"])
    assert patched.status_code == 404
    other = client.get(f"/api/v1/contracts/{number}/reviews", headers=h["li"]).get_json()
    assert other["credit"] is None  # the owner does not decide: no credit over all contracts


def test_four_eyes_at_every_step(office, payload, chain_app):
    client, h, archive = office
    users.set_duties(archive.catalogue, "shen", ["合同审核", "销售主管"])
    number = file(client, h, payload)["contract_no"]
    assert review(client, h["li"], number, "submitted").status_code == 201
    assert review(client, h["shen"], number, "approved").status_code == 201
    twice = review(client, h["shen"], number, "approved")  # the next step too: no
    assert twice.status_code == 403
    # A decision meant for a step the draft has left is not recorded on another.
    stale = review(client, h["zhu"], number, "approved", step="合同审核")
    assert stale.status_code == 409
    users.set_duties(archive.catalogue, "li", ["销售主管"])
    own = review(client, h["li"], number, "approved")  # the owner: never on her own draft
    assert own.status_code == 403


def test_terminating_a_draft_in_review_ends_its_review(office, payload):
    client, h, _ = office
    number = file(client, h, payload)["contract_no"]
    assert review(client, h["li"], number, "submitted").status_code == 201
    assert client.get(f"/api/v1/contracts/{number}", headers=h["shen"]).status_code == 200
    ended = client.post(f"/api/v1/contracts/{number}/status", json={"status": "terminated"},
                        headers=h["li"])  # fmt: skip
    assert ended.status_code == 200
    assert client.get(f"/api/v1/contracts/{number}", headers=h["shen"]).status_code == 404
    assert client.get("/api/v1/tasks", headers=h["shen"]).get_json() == []


def test_the_chain_must_end_with_the_sales_manager(settings):
    with pytest.raises(ValueError, match="销售经理"):
        create_app({**settings, "REVIEW_STEPS": ["合同审核", "法务"]})


def test_whoever_corrected_the_draft_does_not_approve_it(office, payload):
    client, h, _ = office
    number = file(client, h, payload)["contract_no"]
    assert review(client, h["li"], number, "submitted").status_code == 201
    body = copy.deepcopy(payload)
    body["items"][0]["unit_price"] = "180000.00"
    assert (
        client.put(f"/api/v1/contracts/{number}", json=body, headers=h["wang"]).status_code == 200
    )
    for who in ("shen", "zhu", "fa"):
        assert review(client, h[who], number, "approved").status_code == 201
    own = review(client, h["wang"], number, "approved")
    assert own.status_code == 403 and "改稿" in own.get_json()["message"]


def test_a_duty_does_not_let_one_file_for_the_customer_it_shows(office, payload):
    client, h, _ = office
    number = file(client, h, payload)["contract_no"]
    _waiting_at(client, h, number, "销售主管")
    seen = client.get(f"/api/v1/contracts/{number}", headers=h["zhu"]).get_json()
    body = copy.deepcopy(payload)
    del body["buyer"]
    body["customer_id"] = seen["customer"]["id"]
    made = client.post("/api/v1/contracts", json=body, headers=h["zhu"])
    assert made.status_code == 422 and "customer_id" in made.get_json()["errors"]


def test_the_refusal_shows_the_credit_as_the_manager_may_see_it(office, payload):
    """The buyer owes on a 华南 contract the 华东 manager may not read: his refused approval
    counts it without naming it."""
    client, h, archive = office
    south = copy.deepcopy(payload)
    south["region"], south["signed_on"] = "华南", "2026-01-10"
    south["delivery"]["deadline"], south["payment"]["due_on"] = "2026-02-10", "2026-03-01"
    other = file(client, h, south)["contract_no"]
    with archive.catalogue.writing() as session:  # approved in 华南 (no 华南 manager here)
        row = session.scalar(select(Contract).where(Contract.contract_no == other))
        row.status, row.approved_by, row.approved_at = "effective", "chen", utcnow()
    number = file(client, h, payload)["contract_no"]
    _waiting_at(client, h, number, "销售经理")
    refused = review(client, h["wang"], number, "approved")
    assert refused.status_code == 409
    assert [e["contract_no"] for e in refused.get_json()["credit"]["overdue"]] == [None]
