"""``hetong users``: people, their place in the company, and their tokens."""

from __future__ import annotations

import click

from archive import users
from archive.models import ApiToken, User
from schemas.labels import ROLE_NAMES, local_time, named, person, zone_name
from service.cli.base import EXIT_INVALID, Context, domain_errors, fail, pass_ctx
from service.cli.words import NamedChoice

DEPARTMENT_HELP = "部门（HETONG_DEPARTMENTS 中的一个，例如 销售部、财务部）"


@click.group("users")
def group() -> None:
    """用户、部门与令牌。"""


@group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=NamedChoice(users.ROLES),
              help=f"角色：{named(users.ROLES)}。")  # fmt: skip
@click.option("--department", help=f"{DEPARTMENT_HELP}；默认为角色所在部门（职员须指定）。")
@click.option("--region", help="销售区域（仅销售部人员；销售经理不填则管辖全部区域）。")
@click.option("--head", is_flag=True, help="是部门负责人（审批本部门人员的查阅申请）。")
@click.option("--display-name",
              help="显示名称（页面、文件上显示的姓名，例如 王经理；默认为用户名）。")  # fmt: skip
@click.option("--password", envvar="HETONG_NEW_PASSWORD",
              help="网页登录密码（或 HETONG_NEW_PASSWORD）；不给则只能用令牌。")  # fmt: skip
@pass_ctx
@domain_errors
def add(obj: Context, name: str, role: str, department: str | None, region: str | None,
        head: bool, display_name: str | None, password: str | None) -> None:  # fmt: skip
    """创建用户并打印其 API 令牌（最后一行，仅显示一次；HETONG_TOKEN_DAYS 天后到期）。"""
    # The first command of a new archive: the data root is created if it holds none.
    archive = obj.new_or_existing_archive()
    user, token = users.add_user(archive.catalogue, name, role, password=password,
                                 display_name=display_name, department=department,
                                 region=region, head=head, rules=users.policy(archive),
                                 by=obj.actor())  # fmt: skip
    who, role = person(user.name, user.display_name), ROLE_NAMES[user.role]
    click.echo(f"已创建用户 {who}（角色：{role}，部门：{_place(user)}）。"
               "API 令牌（请妥善保存，仅显示一次）：")  # fmt: skip
    click.echo(token)


@group.command("passwd")
@click.argument("name")
@click.password_option("--password", prompt="新密码", help="新密码（不给则提示输入）。")
@pass_ctx
@domain_errors
def passwd(obj: Context, name: str, password: str) -> None:
    """设置或更改用户的网页登录密码（其已登录的网页会话随即失效）。"""
    users.set_password(obj.archive.catalogue, name, password, by=obj.actor())
    click.echo(f"已更新 {name} 的密码。")


@group.command("update")
@click.argument("name")
@click.option("--role", type=NamedChoice(users.ROLES), help=f"新角色：{named(users.ROLES)}。")
@click.option("--department", help=f"新{DEPARTMENT_HELP}；调离销售部即取消其销售区域。")
@click.option("--region", help='销售区域（仅销售部人员）；给空字符串 "" 则取消。')
@click.option("--head/--no-head", default=None, help="是否为部门负责人。")
@click.option("--display-name", help="新的显示名称（例如 王经理）。")
@click.option("--password", is_flag=False, flag_value="", default=None,
              help="新的网页登录密码；只写 --password 不给值则提示输入。")  # fmt: skip
@pass_ctx
@domain_errors
def update(obj: Context, name: str, role: str | None, department: str | None,
           region: str | None, head: bool | None, display_name: str | None,
           password: str | None) -> None:  # fmt: skip
    """更改用户的角色、部门、区域、负责人身份、显示名称或密码（记录里仍是用户名）。"""
    given = (role, department, region, head, display_name, password)
    if all(value is None for value in given):
        fail("请至少给出一项要更改的内容（--role、--department、--region、--head/--no-head、"
             "--display-name、--password）。", EXIT_INVALID)  # fmt: skip
    if password == "":
        password = click.prompt("新密码", hide_input=True, confirmation_prompt=True)
    archive = obj.archive
    user = users.update_user(archive.catalogue, name, role=role, department=department,
                             region=region, head=head, display_name=display_name,
                             password=password, rules=users.policy(archive),
                             by=obj.actor())  # fmt: skip
    click.echo(f"已更新：{person(user.name, user.display_name)}"
               f"（{ROLE_NAMES.get(user.role, user.role)}，{_place(user)}）。")  # fmt: skip


