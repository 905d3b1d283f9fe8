"""People at work in a real browser (Debian's Chromium, driven by Playwright)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from archive import users

pytest.importorskip("playwright")
from playwright.sync_api import expect

from tests.browser import PASSWORD, chromium, serving, sign_in


@pytest.fixture
def server(app, archive):
    for name, role in (("li", "clerk"), ("zhang", "archivist"), ("wang", "manager")):
        users.add_user(archive.catalogue, name, role, password=PASSWORD)
    with serving(app) as base:
        yield base


@pytest.fixture
def browser():
    with chromium() as opened:
        yield opened


def fill_contract(page, payload):
    values = {
        "signed_at": payload["signed_at"], "salesperson": payload["salesperson"],
        "quality_standard": payload["quality_standard"],
        "transport.method": payload["transport"]["method"],
        "delivery.deadline": payload["delivery"]["deadline"],
        "delivery.place": payload["delivery"]["place"],
        "delivery.acceptance": payload["delivery"]["acceptance"],
        "payment.method": payload["payment"]["method"],
        "payment.due_on": payload["payment"]["due_on"],
        "payment.terms": payload["payment"]["terms"],
        "liability_exemptions": payload["liability_exemptions"],
        "breach_liability": payload["breach_liability"],
        "dispute_resolution": payload["dispute_resolution"],
        "extra_clauses": "\n".join(payload["extra_clauses"]),
        "signed_on": payload["signed_on"],
    }  # fmt: skip
    for side in ("seller", "buyer"):
        for key, value in payload[side].items():
            values[f"{side}.{key}"] = value
    for n, item in enumerate(payload["items"]):
        for key, value in item.items():
            values[f"items.{n}.{key}"] = value
    for name, value in values.items():
        page.locator(f'[name="{name}"]').fill(value)


def test_a_clerk_creates_a_contract_and_an_archivist_finds_it(server, browser, payload):
    clerk = sign_in(browser, server, "li")
    # A clerk does not see the manager's pages, and cannot open them.
    expect(clerk.get_by_role("link", name="保存与销毁")).to_have_count(0)
    assert clerk.goto(f"{server}/retention").status == 403

    clerk.goto(f"{server}/contracts/new")
    # a price typed as people type it, with a thousands separator; a quantity that cannot be
    wrong = {**payload, "items": [payload["items"][0], {**payload["items"][1], "quantity": "0",
                                                        "unit_price": "1,250.50"}]}  # fmt: skip
    fill_contract(clerk, wrong)
    # live amounts and capitals while typing
    expect(clerk.locator("#total")).to_have_text("¥370,000.00")
    clerk.get_by_role("button", name="生成合同（Word 与 PDF）").click()

    error = clerk.locator('[data-error-for="items.1.quantity"]')
    expect(error).to_contain_text("必须大于 0")
    expect(clerk.locator('[name="buyer.name"]')).to_have_value("杭州临平精工机械有限公司")
    expect(clerk.locator('[name="items.1.name"]')).to_have_value("车床刀具套装")

    clerk.locator('[name="items.1.quantity"]').fill("10")
    expect(clerk.locator("#total-upper")).to_contain_text("叁拾捌万贰仟伍佰零伍元整")
    clerk.get_by_role("button", name="生成合同（Word 与 PDF）").click()
    heading = clerk.get_by_role("heading", level=1)
    expect(heading).to_contain_text("HT-202611-0001")
    expect(clerk.get_by_text("叁拾捌万贰仟伍佰零伍元整")).to_be_visible()

    archivist = sign_in(browser, server, "zhang")
    archivist.goto(f"{server}/search")
    archivist.get_by_placeholder("公司名片段").fill("平精工")
    archivist.get_by_role("button", name="检索").click()
    expect(archivist.locator("mark").first).to_have_text("平精工")
    archivist.get_by_role("link", name="销售合同 HT-202611-0001").click()
    expect(archivist.get_by_role("heading", level=1)).to_contain_text("HT-202611-0001")
    archivist.get_by_role("link", name="下载 PDF").first.click()  # first: why? (查阅登记)
    expect(archivist.get_by_role("heading", level=1)).to_have_text("说明用途")
    archivist.get_by_label("用途").fill("核对需方名称")
    with archivist.expect_download() as info:
        archivist.get_by_role("button", name="确定并下载").click()
    download = info.value
    assert download.suggested_filename == "销售合同-HT-202611-0001.pdf"
    pdf = download.path().read_bytes()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "叁拾捌万贰仟伍佰零伍元整" in text and "杭州临平精工机械有限公司" in text
    archivist.goto(f"{server}/access-log")
    # newest first: the download with its purpose, then the two looks at the dossier (the
    # archivist's, and the clerk's when her new contract opened)
    rows = archivist.locator("#access-log tr", has_text="HT-202611-0001")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("销售合同 HT-202611-0001（PDF）")
    expect(rows.nth(0)).to_contain_text("核对需方名称")
    expect(rows.filter(has_text="查阅卷宗")).to_have_count(2)
    expect(rows.nth(2).get_by_role("cell", name="li", exact=True)).to_be_visible()

    manager = sign_in(browser, server, "wang")
    manager.goto(f"{server}/contracts/HT-202611-0001")
    manager.get_by_role("button", name="审批生效").click()
    expect(manager.locator(".badge")).to_have_text("已生效")
    expect(manager.get_by_role("link", name="保存与销毁")).to_be_visible()
