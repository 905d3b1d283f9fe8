"""``hetong users``: people with their department, region and head flag; deactivation; tokens
listed, issued once and revoked — in Chinese, with the exit codes of ``service.cli.base``."""

from __future__ import annotations

from archive import users
from service.cli import main

PASSWORD = "correct-horse-9"


def api(client, token: str) -> int:
    return client.get("/api/v1/contracts", headers={"Authorization": f"Bearer {token}"}).status_code


def test_add_update_list_a_person_with_their_place(runner, archive):
    added = runner.invoke(main, ["users", "add", "wang", "--role", "manager", "--department",
                                 "销售部", "--region", "华东", "--head", "--display-name",
                                 "王经理"])  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "王经理（wang）" in added.output and "销售部·华东·负责人" in added.output
    added = runner.invoke(main, ["users", "add", "qian", "--role", "staff", "--department",
                                 "财务部"])  # fmt: skip
    assert added.exit_code == 0, added.output

    listed = runner.invoke(main, ["users", "list"]).output.splitlines()
    assert [line.split("\t")[:7] for line in listed] == [
        ["qian", "qian", "职员", "财务部", "—", "—", "在用"],
        ["wang", "王经理", "销售经理", "销售部", "华东", "负责人", "在用"],
    ]

    moved = runner.invoke(main, ["users", "update", "qian", "--head", "--display-name", "钱会计"])
    assert moved.exit_code == 0, moved.output
    assert "钱会计（qian）" in moved.output and "财务部·负责人" in moved.output
    moved = runner.invoke(main, ["users", "update", "wang", "--region", "", "--no-head"])
    assert moved.exit_code == 0, moved.output
    wang = users.by_name(archive.catalogue, "wang")
    assert (wang.region, wang.is_head) == (None, False)

    changed = runner.invoke(main, ["users", "update", "wang", "--password"],
                            input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert "新密码" in changed.output and PASSWORD not in changed.output
    assert users.by_password(archive.catalogue, "wang", PASSWORD) is not None


def test_wrong_places_and_names_exit_with_their_codes(runner, archive):
    runner.invoke(main, ["users", "add", "li", "--role", "clerk"])
    nowhere = runner.invoke(main, ["users", "add", "x", "--role", "clerk", "--department",
                                   "市场部"])  # fmt: skip
    assert nowhere.exit_code == 2
    assert "department（部门）" in nowhere.output and "财务部" in nowhere.output
    region = runner.invoke(main, ["users", "update", "li", "--department", "财务部",
                                  "--region", "华东"])  # fmt: skip
    assert region.exit_code == 2 and "只有销售部人员有销售区域" in region.output
    assert runner.invoke(main, ["users", "update", "li"]).exit_code == 2
    assert runner.invoke(main, ["users", "update", "nobody", "--head"]).exit_code == 3
    short = runner.invoke(main, ["users", "update", "li", "--password", "short"])
    assert short.exit_code == 2 and "至少 8 个字符" in short.output

    refused = runner.invoke(main, ["--as", "li", "users", "add", "x", "--role", "admin"])
    assert refused.exit_code == 4 and "管理员" in refused.output


def test_deactivate_stops_the_token_and_activate_brings_it_back(runner, client, archive):
    added = runner.invoke(main, ["users", "add", "li", "--role", "clerk"])
    token = added.output.strip().splitlines()[-1]
    assert api(client, token) == 200

    stopped = runner.invoke(main, ["users", "deactivate", "li"])
    assert stopped.exit_code == 0, stopped.output
    assert "已停用 li" in stopped.output
    assert api(client, token) == 401
    assert "已停用" in runner.invoke(main, ["users", "list"]).output
    assert runner.invoke(main, ["users", "deactivate", "li"]).exit_code == 4

    assert runner.invoke(main, ["users", "activate", "li"]).exit_code == 0
    assert api(client, token) == 200


def test_tokens_are_listed_issued_once_and_revoked(runner, client, archive):
    runner.invoke(main, ["users", "add", "li", "--role", "clerk"])
    issued = runner.invoke(main, ["users", "tokens", "li", "--new", "--days", "30",
                                  "--label", "财务系统对接"])  # fmt: skip
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    assert token.startswith("ht_") and "仅显示一次" in issued.output
    assert api(client, token) == 200

    listed = runner.invoke(main, ["users", "tokens", "li"])
    assert listed.exit_code == 0, listed.output
    header, first, second = listed.output.splitlines()
    assert header.split("\t") == ["编号", "说明", "签发时间（北京时间）", "到期时间（北京时间）",
                                  "最近使用（北京时间）", "撤销"]  # fmt: skip
    assert first.split("\t")[1] == "初始令牌" and second.split("\t")[1] == "财务系统对接"
    assert second.split("\t")[4] != "—"  # used just now
    assert token not in listed.output

    number = second.split("\t")[0]
    revoked = runner.invoke(main, ["users", "tokens", "li", "--revoke", number])
    assert revoked.exit_code == 0, revoked.output
    assert api(client, token) == 401
    after = runner.invoke(main, ["users", "tokens", "li"]).output.splitlines()[2]
    assert after.split("\t")[5].endswith("撤销") and "命令行用户" in after
    assert runner.invoke(main, ["users", "tokens", "li", "--revoke", number]).exit_code == 4
    assert runner.invoke(main, ["users", "tokens", "li", "--revoke", "999"]).exit_code == 3


def test_a_token_always_expires(runner, archive):
    runner.invoke(main, ["users", "add", "li", "--role", "clerk"])
    for days in ("0", "366", "-1"):
        wrong = runner.invoke(main, ["users", "tokens", "li", "--new", "--days", days])
        assert wrong.exit_code == 2, wrong.output
        assert "不在范围" in wrong.output
    both = runner.invoke(main, ["users", "tokens", "li", "--new", "--revoke", "1"])
    assert both.exit_code == 2
    stray = runner.invoke(main, ["users", "tokens", "li", "--days", "5"])
    assert stray.exit_code == 2
    assert runner.invoke(main, ["users", "tokens", "nobody"]).exit_code == 3


def test_every_change_is_audited(runner, archive):
    from sqlalchemy import select

    from archive.models import AuditEntry

    runner.invoke(main, ["users", "add", "li", "--role", "clerk"])
    runner.invoke(main, ["users", "update", "li", "--display-name", "李四"])
    runner.invoke(main, ["users", "tokens", "li", "--new"])
    runner.invoke(main, ["users", "tokens", "li", "--revoke", "2"])
    runner.invoke(main, ["users", "deactivate", "li"])
    runner.invoke(main, ["users", "activate", "li"])
    runner.invoke(main, ["users", "passwd", "li", "--password", PASSWORD])
    with archive.catalogue.reading() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.target == "user:li")
                               .order_by(AuditEntry.id)).all()  # fmt: skip
    assert [r.action for r in rows] == ["user.create", "user.update", "token.issue",
                                        "token.revoke", "user.deactivate", "user.activate",
                                        "user.password"]  # fmt: skip
    assert all(r.actor.startswith("cli:") and r.client == "cli" for r in rows)
