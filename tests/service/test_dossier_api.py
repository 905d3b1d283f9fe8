"""A contract lives on: amended in writing, shipped in parts, paid in instalments."""

from __future__ import annotations

import datetime as dt
import io
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from tests.conftest import BOTH_DATABASES
from tests.helpers import pdf_fonts, pdf_text

pytestmark = BOTH_DATABASES

PRICE_RISE = {
    "reason": "原材料价格上涨，经双方协商调整单价",
    "effective_on": "2026-12-05",
    "changes": [
        {"field": "unit_price", "line": 1, "after": "192000.00"},
        {"field": "delivery.deadline", "after": "2027-01-15"},
        {"field": "clause", "after": "增加：供方提供两年免费保修。"},
    ],
}


def shipment(*lines, date="2026-12-10", tracking="SF1234567890"):
    """A delivery notice shipping (line, quantity) pairs; lines count from 1."""
    return {"delivery_date": date, "items": [{"line": n, "quantity": q} for n, q in lines],
            "carrier": "顺丰物流", "tracking_no": tracking, "prepared_by": "张敏"}  # fmt: skip


def payment(amount, on="2026-11-25", reference="ICBC-20261125-001"):
    return {"amount": amount, "paid_on": on, "method": "银行转账", "reference": reference}


@pytest.fixture
def post(client, auth):
    def _post(number: str, what: str, body: dict, role: str = "clerk"):
        return client.post(f"/api/v1/contracts/{number}/{what}", json=body, headers=auth(role))

    return _post


@pytest.fixture
def dossier(client, auth):
    """The contract as the API shows it now."""

    def _dossier(number: str) -> dict:
        response = client.get(f"/api/v1/contracts/{number}", headers=auth("archivist"))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return _dossier


def test_an_amendment_recomputes_the_total_and_keeps_the_original(
    client, auth, post, effective, dossier
):
    number = effective()
    response = post(number, "amendments", PRICE_RISE)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["number"] == f"{number}-BC01"
    assert (created["total_before"], created["total_after"]) == ("382505.00", "396505.00")
    assert response.headers["Location"] == created["links"]["self"]
    again = client.get(response.headers["Location"], headers=auth("archivist"))
    assert again.status_code == 200 and again.get_json() == created
    assert created["links"]["pdf"] == created["document"]["pdf"]["url"]
    shown = dossier(number)
    assert shown["total"] == "396505.00"  # 2 × 192000 + 10 × 1250.50
    assert shown["total_upper"] == "叁拾玖万陆仟伍佰零伍元整"
    assert shown["original_total"] == "382505.00"
    assert shown["terms"]["items"][0]["unit_price"] == "192000.00"
    assert shown["terms"]["items"][0]["amount"] == "384000.00"
    assert shown["original_terms"]["items"][0]["unit_price"] == "185000.00"
    assert shown["terms"]["delivery"]["deadline"] == "2027-01-15"
    assert shown["terms"]["extra_clauses"][-1] == "增加：供方提供两年免费保修。"
    (amendment,) = shown["amendments"]
    assert amendment["number"] == f"{number}-BC01"
    assert [(c["before"], c["after"]) for c in amendment["changes"]] == [
        ("185000.00", "192000.00"),
        ("2026-12-31", "2027-01-15"),
        ("", "增加：供方提供两年免费保修。"),
    ]
    second = post(number, "amendments", {**PRICE_RISE, "changes": [
        {"field": "payment.terms", "after": "验收合格后15日内付清"}]})  # fmt: skip
    assert second.get_json()["number"] == f"{number}-BC02"
    assert dossier(number)["amendments"][1]["number"] == f"{number}-BC02"


def test_the_amendment_pdf_names_the_contract_the_changes_and_the_new_total(
    client, auth, post, effective
):
    number = effective()
    doc = post(number, "amendments", PRICE_RISE).get_json()["document"]
    assert (doc["kind"], doc["number"]) == ("amendment", f"{number}-BC01")
    unexplained = client.get(doc["pdf"]["url"], headers=auth())
    assert unexplained.status_code == 422 and "purpose" in unexplained.get_json()["errors"]
    data = client.get(doc["pdf"]["url"], query_string={"purpose": "寄需方盖章"},
                      headers=auth()).data  # fmt: skip
    text = pdf_text(data)
    for expected in ("补 充 协 议", f"{number}-BC01", number, "2026 年 11 月 20 日",
                     "上海申远机电设备有限公司", "杭州临平精工机械有限公司", "185,000.00",
                     "192,000.00", "原材料价格上涨", "396,505.00", "叁拾玖万陆仟伍佰零伍元整",
                     "盖章"):  # fmt: skip
        assert expected in text, expected
    assert "免费保修" in text.replace("\n", "")  # free text wraps in its table cell
    assert any("CJK" in f and embedded for f, embedded in pdf_fonts(data).items())
    assert PdfReader(io.BytesIO(data)).metadata.title == f"补充协议 {number}-BC01"


