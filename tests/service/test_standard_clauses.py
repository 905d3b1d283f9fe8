"""The salesperson drafts from the company's standard clauses for the kind of business; a
clause changed for one contract is shown to its reviewers, the change marked."""

from __future__ import annotations

import copy
import re

from service.cli import main
from tests.conftest import BOTH_DATABASES
from tests.helpers import pdf_text
from tests.pages.test_dossier_forms import sign_in

pytestmark = BOTH_DATABASES

CLAUSES = ("quality_standard", "liability_exemptions", "breach_liability", "dispute_resolution")
PAYMENT = "合同生效后预付40%，验收合格后60日内付清余款"


def test_a_contract_that_leaves_its_clauses_out_gets_the_standard_wording(client, auth, create,
                                                                          payload):  # fmt: skip
    library = client.get("/api/v1/clauses", query_string={"business_type": "设备买卖"},
                         headers=auth()).get_json()  # fmt: skip
    wording = {c["field"]: c["text"] for c in library[0]["clauses"]}
    body = copy.deepcopy(payload)
    for field in CLAUSES:
        del body[field]
    del body["payment"]["terms"], body["delivery"]["acceptance"]
    made = create(body)
    assert made["terms"]["dispute_resolution"] == wording["dispute_resolution"]
    assert made["terms"]["payment"]["terms"] == wording["payment.terms"]
    assert made["clause_deviations"] == []
    pdf = client.get(made["documents"][0]["pdf"]["url"], query_string={"purpose": "核对"},
                     headers=auth())  # fmt: skip
    printed = "".join(pdf_text(pdf.data).split())
    assert "".join(wording["dispute_resolution"].split()) in printed


def test_a_changed_clause_is_marked_for_the_reviewers(client, auth, archive, create, payload):
    changed = client.put("/api/v1/clauses/设备买卖/payment.terms", headers=auth("manager"),
                         json={"text": "合同生效后预付30%，验收合格后30日内付清余款"})  # fmt: skip
    assert changed.status_code == 200, changed.get_json()
    body = copy.deepcopy(payload)
    body["payment"]["terms"] = PAYMENT
    made = create(body)
    deviations = {d["field"]: d for d in made["clause_deviations"]}
    assert "payment.terms" in deviations
    marked = deviations["payment.terms"]["diff"]
    assert {"op": "delete", "text": "3"} in marked and {"op": "insert", "text": "4"} in marked
    assert "".join(p["text"] for p in marked if p["op"] != "delete") == PAYMENT

    sign_in(client, archive)
    page = client.get(f"/contracts/{made['contract_no']}").get_data(as_text=True)
    shown = page[page.index('id="clause-deviations"') :]
    assert "付款约定" in shown and "<del>3</del><ins>4</ins>" in shown


def test_only_a_manager_keeps_the_library(client, auth):
    assert client.put("/api/v1/clauses/设备买卖/payment.terms", json={"text": "x"},
                      headers=auth()).status_code == 403  # fmt: skip
    unknown = client.put("/api/v1/clauses/设备买卖/price", json={"text": "x"},
                         headers=auth("manager"))  # fmt: skip
    assert unknown.status_code == 422 and "field" in unknown.get_json()["errors"]
    assert client.put("/api/v1/clauses/太空旅行/payment.terms", json={"text": "x"},
                      headers=auth("manager")).status_code == 404  # fmt: skip


def test_the_new_contract_form_is_filled_with_the_standard_clauses(client, auth, archive):
    client.put("/api/v1/clauses/零部件供货/quality_standard", headers=auth("manager"),
               json={"text": "按需方图纸及GB/T 1804-m级公差"})  # fmt: skip
    sign_in(client, archive)
    form = client.get("/contracts/new").get_data(as_text=True)
    assert re.search(r'<textarea name="dispute_resolution"[^>]*>协商不成的', form)
    parts = client.get("/contracts/new", query_string={"business_type": "零部件供货"})
    page = parts.get_data(as_text=True)
    assert re.search(r'<textarea name="quality_standard"[^>]*>按需方图纸及GB/T 1804-m级公差', page)
    assert "已按“零部件供货”的标准条款填好" in page


def test_a_manager_changes_a_standard_clause_from_the_shell(runner):
    assert runner.invoke(main, ["users", "add", "wang", "--role", "manager"]).exit_code == 0
    changed = runner.invoke(main, ["--as", "wang", "clauses", "set", "框架协议",
                                   "dispute_resolution", "提交杭州仲裁委员会仲裁"])  # fmt: skip
    assert changed.exit_code == 0, changed.output
    listed = runner.invoke(main, ["clauses", "list", "--business-type", "框架协议"]).output
    assert "框架协议\t争议解决\t提交杭州仲裁委员会仲裁\n" in listed
    assert "（公司默认）" in listed  # the clauses not changed


def test_a_standard_clause_obeys_the_rule_of_its_field(client, auth, archive):
    one_line = client.put("/api/v1/clauses/设备买卖/transport.method", headers=auth("manager"),
                          json={"text": "公路\n运输"})  # fmt: skip
    assert one_line.status_code == 422 and "text" in one_line.get_json()["errors"]
    too_long = client.put("/api/v1/clauses/设备买卖/transport.method", headers=auth("manager"),
                          json={"text": "公" * 51})  # fmt: skip
    assert too_long.status_code == 422
    sign_in(client, archive, name="wang", role="manager")
    page = client.get("/clauses").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    for text in ("协商\x00不成", "协商\u202e不成"):
        form = {"csrf": token, "business_type": "设备买卖", "field": "dispute_resolution",
                "text": text}  # fmt: skip
        sent = client.post("/clauses", data=form)
        assert sent.status_code == 302
    library = client.get("/api/v1/clauses", query_string={"business_type": "设备买卖"},
                         headers=auth()).get_json()  # fmt: skip
    disputes = next(c for c in library[0]["clauses"] if c["field"] == "dispute_resolution")
    assert disputes["default"]  # nothing stored


def test_deviations_are_judged_against_the_wording_the_draft_was_made_from(
    client, auth, create, payload
):
    body = copy.deepcopy(payload)
    del body["dispute_resolution"]
    body["breach_liability"] = "逾期交货或逾期付款的, 每日按未履行部分金额的万分之五支付违约金。"
    usual = "逾期交货或逾期付款的，每日按未履行部分金额的万分之五支付违约金"
    client.put("/api/v1/clauses/设备买卖/breach_liability", headers=auth("manager"),
               json={"text": usual})  # fmt: skip
    number = create(body)["contract_no"]
    client.put("/api/v1/clauses/设备买卖/dispute_resolution", headers=auth("manager"),
               json={"text": "提交北京仲裁委员会仲裁"})  # fmt: skip
    shown = client.get(f"/api/v1/contracts/{number}", headers=auth()).get_json()
    fields = {d["field"] for d in shown["clause_deviations"]}
    assert "dispute_resolution" not in fields  # drafted from the standard of its day
    assert "breach_liability" not in fields  # a half-width comma is no deviation
