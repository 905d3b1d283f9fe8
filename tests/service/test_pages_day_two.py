"""Pages people want on day two: the contract list in pages with filters and sorting, what is
owed (应收/催收) with its exports, exports of search results and of the access log (audited),
the delivery form's open lines, the access log's filters, the tombstone's certificate, and a
destruction that asks first. Stories in a real browser (Debian's Chromium, Playwright)."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from archive import users
from tests.helpers import pdf_text

pytest.importorskip("playwright")
from playwright.sync_api import expect

from tests.browser import PASSWORD, chromium, serving, sign_in

TODAY = dt.date.today().isoformat()
# The register's days are days of Beijing time (HETONG_TIMEZONE's default).
BEIJING_TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


@pytest.fixture
def people(archive) -> dict[str, str]:
    """li (销售业务员), zhang (档案管理员), wang (销售经理), each with a password; returns
    login → API token."""
    roles = {"li": "clerk", "zhang": "archivist", "wang": "manager"}
    return {name: users.add_user(archive.catalogue, name, role, password=PASSWORD)[1]
            for name, role in roles.items()}  # fmt: skip


@pytest.fixture
def auth(auth, people):
    """As everywhere (a role: that role's test user), or one of ``people`` by login: a clerk
    sees only the contracts she filed, so li files the ones she is to see."""

    def headers(who: str = "clerk") -> dict[str, str]:
        return {"Authorization": f"Bearer {people[who]}"} if who in people else auth(who)

    return headers


@pytest.fixture
def server(app, people):
    with serving(app) as base:
        yield base


@pytest.fixture
def browser():
    with chromium() as opened:
        yield opened


def login(client, name):
    """Sign in with the test client (no browser): the session cookie stays in ``client``."""
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"username": name, "password": PASSWORD, "csrf": token})
    assert response.status_code == 302


@pytest.fixture
def file(client, auth, payload):
    """File a contract through the API; 2 × price + 12,505.00 is its total. Returns its number."""

    def _file(*, signed_on="2026-11-20", region="华东", buyer=None, price=None, due_on=None,
              role="clerk", effective=False) -> str:  # fmt: skip
        body = copy.deepcopy(payload)
        body["signed_on"], body["region"] = signed_on, region
        body["buyer"]["name"] = buyer or body["buyer"]["name"]
        body["items"][0]["unit_price"] = price or body["items"][0]["unit_price"]
        body["payment"]["due_on"] = due_on or max(signed_on, body["payment"]["due_on"])
        body["delivery"]["deadline"] = max(signed_on, body["delivery"]["deadline"])
        answer = client.post("/api/v1/contracts", json=body, headers=auth(role))
        assert answer.status_code == 201, answer.get_json()
        number = answer.get_json()["contract_no"]
        if effective:
            act(client, auth, number, "status", {"status": "effective"}, "manager")
        return number

    return _file


def act(client, auth, number, what, body, role="clerk"):
    response = client.post(f"/api/v1/contracts/{number}/{what}", json=body, headers=auth(role))
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


@pytest.fixture
def pay(client, auth):
    def _pay(number, amount, on="2026-06-01", role="clerk"):
        body = {"amount": amount, "paid_on": on, "method": "银行转账"}
        act(client, auth, number, "payments", body, role)

    return _pay


def asks_purpose(answer) -> bool:
    """The short form asking why (查阅登记) instead of a file."""
    page = answer.get_data(as_text=True)
    return (answer.status_code == 200 and answer.mimetype == "text/html"
            and "说明用途" in page and 'name="purpose"' in page)  # fmt: skip


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so that Excel reads the Chinese"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def sheet_rows(data: bytes) -> list[list]:
    return [[cell for cell in row] for row in load_workbook(io.BytesIO(data)).active.iter_rows()]


# -- 11. the contract list ---------------------------------------------------------------------


def test_a_manager_pages_through_filters_and_sorts_the_contracts(server, browser, file, pay):
    a = file(signed_on="2025-03-10", region="华北", buyer="天津重工机械有限公司", price="100000.00")
    b = file(signed_on="2026-02-01")  # 382,505.00
    c = file(signed_on="2026-05-01", buyer="宁波港机械有限公司", price="50000.00", role="manager")
    d = file(signed_on="2026-07-01", region="华北", buyer="天津重工机械有限公司",
             price="200000.00", effective=True)  # fmt: skip
    e = file(signed_on="2026-09-01", buyer="苏州精密仪器有限公司", price="120000.00")
    pay(d, "100000.00", on="2026-07-15")

    wang = sign_in(browser, server, "wang")
    wang.goto(f"{server}/contracts?per_page=2")
    numbers = wang.locator("#contracts td.no")
    expect(numbers).to_have_text([e, d])  # newest first
    expect(wang.locator(".pager")).to_contain_text("第 1 / 3 页，共 5 份")
    wang.get_by_role("link", name="下一页").click()
    expect(numbers).to_have_text([c, b])
    wang.get_by_role("link", name="下一页").click()
    expect(numbers).to_have_text([a])
    expect(wang.get_by_role("link", name="下一页")).to_have_count(0)

    # Filters: region, then buyer and year; pages keep them.
    wang.get_by_label("区域").select_option("华北")
    wang.get_by_role("button", name="筛选").click()
    expect(numbers).to_have_text([d, a])
    wang.get_by_label("需方").fill("天津重工")
    wang.get_by_label("签订年份").fill("2025")
    wang.get_by_role("button", name="筛选").click()
    expect(numbers).to_have_text([a])

    wang.goto(f"{server}/contracts?per_page=2")
    wang.get_by_label("业务员").select_option("manager-user")
    wang.get_by_role("button", name="筛选").click()
    expect(numbers).to_have_text([c])
    wang.goto(f"{server}/contracts?per_page=2")
    wang.get_by_label("收款状态").select_option("partially_paid")
    wang.get_by_role("button", name="筛选").click()
    expect(numbers).to_have_text([d])
    expect(wang.locator("#contracts")).to_contain_text("412,505.00")

    # Sorting by amount, smallest first, across pages.
    wang.goto(f"{server}/contracts?per_page=2")
    wang.get_by_label("排序").select_option("total")
    wang.get_by_label("顺序").select_option("asc")
    wang.get_by_role("button", name="筛选").click()
    expect(numbers).to_have_text([c, a])
    wang.get_by_role("link", name="下一页").click()
    expect(numbers).to_have_text([e, b])
    assert "sort=total" in wang.url and "order=asc" in wang.url and "per_page=2" in wang.url
    wang.get_by_label("排序").select_option("signed_on")
    wang.get_by_role("button", name="筛选").click()
    expect(numbers).to_have_text([a, b])

    # Bounded: at most 100 a page, said in words.
    answer = wang.goto(f"{server}/contracts?per_page=500")
    assert answer.status == 400
    expect(wang.get_by_role("alert")).to_contain_text("1–100")


def test_the_api_lists_contracts_with_the_same_filters_and_sorting(client, auth, file, pay):
    a = file(signed_on="2025-03-10", region="华北", buyer="天津重工机械有限公司", price="100000.00")
    b = file(signed_on="2026-02-01", effective=True)
    c = file(signed_on="2026-05-01", buyer="宁波港机械有限公司", price="50000.00", role="manager")
    pay(b, "382505.00", on="2026-03-01")

    def listed(query: str) -> list[str]:
        answer = client.get(f"/api/v1/contracts?{query}", headers=auth("archivist"))
        assert answer.status_code == 200, answer.get_json()
        return [item["contract_no"] for item in answer.get_json()["items"]]

    assert listed("") == [c, b, a]
    assert listed("buyer=天津") == [a]
    assert listed("created_by=manager-user") == [c]
    assert listed("year=2026") == [c, b]
    assert listed("payment_state=paid") == [b]
    assert listed("payment_state=unpaid") == [c, a]
    assert listed("sort=total&order=asc") == [c, a, b]
    assert listed("sort=signed_on&order=asc&per_page=2&page=2") == [c]
    assert listed("sort=contract_no&order=desc") == sorted([a, b, c], reverse=True)
    wrong = client.get("/api/v1/contracts?sort=buyer&year=26", headers=auth())
    assert wrong.status_code == 422
    assert set(wrong.get_json()["errors"]) == {"sort", "year"}


# -- 12. receivables, and exports --------------------------------------------------------------


def test_a_clerk_sees_what_is_owed_by_region_and_takes_it_away(server, browser, file, pay):
    late = file(signed_on="2026-03-02", region="华北", buyer="天津重工机械有限公司",
                due_on="2026-06-30", effective=True, role="li")  # fmt: skip
    part = file(signed_on="2026-04-01", due_on="2026-11-10", price="100000.00", effective=True,
                role="li")  # fmt: skip
    pay(part, "12505.10", on="2026-05-01", role="li")
    fresh = file(price="50000.00", due_on="2027-01-31", effective=True, role="li")
    file(role="li")  # a draft owes nothing
    file(signed_on="2026-03-01", due_on="2026-04-30", effective=True)  # another clerk's business

    li = sign_in(browser, server, "li")
    li.get_by_role("link", name="应收款").click()
    expect(li.get_by_role("heading", level=1)).to_contain_text("应收款")
    expect(li.locator("#receivables td.no")).to_have_text([late, part, fresh])  # oldest due first
    expect(li.locator("#receivables tr", has_text=late)).to_contain_text("催收")
    expect(li.locator("#receivables tr", has_text=part)).to_contain_text("199,999.90")
    regions = li.locator("#by-region")
    expect(regions.locator("tr", has_text="华北")).to_contain_text("382,505.00")
    expect(regions.locator("tr", has_text="华东")).to_contain_text("312,504.90")
    expect(regions.locator("tr", has_text="合计")).to_contain_text("695,009.90")

    li.get_by_label("逾期").select_option("true")
    li.get_by_role("button", name="查询").click()
    expect(li.locator("#receivables td.no")).to_have_text([late, part])

    with li.expect_download() as info:
        li.get_by_role("link", name="导出 CSV").click()
    assert info.value.suggested_filename.endswith(".csv")
    rows = csv_rows(info.value.path().read_bytes())
    assert rows[0][:3] == ["合同编号", "需方", "区域"] and "未收（元）" in rows[0]
    owed = rows[0].index("未收（元）")
    assert [(r[0], r[owed]) for r in rows[1:]] == [(late, "382505.00"), (part, "199999.90")]

    with li.expect_download() as info:
        li.get_by_role("link", name="导出 Excel").click()
    assert info.value.suggested_filename.endswith(".xlsx")
    data = info.value.path().read_bytes()
    rows = sheet_rows(data)
    titles = [cell.value for cell in rows[0]]
    owed = titles.index("未收（元）")
    cell = rows[2][owed]
    assert rows[2][0].value == part
    assert cell.data_type == "n" and cell.number_format == "#,##0.00"
    assert Decimal(str(cell.value)) == Decimal("199999.90")
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # the number as written, not a float's noise
        assert "<v>199999.9</v>" in z.read("xl/worksheets/sheet1.xml").decode()

    zhang = sign_in(browser, server, "zhang")
    expect(zhang.get_by_role("link", name="应收款")).to_have_count(0)
    assert zhang.goto(f"{server}/receivables").status == 403


def test_an_archivist_exports_search_results_and_the_export_is_in_the_access_log(
    server, browser, file
):
    first = file(buyer="杭州临平精工机械有限公司")
    second = file(buyer="宁波精工模具有限公司", region="华北", price="50000.00")
    file(buyer="天津重工机械有限公司")

    zhang = sign_in(browser, server, "zhang")
    zhang.goto(f"{server}/search")
    zhang.get_by_placeholder("公司名片段").fill("精工")
    zhang.get_by_role("button", name="检索").click()
    expect(zhang.get_by_text("共 2 条")).to_be_visible()
    zhang.get_by_role("link", name="导出 CSV").click()  # first: why? (查阅登记)
    expect(zhang.get_by_role("heading", level=1)).to_have_text("说明用途")
    zhang.get_by_label("用途").fill("核对华东客户名单")
    with zhang.expect_download() as info:
        zhang.get_by_role("button", name="确定并下载").click()
    rows = csv_rows(info.value.path().read_bytes())
    assert rows[0][:2] == ["合同编号", "文件编号"]
    assert sorted(r[0] for r in rows[1:]) == sorted([first, second])
    buyer, total = rows[0].index("需方"), rows[0].index("金额（元）")
    assert {r[0]: (r[buyer], r[total]) for r in rows[1:]}[second] == ("宁波精工模具有限公司",
                                                                      "112505.00")  # fmt: skip
    zhang.go_back()
    zhang.get_by_role("link", name="导出 Excel").click()
    zhang.get_by_label("用途").fill("年度客户对账")
    with zhang.expect_download() as info:
        zhang.get_by_role("button", name="确定并下载").click()
    sheet = sheet_rows(info.value.path().read_bytes())
    assert sorted(row[0].value for row in sheet[1:]) == sorted([first, second])

    zhang.get_by_role("link", name="查阅登记").click()
    log = zhang.locator("#access-log")
    expect(log.locator("tr", has_text="导出检索结果")).to_have_count(2)
    expect(log.locator("tr", has_text="导出检索结果").first).to_contain_text("2 条")
    expect(log.locator("tr", has_text="导出检索结果").first).to_contain_text("年度客户对账")


def test_search_and_access_log_exports_are_bounded_and_say_so(client, people, file, monkeypatch):
    file(buyer="杭州临平精工机械有限公司")
    file(buyer="宁波精工模具有限公司")
    monkeypatch.setattr("archive.exports.MAX_ROWS", 1)
    login(client, "zhang")
    assert asks_purpose(client.get("/search/export.csv?q=精工"))  # no file without a purpose
    answer = client.get("/search/export.csv?q=精工&purpose=客户名单核对")
    assert answer.status_code == 200
    rows = csv_rows(answer.data)
    assert len([r for r in rows[1:] if r and r[0].startswith("HT-")]) == 1
    assert "仅导出前 1 条（共 2 条）" in rows[-1][0]

    sheet = sheet_rows(client.get("/search/export.xlsx?q=精工&purpose=客户名单核对").data)
    assert "仅导出前 1 条（共 2 条）" in sheet[-1][0].value
    assert asks_purpose(client.get("/access-log/export.csv"))
    exported = client.get("/access-log/export.csv?purpose=季度审计").data
    assert "仅导出前 1 条（共 2 条）" in csv_rows(exported)[-1][0]
    # Three exports so far, each in the register.
    page = client.get("/access-log").get_data(as_text=True)
    assert page.count("导出检索结果") == 2 and page.count("导出查阅登记") == 1

    login(client, "li")  # a clerk may search and export results, not the register
    assert client.get("/access-log/export.csv?purpose=好奇").status_code == 403


def test_an_export_cell_is_never_a_formula(client, people, file):
    file(buyer='=HYPERLINK("http://evil.example","点我")有限公司')
    login(client, "zhang")
    why = {"q": "有限公司", "purpose": "客户名单核对"}
    rows = csv_rows(client.get("/search/export.csv", query_string=why).data)
    buyer = rows[0].index("需方")
    assert rows[1][buyer].startswith("'=")
    sheet = sheet_rows(client.get("/search/export.xlsx", query_string=why).data)
    cell = sheet[1][[c.value for c in sheet[0]].index("需方")]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


# -- 13. the delivery form, the access log, the tombstone -------------------------------------


def test_the_delivery_form_offers_only_the_lines_still_to_ship(server, browser, client, auth, file):
    number = file(effective=True, role="li")  # li's own contract: she ships it
    act(client, auth, number, "deliveries", {
        "delivery_date": "2026-11-21", "carrier": "顺丰物流", "tracking_no": "SF100",
        "prepared_by": "李明", "items": [{"line": 1, "quantity": "2"}]}, "li")  # fmt: skip

    li = sign_in(browser, server, "li")
    li.goto(f"{server}/contracts/{number}")
    li.locator("summary", has_text="开具发货通知单").click()
    lines = li.locator("#open-lines tr.line")
    expect(lines).to_have_count(1)  # the lathes have all shipped
    expect(lines).to_contain_text("车床刀具套装")
    expect(lines).to_contain_text("T-20")
    expect(lines).to_contain_text("10 套")
    li.get_by_label("发货日期").fill("2026-11-22")
    li.get_by_label("承运单位").fill("德邦物流")
    li.get_by_label("物流单号").fill("DB200")
    li.get_by_label("制单人").fill("李明")
    li.get_by_label("本次发货（车床刀具套装）").fill("4")
    li.get_by_role("button", name="开具").click()
    expect(li.get_by_role("status")).to_contain_text("已开具发货通知单")
    li.locator("summary", has_text="开具发货通知单").click()
    expect(li.locator("#open-lines tr.line")).to_contain_text("6 套")


def test_the_access_log_filters_like_the_api_and_names_each_document(
    client, auth, people, file, archive
):
    first, second = file(), file(buyer="宁波精工模具有限公司")
    for number, role in ((first, "archivist"), (second, "manager")):
        shown = client.get(f"/api/v1/contracts/{number}", headers=auth()).get_json()
        pdf = next(d for d in shown["documents"] if d["kind"] == "sales_contract")["pdf"]["url"]
        assert client.get(pdf + "?purpose=审计抽查", headers=auth(role)).status_code == 200

    login(client, "zhang")
    page = client.get("/access-log").get_data(as_text=True)
    assert f"销售合同 {first}（PDF）" in page and f"销售合同 {second}（PDF）" in page
    page = client.get("/access-log?user=manager-user").get_data(as_text=True)
    assert second in page and first not in page
    page = client.get(f"/access-log?contract_no={first}").get_data(as_text=True)
    assert first in page and second not in page
    page = client.get("/access-log?from=2000-01-01&to=2000-12-31").get_data(as_text=True)
    assert "暂无记录" in page
    page = client.get(f"/access-log?from={BEIJING_TODAY}&to={BEIJING_TODAY}")
    page = page.get_data(as_text=True)
    assert first in page and second in page
    wrong = client.get("/access-log?from=yesterday")
    assert wrong.status_code == 400 and "起始日期" in wrong.get_data(as_text=True)

    assert asks_purpose(client.get("/access-log/export.xlsx?user=manager-user"))
    exported = client.get("/access-log/export.csv?user=manager-user&purpose=季度审计").data
    exported = csv_rows(exported)
    assert [r[exported[0].index("文件")] for r in exported[1:]] == [f"销售合同 {second}（PDF）"]


# -- 14. a destruction asks first; the tombstone links its certificate -------------------------


def test_a_manager_sees_what_will_be_destroyed_before_approving_it(
    server, browser, client, auth, file, pay
):
    number = file(signed_on="2020-03-15", buyer="天津重工机械有限公司", effective=True)
    pay(number, "382505.00", on="2020-06-01")
    act(client, auth, number, "status", {"status": "completed", "force": True, "note": "已自提"})
    swept = client.post("/api/v1/retention/runs", json={"as_of": TODAY}, headers=auth("archivist"))
    assert swept.status_code == 201, swept.get_json()

    wang = sign_in(browser, server, "wang")
    wang.get_by_role("link", name="保存与销毁").click()
    wang.get_by_role("button", name="批准销毁所选合同").click()
    expect(wang.get_by_role("status")).to_have_text("请至少选择一份合同。")

    wang.get_by_label(f"选择 {number}").check()
    wang.get_by_label("备注").fill("2020 年度到期")
    wang.get_by_role("button", name="批准销毁所选合同").click()
    expect(wang.get_by_role("heading", level=1)).to_have_text("确认销毁")
    listed = wang.locator("#to-destroy tr", has_text=number)
    expect(listed).to_contain_text("上海申远机电设备有限公司")
    expect(listed).to_contain_text("天津重工机械有限公司")
    expect(listed).to_contain_text("382,505.00")
    wang.get_by_role("link", name="取消").click()  # nothing happened yet
    expect(wang.get_by_label(f"选择 {number}")).to_be_visible()

    wang.get_by_label(f"选择 {number}").check()
    wang.get_by_role("button", name="批准销毁所选合同").click()
    wang.get_by_role("button", name="确认销毁").click()
    expect(wang.get_by_role("status")).to_contain_text("已销毁 1 份合同，销毁记录 XH-")

    answer = wang.goto(f"{server}/contracts/{number}")
    assert answer.status == 410
    certificate = wang.get_by_role("link", name=re.compile(r"销毁记录 XH-\d{4}-\d{4}"))
    with wang.expect_download() as info:
        certificate.click()
    assert number in pdf_text(info.value.path().read_bytes())