def test_a_price_rise_makes_a_paid_contract_owe_money_again(post, effective, dossier):
    number = effective()
    paid = post(number, "payments", payment("382505.00")).get_json()
    assert (paid["payment_state"], paid["outstanding"]) == ("paid", "0.00")
    assert post(number, "amendments", PRICE_RISE).status_code == 201
    amended = dossier(number)
    assert amended["payment_state"] == "partially_paid"
    assert amended["outstanding"] == "14000.00"


def test_a_major_change_needs_a_manager(post, effective):
    number = effective()
    big = {**PRICE_RISE, "changes": [{"field": "quantity", "line": 1, "after": "3"}]}  # +48%
    refused = post(number, "amendments", big, role="clerk")
    assert refused.status_code == 403
    message = refused.get_json()["message"]
    assert "重大变更" in message and "销售经理" in message and "10%" in message
    assert post(number, "amendments", big, role="manager").status_code == 201


def test_amendment_errors_name_the_change(post, effective):
    number = effective()
    cases = [
        ({"field": "unit_price", "line": 5, "after": "1.00"}, "changes.0.line"),
        ({"field": "unit_price", "line": 0, "after": "1.00"}, "changes.0.line"),
        ({"field": "unit_price", "after": "1.00"}, "changes.0.line"),
        ({"field": "unit_price", "line": 1, "after": "1.001"}, "changes.0.after"),
        ({"field": "quantity", "line": 1, "after": "0"}, "changes.0.after"),
        ({"field": "payment.due_on", "after": "2027/01/31"}, "changes.0.after"),
        ({"field": "delivery.deadline", "after": "2020-01-01"}, "changes.0.after"),
        ({"field": "unit_price", "line": 1, "before": "1.00", "after": "2.00"}, "changes.0.before"),
        ({"field": "colour", "after": "red"}, "changes.0.field"),
    ]
    for change, path in cases:
        response = post(number, "amendments", {**PRICE_RISE, "changes": [change]})
        assert response.status_code == 422, change
        assert path in response.get_json()["errors"], (change, response.get_json())
    assert post(number, "amendments", {"reason": "x"}).status_code == 422


def test_lines_are_counted_from_1_as_the_documents_print_them(post, effective, dossier):
    """The 2nd line (车床刀具套装) is line 2 in a request, in an answer and in the PDF's 第2项."""
    number = effective()
    changed = post(number, "amendments", {**PRICE_RISE, "changes": [
        {"field": "unit_price", "line": 2, "after": "1300.00"}]}).get_json()  # fmt: skip
    (change,) = changed["changes"]
    assert (change["line"], change["label"]) == (2, "第2项（车床刀具套装）单价")
    assert "item" not in change
    items = dossier(number)["terms"]["items"]
    assert (items[0]["unit_price"], items[1]["unit_price"]) == ("185000.00", "1300.00")

    shipped = post(number, "deliveries", shipment((2, "3"))).get_json()
    assert [(line["line"], line["name"]) for line in shipped["lines"]] == [(2, "车床刀具套装")]
    assert dossier(number)["deliveries"][0]["lines"][0]["line"] == 2
    too_far = post(number, "deliveries", shipment((3, "1"), tracking="SF2"))
    assert too_far.status_code == 422
    assert "1–2" in too_far.get_json()["errors"]["items.0.line"][0]


def test_the_old_item_key_counted_from_0_is_refused_saying_to_use_line(post, effective):
    number = effective()
    old_change = post(number, "amendments", {**PRICE_RISE, "changes": [
        {"field": "unit_price", "item": 1, "after": "1300.00"}]})  # fmt: skip
    old_shipment = post(
        number, "deliveries", {**shipment((1, "1")), "items": [{"item": 0, "quantity": "1"}]}
    )
    for response, path in ((old_change, "changes.0.item"), (old_shipment, "items.0.item")):
        assert response.status_code == 422
        (message,) = response.get_json()["errors"][path]
        assert "line" in message and "从 1" in message


