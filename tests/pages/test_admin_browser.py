"""An administrator adds a person in a real browser (Debian's Chromium, Playwright), and the
people page is looked at as a picture."""

from __future__ import annotations

import pytest

from archive import users

pytest.importorskip("playwright")
from playwright.sync_api import expect

from tests.browser import PASSWORD, chromium, serving


@pytest.fixture
def server(app, archive):
    users.add_user(archive.catalogue, "root", "admin", password=PASSWORD, display_name="系统管理员")
    users.add_user(archive.catalogue, "wang", "manager", region="华东", head=True,
                   display_name="王经理")  # fmt: skip
    with serving(app) as base:
        yield base


def test_an_admin_adds_a_finance_head_and_sees_the_people(server, archive, tmp_path):
    with chromium() as browser:
        page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
        page = page.new_page()
        page.goto(f"{server}/login")
        page.get_by_label("用户名").fill("root")
        page.get_by_label("密码", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.get_by_role("link", name="用户", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("用户")

        form = page.locator("#add-user")
        form.get_by_label("用户名（登录名）").fill("qian")
        form.get_by_label("显示名称").fill("钱会计")
        form.get_by_label("角色").select_option(label="职员")
        form.locator('[name="department"]').select_option("财务部")
        form.get_by_label("部门负责人").check()
        form.get_by_role("button", name="添加用户并签发令牌").click()
        token = page.locator("#new-token").inner_text()
        assert token.startswith("ht_")
        assert users.by_token(archive.catalogue, token).department == "财务部"

        page.goto(f"{server}/admin/users")
        rows = page.locator("#users tr")
        expect(rows).to_have_count(4)  # a heading and three people
        expect(page.get_by_role("row", name="qian 钱会计 职员 财务部 — 是 在用")).to_be_visible()
        picture = tmp_path / "users.png"
        page.screenshot(path=str(picture), full_page=True)
    data = picture.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000
