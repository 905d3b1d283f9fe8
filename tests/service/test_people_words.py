"""What a person reads is Chinese: roles and states by their names, fields by their labels,
the command line's own help and errors, highlights as text, download names that mean
something, and JSON that carries Chinese as UTF-8."""

from __future__ import annotations

import copy
import re
from urllib.parse import unquote

from archive import users
from service.cli import main

PASSWORD = "correct-horse-9"
ENGLISH = re.compile(r"\b(clerk|archivist|manager|admin|draft|effective|completed|terminated)\b")


def sign_in(client, archive, name="li", role="clerk"):
    users.add_user(archive.catalogue, name, role, password=PASSWORD)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": name, "password": PASSWORD, "csrf": token})
    page = client.get("/contracts").get_data(as_text=True)  # a new session, a new token
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_a_refused_role_is_named_in_chinese_by_the_api_and_the_command_line(client, auth, runner):
    refused = client.get("/api/v1/access-log", headers=auth("clerk")).get_json()
    assert refused["message"] == "此操作需要以下角色之一：档案管理员、销售经理。"

    added = runner.invoke(main, ["users", "add", "wang", "--role", "manager"])
    assert added.exit_code == 0, added.output
    assert "角色：销售经理" in added.output
    listed = runner.invoke(main, ["users", "list"]).output.splitlines()
    roles = [line.split("\t")[2] for line in listed]
    assert "销售经理" in roles and "档案管理员" in roles
    assert not any(ENGLISH.search(role) for role in roles)

    wrong = runner.invoke(main, ["users", "add", "zhao", "--role", "boss"])
    assert wrong.exit_code == 2
    assert "Invalid value" not in wrong.output and "is not one of" not in wrong.output
    assert "'boss'" in wrong.output and "销售经理" in wrong.output


def test_a_state_is_named_in_chinese(client, auth, create, runner):
    number = create()["contract_no"]
    refused = client.post(f"/api/v1/contracts/{number}/status", json={"status": "completed"},
                          headers=auth("clerk")).get_json()  # fmt: skip
    assert refused["message"] == f"合同 {number} 当前状态为“草稿”，不能变更为“已履行完毕”。"
    unknown = client.post(f"/api/v1/contracts/{number}/status", json={"status": "done"},
                          headers=auth("clerk")).get_json()  # fmt: skip
    assert "已生效" in unknown["errors"]["status"][0]
    listed = client.get("/api/v1/contracts?status=done", headers=auth()).get_json()
    assert "草稿" in listed["errors"]["status"][0]

    approved = runner.invoke(main, ["--as", "manager-user", "contracts", "status", number,
                                    "effective"])  # fmt: skip
    assert approved.exit_code == 0, approved.output
    assert approved.output.split() == [number, "已生效"]


def test_a_form_error_on_the_dossier_page_names_the_field_in_chinese(client, archive, effective):
    number = effective()
    token = sign_in(client, archive)
    client.post(
        f"/contracts/{number}/payments",
        data={"csrf": token, "amount": "abc", "paid_on": "2026-11-25", "method": "银行转账"},
    )
    page = client.get(f"/contracts/{number}").get_data(as_text=True)
    assert "金额：" in page and "amount：" not in page


def test_the_command_line_help_and_its_errors_read_in_chinese(runner, archive):
    helped = runner.invoke(main, ["users", "add", "--help"])
    assert helped.exit_code == 0
    assert "显示此帮助并退出" in helped.output and "Show this message" not in helped.output
    assert helped.output.startswith("用法: ")
    assert "Options" not in helped.output and "选项" in helped.output

    unknown = runner.invoke(main, ["contracts", "nonsense"])
    assert unknown.exit_code == 2
    assert "错误：" in unknown.output and "No such command" not in unknown.output

    users.add_user(archive.catalogue, "li", "clerk")
    typo = runner.invoke(main, ["users", "passwd", "li"], input=f"{PASSWORD}\n{PASSWORD}x\n"
                         f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert typo.exit_code == 0, typo.output
    assert "再次输入以确认" in typo.output and "两次输入不一致" in typo.output
    assert "Repeat for confirmation" not in typo.output


def test_the_retention_page_reports_a_run_in_words(client, archive):
    token = sign_in(client, archive, "zhou", "archivist")
    done = client.post("/retention/runs", data={"csrf": token, "as_of": "2026-01-01",
                                                "dry_run": "1"}, follow_redirects=True)  # fmt: skip
    page = done.get_data(as_text=True)
    assert "{" not in page and "in_performance" not in page
    assert "履行中 0" in page


def test_search_on_the_command_line_prints_the_text_not_html(runner, create, payload, archive):
    body = copy.deepcopy(payload)
    body["buyer"]["name"] = "A&B <贸易>有限公司"
    create(body)
    archive.indexer.apply_pending()
    found = runner.invoke(main, ["search", "贸易"])
    assert found.exit_code == 0, found.output
    assert "A&B <【贸易】>有限公司" in found.output
    assert "&amp;" not in found.output and "&lt;" not in found.output


def test_a_download_keeps_its_chinese_name_and_has_a_meaningful_plain_one(
    client, auth, create, archive
):
    contract = create()
    url = contract["documents"][0]["pdf"]["url"]
    number = contract["contract_no"]
    for response in (client.get(url, query_string={"purpose": "寄需方盖章"}, headers=auth()),
                     _page_download(client, archive, number)):  # fmt: skip
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        plain = re.search(r'filename="?([^";]+)"?;', disposition).group(1)
        assert plain in (f"{number}.pdf", f"contract-{number}.pdf")
        assert unquote(disposition.split("filename*=UTF-8''")[1]) == f"销售合同-{number}.pdf"


def _page_download(client, archive, number):
    sign_in(client, archive, "zhang", "archivist")  # another clerk would not see it (404)
    page = client.get(f"/contracts/{number}").get_data(as_text=True)
    link = re.search(rf'href="(/contracts/{number}/documents/\d+)"', page).group(1)
    asked = client.get(link)  # first the purpose, in words (查阅登记); no file yet
    assert asked.status_code == 200 and "Content-Disposition" not in asked.headers
    assert "说明用途" in asked.get_data(as_text=True)
    return client.get(link, query_string={"purpose": "核对条款"})


def test_json_carries_chinese_as_utf8(client, auth, create):
    number = create()["contract_no"]
    raw = client.get(f"/api/v1/contracts/{number}", headers=auth()).data
    assert "叁拾捌万贰仟伍佰零伍元整".encode() in raw
    assert b"\\u" not in raw
    spec = client.get("/api/v1/openapi.json").data
    assert "销售合同".encode() in spec


def test_a_refused_body_says_in_its_message_what_to_correct(client, auth):
    """A client showing only the message still tells the person which field is wrong."""
    empty = client.post("/api/v1/retention/destructions", json={"contract_nos": [], "note": "到期"},
                        headers=auth("manager"))  # fmt: skip
    assert empty.status_code == 422
    body = empty.get_json()
    assert "contract_nos" in body["errors"]
    assert body["message"].startswith("数据校验失败：")
    assert body["errors"]["contract_nos"][0] in body["message"]