def test_partial_deliveries_add_up_and_over_delivery_is_refused(post, effective, dossier):
    number = effective()
    first = post(number, "deliveries", shipment((1, "1"), (2, "4")))
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["number"] == "FH-202612-0001"
    assert first.headers["Location"].endswith(f"/{number}/deliveries/FH-202612-0001")
    second = post(number, "deliveries", shipment((2, "6"), date="2026-12-12", tracking="SF2"))
    assert [line["quantity"] for line in second.get_json()["lines"]] == ["6"]
    lines = dossier(number)["terms"]["items"]
    assert [(i["delivered"], i["remaining"]) for i in lines] == [("1", "1"), ("10", "0")]
    assert [d["number"] for d in dossier(number)["deliveries"]] == [
        "FH-202612-0001", "FH-202612-0002",
    ]  # fmt: skip

    over = post(number, "deliveries", shipment((1, "2"), tracking="SF3"))
    assert over.status_code == 422
    message = over.get_json()["errors"]["items.0.quantity"][0]
    assert "数控车床" in message and "尚未发货 1台" in message
    assert len(over.get_json().get("deliveries", [])) == 0

    last = post(number, "deliveries", shipment((1, "1"), tracking="SF4"))
    assert last.status_code == 201
    assert dossier(number)["terms"]["items"][0]["remaining"] == "0"


def test_an_amended_quantity_is_what_can_be_shipped(post, effective):
    number = effective()
    post(number, "deliveries", shipment((2, "8")))
    fewer = {**PRICE_RISE, "changes": [{"field": "quantity", "line": 2, "after": "7"}]}
    refused = post(number, "amendments", fewer)
    assert refused.status_code == 422
    assert "已发货 8套" in refused.get_json()["errors"]["changes.0.after"][0]
    more = {**PRICE_RISE, "changes": [{"field": "quantity", "line": 2, "after": "12"}]}
    assert post(number, "amendments", more).status_code == 201
    assert post(number, "deliveries", shipment((2, "4"), tracking="SF9")).status_code == 201


def test_the_delivery_notice_has_six_labelled_copies(client, auth, post, effective):
    number = effective()
    doc = post(number, "deliveries", shipment((1, "1"), (2, "4"))).get_json()["document"]
    assert doc["kind"] == "delivery_notice"
    data = client.get(doc["pdf"]["url"], query_string={"purpose": "核对发货数量"},
                      headers=auth("archivist")).data  # fmt: skip
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    labels = ["销售部存根", "财务部", "仓储部", "回执", "运输结算", "客户"]
    assert len(pages) == 6
    for page, label in zip(pages, labels, strict=True):
        assert label in page
        for field in ("FH-202612-0001", number, "杭州临平精工机械有限公司",
                      "浙江省杭州市临平区东湖街道99号", "2026 年 12 月 10 日", "顺丰物流",
                      "SF1234567890", "张敏", "数控车床", "CK6150", "185,000.00",
                      "190,002.00"):  # fmt: skip
            # Text extraction puts spaces between digits and CJK depending on layout.
            assert field.replace(" ", "") in page.replace(" ", ""), (label, field)
    receipt = pages[labels.index("回执")]
    assert "收货人签字" in receipt and "收货单位（盖章）" in receipt
    assert all("收货人签字" not in p for i, p in enumerate(pages) if labels[i] != "回执")


@pytest.mark.parametrize("status", ["draft", "completed", "terminated"])
def test_amendments_and_deliveries_need_an_effective_contract(
    client, auth, post, create, effective, status
):
    if status == "draft":
        number = create()["contract_no"]
    else:
        number = effective()
        client.post(f"/api/v1/contracts/{number}/status", headers=auth("manager"),
                    json={"status": status, "force": True, "note": "提前结束"})  # fmt: skip
    for what, body in (("amendments", PRICE_RISE), ("deliveries", shipment((1, "1")))):
        response = post(number, what, body)
        assert response.status_code == 409, what
        assert "已生效" in response.get_json()["message"]