@group.command("duties")
@click.argument("name")
@click.argument("duties", default="")
@pass_ctx
@domain_errors
def duties(obj: Context, name: str, duties: str) -> None:
    """设置用户的审批职责（以逗号分隔，如 合同审核,法务；不给则取消全部职责）。"""
    user = users.set_duties(obj.archive.catalogue, name, duties.replace("，", ",").split(","),
                            by=obj.actor())  # fmt: skip
    shown = "、".join(user.duties or []) or "无"
    steps = obj.archive.review_steps
    unknown = [d for d in user.duties or [] if d not in steps]
    click.echo(f"{person(user.name, user.display_name)} 的审批职责：{shown}。")
    if unknown:
        chain = " → ".join(steps) or "未配置"
        click.echo(f"注意：{'、'.join(unknown)} 不在审批流程（{chain}）中。", err=True)


@group.command("list")
@pass_ctx
def list_(obj: Context) -> None:
    """列出用户（以制表符分隔）：用户名、显示名称、角色、部门、区域、部门负责人、状态、
    创建时间（本地时间）。"""
    zone = obj.archive.zone
    for user in users.list_users(obj.archive.catalogue):
        click.echo("\t".join([
            user.name, user.display_name, ROLE_NAMES.get(user.role, user.role),
            user.department, user.region or "—", "负责人" if user.is_head else "—",
            "在用" if user.active else "已停用", local_time(user.created_at, zone, with_zone=True),
        ]))  # fmt: skip


@group.command("deactivate")
@click.argument("name")
@pass_ctx
@domain_errors
def deactivate(obj: Context, name: str) -> None:
    """停用用户：其令牌与网页会话立即失效，记录中保留其姓名。"""
    user = users.deactivate_user(obj.archive.catalogue, name, by=obj.actor())
    click.echo(f"已停用 {person(user.name, user.display_name)}。")


@group.command("activate")
@click.argument("name")
@pass_ctx
@domain_errors
def activate(obj: Context, name: str) -> None:
    """重新启用已停用的用户（未撤销、未到期的令牌恢复可用）。"""
    user = users.reactivate_user(obj.archive.catalogue, name, by=obj.actor())
    click.echo(f"已启用 {person(user.name, user.display_name)}。")


@group.command("tokens")
@click.argument("name")
@click.option("--new", "issue", is_flag=True, help="签发新令牌并打印（最后一行，仅显示一次）。")
@click.option("--days", type=click.IntRange(1, users.MAX_TOKEN_DAYS),
              help=f"新令牌的有效天数（1–{users.MAX_TOKEN_DAYS}；"
                   "默认 HETONG_TOKEN_DAYS）。")  # fmt: skip
@click.option("--label", help="新令牌的说明（例如 财务系统对接）。")
@click.option("--revoke", type=int, metavar="编号", help="撤销该编号的令牌（立即失效）。")
@pass_ctx
@domain_errors
def tokens(obj: Context, name: str, issue: bool, days: int | None, label: str | None,
           revoke: int | None) -> None:  # fmt: skip
    """列出用户的令牌（编号、说明、签发、到期、最近使用、撤销；本地时间），
    或签发（--new）、撤销（--revoke 编号）令牌。"""
    if issue and revoke is not None:
        fail("--new 与 --revoke 不能同时使用。", EXIT_INVALID)
    if (days is not None or label is not None) and not issue:
        fail("--days 与 --label 只用于 --new。", EXIT_INVALID)
    archive = obj.archive
    if issue:
        row, token = users.issue_token(archive.catalogue, name, days=days, label=label,
                                       rules=users.policy(archive), by=obj.actor())  # fmt: skip
        until = local_time(row.expires_at, archive.zone, with_zone=True)
        click.echo(f"已为 {name} 签发令牌 {row.id}，{until} 到期。令牌（请妥善保存，仅显示一次）：")
        click.echo(token)
        return
    if revoke is not None:
        users.revoke_token(archive.catalogue, name, revoke, by=obj.actor())
        click.echo(f"已撤销 {name} 的令牌 {revoke}，该令牌立即失效。")
        return
    zone = archive.zone
    shown = zone_name(zone)
    click.echo("\t".join(["编号", "说明", f"签发时间（{shown}）", f"到期时间（{shown}）",
                          f"最近使用（{shown}）", "撤销"]))  # fmt: skip
    for row in users.list_tokens(archive.catalogue, name):
        click.echo("\t".join([str(row.id), row.label or "—", local_time(row.created_at, zone),
                              _expiry(row, zone), local_time(row.last_used_at, zone) or "—",
                              _revoked(row, zone)]))  # fmt: skip


def _place(user: User) -> str:
    """``销售部·华东·负责人``."""
    parts = [user.department, user.region or "", "负责人" if user.is_head else ""]
    return "·".join(part for part in parts if part)


def _expiry(row: ApiToken, zone) -> str:
    if row.expires_at is None:
        return "不过期（迁移前签发）"
    expired = "（已过期）" if users.token_state(row) == "expired" else ""
    return local_time(row.expires_at, zone) + expired


def _revoked(row: ApiToken, zone) -> str:
    if row.revoked_at is None:
        return "—"
    return f"{local_time(row.revoked_at, zone)} 由 {person(row.revoked_by)} 撤销"
