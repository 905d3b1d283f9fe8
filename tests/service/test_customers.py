"""The customer register (客户档案): a contract's buyer is a customer, created from its first
contract or by hand; the customer's page adds up what it owes; our own company is configured
once and filled into every contract."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

from archive import users
from archive.models import AuditEntry
from service import create_app
from service.cli import main
from tests.conftest import BOTH_DATABASES
from tests.helpers import pdf_text

pytestmark = BOTH_DATABASES

BUYER = "杭州临平精工机械有限公司"
SELLER = {"name": "上海申远机电设备有限公司", "address": "上海市浦东新区张江路88号",
          "representative": "王建国", "bank": "中国工商银行上海张江支行",
          "account": "1001234509876543210", "tax_id": "91310115MA1H7XXXX1"}  # fmt: skip


def customers(client, auth, role="clerk", **query):
    response = client.get("/api/v1/customers", query_string=query, headers=auth(role))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def customer(client, auth, url, role="clerk"):
    response = client.get(url, headers=auth(role))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_first_contract_enters_its_buyer_and_later_ones_join_it(client, auth, create,
                                                                     payload):  # fmt: skip
    first = create()
    entry = first["customer"]
    assert entry["name"] == BUYER and entry["differs"] == []
    found = customers(client, auth, q="临平精工")
    assert [c["name"] for c in found["items"]] == [BUYER]
    assert found["items"][0]["address"] == payload["buyer"]["address"]

    second = create()
    assert second["customer"]["id"] == entry["id"]  # the same customer, not a second one
    shown = customer(client, auth, entry["url"])
    assert [c["contract_no"] for c in shown["contracts"]] == [second["contract_no"],
                                                              first["contract_no"]]  # fmt: skip
    assert shown["credit"]["outstanding"] == "0.00"  # drafts bind nobody to pay
    assert customers(client, auth, q="不存在的公司")["items"] == []


def test_a_contract_for_a_chosen_customer_takes_its_details_from_the_register(
    client, auth, create, payload
):
    made = client.post("/api/v1/customers", headers=auth(), json={
        "name": "宁波港城精密部件有限公司", "address": "浙江省宁波市北仑区港城大道1号",
        "bank": "宁波银行北仑支行", "account": "8601000123", "tax_id": "91330206MA2AXXXX9",
        "contacts": [{"name": "周敏", "phone": "0574-86880000", "role": "采购部经理"}],
    })  # fmt: skip
    assert made.status_code == 201, made.get_json()
    assert made.headers["Location"].endswith(f"/api/v1/customers/{made.get_json()['id']}")
    body = copy.deepcopy(payload)
    del body["buyer"]
    body["customer_id"] = made.get_json()["id"]
    contract = create(body)
    assert contract["buyer"]["name"] == "宁波港城精密部件有限公司"
    assert contract["buyer"]["bank"] == "宁波银行北仑支行"
    pdf = client.get(contract["documents"][0]["pdf"]["url"], query_string={"purpose": "核对"},
                     headers=auth())  # fmt: skip
    printed = "".join(pdf_text(pdf.data).split())  # a table cell may wrap the address
    assert "浙江省宁波市北仑区港城大道1号" in printed and "8601000123" in printed

    again = client.post("/api/v1/customers", headers=auth(),
                        json={"name": "宁波港城精密部件有限公司", "address": "别处"})  # fmt: skip
    assert again.status_code == 409

    neither = copy.deepcopy(payload)
    del neither["buyer"]
    refused = client.post("/api/v1/contracts", json=neither, headers=auth())
    assert refused.status_code == 422 and "buyer" in refused.get_json()["errors"]


def test_a_changed_bank_on_a_later_contract_asks_whether_the_register_should_follow(
    client, auth, archive, create, payload
):
    first = create()
    changed = copy.deepcopy(payload)
    changed["buyer"]["bank"] = "招商银行杭州临平支行"
    later = create(changed)
    assert later["customer"]["id"] == first["customer"]["id"]
    assert later["customer"]["differs"] == [{"field": "bank", "label": "需方·开户银行",
                                             "register": None,
                                             "contract": "招商银行杭州临平支行"}]  # fmt: skip

    change = {"bank": "招商银行杭州临平支行", "note": "客户更换开户行"}
    updated = client.patch(later["customer"]["url"], headers=auth(), json=change)
    assert updated.status_code == 200, updated.get_json()
    view = client.get(f"/api/v1/contracts/{later['contract_no']}", headers=auth()).get_json()
    assert view["customer"]["differs"] == []
    with archive.catalogue.reading() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.update"))
    assert entry.note == "客户更换开户行"
    assert entry.detail["changes"] == {"bank": {"before": None, "after": "招商银行杭州临平支行"}}


def _effective(client, auth, create, body):
    number = create(body)["contract_no"]
    approved = client.post(f"/api/v1/contracts/{number}/status", json={"status": "effective"},
                           headers=auth("manager"))  # fmt: skip
    assert approved.status_code == 200
    return number


def test_the_customer_page_adds_up_what_is_owed_and_how_late(client, auth, create, payload):
    early = copy.deepcopy(payload)
    early["signed_on"], early["delivery"]["deadline"] = "2026-01-10", "2026-02-10"
    early["payment"]["due_on"] = "2026-03-01"
    late = _effective(client, auth, create, early)
    early["payment"]["due_on"] = "2026-06-30"
    later = _effective(client, auth, create, early)
    paid = client.post(f"/api/v1/contracts/{later}/payments", headers=auth(), json={
        "amount": "100000.00", "paid_on": "2026-07-01", "method": "银行转账"})  # fmt: skip
    assert paid.status_code == 201, paid.get_json()
    create()  # a draft: owes nothing yet

    url = client.get(f"/api/v1/contracts/{late}", headers=auth()).get_json()["customer"]["url"]
    shown = customer(client, auth, url, role="manager")
    assert shown["credit"]["outstanding"] == "665010.00"  # 382,505.00 × 2 − 100,000.00
    assert shown["credit"]["overdue_amount"] == "665010.00"
    assert shown["credit"]["overdue_contracts"] == 2
    listed = {c["contract_no"]: c for c in shown["contracts"]}
    assert listed[late]["overdue"] and listed[late]["days_overdue"] >= 269
    assert shown["credit"]["days_overdue"] == listed[late]["days_overdue"]


def test_grade_and_credit_limit_are_a_managers_call(client, auth, create):
    url = create()["customer"]["url"]
    refused = client.patch(url, json={"grade": "A"}, headers=auth())
    assert refused.status_code == 403 and "销售经理" in refused.get_json()["message"]
    credit = {"grade": "B", "credit_limit": "500000.00", "credit_notes": "2025 年起合作，付款及时"}
    graded = client.patch(url, headers=auth("manager"), json=credit)
    assert graded.status_code == 200, graded.get_json()
    assert (graded.get_json()["grade"], graded.get_json()["credit_limit"]) == ("B", "500000.00")
    bad = client.patch(url, json={"grade": "D", "credit_limit": "-1"}, headers=auth("manager"))
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"grade", "credit_limit"}


def test_a_clerk_sees_the_customers_of_her_own_business_only(client, auth, archive, create):
    url = create()["customer"]["url"]
    other = users.add_user(archive.catalogue, "other-clerk", "clerk")[1]
    headers = {"Authorization": f"Bearer {other}"}
    assert client.get(url, headers=headers).status_code == 404
    listed = client.get("/api/v1/customers", headers=headers).get_json()
    assert listed["items"] == []
    assert customers(client, auth, role="archivist")["total"] == 1


@pytest.fixture
def company_app(settings):
    app = create_app({**settings, "SELLER": SELLER})
    yield app
    app.extensions["hetong.archive"].close()


def test_our_company_is_configured_once_and_filled_in(company_app, payload):
    archive = company_app.extensions["hetong.archive"]
    token = users.add_user(archive.catalogue, "li", "clerk")[1]
    body = copy.deepcopy(payload)
    del body["seller"]
    made = company_app.test_client().post("/api/v1/contracts", json=body,
                                          headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["seller"]["name"] == SELLER["name"]
    assert made.get_json()["seller"]["account"] == SELLER["account"]


def test_without_a_configured_company_the_seller_must_be_given(client, auth, archive, payload):
    del payload["seller"]
    refused = client.post("/api/v1/contracts", json=payload, headers=auth())
    assert refused.status_code == 422
    assert "HETONG_SELLER" in refused.get_json()["errors"]["seller"][0]


def test_an_operator_finds_a_customer_and_grades_it_from_the_shell(runner, create, tmp_path):
    create()
    listed = runner.invoke(main, ["customers", "list", "--q", "临平"])
    assert listed.exit_code == 0, listed.output
    customer_id, name, grade = listed.output.split("\t")[:3]
    assert (name, grade) == (BUYER, "未评级")
    change = tmp_path / "grade.json"
    change.write_text('{"grade": "A", "credit_limit": "800000.00", "note": "年度评级"}', "utf-8")
    users_added = runner.invoke(main, ["users", "add", "wang", "--role", "manager"])
    assert users_added.exit_code == 0, users_added.output
    graded = runner.invoke(main, ["--as", "wang", "customers", "update", customer_id, str(change)])
    assert graded.exit_code == 0, graded.output
    shown = json.loads(runner.invoke(main, ["customers", "show", customer_id]).output)
    assert (shown["grade"], shown["credit_limit"]) == ("A", "800000.00")
    assert len(shown["contracts"]) == 1
    clerk = runner.invoke(main, ["users", "add", "zhao", "--role", "clerk"])
    assert clerk.exit_code == 0
    refused = runner.invoke(main, ["--as", "zhao", "customers", "update", customer_id, str(change)])
    assert refused.exit_code != 0 and "销售经理" in refused.output


def test_a_change_that_changes_nothing_is_refused(client, auth, create):
    url = create()["customer"]["url"]
    for body in ({}, {"note": "只有原因"}):
        refused = client.patch(url, json=body, headers=auth())
        assert refused.status_code == 422
        assert "没有要修改的字段" in str(refused.get_json()["errors"])
    blank = client.patch(url, json={"name": " ", "address": ""}, headers=auth())
    assert blank.status_code == 422 and set(blank.get_json()["errors"]) == {"name", "address"}


def test_one_buyer_written_two_ways_is_one_customer(client, auth, create, payload):
    first = create()["customer"]["id"]
    for spelled in (
        "杭州临平精工机械 有限公司",
        "杭州临平精工机械有限公司 ",
        "ＡＢＣ机械（杭州）有限公司",
    ):
        body = copy.deepcopy(payload)
        body["buyer"]["name"] = spelled
        create(body)
    body = copy.deepcopy(payload)
    body["buyer"]["name"] = "ABC机械(杭州)有限公司"
    again = create(body)["customer"]
    names = [c["name"] for c in customers(client, auth)["items"]]
    assert len(names) == 2 and again["name"] == "ＡＢＣ机械（杭州）有限公司"
    assert create()["customer"]["id"] == first


def test_a_draft_corrected_to_another_buyer_changes_its_customer(client, auth, create, payload):
    draft = create()
    body = copy.deepcopy(payload)
    body["buyer"] = {"name": "宁波港城精密部件有限公司", "address": "浙江省宁波市北仑区港城大道1号"}
    moved = client.put(f"/api/v1/contracts/{draft['contract_no']}", json=body, headers=auth())
    assert moved.status_code == 200
    assert moved.get_json()["customer"]["name"] == "宁波港城精密部件有限公司"
    assert moved.get_json()["customer"]["id"] != draft["customer"]["id"]
    assert moved.get_json()["customer"]["differs"] == []


def test_a_name_that_grows_when_folded_is_still_one_customer(create, payload):
    body = copy.deepcopy(payload)
    body["buyer"]["name"] = "㍿" * 30  # each folds to 株式会社: 120 characters
    first = create(body)["customer"]["id"]
    assert create(body)["customer"]["id"] == first


def test_where_the_money_goes_is_changed_by_a_manager_or_whoever_entered_it(
    client, auth, archive, create, payload
):
    url = create()["customer"]["url"]
    other = users.add_user(archive.catalogue, "zhao", "clerk", region="华南")[1]
    body = copy.deepcopy(payload)
    body["region"] = "华南"
    theirs = client.post("/api/v1/contracts", json=body,
                         headers={"Authorization": f"Bearer {other}"})  # fmt: skip
    assert theirs.status_code == 201 and theirs.get_json()["customer"]["url"] == url
    headers = {"Authorization": f"Bearer {other}"}
    refused = client.patch(url, json={"account": "666"}, headers=headers)
    assert refused.status_code == 403 and "销售经理或建档人" in refused.get_json()["message"]
    assert client.patch(url, json={"phone": "0571-1"}, headers=headers).status_code == 200
    assert client.patch(url, json={"account": "1001"}, headers=auth("manager")).status_code == 200