def test_payments_track_what_is_owed(client, auth, post, create, effective):
    draft = create()["contract_no"]
    assert post(draft, "payments", payment("100.00")).status_code == 409

    number = effective()
    response = post(number, "payments", payment("114751.50"))
    partly = response.get_json()
    assert (partly["amount"], partly["paid"], partly["outstanding"], partly["payment_state"]) == (
        "114751.50", "114751.50", "267753.50", "partially_paid",
    )  # fmt: skip
    assert partly["reference"] == "ICBC-20261125-001"
    listed = client.get(f"/api/v1/contracts/{number}/payments", headers=auth()).get_json()
    assert [p["id"] for p in listed] == [partly["id"]]
    assert client.get(response.headers["Location"], headers=auth()).get_json() == partly

    too_much = post(number, "payments", payment("267753.51"))
    assert too_much.status_code == 422
    assert "267,753.50" in too_much.get_json()["errors"]["amount"][0]

    for bad in ({"amount": 100.5, "paid_on": "2026-11-25", "method": "现金"},
                {"amount": "-1.00", "paid_on": "2026-11-25", "method": "现金"},
                {"amount": "1.00", "paid_on": "2026-11-25"}):  # fmt: skip
        assert post(number, "payments", bad).status_code == 422

    done = post(number, "payments", payment("267753.50", reference="R2")).get_json()
    assert (done["payment_state"], done["outstanding"]) == ("paid", "0.00")


def test_a_payment_cannot_be_dated_after_today_in_china(post, effective):
    number = effective()
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    for day in (today + dt.timedelta(days=1), dt.date(2031, 1, 1)):
        refused = post(number, "payments", payment("100.00", on=day.isoformat()))
        assert refused.status_code == 422, refused.get_json()
        (message,) = refused.get_json()["errors"]["paid_on"]
        assert "晚于今天" in message and today.isoformat() in message
    assert post(number, "payments", payment("100.00", on=today.isoformat())).status_code == 201


def test_overdue_is_judged_on_a_day(client, auth, post, effective):
    number = effective()
    post(number, "payments", payment("1000.00"))
    url = f"/api/v1/contracts/{number}"
    before_due = client.get(f"{url}?as_of=2027-01-31", headers=auth()).get_json()
    after_due = client.get(f"{url}?as_of=2027-02-01", headers=auth()).get_json()
    assert (before_due["overdue"], after_due["overdue"]) == (False, True)
    assert after_due["payment_state"] == "partially_paid"


def test_concurrent_payments_never_lose_one(app, auth, effective):
    number = effective()

    def pay(n):
        return app.test_client().post(
            f"/api/v1/contracts/{number}/payments",
            json=payment("1000.00", reference=f"R{n}"), headers=auth(),
        ).status_code  # fmt: skip

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert list(pool.map(pay, range(20))) == [201] * 20
    shown = app.test_client().get(f"/api/v1/contracts/{number}", headers=auth()).get_json()
    assert shown["paid"] == "20000.00"
    assert len(shown["payments"]) == 20


def test_receivables_list_money_owed_oldest_due_first(client, auth, post, effective, payload):
    late = effective()  # due 2027-01-31
    payload["payment"]["due_on"] = "2027-06-30"
    payload["region"] = "华北"
    later = effective(payload)
    payload["payment"]["due_on"] = "2027-03-31"
    settled = effective(payload)
    post(settled, "payments", payment("382505.00"))
    post(late, "payments", payment("82505.00"))

    def listed(query=""):
        body = client.get(f"/api/v1/receivables?as_of=2027-03-15{query}",
                          headers=auth("archivist")).get_json()  # fmt: skip
        return [r["contract_no"] for r in body["items"]], body

    numbers, body = listed()
    assert numbers == [late, later]
    assert body["outstanding"] == "682505.00"
    assert body["items"][0]["overdue"] and body["items"][0]["to_chase"]
    assert listed("&overdue=true")[0] == [late]
    assert listed("&overdue=false")[0] == [later]
    assert listed("&region=华北")[0] == [later]
    assert client.get("/api/v1/receivables?as_of=someday", headers=auth()).status_code == 422


def test_the_dossier_lists_every_document_in_order(client, auth, post, effective):
    number = effective()
    post(number, "amendments", PRICE_RISE)
    post(number, "deliveries", shipment((1, "1")))
    post(number, "payments", payment("1000.00"))
    shown = client.get(f"/api/v1/contracts/{number}", headers=auth("archivist")).get_json()
    assert [(d["kind"], d["number"]) for d in shown["documents"]] == [
        ("sales_contract", number), ("amendment", f"{number}-BC01"),
        ("delivery_notice", "FH-202612-0001"),
    ]  # fmt: skip
    assert all(d["pdf"]["sha256"] and d["docx"]["sha256"] for d in shown["documents"])
