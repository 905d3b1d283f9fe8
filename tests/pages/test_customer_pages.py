"""A clerk finds a customer, starts a contract from its page, and decides whether the
register follows a changed bank; a manager grades the customer."""

from __future__ import annotations

import re

from tests.pages.test_dossier_forms import _form_values, sign_in

BUYER = "杭州临平精工机械有限公司"


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_a_clerk_finds_the_customer_and_starts_a_contract_from_its_page(client, archive,
                                                                        create):  # fmt: skip
    first = create()
    sign_in(client, archive)
    listed = client.get("/customers", query_string={"q": "临平"}).get_data(as_text=True)
    assert BUYER in listed and "未评级" in listed
    url = re.search(r'href="(/customers/\d+)"', listed).group(1)
    page = client.get(url).get_data(as_text=True)
    assert first["contract_no"] in page and "为该客户新建合同" in page

    form = client.get(re.search(r'href="(/contracts/new\?customer=\d+)"', page).group(1))
    values = _form_values(form.get_data(as_text=True))
    assert values["buyer.name"] == BUYER and values["customer_id"] == url.rsplit("/", 1)[1]
    values["buyer.bank"] = "招商银行杭州临平支行"  # the customer's new bank, for this contract
    for n, (name, unit, quantity, price) in enumerate([("数控车床", "台", "1", "185,000.00")]):
        values |= {f"items.{n}.name": name, f"items.{n}.unit": unit,
                   f"items.{n}.quantity": quantity, f"items.{n}.unit_price": price}  # fmt: skip
    for key, value in {"signed_at": "上海", "quality_standard": "国标", "transport.method": "汽运",
                       "delivery.deadline": "2026-12-31", "delivery.place": "临平",
                       "delivery.acceptance": "到货验收", "payment.method": "转账",
                       "payment.due_on": "2027-01-31", "payment.terms": "验收后付清",
                       "liability_exemptions": "不可抗力", "breach_liability": "按日万分之五",
                       "dispute_resolution": "上海仲裁", "seller.name": "上海申远机电设备有限公司",
                       "seller.address": "上海市浦东新区张江路88号"}.items():  # fmt: skip
        values[key] = value
    made = client.post("/contracts/new", data=values)
    assert made.status_code == 302, made.get_data(as_text=True)[:3000]

    dossier = client.get(made.location).get_data(as_text=True)
    start = dossier.index('id="buyer-differs"')
    box = dossier[start : dossier.index("</form>", start)]
    assert "开户银行" in box and "招商银行杭州临平支行" in box
    follow = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', box))
    followed = client.post(url, data=follow)
    assert followed.status_code == 302 and followed.location == made.location
    again = client.get(made.location).get_data(as_text=True)
    assert 'id="buyer-differs"' not in again and "客户档案已更新" in again


def test_a_manager_grades_a_customer_and_sets_its_credit_limit(client, archive, create, payload):
    create()
    sign_in(client, archive, name="wang", role="manager")
    listed = client.get("/customers").get_data(as_text=True)
    url = re.search(r'href="(/customers/\d+)"', listed).group(1)
    page = client.get(url).get_data(as_text=True)
    saved = client.post(url, data={"csrf": csrf(page), "grade": "B",
                                   "credit_limit": "300,000.00",
                                   "credit_notes": "付款偶有拖延", "note": "年度评级"})  # fmt: skip
    assert saved.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "B 级" in page and "300,000.00" in page and "付款偶有拖延" in page
    wrong = client.post(url, data={"csrf": csrf(page), "grade": "B", "credit_limit": "三十万"})
    assert wrong.status_code == 302
    assert "信用额度" in client.get(url).get_data(as_text=True)


def test_a_clerk_cannot_grade(client, archive, create):
    create()
    sign_in(client, archive)
    url = re.search(r'href="(/customers/\d+)"', client.get("/customers").get_data(as_text=True))
    page = client.get(url.group(1)).get_data(as_text=True)
    assert 'id="credit-form"' not in page
    client.post(url.group(1), data={"csrf": csrf(page), "grade": "A"})
    assert "销售经理评定" in client.get(url.group(1)).get_data(as_text=True)


def test_odd_numbers_and_addresses_in_the_forms_are_refused_politely(client, archive, create):
    number = create()["contract_no"]
    sign_in(client, archive)
    assert client.get("/contracts/new", query_string={"customer": "²"}).status_code == 200
    form = client.get(f"/contracts/{number}/edit").get_data(as_text=True)
    values = _form_values(form) | {"based_on": "¹", "customer_id": "²"}
    assert client.post(f"/contracts/{number}/edit", data=values).status_code == 422
    page = client.get("/customers/1").get_data(as_text=True)
    away = client.post("/customers/1", data={"csrf": csrf(page), "phone": "0571-1",
                                             "back": "/\t/evil.example"})  # fmt: skip
    assert away.status_code == 302 and away.location == "/customers/1"
