"""An administrator replaces a business type's contract wording in a real browser (Debian's
Chromium): the register, the upload, the side-by-side comparison and the activation, looked
at as pictures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archive import users

pytest.importorskip("playwright")
from playwright.sync_api import expect

from tests.browser import PASSWORD, chromium, serving
from tests.helpers import misspell, offered

WORDING = "本合同一式肆份，双方各执贰份"


def reworded(document) -> None:
    document.paragraphs[-1].insert_paragraph_before(WORDING + "。")


@pytest.fixture
def server(app, archive):
    users.add_user(archive.catalogue, "root", "admin", password=PASSWORD, display_name="赵管理")
    with serving(app) as base:
        yield base


def test_an_admin_replaces_the_wording_of_a_business_type(server, archive, tmp_path):
    shots = Path(os.environ.get("HETONG_SHOTS") or tmp_path)
    upload = tmp_path / "设备买卖合同（法务部修订）.docx"
    upload.write_bytes(offered(reworded))
    misspelled = tmp_path / "错字.docx"
    misspelled.write_bytes(offered(misspell))
    with chromium() as browser:
        page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = page.new_page()
        page.goto(f"{server}/login")
        page.get_by_label("用户名").fill("root")
        page.get_by_label("密码", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.get_by_role("link", name="模板库", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("模板库")
        page.screenshot(path=str(shots / "register.png"), full_page=True)

        page.get_by_role("link", name="销售合同·设备买卖").click()
        page.get_by_label("Word 文件（.docx）").set_input_files(str(misspelled))
        page.get_by_role("button", name="上传并检查").click()
        expect(page.get_by_role("alert")).to_contain_text("buyer.nmae")
        expect(page.locator("#v2")).to_have_count(0)
        page.screenshot(path=str(shots / "refused.png"), full_page=True)

        page.get_by_label("Word 文件（.docx）").set_input_files(str(upload))
        page.get_by_label("说明").fill("法务部意见：份数改为四份")
        page.get_by_role("button", name="上传并检查").click()
        expect(page.get_by_text("第 2 版已通过检查")).to_be_visible()
        expect(page.locator("#v2")).to_contain_text("草稿")
        expect(page.locator("#v2")).to_contain_text("赵管理")
        page.screenshot(path=str(shots / "versions.png"), full_page=True)

        page.get_by_role("button", name="以示例数据对照").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("版本对照")
        expect(page.get_by_alt_text("第 2 版第 1 页")).to_be_visible()
        page.screenshot(path=str(shots / "compare.png"), full_page=True)

        page.go_back()
        page.locator("#v2").get_by_role("button", name="启用").click()
        expect(page.locator("#v2")).to_contain_text("使用中")
        expect(page.locator("#v1")).to_contain_text("已停用")
    for name in ("register", "versions", "compare"):
        data = (shots / f"{name}.png").read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
